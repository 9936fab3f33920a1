"""Hard-coded secrets: known token formats anywhere in the text, plus secret-named assignments
whose literal value looks like a real secret (not a placeholder, enough entropy).

Messages never repeat the secret: they show its kind and a masked prefix.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter

from assistant.validation.security import RawFinding

KNOWN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    (
        "GitHub token",
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"),
    ),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Slack webhook", re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"\b(?:sk|rk)_live_[0-9a-zA-Z]{20,}")),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    (
        "private key",
        re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----"),
    ),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("Azure storage key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{40,}")),
)
AWS_SECRET = re.compile(r"(?i)aws.{0,20}(?:secret|private).{0,20}?['\"]([A-Za-z0-9/+=]{40})['\"]")
URI_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^:/\s@'\"]{1,64}:([^@\s/'\"]{4,})@[\w.-]+")
SECRET_NAME = re.compile(
    r"(?i)(?:passw(?:or)?d|passwd|\bpwd\b|secret|token|api_?key|apikey|access_?key|private_?key|credential|auth_?key"
    r"|client_secret|webhook_url)"
)
NOT_A_SECRET_NAME = re.compile(
    r"(?i)(?:_ids?|_conn(?:_id)?|_name|_path|_file|_var|_env|_field|_type|_len|_length"
    r"|_url_template|_header|_prefix|_key_id|_secret_name|_uri_key)$"
)
PLACEHOLDER = re.compile(
    r"(?i)^(?:|none|null|changeme|change_me|password|secret|token|example|test|dummy|redacted|your[_-]?\w*|x+|\*+"
    r"|\.+|<[^>]*>|\{\{.*\}\}|\$\{?\w+\}?|%\(\w+\)s)$"
)
ENV_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def mask(value: str) -> str:
    return (value[:4] + "…") if len(value) > 8 else "…"


def _looks_real(value: str) -> bool:
    value = value.strip()
    if (
        PLACEHOLDER.match(value)
        or ENV_VAR_NAME.match(value)
        or "{{" in value
        or "{}" in value
        or len(value) < 8
    ):
        return False
    return entropy(value) >= 3.0


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def scan_secrets(tree: ast.Module, source: str) -> list[RawFinding]:
    findings: list[RawFinding] = []
    hint = "move it to an Airflow connection or variable backed by a secrets backend, and rotate it"
    seen: set[tuple[int, str]] = set()

    def add(line: int, what: str, value: str) -> None:
        if (line, what) not in seen:
            seen.add((line, what))
            findings.append(
                RawFinding(
                    "security.hardcoded-secret", "block", line, f"hard-coded {what} ({mask(value)})", hint
                )
            )

    for what, pattern in KNOWN_FORMATS:
        for match in pattern.finditer(source):
            add(_line_of(source, match.start()), what, match.group(0))
    for match in AWS_SECRET.finditer(source):
        add(_line_of(source, match.start()), "AWS secret access key", match.group(1))
    for match in URI_PASSWORD.finditer(source):
        password = match.group(1)
        if "$" not in password and _looks_real(password):
            add(_line_of(source, match.start()), "password in a connection URI", password)
    for name, value, line in _named_literals(tree):
        if SECRET_NAME.search(name) and not NOT_A_SECRET_NAME.search(name) and _looks_real(value):
            add(line, f"secret in {name!r}", value)
    return findings


def _named_literals(tree: ast.Module) -> list[tuple[str, str, int]]:
    """(name, literal string, line) for assignments, keyword arguments and dict entries."""
    pairs: list[tuple[str, str, int]] = []

    def literal(node: ast.AST | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and (value := literal(node.value)) is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if name:
                    pairs.append((name, value, node.lineno))
        elif isinstance(node, ast.keyword) and node.arg and (value := literal(node.value)) is not None:
            pairs.append((node.arg, value, node.value.lineno))
        elif isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values, strict=True):
                if (name := literal(key)) is not None and (value := literal(item)) is not None:
                    pairs.append((name, value, item.lineno))
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
            for comparator in node.comparators:
                if (value := literal(comparator)) is not None:
                    pairs.append((node.left.id, value, node.lineno))
    return pairs
