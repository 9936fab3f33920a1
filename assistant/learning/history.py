"""Features of one DAG's run history: transitions, streaks, causes, code changes.

The model behind the failure warning is a small Markov view of a DAG: what tends to follow a
success (how often a new failure starts) and what tends to follow a failure of each cause (does
the cause persist, like expired credentials, or pass, like a flaky task). Each count is kept
as (runs that followed, of which failed), turned into probabilities with Beta priors by
:mod:`assistant.learning.predictor`.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assistant.learning.peers import Connections, PeerIndex, SharedSignal, failure_key, shared_signal
from assistant.learning.records import RunRecord, Tally
from assistant.learning.survival import Survival, incident_survival
from assistant.learning.trend import TimeoutTrend, nearest_timeout

__all__ = ["HistoryFeatures", "Tally", "extract"]


@dataclass
class HistoryFeatures:
    runs: int
    window: int
    failures_in_window: int
    after_success: Tally
    after_cause: dict[str, Tally]
    after_fix: Tally
    cause_counts: Counter[str]
    failure_streak: int
    last_cause: str | None
    last_success_end: datetime | None
    last_run_end: datetime | None
    code_changed_since_failure: bool | None
    median_gap_s: float | None
    causes_seen_resolved: dict[str, int] = field(default_factory=dict)
    timeout: TimeoutTrend | None = None  # a task whose durations near its execution_timeout
    shared: SharedSignal | None = None  # the same failure in other DAGs
    survival: Survival | None = None  # how long incidents like the last failure's last
    pooled_persistence: Tally | None = None  # the last failure's key in other DAGs: what followed

    @property
    def failure_rate(self) -> float:
        return self.failures_in_window / self.window if self.window else 0.0


def _code_changed(before: str | None, after: str | None) -> bool | None:
    if before is None or after is None:
        return None
    return before != after


def extract(
    history: Sequence[RunRecord],
    current_code_version: str | None,
    window: int = 60,
    *,
    now: datetime | None = None,
    peers: PeerIndex | None = None,
    timeouts: Mapping[str, float | None] | None = None,
    connections: Connections | None = None,
) -> HistoryFeatures:
    """Features of ``history`` (finished runs of one DAG, any order), as of the next run at ``now``
    (by default when the DAG's usual schedule would start it).

    ``peers`` holds the other DAGs' recent failures (the same cause spreading or being fixed
    there); ``timeouts`` the execution_timeout of each task of the code about to run, when known;
    ``connections`` the connection ids each task of each DAG uses (:mod:`.connections`), when known.
    """
    runs = sorted((r for r in history if r.state in {"success", "failed"}), key=lambda r: r.start)
    recent = runs[-window:]
    after_success, after_fix = Tally(), Tally()
    after_cause: dict[str, Tally] = {}
    resolved: Counter[str] = Counter()
    for previous, following in itertools.pairwise(recent):
        if not previous.failed:
            after_success.add(following.failed)
            continue
        cause = previous.cause or "(unknown)"
        if _code_changed(previous.code_version, following.code_version):
            after_fix.add(following.failed)
        else:
            after_cause.setdefault(cause, Tally()).add(following.failed)
        if not following.failed:
            resolved[cause] += 1
    streak = 0
    for run in reversed(runs):
        if not run.failed:
            break
        streak += 1
    last = runs[-1] if runs else None
    last_failed = next((r for r in reversed(runs) if r.failed), None)
    last_success = next((r for r in reversed(runs) if not r.failed), None)
    starts = [r.start for r in recent]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    median_gap = statistics.median(gaps) if gaps else None
    when = now or _next_start(last, median_gap)
    return HistoryFeatures(
        runs=len(runs),
        window=len(recent),
        failures_in_window=sum(r.failed for r in recent),
        after_success=after_success,
        after_cause=after_cause,
        after_fix=after_fix,
        cause_counts=Counter(r.cause for r in recent if r.failed and r.cause),
        failure_streak=streak,
        last_cause=last.cause if last and last.failed else None,
        last_success_end=(last_success.end or last_success.start) if last_success else None,
        last_run_end=(last.end or last.start) if last else None,
        code_changed_since_failure=(
            _code_changed(last_failed.code_version, current_code_version) if last_failed else None
        ),
        median_gap_s=median_gap,
        causes_seen_resolved=dict(resolved),
        timeout=nearest_timeout(runs, current_code_version, when, timeouts) if runs else None,
        shared=shared_signal(runs[0].dag_id, runs, peers, when, connections) if runs else None,
        survival=incident_survival(runs, when),
        pooled_persistence=(
            peers.persistence(failure_key(last) or "", last.dag_id)
            if peers is not None and last is not None and last.failed
            else None
        ),
    )


def _next_start(last: RunRecord | None, median_gap_s: float | None) -> datetime:
    """When the next run would start on the DAG's usual schedule (the default ``now``)."""
    if last is None:
        return datetime.min
    if median_gap_s is None:
        return last.end or last.start
    return max(last.start + timedelta(seconds=median_gap_s), last.end or last.start)
