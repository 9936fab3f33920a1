"""Durations creeping up towards a task's execution_timeout: the precursor of a timeout.

For every task with a known limit (the execution_timeout Airflow reports for the code about to
run, else the duration at which the task timed out before) the recent durations of the current
code version are fitted with a straight line over time. Timed-out tries only say "at least the
limit", so the fit is a censored (Tobit-style) regression: a few EM rounds replace each censored
value by its expectation above the limit under the current line. The chance that the next run
exceeds the limit is the normal tail of the prediction at ``now``.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from assistant.learning.records import RunRecord, TaskOutcome

SAMPLES = 24  # the most recent durations of a task that the line is fitted to
MIN_SAMPLES = 5
MIN_RELATIVE_SD = 0.02  # durations never vary less than 2% (keeps a flat history from certainty)
EM_ROUNDS = 8
LIMIT_LOOKBACK = 500
NEAR = 0.5
TIMEOUT_TEXT = re.compile(r"timeout|timed out", re.IGNORECASE)


@dataclass(frozen=True)
class TimeoutTrend:
    task_id: str
    limit_s: float
    limit_source: str  # "execution_timeout" | "earlier timeouts"
    samples: int
    timed_out: int  # of the samples
    first_s: float  # fitted duration at the first sample
    predicted_s: float  # fitted duration at ``now``
    slope_s_per_day: float
    probability: float  # that the next run exceeds the limit

    def describe(self) -> str:
        return (
            f"{self.task_id} is nearing its {_minutes(self.limit_s)} limit ({_minutes(self.first_s)} -> "
            f"{_minutes(self.predicted_s)} over its last {self.samples} runs): about {self.probability:.0%} "
            "chance the next run times out"
        )

    def details(self) -> str:
        rise = f"rising {_minutes(self.slope_s_per_day)} a day" if self.slope_s_per_day > 0 else "not rising"
        timed_out = f", {self.timed_out} of them timed out" if self.timed_out else ""
        return (
            f"{self.task_id}: limit {_minutes(self.limit_s)} ({self.limit_source}); a line through its last "
            f"{self.samples} durations of this code version{timed_out} goes {_minutes(self.first_s)} -> "
            f"{_minutes(self.predicted_s)}, {rise}; {self.probability:.0%} chance the next one exceeds the limit"
        )


def timed_out(task: TaskOutcome) -> bool:
    return task.failed and bool(TIMEOUT_TEXT.search(task.error_template or task.error_excerpt or ""))


def timed_out_at(cause: str, task_id: str) -> bool:
    """Is a run's ``task: template`` cause a timeout of ``task_id``?"""
    task, _, text = cause.partition(": ")
    return task == task_id and bool(TIMEOUT_TEXT.search(text))


def inferred_limits(runs: Sequence[RunRecord]) -> dict[str, float]:
    """Per task, the duration at which it timed out before, unless a later success ran longer
    (then the limit has been raised since and is unknown). Looks at the last LIMIT_LOOKBACK runs."""
    limits: dict[str, float] = {}
    for run in runs[-LIMIT_LOOKBACK:]:
        for task in run.tasks:
            if task.duration_s is None:
                continue
            if timed_out(task):
                limits[task.task_id] = task.duration_s
            elif task.state == "success" and task.duration_s > limits.get(task.task_id, math.inf):
                del limits[task.task_id]
    return limits


def nearest_timeout(
    runs: Sequence[RunRecord],
    code_version: str | None,
    now: datetime,
    limits: Mapping[str, float | None] | None = None,
) -> TimeoutTrend | None:
    """The task most likely to exceed its limit on the next run (``runs`` in time order)."""
    recent = [
        r for r in runs[-4 * SAMPLES :] if code_version is None or r.code_version in (None, code_version)
    ]
    tasks = {t.task_id for r in recent[-1:] for t in r.tasks}
    inferred: dict[str, float] | None = None
    best: TimeoutTrend | None = None
    for task_id in sorted(tasks):
        limit, source = (limits or {}).get(task_id), "execution_timeout"
        if not limit:
            inferred = inferred_limits(runs) if inferred is None else inferred
            limit, source = inferred.get(task_id), "earlier timeouts"
        if not limit or not _near(recent, task_id, limit):
            continue
        trend = _fit(task_id, limit, source, recent, now)
        if trend is not None and (best is None or trend.probability > best.probability):
            best = trend
    return best


