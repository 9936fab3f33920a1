"""Bandit, for the rules it already has (eval, exec, pickle, yaml.load, shell=True, weak TLS, ...).

Bandit's findings are mapped to our severities: what the issue asks to block (unsafe
deserialisation, eval/exec, shell injection) blocks, weaker smells warn, and the noisy checks
(imports of subprocess, asserts, /tmp paths) are left out. Hard-coded passwords are handled by
:mod:`assistant.validation.secrets_scan` (patterns plus entropy), so bandit's B105-B107 are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.validation.security import RawFinding

# test id -> (severity when bandit says HIGH, severity otherwise, hint); None = not reported
MAPPING: dict[str, tuple[str, str, str]] = {
    "B102": ("block", "block", "do not exec() code in a DAG; write the code in the file"),
    "B307": ("block", "block", "use ast.literal_eval() or json.loads() to parse values"),
    "B301": ("block", "block", "load data with json (or a schema-checked format), never pickle from outside"),
    "B302": ("block", "block", "load data with json, never marshal"),
    "B506": ("block", "block", "use yaml.safe_load()"),
    "B614": ("block", "block", "load tensors with weights_only=True"),
    "B602": (
        "block",
        "info",
        "pass the command as a list without shell=True, or quote input with shlex.quote()",
    ),
    "B605": ("block", "warn", "use subprocess.run([...]) with a list of arguments, without a shell"),
    "B604": ("warn", "warn", "avoid shell=True; pass a list of arguments"),
    "B609": ("warn", "warn", "avoid wildcards in shell commands built from input"),
    "B501": ("warn", "warn", "keep TLS certificate verification on (verify=True)"),
    "B502": ("warn", "warn", "use ssl.PROTOCOL_TLS_CLIENT"),
    "B503": ("warn", "warn", "use ssl.PROTOCOL_TLS_CLIENT"),
    "B504": ("warn", "warn", "use ssl.PROTOCOL_TLS_CLIENT"),
    "B202": ("warn", "warn", "filter tar members (extractall(filter='data'))"),
    "B321": ("warn", "warn", "use SFTP (the SFTP provider) instead of plain FTP"),
    "B312": ("warn", "warn", "use SSH instead of telnet"),
    "B104": ("warn", "warn", "bind to 127.0.0.1 or a specific interface"),
    "B608": ("warn", "warn", "use query parameters instead of building SQL with strings"),
    "B310": ("info", "info", "check the URL scheme before opening it"),
    "B324": (
        "info",
        "info",
        "use hashlib.sha256 unless the hash is not for security (usedforsecurity=False)",
    ),
}


def scan_bandit(paths: Sequence[Path]) -> dict[Path, list[RawFinding]]:
    """Run bandit once over ``paths`` (already read and checked to be UTF-8 Python files)."""
    if not paths:
        return {}
    import logging

    from bandit.core import config as bandit_config
    from bandit.core import manager

    logging.getLogger("bandit").setLevel(logging.CRITICAL)
    runner = manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
    by_name = {str(p): p for p in paths}
    runner.discover_files(list(by_name), recursive=False)
    runner.run_tests()
    results: dict[Path, list[RawFinding]] = {p: [] for p in paths}
    for issue in runner.get_issue_list():
        mapped = MAPPING.get(issue.test_id)
        path = by_name.get(issue.fname)
        if mapped is None or path is None:
            continue
        high, other, hint = mapped
        severity = high if str(issue.severity).upper() == "HIGH" else other
        rule = f"bandit.{issue.test_id}"
        message = f"{issue.test}: {issue.text}"
        results[path].append(RawFinding(rule, severity, issue.lineno, message, hint))
    return results
