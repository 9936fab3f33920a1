"""What the validation pipeline returns: findings per file, and the report of a whole batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["block", "warn", "info"]
SEVERITY_ORDER: dict[str, int] = {"block": 0, "warn": 1, "info": 2}


@dataclass
class Finding:
    rule: str
    severity: Severity
    line: int | None
    message: str
    hint: str
    suppressed: str | None = None  # the reason given in `# assistant: allow RULE -- reason`

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }
        if self.suppressed is not None:
            data["suppressed"] = self.suppressed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            severity=data["severity"],
            line=data.get("line"),
            message=data["message"],
            hint=data.get("hint", ""),
            suppressed=data.get("suppressed"),
        )


@dataclass
class FileReport:
    path: Path
    dag_ids: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    cached: bool = False
    runs: list[dict[str, Any]] = field(default_factory=list)  # --run: one entry per DAG, its tasks' states

    @property
    def ok(self) -> bool:
        return not any(f.severity == "block" for f in self.findings)

    def add(self, rule: str, severity: Severity, line: int | None, message: str, hint: str) -> Finding:
        finding = Finding(rule, severity, line, message, hint)
        self.findings.append(finding)
        return finding

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.line or 0, f.rule))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": str(self.path),
            "ok": self.ok,
            "dag_ids": list(self.dag_ids),
            "findings": [f.to_dict() for f in self.sorted_findings()],
            "cached": self.cached,
        }
        if self.runs:
            data["runs"] = [dict(run) for run in self.runs]
        return data


@dataclass
class ValidationReport:
    files: list[FileReport]
    elapsed_s: float = 0.0
    sandbox: dict[str, Any] = field(default_factory=dict)  # network isolation in force, limits, versions

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def dag_ids(self) -> dict[str, str]:
        return {dag_id: str(report.path) for report in self.files for dag_id in report.dag_ids}

    def blocking(self) -> list[tuple[FileReport, Finding]]:
        return [(r, f) for r in self.files for f in r.sorted_findings() if f.severity == "block"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "elapsed_s": round(self.elapsed_s, 3),
            "files": [f.to_dict() for f in self.files],
            "sandbox": dict(self.sandbox),
        }
