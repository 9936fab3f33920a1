"""The narrow interface the rest of the assistant uses to talk to Airflow."""

from __future__ import annotations

from typing import Protocol

from assistant.airflow.models import (
    ConnectionCheck,
    DagInfo,
    DagRunInfo,
    Health,
    ImportErrorInfo,
    TaskInstanceInfo,
)


class AirflowPort(Protocol):
    url: str

    def health(self) -> Health: ...

    def list_dags(self, *, include_stale: bool = False) -> list[DagInfo]: ...

    def get_dag(self, dag_id: str) -> DagInfo: ...

    def set_paused(self, dag_id: str, paused: bool) -> DagInfo: ...

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo: ...

    def get_run(self, dag_id: str, run_id: str) -> DagRunInfo: ...

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]: ...

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float, poll_s: float = 0.5) -> DagRunInfo: ...

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]: ...

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1
    ) -> str: ...

    def task_timeouts(self, dag_id: str) -> dict[str, float | None]: ...

    def import_errors(self) -> list[ImportErrorInfo]: ...

    def test_connection(self, conn_id: str) -> ConnectionCheck: ...

    def reparse(self, file_token: str) -> None: ...
