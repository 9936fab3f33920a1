"""Learn from every finished run in one pass: list the runs once, fetch each log once, feed both sides.

Learning records a run's outcome, its failed tasks' cause lines and templates (SQLite, the only
writer of a task's error text); retrieval indexes its logs and outcome (vector store). Each side
says which runs it still needs (learning: not in ``run_code_versions``; retrieval:
``runs.ingested_at`` empty) and which logs it reads (learning: the last try of each failed task;
retrieval: every try). The pass lists the runs once, fetches each needed run's task instances and
the union of those logs once, and hands the same data to both. Both sides skip what they already
have, so ingesting the same runs again fetches and adds nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import AirflowUnavailable, DagNotFound
from assistant.learning import ingest as learning
from assistant.retrieval import ingest as retrieval

if TYPE_CHECKING:
    from assistant.airflow.models import DagRunInfo, TaskInstanceInfo
    from assistant.airflow.port import AirflowPort
    from assistant.compose import Components

RECORD_WINDOW = 50  # runs per DAG learning looks at, whatever ``limit`` (as `predict` and `report` do)


@dataclass(frozen=True)
class IngestSummary:
    recorded: int  # runs whose outcomes and error templates were recorded (learning)
    indexed: int  # runs whose logs and outcomes were indexed (retrieval)


@dataclass(frozen=True)
class FetchedRun:
    """A finished run as fetched once from Airflow, for both sides."""

    run: DagRunInfo
    tasks: list[TaskInstanceInfo]
    logs: dict[learning.LogKey, str]  # raw text of every task try either side reads
    record: bool  # learning has not recorded it yet
    index: bool  # retrieval has not indexed it yet


def ingest(components: Components, dag_id: str | None = None, limit: int = 50) -> IngestSummary:
    """Record and index the finished runs not seen yet, in one pass; idempotent.

    Learning looks at the last ``max(limit, RECORD_WINDOW)`` runs of ``dag_id`` (or of each DAG),
    the index at the newest ``limit`` of them. When Airflow becomes unreachable midway, the runs
    fetched so far are still recorded and indexed; the rest are picked up next time.
    """
    airflow, db = components.airflow, components.db
    try:
        listed = list_runs(airflow, dag_id, max(limit, RECORD_WINDOW))
    except AirflowUnavailable:
        return IngestSummary(0, 0)
    to_record = {(r.dag_id, r.run_id) for r in learning.unrecorded(db, listed)}
    to_index = {(r.dag_id, r.run_id) for r in retrieval.unindexed(db, listed[:limit])}
    wanted = to_record | to_index
    todo = [r for r in listed if (r.dag_id, r.run_id) in wanted]
    versions: dict[str, str | None] = {}
    recorded = 0
    batch: list[FetchedRun] = []
    with contextlib.suppress(AirflowUnavailable):
        for run in sorted(todo, key=learning.started):  # oldest first, as templates are mined
            key = (run.dag_id, run.run_id)
            fetched = fetch(airflow, run, record=key in to_record, index=key in to_index)
            if fetched.record:
                if run.dag_id not in versions:
                    versions[run.dag_id] = learning.code_version(airflow.get_dag(run.dag_id))
                learning.record_run(db, run, fetched.tasks, fetched.logs, versions[run.dag_id])
                recorded += 1
            if fetched.index:
                batch.append(fetched)
    indexed = retrieval.index_runs(components, [(f.run, f.tasks, f.logs) for f in batch])
    return IngestSummary(recorded, indexed)


def list_runs(airflow: AirflowPort, dag_id: str | None, window: int) -> list[DagRunInfo]:
    """Newest first: the last ``window`` runs of ``dag_id``, or of each DAG Airflow lists."""
    if dag_id:
        return airflow.list_runs(dag_id, limit=window)
    runs: list[DagRunInfo] = []
    for dag in airflow.list_dags():
        with contextlib.suppress(DagNotFound):  # removed since it was listed
            runs.extend(airflow.list_runs(dag.dag_id, limit=window))
    return sorted(runs, key=lambda r: r.run_after or learning.started(r), reverse=True)


def fetch(airflow: AirflowPort, run: DagRunInfo, *, record: bool, index: bool) -> FetchedRun:
    """A run's task instances and every log either side reads, each fetched once."""
    tasks = airflow.task_instances(run.dag_id, run.run_id)
    keys = set(learning.log_keys(tasks) if record else ()) | set(retrieval.log_keys(tasks) if index else ())
    logs = {key: airflow.task_log(run.dag_id, run.run_id, key[0], key[2], key[1]) for key in sorted(keys)}
    return FetchedRun(run, tasks, logs, record, index)
