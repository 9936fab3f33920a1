"""Explicit, reasoned suppressions: ``# assistant: allow RULE[, RULE] -- reason``.

A suppression applies to findings on its own line, or on the next line when the comment stands
alone. It needs a reason; the report still shows the finding (as info, with the reason). Rules
that only malicious code trips (reverse shells, exfiltration, ...) cannot be suppressed.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from assistant.validation.report import Finding

ALLOW = re.compile(r"#\s*assistant:\s*allow\s+(?P<rules>[\w.\-, ]+?)\s*(?:--\s*(?P<reason>.*\S))?\s*$")


@dataclass(frozen=True)
class Suppression:
    rules: frozenset[str]
    reason: str | None
    line: int


def read_suppressions(source: str) -> dict[int, Suppression]:
    """line -> suppression that applies to it."""
    found: dict[int, Suppression] = {}
    lines = source.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = ALLOW.search(token.string)
        if not match:
            continue
        rules = frozenset(r.strip() for r in match.group("rules").split(",") if r.strip())
        line = token.start[0]
        suppression = Suppression(rules, match.group("reason"), line)
        found[line] = suppression
        if lines[line - 1].strip().startswith("#"):
            found[line + 1] = suppression
    return found


def _matches(rule: str, allowed: frozenset[str]) -> bool:
    return any(
        rule == a or rule.startswith(a.rstrip("*").rstrip(".") + ".") or a == rule.split(".")[-1]
        for a in allowed
    )


def apply_suppressions(findings: list[Finding], source: str, unsuppressible: frozenset[str]) -> list[Finding]:
    suppressions = read_suppressions(source)
    if not suppressions:
        return findings
    result: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        suppression = suppressions.get(finding.line or -1)
        if suppression is None or not _matches(finding.rule, suppression.rules):
            result.append(finding)
            continue
        used.add(suppression.line)
        if finding.rule in unsuppressible:
            finding.message += " (this rule cannot be suppressed)"
            result.append(finding)
        elif not suppression.reason:
            result.append(finding)
            result.append(
                Finding(
                    "suppression.missing-reason",
                    "warn",
                    suppression.line,
                    f"suppression of {finding.rule} has no reason, so it is ignored",
                    f"write `# assistant: allow {finding.rule} -- why this is safe`",
                )
            )
        else:
            finding.suppressed = suppression.reason
            finding.message = f"{finding.message} [suppressed: {suppression.reason}]"
            finding.severity = "info"
            result.append(finding)
    return result
