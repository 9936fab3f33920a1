"""Record finished runs of a DAG from Airflow: outcomes, cause lines and templates, code version.

This module is the only writer of a task's error text (``task_outcomes.error_excerpt`` holds the
cause line, :func:`~assistant.learning.templates.cause_line`, and ``error_template`` its template).
:func:`record_run` is pure over data already fetched: ``assistant ingest`` (:mod:`assistant.tools.ingest`)
fetches each log once and hands it to both this and the retrieval index; :func:`record_finished_runs`
and :func:`record_recent_runs` fetch for themselves (learning only, before a prediction or a report).
A run is recorded once (``run_code_versions``); its code version is the DAG file's content hash
(or the bundle version when the file is not readable here), taken when the run is first recorded.
The same file gives the connection ids of each task (:mod:`assistant.learning.connections`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AirflowError
from assistant.learning import store
from assistant.learning.connections import TaskConnections, task_connections
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.learning.templates import cause_line, mine_templates

if TYPE_CHECKING:
    from assistant.airflow.models import DagInfo, DagRunInfo, TaskInstanceInfo
    from assistant.airflow.port import AirflowPort

LogKey = tuple[str, int, int]  # (task_id, map_index, try_number): one task try's log


def code_version(dag: DagInfo) -> str | None:
    """A fingerprint of the code a DAG runs now: its file's hash, else its bundle version."""
    if dag.fileloc:
        try:
            return "sha256:" + hashlib.sha256(Path(dag.fileloc).read_bytes()).hexdigest()[:16]
        except OSError:
            pass
    return f"bundle:{dag.bundle_version}" if dag.bundle_version else None


def connections_of(dag: DagInfo) -> TaskConnections:
    """The connection ids each task of ``dag`` uses, from its file when readable here, else {}."""
    if not dag.fileloc:
        return {}
    try:
        return task_connections(Path(dag.fileloc).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return {}


def task_timeouts(airflow: AirflowPort, dag_id: str) -> dict[str, float | None]:
    """execution_timeout in seconds per task of the code Airflow has now; {} when Airflow cannot say."""
    try:
        return airflow.task_timeouts(dag_id)
    except AirflowError:
        return {}


def record_recent_runs(airflow: AirflowPort, db: sqlite3.Connection, limit: int = 100) -> int:
    """Record the finished runs of every DAG among the ``limit`` most recent ones (one listing)."""
    fresh: dict[str, list[DagRunInfo]] = {}
    for run in airflow.list_runs(None, limit=limit):
        if run.finished:
            fresh.setdefault(run.dag_id, []).append(run)
    count = 0
    for dag_id, runs in sorted(fresh.items()):
        new = unrecorded(db, runs)
        if new:
            _fetch_and_record(airflow, db, new, code_version(airflow.get_dag(dag_id)))
            count += len(new)
    return count


def record_finished_runs(
    airflow: AirflowPort, db: sqlite3.Connection, dag_id: str, limit: int = 50, *, dag: DagInfo | None = None
) -> int:
    """Record the finished runs of ``dag_id`` among its last ``limit`` not recorded yet; how many.
    ``dag``: the DAG as the caller already fetched it (else it is fetched here)."""
    version = code_version(dag or airflow.get_dag(dag_id))
    fresh = unrecorded(db, airflow.list_runs(dag_id, limit=limit))
    _fetch_and_record(airflow, db, fresh, version)
    return len(fresh)


def unrecorded(db: sqlite3.Connection, runs: Sequence[DagRunInfo]) -> list[DagRunInfo]:
    """The finished runs among ``runs`` not recorded yet, oldest first (the order to record them)."""
    known: dict[str, set[str]] = {}
    fresh = [
        r
        for r in runs
        if r.finished and r.run_id not in known.setdefault(r.dag_id, store.recorded_run_ids(db, r.dag_id))
    ]
    return sorted(fresh, key=started)


def log_keys(tasks: Sequence[TaskInstanceInfo]) -> list[LogKey]:
    """The logs recording reads: the last try of each failed task (where the cause is)."""
    return [
        (ti.task_id, ti.map_index, ti.try_number)
        for ti in tasks
        if ti.state == "failed" and ti.try_number >= 1
    ]


def record_run(
    db: sqlite3.Connection,
    run: DagRunInfo,
    tasks: Sequence[TaskInstanceInfo],
    logs: Mapping[LogKey, str],
    version: str | None,
) -> None:
    """Record a finished run from data already fetched: ``logs`` holds the raw text of :func:`log_keys`."""
    outcomes = []
    for ti in tasks:
        cause = template = None
        log = logs.get((ti.task_id, ti.map_index, ti.try_number)) if ti.state == "failed" else None
        if log is not None:
            cause = cause_line(log)
            if cause:
                template = mine_templates([*store.excerpts_of(db, run.dag_id, ti.task_id), cause])[-1]
        outcomes.append(TaskOutcome(ti.task_id, ti.state, ti.try_number, ti.duration_s, template, cause))
    record = RunRecord(
        run.dag_id, run.run_id, run.state, started(run), run.end_date, run.duration_s, None, tuple(outcomes)
    )
    store.save_run(db, record, run.start_date, version)


def _fetch_and_record(
    airflow: AirflowPort, db: sqlite3.Connection, runs: Sequence[DagRunInfo], version: str | None
) -> None:
    for run in runs:
        tasks = airflow.task_instances(run.dag_id, run.run_id)
        logs = {
            key: airflow.task_log(run.dag_id, run.run_id, key[0], key[2], key[1]) for key in log_keys(tasks)
        }
        record_run(db, run, tasks, logs, version)


def started(run: DagRunInfo) -> datetime:
    """When a run started, as well as Airflow can say (for ordering)."""
    return run.start_date or run.run_after or run.end_date or datetime.now(UTC)
