"""Mask secrets in free text before it is shown, logged, stored or indexed.

Used for chat history, task logs (before indexing) and error messages. Patterns cover
credentials in URLs, common cloud and Git host tokens, private key blocks, bearer tokens and
``password=…``-style assignments.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # user:password@ or token@ in URLs
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
    re.compile(r"(?<=://)(?:gh[pousr]_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9_\-]{32,})(?=@)"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}\b"),
    re.compile(r"\bsk-[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9_\-.=]{16,}"),
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
)
# key = value / key: value, where the key names a secret; the value is masked, the key kept.
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:[a-z0-9_]*?)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
    r"[a-z0-9_]*)(\s*[:=]\s*|\"\s*:\s*\")(['\"]?)([^\s'\",;]{4,})"
)


def redact(text: str) -> str:
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{MASK}", text)
