"""Index finished Airflow runs: task logs into ``task_logs``, outcomes into ``outcomes``.

:func:`index_runs` works on data already fetched (``assistant ingest``, :mod:`assistant.tools.ingest`,
fetches each log once for this and for learning): each task try's log is redacted, compacted, cut
into passages and indexed with dag/task/run/try/state metadata; a summary of the run and of each
task (with a few lines of its log, :func:`log_excerpt`) goes to ``outcomes``. The state database
gets the run's retrieval columns (``ingested_at``, logical date, conf) and its tasks' states and
times; a task's error text is learning's to write (the cause line), never this module's. A run is
marked ingested only once indexed, so an interrupted ingestion is simply redone: passages are
keyed by run/task/try and replaced, not duplicated.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.redact import redact

if TYPE_CHECKING:
    from assistant.airflow.models import DagRunInfo, TaskInstanceInfo
    from assistant.compose import Components
    from assistant.retrieval.store import Metadata

LOG_PASSAGE_CHARS = 1200
MAX_LOG_CHARS = 24_000  # per task try: the head and the tail (where errors are) of longer logs
_ERROR_LINE = re.compile(r"(Error|Exception|Traceback|FAILED|Killed|Timeout)", re.I)
_TIMESTAMP = re.compile(r"^\[?\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\]?\s*")
_FRAME = re.compile(r'^\s+File "[^"]+", line \d+, in ')


def compact_log(log: str) -> str:
    """The log without timestamps and library stack frames: what a passage needs to be found.

    The last frame of a traceback (usually the user's own code) is kept; the rest of the frames are
    noise for retrieval. The full log stays available from Airflow (`assistant logs`).
    """
    kept: list[str] = []
    frames: list[str] = []
    for raw in log.splitlines():
        line = _TIMESTAMP.sub("", raw).rstrip()
        if _FRAME.match(line):
            frames.append(line.strip())
            continue
        if frames:
            kept.append(
                f"  {frames[-1]} (+{len(frames) - 1} frames)" if len(frames) > 1 else f"  {frames[-1]}"
            )
            frames = []
        if line:
            kept.append(line)
    if frames:
        kept.append(f"  {frames[-1]}")
    return "\n".join(kept)


Passage = tuple[str, str, "Metadata"]
LogKey = tuple[str, int, int]  # (task_id, map_index, try_number): one task try's log
RunWithLogs = tuple["DagRunInfo", "Sequence[TaskInstanceInfo]", Mapping[LogKey, str]]


def unindexed(db: sqlite3.Connection, runs: Sequence[DagRunInfo]) -> list[DagRunInfo]:
    """The finished runs among ``runs`` not indexed yet (``runs.ingested_at`` is empty), in order."""
    done = {(r[0], r[1]) for r in db.execute("SELECT dag_id, run_id FROM runs WHERE ingested_at IS NOT NULL")}
    return [r for r in runs if r.finished and (r.dag_id, r.run_id) not in done]


def log_keys(tasks: Sequence[TaskInstanceInfo]) -> list[LogKey]:
    """The logs indexing reads: every try of every task."""
    return [(ti.task_id, ti.map_index, attempt) for ti in tasks for attempt in range(1, ti.try_number + 1)]


def index_runs(components: Components, runs: Sequence[RunWithLogs]) -> int:
    """Index ``(run, tasks, raw logs of log_keys(tasks))`` of finished runs, then mark them ingested."""
    if not runs:
        return 0
    log_passages: list[Passage] = []
    outcome_passages: list[Passage] = []
    for run, tasks, logs in runs:
        excerpts: dict[str, str] = {}
        for ti in tasks:
            for attempt in range(1, ti.try_number + 1):
                log = compact_log(redact(logs.get((ti.task_id, ti.map_index, attempt), "")))
                state = ti.state if attempt == ti.try_number else "failed"
                log_passages.extend(_log_passages(run, ti, attempt, state or "unknown", log))
                if state == "failed" and attempt == ti.try_number:
                    excerpts[ti.task_id] = log_excerpt(log)
        outcome_passages.extend(_outcome_passages(run, tasks, excerpts))
    knowledge = components.knowledge
    knowledge.add_passages("task_logs", log_passages, "log_key")
    knowledge.add_passages("outcomes", outcome_passages, "outcome_key")
    db = components.db
    with db:
        for run, tasks, _ in runs:
            _record(db, run, tasks)
    return len(runs)


def log_excerpt(log: str, lines: int = 6) -> str:
    """The last lines of a log that look like an error, else its last lines (already redacted).

    Several lines, for the outcome passage a reader sees; the single cause line that learning
    stores and groups is :func:`assistant.learning.templates.cause_line`.
    """
    all_lines = [line for line in log.splitlines() if line.strip()]
    errors = [line for line in all_lines if _ERROR_LINE.search(line)]
    return "\n".join((errors or all_lines)[-lines:])[-1000:]


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _log_passages(
    run: DagRunInfo, ti: TaskInstanceInfo, attempt: int, state: str, log: str
) -> Iterator[Passage]:
    if len(log) > MAX_LOG_CHARS:
        log = log[: MAX_LOG_CHARS // 4] + "\n[… log shortened …]\n" + log[-(MAX_LOG_CHARS * 3 // 4) :]
    group = f"{run.dag_id}/{run.run_id}/{ti.task_id}/{ti.map_index}/{attempt}"
    meta: Metadata = {
        "dag_id": run.dag_id,
        "task_id": ti.task_id,
        "run_id": run.run_id,
        "try": attempt,
        "map_index": ti.map_index,
        "state": state,
        "duration_s": float(ti.duration_s or 0.0),
        "time": _iso(ti.end_date or run.end_date),
        "source": f"log {run.dag_id}/{ti.task_id} try {attempt} ({run.run_id})",
        "title": f"task log of {run.dag_id}.{ti.task_id}",
        "section": f"{state}, try {attempt}",
    }
    piece: list[str] = []
    size = 0
    for line in log.splitlines():
        if piece and size + len(line) + 1 > LOG_PASSAGE_CHARS:
            yield group, "\n".join(piece), meta
            piece, size = [], 0
        piece.append(line[:LOG_PASSAGE_CHARS])
        size += len(piece[-1]) + 1
    if piece or not log:
        yield group, "\n".join(piece) or "(empty log)", meta


def _outcome_passages(
    run: DagRunInfo, tasks: Sequence[TaskInstanceInfo], excerpts: dict[str, str]
) -> list[Passage]:
    duration = f"{run.duration_s:.1f} s" if run.duration_s is not None else "unknown time"
    lines = [
        f"Run {run.run_id} of DAG {run.dag_id} finished {run.state} in {duration} (ended {_iso(run.end_date)})."
    ]
    passages: list[Passage] = []
    base: Metadata = {"dag_id": run.dag_id, "run_id": run.run_id, "time": _iso(run.end_date)}
    for ti in tasks:
        took = f"{ti.duration_s:.1f} s" if ti.duration_s is not None else "no duration"
        summary = f"Task {ti.task_id} of DAG {run.dag_id}: {ti.state or 'no state'} after {ti.try_number} tries, {took}."
        if ti.task_id in excerpts:
            summary += f" Error: {excerpts[ti.task_id]}"
        lines.append(summary)
        meta: Metadata = {
            **base,
            "task_id": ti.task_id,
            "state": ti.state or "none",
            "try": ti.try_number,
            "duration_s": float(ti.duration_s or 0.0),
            "source": f"outcome {run.dag_id}/{ti.task_id} ({run.run_id})",
            "section": f"task {ti.state or 'none'}",
        }
        passages.append((f"{run.dag_id}/{run.run_id}/{ti.task_id}/{ti.map_index}", summary, meta))
    run_meta: Metadata = {
        **base,
        "task_id": "",
        "state": run.state,
        "duration_s": float(run.duration_s or 0.0),
        "source": f"outcome {run.dag_id} ({run.run_id})",
        "section": f"run {run.state}",
    }
    passages.append((f"{run.dag_id}/{run.run_id}", "\n".join(lines), run_meta))
    return passages


def _record(db: sqlite3.Connection, run: DagRunInfo, tasks: Sequence[TaskInstanceInfo]) -> None:
    """The run's retrieval columns and its tasks' states and times; never a task's error text."""
    import json

    db.execute(
        "INSERT INTO runs (dag_id, run_id, state, logical_date, start_date, end_date, duration_s, conf_json, "
        "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dag_id, run_id) DO UPDATE SET "
        "state = excluded.state, logical_date = COALESCE(runs.logical_date, excluded.logical_date), "
        "end_date = excluded.end_date, duration_s = excluded.duration_s, conf_json = excluded.conf_json, "
        "ingested_at = excluded.ingested_at",
        (
            run.dag_id,
            run.run_id,
            run.state,
            _iso(run.logical_date) or None,
            _iso(run.start_date) or None,
            _iso(run.end_date) or None,
            run.duration_s,
            redact(json.dumps(run.conf, default=str)),
            datetime.now(UTC).isoformat(),
        ),
    )
    for ti in tasks:
        db.execute(
            "INSERT INTO task_outcomes (dag_id, run_id, task_id, map_index, try_number, state, start_date, "
            "end_date, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dag_id, run_id, task_id, map_index, try_number) DO UPDATE SET "
            "state = excluded.state, end_date = excluded.end_date, duration_s = excluded.duration_s",
            (
                run.dag_id,
                run.run_id,
                ti.task_id,
                ti.map_index,
                max(ti.try_number, 1),
                ti.state,
                _iso(ti.start_date) or None,
                _iso(ti.end_date) or None,
                ti.duration_s,
            ),
        )
