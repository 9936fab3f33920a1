"""An in-memory Airflow for the API tests: DAGs, runs that finish at once, task logs."""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from assistant.airflow.models import (
    ConnectionCheck,
    DagInfo,
    DagRunInfo,
    Health,
    ImportErrorInfo,
    TaskInstanceInfo,
)
from assistant.errors import AirflowUnavailable, DagNotFound, RunNotFound


class FakeAirflow:
    url = "http://airflow.invalid"

    def __init__(self, dag_ids: list[str]) -> None:
        self.dags = {d: DagInfo(dag_id=d, is_paused=True, tags=("test",)) for d in dag_ids}
        self.runs: list[DagRunInfo] = []
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise AirflowUnavailable(f"cannot reach Airflow at {self.url}", "start it with `make airflow-up`")

    def health(self) -> Health:
        self._check()
        return Health(True, {"scheduler": "healthy"})

    def list_dags(self, *, include_stale: bool = False) -> list[DagInfo]:
        self._check()
        return list(self.dags.values())

    def get_dag(self, dag_id: str) -> DagInfo:
        self._check()
        if dag_id not in self.dags:
            raise DagNotFound(dag_id, difflib.get_close_matches(dag_id, list(self.dags), n=3, cutoff=0.6))
        return self.dags[dag_id]

    def set_paused(self, dag_id: str, paused: bool) -> DagInfo:
        self.dags[dag_id] = replace(self.get_dag(dag_id), is_paused=paused)
        return self.dags[dag_id]

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        self.get_dag(dag_id)
        now = datetime.now(UTC) + timedelta(seconds=len(self.runs))
        run = DagRunInfo(dag_id, f"manual__{len(self.runs)}", "queued", conf=dict(conf or {}), run_after=now)
        self.runs.insert(0, run)
        return run

    def get_run(self, dag_id: str, run_id: str) -> DagRunInfo:
        self.get_dag(dag_id)
        for run in self.runs:
            if run.dag_id == dag_id and run.run_id == run_id:
                return run
        raise RunNotFound(f"no run {run_id!r} of {dag_id}", f"see `assistant status {dag_id}`")

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
        self._check()
        return [r for r in self.runs if dag_id in (None, r.dag_id)][:limit]

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float, poll_s: float = 0.5) -> DagRunInfo:
        run = self.get_run(dag_id, run_id)
        start = run.run_after or datetime.now(UTC)
        done = replace(run, state="success", start_date=start, end_date=start + timedelta(seconds=2))
        self.runs[self.runs.index(run)] = done
        return done

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        run = self.get_run(dag_id, run_id)
        state = "success" if run.finished else None
        return [TaskInstanceInfo(dag_id, run_id, "hello", state, 1 if run.finished else 0)]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        return f"<b>hello</b> from {dag_id} {run_id} {task_id}\nsecond line"

    def task_timeouts(self, dag_id: str) -> dict[str, float | None]:
        return {"hello": None}

    def import_errors(self) -> list[ImportErrorInfo]:
        return []

    def test_connection(self, conn_id: str) -> ConnectionCheck:
        return ConnectionCheck(conn_id, None, "not tested in this stand-in")

    def reparse(self, file_token: str) -> None:
        return None