def _near(runs: Sequence[RunRecord], task_id: str, limit: float) -> bool:
    """Any of the recent durations above NEAR of the limit (else the chance is negligible; fast path)."""
    for run in runs[-SAMPLES:]:
        for task in run.tasks:
            if task.task_id == task_id and task.duration_s is not None and task.duration_s >= NEAR * limit:
                return True
    return False


def _fit(
    task_id: str, limit: float, source: str, runs: Sequence[RunRecord], now: datetime
) -> TimeoutTrend | None:
    points: list[tuple[float, float, bool]] = []  # (days since now, duration, censored)
    for run in reversed(runs):
        task = next((t for t in run.tasks if t.task_id == task_id), None)
        if task is None or task.duration_s is None:
            continue
        if task.state == "success" or timed_out(task):
            days = (run.start - now).total_seconds() / 86400
            points.append((days, min(task.duration_s, limit), timed_out(task) or task.duration_s >= limit))
        if len(points) == SAMPLES:
            break
    if len(points) < MIN_SAMPLES:
        return None
    points.reverse()
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    censored = [p[2] for p in points]
    intercept, slope, sd = _censored_line(xs, ys, censored, limit)
    mean_x = statistics.fmean(xs)
    sxx = sum((x - mean_x) ** 2 for x in xs) or 1e-9
    spread = sd * math.sqrt(1 + 1 / len(xs) + mean_x**2 / sxx)  # prediction at x = 0 (now)
    probability = 1 - _phi((limit - intercept) / spread)
    return TimeoutTrend(
        task_id=task_id,
        limit_s=limit,
        limit_source=source,
        samples=len(points),
        timed_out=sum(censored),
        first_s=intercept + slope * xs[0],
        predicted_s=intercept,
        slope_s_per_day=slope,
        probability=round(probability, 3),
    )


def _censored_line(
    xs: Sequence[float], ys: Sequence[float], censored: Sequence[bool], limit: float
) -> tuple[float, float, float]:
    """(intercept at x = 0, slope, residual sd) of ``ys`` over ``xs``, censored values being >= limit.

    EM for a censored normal regression: each censored value is replaced by its expectation above
    the limit under the current line, and its expected squared residual enters the variance.
    """
    filled = list(ys)
    floor = MIN_RELATIVE_SD * max(statistics.fmean(ys), 1.0)
    intercept, slope = _least_squares(xs, filled)
    sd = max(_rms([y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)], len(xs) - 2), floor)
    if not any(censored):
        return intercept, slope, sd
    for _ in range(EM_ROUNDS):
        squares = []
        for i, (x, y, is_censored) in enumerate(zip(xs, ys, censored, strict=True)):
            mean = intercept + slope * x
            if not is_censored:
                filled[i] = y
                squares.append((y - mean) ** 2)
                continue
            a = (limit - mean) / sd
            hazard = _pdf(a) / max(1 - _phi(a), 1e-12)
            filled[i] = mean + sd * hazard
            squares.append(sd * sd * (1 + a * hazard))
        intercept, slope = _least_squares(xs, filled)
        sd = max(math.sqrt(sum(squares) / max(len(xs) - 2, 1)), floor)
    return intercept, slope, sd


def _rms(residuals: Sequence[float], dof: int) -> float:
    return math.sqrt(sum(r * r for r in residuals) / max(dof, 1))


def _least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx <= 0:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    return mean_y - slope * mean_x, slope


def _phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _minutes(seconds: float) -> str:
    if abs(seconds) >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
