"""How long this DAG's failures of one kind last: is the episode behind its last failure over?

An outage or an expired token is an *incident* with a duration, and the DAG's own past episodes
with the same failure key (consecutive failed runs, ended by a success) say how long such
incidents last. Given that the current episode began at ``started`` and was still going at the
last failure, the chance that it still goes on when the next run starts is the share of past
episodes that outlasted ``now`` among those that outlasted the last failure, as a tally to
smooth. A DAG sees an episode end only at its next run, so a past episode's length is taken
halfway between its last failure and the success after it.

Only the DAG's own episodes are used: another DAG on a slower schedule sees the same incident
in coarser steps, and mixing the two would blur the lengths (checked on the training seeds).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.learning.peers import LOOKBACK, failure_key
from assistant.learning.records import RunRecord, Tally

MIN_EPISODES = 3  # fewer past episodes say too little about how long they last


@dataclass(frozen=True)
class Survival:
    key: str
    started: datetime
    lengths_h: tuple[float, ...]  # of the past episodes with this key
    tally: Tally  # past episodes that outlasted the last failure, and how many of them outlasted now

    def describe(self, now: datetime) -> str:
        hours = sorted(self.lengths_h)
        return (
            f"such episodes lasted {_h(hours[0])} to {_h(hours[-1])} (median {_h(statistics.median(hours))}) "
            f"and this one began {_h(_hours(self.started, now))} ago"
        )

    def details(self, now: datetime) -> str:
        return (
            f"{len(self.lengths_h)} earlier episodes of this failure: {self.describe(now)}; of the "
            f"{self.tally.followed} that lasted as long as this one has, {self.tally.failed} went on longer"
        )


def incident_survival(runs: Sequence[RunRecord], now: datetime) -> Survival | None:
    """For a DAG whose last run (``runs`` in time order) failed; None without enough episodes."""
    if not runs or not runs[-1].failed:
        return None
    key = failure_key(runs[-1])
    if key is None:
        return None
    lengths: list[float] = []
    since = now - LOOKBACK
    first: RunRecord | None = None
    previous: RunRecord | None = None
    current_start: datetime | None = None
    for run in runs:
        run_key = failure_key(run) if run.failed else None
        if run_key == key:
            first = first or run
            previous = run
            continue
        if first is not None and previous is not None and not run.failed and first.start >= since:
            lengths.append(_hours(first.start, previous.start + (run.start - previous.start) / 2))
        first = previous = None
    current_start = first.start if first is not None else runs[-1].start
    if len(lengths) < MIN_EPISODES:
        return None
    on_h = _hours(current_start, runs[-1].start)
    next_h = _hours(current_start, now)
    tally = Tally()
    for lasted in lengths:
        if lasted > on_h:
            tally.add(lasted > next_h)
    return Survival(key, current_start, tuple(lengths), tally)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(hours=1)


def _h(hours: float) -> str:
    return f"{hours:.0f} h" if hours >= 1 else f"{hours * 60:.0f} min"
