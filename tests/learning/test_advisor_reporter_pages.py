from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from assistant.errors import UsageError
from assistant.learning import pages
from assistant.learning.advisor import advise
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.learning.reporter import parse_since, report

T0 = datetime(2025, 1, 1)


def record(i: int, tasks: tuple[TaskOutcome, ...], version: str = "v1", hours: float = 1.0) -> RunRecord:
    start = T0 + timedelta(hours=i * hours)
    total = sum(t.duration_s or 0 for t in tasks)
    failed = any(t.state == "failed" for t in tasks)
    return RunRecord(
        "d",
        f"r{i}",
        "failed" if failed else "success",
        start,
        start + timedelta(seconds=total),
        total,
        version,
        tasks,
    )


def test_advice_finds_retries_timeouts_slow_tasks_and_overlaps() -> None:
    timeout = "airflow.exceptions.AirflowTaskTimeout: Timeout, PID: <NUM>"
    runs = []
    for i in range(20):
        load = TaskOutcome("load", "success", 2 if i % 4 == 0 else 1, 20.0)
        if i in (15, 18):
            transform = TaskOutcome(
                "transform", "failed", 1, 3600.0, timeout, "AirflowTaskTimeout: Timeout, PID: 9"
            )
        else:
            transform = TaskOutcome("transform", "success", 1, 2000.0 + 80 * i)
        runs.append(record(i, (load, transform), hours=0.5))
    kinds = {(a.kind, a.task_id) for a in advise("d", runs)}
    assert ("flaky", "load") in kinds
    assert ("near_timeout", "transform") in kinds
    assert ("slow_task", "transform") in kinds
    assert ("overlapping_runs", None) in kinds
    assert all(a.evidence for a in advise("d", runs))
    assert advise("d", runs[:3]) == []


def test_report_rates_trend_and_causes() -> None:
    bad = TaskOutcome("t", "failed", 1, 5.0, "KeyError: 'x'", "KeyError: 'x'")
    good = TaskOutcome("t", "success", 1, 5.0)
    runs = [record(i, (bad,) if i % 2 else (good,)) for i in range(10)]
    (row,) = report({"d": runs}, min_success_rate=0.8)
    assert row.runs == 10 and row.failures == 5 and row.success_rate == 0.5
    assert row.below_threshold
    assert row.top_causes == [("t: KeyError: 'x'", 5)]


def test_parse_since_accepts_units_and_rejects_garbage() -> None:
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("12h") == timedelta(hours=12)
    with pytest.raises(UsageError) as info:
        parse_since("last week")
    assert "7d" in info.value.hint


def test_pages_group_episodes_and_say_what_fixed_them(tmp_path: Path) -> None:
    err = "KeyError: 'customer_id'"
    bad = TaskOutcome("transform", "failed", 1, 5.0, err, err)
    good = TaskOutcome("transform", "success", 1, 5.0)
    runs = [record(0, (good,)), record(1, (bad,), "v2"), record(2, (bad,), "v2"), record(3, (good,), "v3")]
    (proposal,) = pages.propose(tmp_path, {"d": runs})
    assert "## transform: KeyError: 'customer_id'" in proposal.content
    assert "fixed by a code change (v3)" in proposal.content
    assert proposal.diff.startswith("--- /dev/null")
    assert not proposal.path.exists()
    pages.write([proposal])
    assert pages.propose(tmp_path, {"d": runs}) == []  # nothing left to propose once written
