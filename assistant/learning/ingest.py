"""Record finished runs of a DAG from Airflow: outcomes, error excerpts and templates, code version.

The knowledge ingestion (retrieval) indexes logs; this records what learning needs and is safe to
run beside it: rows are upserted on the same keys and an error text already recorded is kept.
A run's code version is the DAG file's content hash (or the bundle version when the file is not
readable here), taken when the run is first recorded. The same file gives the connection ids of
each task (:mod:`assistant.learning.connections`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AirflowError
from assistant.learning import store
from assistant.learning.connections import TaskConnections, task_connections
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.learning.templates import error_excerpt, mine_templates

if TYPE_CHECKING:
    from assistant.airflow.models import DagInfo, DagRunInfo
    from assistant.airflow.port import AirflowPort


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
        known = store.recorded_run_ids(db, dag_id)
        new = [r for r in runs if r.run_id not in known]
        if not new:
            continue
        version = code_version(airflow.get_dag(dag_id))
        for run in sorted(new, key=_started):
            store.save_run(db, _record(airflow, db, run), run.start_date, version)
        count += len(new)
    return count


def record_finished_runs(airflow: AirflowPort, db: sqlite3.Connection, dag_id: str, limit: int = 50) -> int:
    """Record the finished runs of ``dag_id`` among its last ``limit`` not recorded yet; how many."""
    dag = airflow.get_dag(dag_id)
    version = code_version(dag)
    known = store.recorded_run_ids(db, dag_id)
    fresh = [r for r in airflow.list_runs(dag_id, limit=limit) if r.finished and r.run_id not in known]
    for run in sorted(fresh, key=_started):
        store.save_run(db, _record(airflow, db, run), run.start_date, version)
    return len(fresh)


def _record(airflow: AirflowPort, db: sqlite3.Connection, run: DagRunInfo) -> RunRecord:
    tasks = []
    for ti in airflow.task_instances(run.dag_id, run.run_id):
        excerpt = template = None
        if ti.state == "failed" and ti.try_number >= 1:
            log = airflow.task_log(run.dag_id, run.run_id, ti.task_id, ti.try_number, ti.map_index)
            excerpt = error_excerpt(log)
            if excerpt:
                template = mine_templates([*store.excerpts_of(db, run.dag_id, ti.task_id), excerpt])[-1]
        tasks.append(TaskOutcome(ti.task_id, ti.state, ti.try_number, ti.duration_s, template, excerpt))
    return RunRecord(
        run.dag_id, run.run_id, run.state, _started(run), run.end_date, run.duration_s, None, tuple(tasks)
    )


def _started(run: DagRunInfo) -> datetime:
    return run.start_date or run.run_after or run.end_date or datetime.now(UTC)
