"""Defaults learned from run history: execution_timeout and retries for the generated tasks.

Comparable tasks are looked for in the runs of the similar deployed DAGs, best first: tasks of
the same kind (read from those DAGs' code) with alike ids, tasks of the same kind, tasks with alike
ids. Their successful durations give a task's execution_timeout (a round figure at least
``TIMEOUT_FACTOR`` × the p95, never under ``FLOOR_MINUTES``); how often they succeeded only on a
retry raises its retries. Every task of those DAGs together gives the DAG-level default the same
way. Nothing is learned from fewer than ``MIN_OBSERVATIONS`` successful runs. These defaults
have the lowest precedence after the built-in ones: the description, the docs and the similar
DAGs' code override them (the answer then says when the runs suggest more).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.generation.conventions import Resolution
from assistant.generation.spec import RETRIES_RANGE, TIMEOUT_RANGE, DagSpec, TaskSpec

RUN_HISTORY = "run history"
MIN_OBSERVATIONS = 5
TIMEOUT_FACTOR = 3
FLOOR_MINUTES = 10
ROUND_MINUTES = (10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080, 1440)
OFTEN_ON_RETRY = 0.2  # this share of successes needing a retry is "often"
MAX_LEARNED_RETRIES = 5
WAITING_KINDS = frozenset({"file_sensor", "dag_sensor", "wait"})  # their durations are waiting
# Task ids that say waiting, for tasks whose kind the similar DAGs' indexed code did not show.
_WAITING_WORDS = frozenset({"wait", "waits", "waiting", "sensor", "sense", "poke", "poll", "await"})
_ID_FILLER = frozenset({"to", "into", "from", "the", "a", "an", "it", "and", "of", "in", "on", "for", "task"})


@dataclass(frozen=True)
class TaskRun:
    """The last try of one task in one finished run of a DAG."""

    dag_id: str
    run_id: str
    task_id: str
    state: str | None
    try_number: int = 1
    duration_s: float | None = None


# dag ids -> the task runs recorded for them (the run history of the similar DAGs)
TaskHistory = Callable[[Sequence[str]], Sequence[TaskRun]]


@dataclass(frozen=True)
class Learned:
    value: int
    evidence: str  # "42 runs of load_orders in orders_dwh (p95 6 min)"


@dataclass
class RunDefaults:
    timeout: Learned | None = None  # DAG level (default_args)
    retries: Learned | None = None
    task_timeouts: dict[str, Learned] = field(default_factory=dict)
    task_retries: dict[str, Learned] = field(default_factory=dict)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def round_timeout(p95_s: float) -> int:
    """Minutes: the first round figure at least TIMEOUT_FACTOR × p95 and FLOOR_MINUTES (at most a day)."""
    needed = max(TIMEOUT_FACTOR * p95_s / 60, FLOOR_MINUTES)
    return next((m for m in ROUND_MINUTES if m >= needed), TIMEOUT_RANGE[1])


def _successes(runs: Sequence[TaskRun]) -> list[TaskRun]:
    return [r for r in runs if r.state == "success"]


def timeout_from(runs: Sequence[TaskRun], label: str) -> Learned | None:
    durations = [r.duration_s for r in _successes(runs) if r.duration_s is not None and r.duration_s >= 0]
    if len(durations) < MIN_OBSERVATIONS:
        return None
    high = p95(durations)
    return Learned(round_timeout(high), f"{len(durations)} runs of {label} (p95 {format_duration(high)})")


def retries_from(runs: Sequence[TaskRun], label: str, current: int) -> Learned | None:
    """More retries than ``current`` when comparable tasks often succeeded only on a retry."""
    succeeded = _successes(runs)
    on_retry = [r for r in succeeded if r.try_number > 1]
    if (
        len(succeeded) < MIN_OBSERVATIONS
        or len(on_retry) < 2
        or len(on_retry) < OFTEN_ON_RETRY * len(succeeded)
    ):
        return None
    tries = max(r.try_number for r in on_retry)
    value = min(tries, MAX_LEARNED_RETRIES, RETRIES_RANGE[1])  # the retries used, plus one to spare
    if value <= current:
        return None
    return Learned(
        value,
        f"{len(on_retry)} of {len(succeeded)} successful runs of {label} needed a retry (up to try {tries})",
    )


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")


def _id_words(task_id: str) -> set[str]:
    return {w for w in task_id.lower().split("_") if w and w not in _ID_FILLER}


def alike_ids(a: str, b: str) -> bool:
    """Whether two task ids name the same work: "load_orders" ~ "load_orders_into_warehouse"."""
    left, right = _id_words(a), _id_words(b)
    common = left & right
    if not common or (len(common) < 2 and left != right):
        return False
    return len(common) / min(len(left), len(right)) >= 2 / 3


def _label(runs: Sequence[TaskRun]) -> str:
    tasks = list(dict.fromkeys(r.task_id for r in runs))
    dags = list(dict.fromkeys(r.dag_id for r in runs))
    named = ", ".join(tasks[:3]) + (f" and {len(tasks) - 3} more" if len(tasks) > 3 else "")
    return f"{named} in {', '.join(dags[:3])}"


def _is_waiting(run: TaskRun, kinds: dict[tuple[str, str], str]) -> bool:
    """Whether a task's duration is time spent waiting (a sensor), not work."""
    kind = kinds.get((run.dag_id, run.task_id))
    if kind is not None:
        return kind in WAITING_KINDS
    return bool(set(run.task_id.lower().split("_")) & _WAITING_WORDS)


