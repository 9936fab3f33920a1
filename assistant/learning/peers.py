"""The same failure in other DAGs: a shared connection or upstream service fails several at once.

A failure's *key* is its error line with the volatile parts masked (:func:`templates.mask`, the
same for every DAG, unlike a per-DAG drain3 template) plus the hosts its URLs name: an expired
token of one AWS connection, or a 503 from ``api.partner-2.example.com``, gives every DAG that
uses it the same key. :class:`PeerIndex` keeps each DAG's *episodes* (consecutive failed runs
with one key) in the order the runs finished.

Three situations are read from it for the DAG about to run, each with a rate learned from the
DAG's own past (how often its next run failed in the same situation), so that DAGs that merely
share an error text but not the dependency learn not to react:

* ``spreading``: its last run succeeded, and since then another DAG started failing with a key
  this DAG failed with *together with that DAG* before (an outage reaching the next DAG);
* ``ongoing``: it failed, and another DAG failed with the same key after that (still broken);
* ``resolved``: it failed, and another DAG that failed the same way in the same incident has
  succeeded since (the token was rotated, the service is back).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from assistant.learning.records import Prior, RunRecord, Tally
from assistant.learning.templates import mask

Connections = Mapping[str, Mapping[str, frozenset[str]]]  # dag_id -> task_id -> connection ids
SHARED_PRIORS = {
    "spreading": Prior(0.5, 2.0),  # failed together with that DAG before
    "connection": Prior(0.7, 2.0),  # the failing task uses a connection this DAG uses too
    "ongoing": Prior(0.75, 2.0),
    "resolved": Prior(0.25, 2.0),
}
LOOKBACK = timedelta(days=60)
SAME_INCIDENT_SLACK = timedelta(hours=6)  # episodes this close in time are taken as one incident
_HOST = re.compile(r"\b[a-z][a-z0-9+.\-]*://(?:[^@/\s'\"<>]*@)?([A-Za-z0-9.\-]+)")


@lru_cache(maxsize=16384)
def _key_of(text: str, masked: bool) -> str:
    hosts = sorted(set(_HOST.findall(text))) if not masked else []
    base = text if masked else mask(text)
    return f"{base} @ {', '.join(hosts)}" if hosts else base


def failure_key(run: RunRecord) -> str | None:
    """The key of a failed run's cause, comparable across DAGs; None for a success."""
    if not run.failed:
        return None
    task = run.first_failure
    if task is None:
        return "(no failed task recorded)"
    if task.error_excerpt:
        return _key_of(task.error_excerpt, False)
    return _key_of(task.error_template or "(no error text)", True)


@dataclass
class Episode:
    dag_id: str
    key: str
    task_id: str | None  # the failed task
    cause: str  # ``task: template`` of its first failure, for the words
    first_start: datetime
    fail_ends: list[datetime] = field(default_factory=list)
    closed_at: datetime | None = None  # end of the run that ended it
    recovered_at: datetime | None = None  # ... when that run was a success

    def failing_at(self, when: datetime) -> bool:
        """Its DAG's latest run finished by ``when`` is one of its failures."""
        return (
            bool(self.fail_ends)
            and self.fail_ends[0] <= when
            and (self.closed_at is None or self.closed_at > when)
        )

    def failed_between(self, after: datetime, until: datetime) -> bool:
        i = bisect.bisect_right(self.fail_ends, after)
        return i < len(self.fail_ends) and self.fail_ends[i] <= until

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return (
            self.first_start <= end + SAME_INCIDENT_SLACK
            and self.fail_ends[-1] >= start - SAME_INCIDENT_SLACK
        )


