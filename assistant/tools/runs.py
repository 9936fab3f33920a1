"""DAGs and runs: list, trigger, wait, status and logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.errors import RunNotFound

if TYPE_CHECKING:
    from assistant.airflow.models import DagInfo, DagRunInfo, TaskInstanceInfo
    from assistant.airflow.port import AirflowPort


@dataclass(frozen=True)
class TaskLog:
    task_id: str
    try_number: int
    state: str | None
    text: str


@dataclass(frozen=True)
class RunReport:
    run: DagRunInfo
    tasks: list[TaskInstanceInfo] = field(default_factory=list)
    failed_logs: list[TaskLog] = field(default_factory=list)


def list_dags(airflow: AirflowPort, namespace: str | None = None) -> list[DagInfo]:
    dags = airflow.list_dags()
    if namespace:
        dags = [d for d in dags if _namespace_of(d) == namespace]
    return sorted(dags, key=lambda d: d.dag_id)


def _namespace_of(dag: DagInfo) -> str | None:
    rel = (dag.relative_fileloc or "").lstrip("/")
    head = rel.split("/", 1)[0]
    return head if head in {"company", "community", "personal"} else None


def trigger(
    airflow: AirflowPort,
    dag_id: str,
    conf: dict[str, object] | None = None,
    *,
    unpause: bool = True,
) -> DagRunInfo:
    """Trigger a run; a paused DAG is unpaused first (a run of a paused DAG never starts)."""
    dag = airflow.get_dag(dag_id)
    if dag.is_paused and unpause:
        airflow.set_paused(dag_id, False)
    return airflow.trigger(dag_id, conf or {})


def wait(airflow: AirflowPort, run: DagRunInfo, timeout_s: float, poll_s: float = 0.25) -> RunReport:
    finished = airflow.wait_for_run(run.dag_id, run.run_id, timeout_s=timeout_s, poll_s=poll_s)
    return report(airflow, finished)


def report(airflow: AirflowPort, run: DagRunInfo, *, log_lines: int = 40) -> RunReport:
    tasks = airflow.task_instances(run.dag_id, run.run_id)
    failed = []
    for ti in tasks:
        if ti.state == "failed":
            text = airflow.task_log(run.dag_id, run.run_id, ti.task_id, ti.try_number, ti.map_index)
            failed.append(TaskLog(ti.task_id, ti.try_number, ti.state, tail(text, log_lines)))
    return RunReport(run=run, tasks=tasks, failed_logs=failed)


def status(airflow: AirflowPort, dag_id: str | None = None, limit: int = 10) -> list[DagRunInfo]:
    if dag_id:
        airflow.get_dag(dag_id)  # a clear DagNotFound with close matches
    return airflow.list_runs(dag_id, limit=limit)


def logs(
    airflow: AirflowPort, dag_id: str, run_id: str | None = None, task_id: str | None = None
) -> tuple[DagRunInfo, list[TaskLog]]:
    if run_id:
        run = airflow.get_run(dag_id, run_id)
    else:
        runs = status(airflow, dag_id, limit=1)
        if not runs:
            raise RunNotFound(f"DAG {dag_id!r} has no runs yet", f"start one with `assistant run {dag_id}`")
        run = runs[0]
    tasks = airflow.task_instances(dag_id, run.run_id)
    if task_id:
        chosen = [t for t in tasks if t.task_id == task_id]
        if not chosen:
            names = ", ".join(sorted(t.task_id for t in tasks)) or "none"
            raise RunNotFound(f"run {run.run_id} of {dag_id} has no task {task_id!r}", f"its tasks: {names}")
    else:
        chosen = tasks
    out = []
    for ti in chosen:
        if ti.try_number < 1:
            out.append(TaskLog(ti.task_id, 0, ti.state, "(the task has not started; no log yet)"))
            continue
        text = airflow.task_log(dag_id, run.run_id, ti.task_id, ti.try_number, ti.map_index)
        out.append(TaskLog(ti.task_id, ti.try_number, ti.state, text))
    return run, out


def tail(text: str, lines: int) -> str:
    parts = text.splitlines()
    return "\n".join(parts[-lines:])
