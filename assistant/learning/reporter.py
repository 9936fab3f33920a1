"""Monitoring: success rate per DAG, duration trend and top failure causes over a period."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from assistant.errors import UsageError
from assistant.learning.records import RunRecord

_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> timedelta:
    match = _SINCE.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise UsageError(
            f"cannot read the period {text!r}", "write a number and a unit, e.g. 30m, 12h, 7d or 2w"
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])


@dataclass(frozen=True)
class DagReport:
    dag_id: str
    runs: int
    failures: int
    success_rate: float
    median_duration_s: float | None
    duration_trend: float | None  # median of the second half / median of the first half
    top_causes: list[tuple[str, int]] = field(default_factory=list)
    below_threshold: bool = False


def report(history: Mapping[str, Sequence[RunRecord]], min_success_rate: float = 0.8) -> list[DagReport]:
    """One row per DAG with runs in ``history`` (already limited to the period), worst first."""
    rows = []
    for dag_id, runs in history.items():
        runs = sorted(runs, key=lambda r: r.start)
        if not runs:
            continue
        failures = sum(r.failed for r in runs)
        rate = 1 - failures / len(runs)
        durations = [r.duration_s for r in runs if r.duration_s is not None]
        half = len(durations) // 2
        trend = None
        if half >= 2 and statistics.median(durations[:half]) > 0:
            trend = round(statistics.median(durations[half:]) / statistics.median(durations[:half]), 2)
        causes = Counter(r.cause for r in runs if r.failed and r.cause)
        rows.append(
            DagReport(
                dag_id,
                len(runs),
                failures,
                round(rate, 3),
                statistics.median(durations) if durations else None,
                trend,
                causes.most_common(3),
                rate < min_success_rate,
            )
        )
    return sorted(rows, key=lambda r: (r.success_rate, r.dag_id))