class PeerIndex:
    """Failure episodes of every DAG, fed with runs as they finish (each DAG's in end order)."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[Episode]] = {}
        self._known: dict[str, list[datetime]] = {}  # per key, when each episode became known
        self._open: dict[str, Episode] = {}
        self._last: dict[str, RunRecord] = {}  # each DAG's latest finished run
        self._persist: dict[str, dict[str, Tally]] = {}  # key -> dag -> what followed, same code

    @classmethod
    def from_histories(cls, histories: Mapping[str, Iterable[RunRecord]]) -> PeerIndex:
        index = cls()
        runs = [run for history in histories.values() for run in history]
        for run in sorted(runs, key=lambda r: r.end or r.start):
            index.add(run)
        return index

    def add(self, run: RunRecord) -> None:
        if run.state not in {"success", "failed"}:
            return
        previous = self._last.get(run.dag_id)
        self._last[run.dag_id] = run
        if previous is not None and previous.failed and previous.code_version == run.code_version:
            persisted = self._persist.setdefault(failure_key(previous) or "", {})
            persisted.setdefault(run.dag_id, Tally()).add(run.failed)
        ended = run.end or run.start
        current = self._open.get(run.dag_id)
        key = failure_key(run)
        if current is not None and key == current.key:
            current.fail_ends.append(ended)
            return
        if current is not None:
            current.closed_at = ended
            current.recovered_at = None if run.failed else ended
            del self._open[run.dag_id]
        if key is None:
            return
        task = run.first_failure
        episode = Episode(
            run.dag_id, key, task.task_id if task else None, run.cause or key, run.start, [ended]
        )
        self._open[run.dag_id] = episode
        self._by_key.setdefault(key, []).append(episode)
        self._known.setdefault(key, []).append(ended)

    def persistence(self, key: str, exclude: str) -> Tally:
        """How often a failure with ``key`` was followed by another failed run in the other DAGs
        (the code unchanged in between): expired tokens stay, transient errors pass."""
        pooled = Tally()
        for dag_id, tally in self._persist.get(key, {}).items():
            if dag_id != exclude:
                pooled.followed += tally.followed
                pooled.failed += tally.failed
        return pooled

    def open_episodes(self, exclude: str) -> list[Episode]:
        """The episode each other DAG is in now (its latest finished run failed)."""
        return [e for dag, e in self._open.items() if dag != exclude]

    def episodes(self, key: str, exclude: str, since: datetime) -> list[Episode]:
        """Episodes of other DAGs with ``key`` known since ``since`` (or still open then)."""
        found = self._by_key.get(key, [])
        first = bisect.bisect_left(self._known.get(key, []), since)
        recent = found[first:]
        older_open = [e for e in found[:first] if e.closed_at is None or e.closed_at >= since]
        return [e for e in older_open + recent if e.dag_id != exclude]


@dataclass(frozen=True)
class SharedSignal:
    kind: str  # "spreading" | "ongoing" | "resolved"
    key: str
    cause: str  # the peers' ``task: template``
    peers: tuple[str, ...]
    since: datetime  # spreading/ongoing: the peers' latest failure; resolved: their recovery
    tally: Tally  # what followed for this DAG in the same situation before
    connections: tuple[str, ...] = ()  # spreading: connections the failing tasks share with this DAG

    @property
    def probability(self) -> float:
        prior = SHARED_PRIORS["connection" if self.connections else self.kind]
        return prior.estimate(self.tally)


@dataclass
class _Own:
    starts: list[datetime]
    runs: list[RunRecord]
    keys: list[str | None]


def shared_signal(
    dag_id: str,
    runs: Sequence[RunRecord],
    index: PeerIndex | None,
    now: datetime,
    connections: Connections | None = None,
) -> SharedSignal | None:
    """What other DAGs' failures say about the next run of ``dag_id`` (``runs`` in time order)."""
    if index is None or not runs:
        return None
    since = now - LOOKBACK
    recent = [r for r in runs if r.start >= since] or list(runs[-1:])
    own = _Own([r.start for r in recent], recent, [failure_key(r) if r.failed else None for r in recent])
    last_key = own.keys[-1]
    if last_key is not None:
        peers = index.episodes(last_key, dag_id, since)
        return _after_failure(own, last_key, peers, now)
    return _spreading(own, index, dag_id, since, now, connections or {})


