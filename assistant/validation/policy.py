"""The house policy for DAGs: configurable, with defaults that warn rather than block, except
for what breaks Airflow 3 (imports and arguments removed in 3.0).

A policy file is TOML::

    [policy]
    tags = "warn"                 # "block", "warn", "info" or "off"
    owner = "warn"
    retries = "warn"
    min_retries = 1
    dynamic_start_date = "warn"
    catchup = "warn"
    airflow3_removed = "block"    # ruff AIR301/AIR302
    airflow3_deprecated = "warn"  # ruff AIR311/AIR312

    [limits]
    max_file_kb = 1024
    timeout_s = 30
    cpu_s = 30
    memory_mb = 1024
    max_processes = 64            # processes and threads per file (pids cgroup); --run: 4 times it
    run_timeout_s = 120           # --run: wall clock for one DAG's dag.test()

    [severity]                    # override any rule's severity
    "security.raw-socket" = "block"
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import UsageError
from assistant.validation.names import collect_imports, qualified_name
from assistant.validation.security import RawFinding

LEVELS = ("block", "warn", "info", "off")
UNSUPPRESSIBLE = frozenset(
    {
        "security.reverse-shell",
        "security.secret-exfiltration",
        "security.decode-exec",
        "security.download-exec",
        "security.destructive-delete",
        "security.fork-bomb",
        "sandbox.blocked-operation",
        "sandbox.timeout",
        "sandbox.crashed",
        "sandbox.process-limit",
    }
)


@dataclass(frozen=True)
class Policy:
    tags: str = "warn"
    owner: str = "warn"
    retries: str = "warn"
    min_retries: int = 1
    dynamic_start_date: str = "warn"
    catchup: str = "warn"
    airflow3_removed: str = "block"
    airflow3_deprecated: str = "warn"
    max_file_kb: int = 1024
    timeout_s: float = 30.0
    cpu_s: int = 30
    memory_mb: int = 1024
    max_processes: int = 64
    run_timeout_s: float = 120.0
    severity: dict[str, str] = field(default_factory=dict)
    unsuppressible: frozenset[str] = UNSUPPRESSIBLE

    def fingerprint(self) -> str:
        data = asdict(self)
        data["unsuppressible"] = sorted(self.unsuppressible)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def level(self, rule: str, default: str) -> str:
        return self.severity.get(rule, default)


def load_policy(path: Path) -> Policy:
    """Read a policy TOML file; unknown keys and bad values are usage errors with a hint."""
    return parse_policy(read_policy_text(path), f"policy file {path}")


def read_policy_text(path: Path) -> str:
    """The text of the policy file given to --policy; a missing or unreadable one is a usage error."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"policy file {path} does not exist", "pass an existing TOML file to --policy"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read policy file {path}: {exc}", "pass a readable UTF-8 TOML file"
        ) from None


