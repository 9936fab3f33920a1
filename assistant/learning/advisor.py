"""Optimisation advice from duration and retry history; every piece shows its evidence."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.learning.records import RunRecord

MIN_RUNS = 5


@dataclass(frozen=True)
class Advice:
    dag_id: str
    task_id: str | None
    kind: str  # "flaky" | "near_timeout" | "slow_task" | "slowing_down" | "overlapping_runs"
    message: str
    evidence: list[str] = field(default_factory=list)


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def advise(dag_id: str, runs: Sequence[RunRecord]) -> list[Advice]:
    """Advice for one DAG from its finished runs (any order)."""
    runs = sorted(runs, key=lambda r: r.start)
    if len(runs) < MIN_RUNS:
        return []
    durations: dict[str, list[float]] = defaultdict(list)
    retried: dict[str, int] = defaultdict(int)
    timeouts: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for task in run.tasks:
            if task.state == "success" and task.duration_s is not None:
                durations[task.task_id].append(task.duration_s)
                if task.try_number > 1:
                    retried[task.task_id] += 1
            if (
                task.state == "failed"
                and task.duration_s
                and "timeout" in (task.error_template or "").lower()
            ):
                timeouts[task.task_id].append(task.duration_s)
    out: list[Advice] = []
    for task_id, count in sorted(retried.items()):
        successes = len(durations[task_id])
        if count >= 2 and count / successes >= 0.05:
            out.append(
                Advice(
                    dag_id,
                    task_id,
                    "flaky",
                    f"{task_id} succeeds only on retry in {count} of {successes} successful runs: "
                    "find the transient cause, or keep retries with a retry_delay",
                    [f"{count} successes with try_number > 1 out of {successes}"],
                )
            )
    for task_id, limits in sorted(timeouts.items()):
        limit, p95 = statistics.median(limits), _p95(durations[task_id]) if durations[task_id] else None
        if p95 is not None and p95 >= 0.8 * limit:
            out.append(
                Advice(
                    dag_id,
                    task_id,
                    "near_timeout",
                    f"{task_id} timed out at about {limit:.0f}s and its p95 duration is {p95:.0f}s: "
                    f"raise execution_timeout to at least {1.5 * p95:.0f}s or make it faster",
                    [
                        f"{len(limits)} timeouts, median at {limit:.0f}s",
                        f"p95 of {len(durations[task_id])} successful durations: {p95:.0f}s",
                    ],
                )
            )
    out.extend(_slow_tasks(dag_id, durations))
    out.extend(_overlaps(dag_id, runs))
    return out


def _slow_tasks(dag_id: str, durations: dict[str, list[float]]) -> list[Advice]:
    out = []
    medians = {t: statistics.median(v) for t, v in durations.items() if len(v) >= MIN_RUNS}
    total = sum(medians.values())
    for task_id, values in sorted(durations.items()):
        if task_id not in medians:
            continue
        share = medians[task_id] / total if total else 0.0
        if share >= 0.6 and medians[task_id] >= 60 and len(medians) > 1:
            out.append(
                Advice(
                    dag_id,
                    task_id,
                    "slow_task",
                    f"{task_id} takes {share:.0%} of the run time (median {medians[task_id]:.0f}s): "
                    "the place to optimise or split",
                    [f"median {medians[task_id]:.0f}s of {total:.0f}s summed task medians"],
                )
            )
        half = len(values) // 2
        if half >= MIN_RUNS:
            before, after = statistics.median(values[:half]), statistics.median(values[half:])
            if before > 0 and after / before >= 1.5 and after >= 30:
                out.append(
                    Advice(
                        dag_id,
                        task_id,
                        "slowing_down",
                        f"{task_id} got {after / before:.1f}x slower ({before:.0f}s -> {after:.0f}s "
                        "median): growing data or a degrading dependency",
                        [
                            f"median of the first {half} runs {before:.0f}s, "
                            f"of the last {len(values) - half} {after:.0f}s"
                        ],
                    )
                )
    return out


def _overlaps(dag_id: str, runs: Sequence[RunRecord]) -> list[Advice]:
    overlapping = [(a, b) for a, b in itertools.pairwise(runs) if a.end is not None and b.start < a.end]
    if len(overlapping) < 2:
        return []
    first = overlapping[-1]
    return [
        Advice(
            dag_id,
            None,
            "overlapping_runs",
            f"{len(overlapping)} runs started before the previous one finished: lengthen the schedule "
            "interval or set max_active_runs=1",
            [f"e.g. {first[1].run_id} started before {first[0].run_id} ended"],
        )
    ]