def _spreading(
    own: _Own, index: PeerIndex, dag_id: str, since: datetime, now: datetime, connections: Connections
) -> SharedSignal | None:
    """Other DAGs failing now, since this DAG last started, with a failure it is exposed to: one it
    shared with them before, or at a task using a connection this DAG uses too."""
    last = own.runs[-1]
    mine = {conn for conns in connections.get(dag_id, {}).values() for conn in conns}
    own_keys = {k for k in own.keys if k is not None}
    by_key: dict[str, list[Episode]] = {}
    for episode in index.open_episodes(dag_id):
        if episode.fail_ends[0] > last.start and episode.failing_at(now):
            by_key.setdefault(episode.key, []).append(episode)
    best: SharedSignal | None = None
    for key, active in by_key.items():
        pairs = {e.dag_id for e in active}
        shared = {
            conn for e in active for conn in connections.get(e.dag_id, {}).get(e.task_id or "", ())
        } & mine
        tally = Tally()
        if key in own_keys:
            for episode in index.episodes(key, dag_id, since):
                outcome = _exposure(own, key, episode) if episode.dag_id in pairs else None
                if outcome is not None:
                    tally.add(outcome)
        if not shared and tally.failed == 0:
            continue  # no evidence that this DAG depends on what is failing there
        newest = max(active, key=lambda e: e.fail_ends[-1])
        signal = SharedSignal(
            "spreading",
            key,
            newest.cause,
            tuple(sorted(pairs)),
            newest.fail_ends[-1],
            tally,
            tuple(sorted(shared)),
        )
        if best is None or signal.probability > best.probability:
            best = signal
    return best


def _exposure(own: _Own, key: str, episode: Episode) -> bool | None:
    """Did this DAG's first run after ``episode`` became known fail with ``key``? None: no such run
    while the episode lasted, or this DAG was already failing with ``key`` before it."""
    i = bisect.bisect_left(own.starts, episode.fail_ends[0])
    if i >= len(own.runs) or not episode.failing_at(own.starts[i]):
        return None
    if i > 0 and own.keys[i - 1] == key:
        return None
    return own.keys[i] == key


def _after_failure(own: _Own, key: str, peers: list[Episode], now: datetime) -> SharedSignal | None:
    if not peers:
        return None
    tallies = {"ongoing": Tally(), "resolved": Tally()}
    episode_start: datetime | None = None
    for i in range(len(own.runs) - 1):
        failed, following = own.runs[i], own.runs[i + 1]
        if own.keys[i] != key:
            episode_start = None
            continue
        episode_start = episode_start or failed.start
        kind, _ = _situation(peers, episode_start, failed, following.start)
        if kind is not None:
            tallies[kind].add(following.failed)
    last = own.runs[-1]
    start = last.start
    for j in range(len(own.runs) - 1, -1, -1):
        if own.keys[j] != key:
            break
        start = own.runs[j].start
    kind, involved = _situation(peers, start, last, now)
    if kind is None:
        return None
    when = max(
        (e.recovered_at or e.fail_ends[-1]) if kind == "resolved" else e.fail_ends[-1] for e in involved
    )
    return SharedSignal(
        kind, key, involved[0].cause, tuple(sorted({e.dag_id for e in involved})), when, tallies[kind]
    )


def _situation(
    peers: list[Episode], episode_start: datetime, failed: RunRecord, when: datetime
) -> tuple[str | None, list[Episode]]:
    """``resolved`` when a peer in the same incident recovered after ``failed`` started,
    ``ongoing`` when a peer failed after it and is still failing at ``when``."""
    resolved, ongoing = [], []
    for episode in peers:
        if episode.first_start > when:
            continue
        recovered = episode.recovered_at
        if recovered is not None and failed.start < recovered <= when:
            if episode.overlaps(episode_start, failed.end or failed.start):
                resolved.append(episode)
        elif episode.failing_at(when) and episode.failed_between(failed.start, when):
            ongoing.append(episode)
    if resolved:
        return "resolved", resolved
    return ("ongoing", ongoing) if ongoing else (None, [])
