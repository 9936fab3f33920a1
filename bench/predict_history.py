"""Synthetic run histories for bench/predict: DAGs with injected, realistic failure causes.

Causes: expired credentials (persist until rotated, no code change), upstream outages (a window
of hours), timeouts (data grows until the task hits its timeout; a fix is deployed), flaky tasks
(random, mostly absorbed by retries) and a bug deployed then fixed (two code changes). Each run
records its ground-truth cause so the benchmark can break its figures down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.learning.records import RunRecord, TaskOutcome

START = datetime(2025, 1, 1)
DAYS = 60

ERRORS = {
    "credentials": "botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the "
    "PutObject operation: The provided token has expired. RequestId {hex}",
    "outage": "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: "
    "https://api.partner-{n}.example.com/v2/orders?since={ts}",
    "timeout": "airflow.exceptions.AirflowTaskTimeout: Timeout, PID: {pid}",
    "flaky": "ConnectionResetError: [Errno 104] Connection reset by peer while reading {path}",
    "bug": "KeyError: 'customer_id'",
}


@dataclass(frozen=True)
class TruthRun:
    record: RunRecord
    cause: str | None  # ground truth: None (success) or a key of ERRORS


@dataclass
class DagProfile:
    dag_id: str
    every_h: float
    tasks: tuple[str, ...]
    uses_credentials: bool
    calls_upstream: bool
    grows_to_timeout: bool
    flaky_rate: float
    gets_bug: bool


def profiles(rng: random.Random, count: int = 12) -> list[DagProfile]:
    out = []
    for i in range(count):
        out.append(
            DagProfile(
                dag_id=f"dag_{i:02d}",
                every_h=rng.choice([1.0, 2.0, 3.0, 4.0, 6.0]),
                tasks=("extract", "fetch_api", "transform", "upload_to_s3", "notify"),
                uses_credentials=rng.random() < 0.6,
                calls_upstream=rng.random() < 0.6,
                grows_to_timeout=rng.random() < 0.3,
                flaky_rate=rng.choice([0.0, 0.0, 0.02, 0.05, 0.08]),
                gets_bug=rng.random() < 0.4,
            )
        )
    return out


def _windows(
    rng: random.Random, mean_gap_h: float, length_h: tuple[float, float]
) -> list[tuple[float, float]]:
    """Random [start, end) windows in hours since START."""
    out, t = [], rng.expovariate(1 / mean_gap_h)
    while t < DAYS * 24:
        length = rng.uniform(*length_h)
        out.append((t, t + length))
        t += length + rng.expovariate(1 / mean_gap_h)
    return out


def _inside(hours: float, windows: list[tuple[float, float]]) -> bool:
    return any(a <= hours < b for a, b in windows)


def _message(rng: random.Random, cause: str) -> str:
    return ERRORS[cause].format(
        hex=f"{rng.getrandbits(64):016X}",
        n=rng.randint(1, 3),
        ts=f"2025-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
        pid=rng.randint(1000, 99999),
        path=f"/data/in/batch_{rng.randint(1, 999)}.csv",
    )


def dag_history(rng: random.Random, dag: DagProfile) -> list[TruthRun]:
    credential_outages = _windows(rng, 24 * 14, (6, 48)) if dag.uses_credentials else []
    upstream_outages = _windows(rng, 24 * 6, (2, 12)) if dag.calls_upstream else []
    bug_from = rng.uniform(10, DAYS - 10) * 24 if dag.gets_bug else None
    bug_until = bug_from + rng.uniform(4, 36) if bug_from is not None else None
    timeout_fix_at: float | None = None
    version, runs, hours, timeout_failures = 1, [], rng.uniform(0, dag.every_h), 0
    growth_start = rng.uniform(0, DAYS * 24 * 0.4)
    while hours < DAYS * 24:
        if bug_from is not None and bug_from <= hours and version == 1:
            version = 2  # a deploy that introduces the bug
        if bug_until is not None and bug_until <= hours and version == 2:
            version = 3  # the fix
        if timeout_fix_at is not None and timeout_fix_at <= hours:
            version, timeout_fix_at, growth_start = version + 10, None, hours
        duration = {t: rng.lognormvariate(3.5, 0.3) for t in dag.tasks}
        if dag.grows_to_timeout:
            duration["transform"] = (
                1800 * (1 + max(0.0, hours - growth_start) / (24 * 20)) * rng.uniform(0.9, 1.1)
            )
        cause = None
        if version == 2:
            cause = "bug"
        elif _inside(hours, credential_outages):
            cause = "credentials"
        elif _inside(hours, upstream_outages) and rng.random() < 0.95:
            cause = "outage"
        elif dag.grows_to_timeout and duration["transform"] > 3600:
            cause = "timeout"
            timeout_failures += 1
            if timeout_failures == 4 and timeout_fix_at is None:
                timeout_fix_at = hours + rng.uniform(6, 48)
        elif rng.random() < dag.flaky_rate:
            cause = "flaky"
        runs.append(_record(rng, dag, hours, version, duration, cause))
        hours += dag.every_h * rng.uniform(0.98, 1.02)
    return runs


_TASK_OF = {
    "credentials": "upload_to_s3",
    "outage": "fetch_api",
    "timeout": "transform",
    "flaky": "extract",
    "bug": "transform",
}


def _record(
    rng: random.Random,
    dag: DagProfile,
    hours: float,
    version: int,
    duration: dict[str, float],
    cause: str | None,
) -> TruthRun:
    start = START + timedelta(hours=hours)
    tasks, failed_at = [], _TASK_OF.get(cause or "")
    for task_id in dag.tasks:
        if failed_at is not None and tasks and tasks[-1].state in {"failed", "upstream_failed"}:
            tasks.append(TaskOutcome(task_id, "upstream_failed", 0, None))
            continue
        if task_id == failed_at:
            spent = 3600.0 if cause == "timeout" else duration[task_id] * rng.uniform(0.1, 1.0)
            tasks.append(TaskOutcome(task_id, "failed", 2, spent, None, _message(rng, cause or "")))
        else:
            retried = cause is None and task_id == "extract" and rng.random() < dag.flaky_rate
            tasks.append(TaskOutcome(task_id, "success", 2 if retried else 1, duration[task_id]))
    total = sum(t.duration_s or 0.0 for t in tasks)
    record = RunRecord(
        dag.dag_id,
        f"scheduled__{start.isoformat()}",
        "failed" if cause else "success",
        start,
        start + timedelta(seconds=total),
        total,
        f"v{version}",
        tuple(tasks),
    )
    return TruthRun(record, cause)


def generate(seed: int, dag_count: int = 12) -> list[TruthRun]:
    """All runs of ``dag_count`` DAGs over DAYS days, in time order."""
    rng = random.Random(seed)
    runs = [run for dag in profiles(rng, dag_count) for run in dag_history(rng, dag)]
    return sorted(runs, key=lambda r: r.record.start)