def parse_policy(text: str, source: str = "the policy") -> Policy:
    """A policy from TOML text; ``source`` names it in errors (e.g. 'policy file p.toml')."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"cannot read {source}: {exc}", "fix the TOML syntax of the policy file") from None
    known = {f.name: f for f in fields(Policy)}
    values: dict[str, Any] = {}
    for section in ("policy", "limits"):
        entries = data.pop(section, {})
        if not isinstance(entries, dict):
            raise UsageError(f"[{section}] of {source} is not a table", f"write it as a [{section}] section")
        for key, value in entries.items():
            if key not in known or key in {"severity", "unsuppressible"}:
                raise UsageError(
                    f"unknown policy key {section}.{key}", f"known keys: {', '.join(sorted(known))}"
                )
            default = getattr(Policy, key)
            if isinstance(default, str) and value not in LEVELS:
                raise UsageError(
                    f"policy {key} = {value!r} is not a level", f"use one of {', '.join(LEVELS)}"
                )
            if isinstance(default, int | float) and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise UsageError(f"policy {key} must be a number", f"for example {key} = {default}")
            values[key] = value
    severity = data.pop("severity", {})
    if not isinstance(severity, dict):
        raise UsageError(f"[severity] of {source} is not a table", "write it as a [severity] section")
    for rule, level in severity.items():
        if level not in LEVELS:
            raise UsageError(
                f"severity of {rule} = {level!r} is not a level", f"use one of {', '.join(LEVELS)}"
            )
    if data:
        raise UsageError(
            f"unknown policy section(s): {', '.join(data)}", "use [policy], [limits] and [severity]"
        )
    return Policy(severity=dict(severity), **values)


def static_policy(tree: ast.Module, policy: Policy) -> list[RawFinding]:
    """Rules read from the source: dynamic start_date and an explicit catchup on every DAG."""
    findings: list[RawFinding] = []
    imports = collect_imports(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = qualified_name(node.func, imports) or ""
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if "start_date" in keywords:
            text = ast.unparse(keywords["start_date"])
            if any(s in text for s in ("now()", "utcnow()", "today()", "days_ago(")):
                findings.append(
                    RawFinding(
                        "policy.dynamic-start-date",
                        policy.dynamic_start_date,
                        node.lineno,
                        f"start_date={text} changes on every parse",
                        "use a fixed date, e.g. pendulum.datetime(2024, 1, 1, tz='UTC')",
                    )
                )
        is_dag = name.endswith((".DAG", ".dag")) or name in {"DAG", "dag"}
        if is_dag and "catchup" not in keywords:
            findings.append(
                RawFinding(
                    "policy.catchup",
                    policy.catchup,
                    node.lineno,
                    "catchup is not set explicitly on this DAG",
                    "add catchup=False (or True if you want backfills) to the DAG",
                )
            )
    return [f for f in findings if f.severity != "off"]


def dag_policy(dags: list[dict[str, Any]], policy: Policy) -> list[RawFinding]:
    """Rules over the DAGs Airflow loaded: tags, owner, retries."""
    findings: list[RawFinding] = []
    for dag in dags:
        dag_id = dag["dag_id"]
        if not dag.get("tags"):
            findings.append(
                RawFinding(
                    "policy.tags",
                    policy.tags,
                    None,
                    f"DAG {dag_id} has no tags",
                    "add tags=[...] so the DAG can be found and filtered",
                )
            )
        owners = [o for o in dag.get("owners", []) if o]
        if not owners or "airflow" in owners:
            findings.append(
                RawFinding(
                    "policy.owner",
                    policy.owner,
                    None,
                    f"DAG {dag_id} has no owner set",
                    "set default_args={'owner': 'your-team'}",
                )
            )
        low = sorted(t for t, r in dag.get("retries", {}).items() if r < policy.min_retries)
        if low:
            shown = ", ".join(low[:5]) + (" …" if len(low) > 5 else "")
            findings.append(
                RawFinding(
                    "policy.retries",
                    policy.retries,
                    None,
                    f"DAG {dag_id}: retries < {policy.min_retries} for {shown}",
                    f"set default_args={{'retries': {policy.min_retries}}}",
                )
            )
    return [f for f in findings if f.severity != "off"]


def airflow3_policy(ruff_results: list[dict[str, Any]], policy: Policy) -> list[RawFinding]:
    findings = []
    for item in ruff_results:
        code = str(item.get("code"))
        removed = code in {"AIR301", "AIR302"}
        level = policy.airflow3_removed if removed else policy.airflow3_deprecated
        if level == "off":
            continue
        fix = (item.get("fix") or {}).get("message") or ""
        hint = (
            fix
            or "follow the Airflow 3 migration guide (ruff check --select AIR3 --fix can rewrite most of it)"
        )
        findings.append(
            RawFinding(
                f"policy.airflow3.{code}",
                level,
                (item.get("location") or {}).get("row"),
                str(item.get("message", "")),
                hint,
            )
        )
    return findings