def comparable_runs(
    task: TaskSpec, runs: Sequence[TaskRun], kinds: dict[tuple[str, str], str]
) -> list[TaskRun]:
    """The runs of the tasks most comparable to ``task`` that are numerous enough, else []."""
    same_kind = [r for r in runs if kinds.get((r.dag_id, r.task_id)) == task.kind]
    alike = [r for r in runs if alike_ids(task.task_id, r.task_id)]
    both = [r for r in alike if kinds.get((r.dag_id, r.task_id)) == task.kind]
    for group in (both, same_kind, alike):
        if len(_successes(group)) >= MIN_OBSERVATIONS:
            return group
    return []


def learn_run_defaults(
    spec: DagSpec, runs: Sequence[TaskRun], kinds: dict[tuple[str, str], str]
) -> RunDefaults:
    """What the runs of the similar DAGs (``runs``; task kinds from their code) suggest for ``spec``."""
    working = [r for r in runs if not _is_waiting(r, kinds)]
    defaults = RunDefaults()
    if len({(r.dag_id, r.run_id) for r in _successes(working)}) >= MIN_OBSERVATIONS:  # DAG runs, not tasks
        label = f"the tasks of {', '.join(dict.fromkeys(r.dag_id for r in working))}"
        defaults.timeout = timeout_from(working, label)
        defaults.retries = retries_from(working, label, spec.retries)
    for task in spec.tasks:
        if task.kind in WAITING_KINDS:
            continue
        group = comparable_runs(task, working, kinds)
        if not group:
            continue
        label = _label(group)
        timeout = timeout_from(group, label)
        if timeout:
            defaults.task_timeouts[task.task_id] = timeout
        retries = retries_from(
            group, label, max(spec.retries, defaults.retries.value if defaults.retries else 0)
        )
        if retries:
            defaults.task_retries[task.task_id] = retries
    return defaults


def apply_run_defaults(spec: DagSpec, defaults: RunDefaults, resolution: Resolution) -> list[str]:
    """Fill what no higher source settled from ``defaults``; notes where runs suggest more than was kept."""
    notes: list[str] = []
    timeouts = [(None, defaults.timeout), *defaults.task_timeouts.items()]
    retries = [(None, defaults.retries), *defaults.task_retries.items()]
    for key, name, unit, learned, current, apply in (
        ("timeout", "execution_timeout", " min", timeouts, spec.timeout_minutes, _apply_timeouts),
        ("retries", "retries", "", retries, spec.retries, _apply_retries),
    ):
        kept = resolution.settled.get(key)
        if kept:
            notes += _suggests_more(name, learned, current, unit, kept)
        else:
            apply(spec, defaults, resolution)
    return notes


def _apply_timeouts(spec: DagSpec, defaults: RunDefaults, resolution: Resolution) -> None:
    if defaults.timeout:
        spec.timeout_minutes = defaults.timeout.value
        resolution.settled["timeout"] = RUN_HISTORY
        resolution.add(
            RUN_HISTORY, f"execution_timeout {defaults.timeout.value} min from {defaults.timeout.evidence}"
        )
    for task in spec.tasks:
        learned = defaults.task_timeouts.get(task.task_id)
        if learned and task.timeout_minutes is None and learned.value != spec.timeout_minutes:
            task.timeout_minutes = learned.value
            resolution.add(
                RUN_HISTORY,
                f"execution_timeout {learned.value} min for {task.task_id} from {learned.evidence}",
            )


def _apply_retries(spec: DagSpec, defaults: RunDefaults, resolution: Resolution) -> None:
    if defaults.retries and defaults.retries.value > spec.retries:
        spec.retries = defaults.retries.value
        resolution.settled["retries"] = RUN_HISTORY
        resolution.add(RUN_HISTORY, f"retries {defaults.retries.value} as {defaults.retries.evidence}")
    for task in spec.tasks:
        learned = defaults.task_retries.get(task.task_id)
        if learned and task.retries is None and learned.value > spec.retries:
            task.retries = learned.value
            resolution.add(RUN_HISTORY, f"retries {learned.value} for {task.task_id} as {learned.evidence}")


def _suggests_more(
    name: str, learned: list[tuple[str | None, Learned | None]], kept: int, unit: str, origin: str
) -> list[str]:
    """``learned``: (task id, or None for the DAG default; what the runs say)."""
    more = [(task_id, item) for task_id, item in learned if item is not None and item.value > kept]
    if not more:
        return []
    task_id, top = max(reversed(more), key=lambda pair: pair[1].value)  # a task's own evidence first
    target = f" for {task_id}" if task_id else ""
    return [
        f"Run history suggests {name} {top.value}{unit}{target} ({top.evidence}); "
        f"kept {kept}{unit} from {origin}."
    ]
