"""Connection ids per task from a DAG file, and recording other DAGs' runs from one listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.airflow.models import DagInfo, DagRunInfo, TaskInstanceInfo
from assistant.errors import AirflowUnavailable
from assistant.learning import ingest, store
from assistant.learning.connections import task_connections
from assistant.state import open_state

DAG_FILE = """
from airflow.sdk import DAG, task, Connection
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.hooks.base import BaseHook

AWS = "aws_reporting"

with DAG("sales"):
    upload = S3CreateObjectOperator(task_id="upload", aws_conn_id=AWS, s3_key="k", data="x")

    @task
    def fetch():
        S3Hook(aws_conn_id="aws_default").list_keys("b")
        return BaseHook.get_connection("partner_api").host

    @task.python(task_id="notify_ops")
    def notify():
        Connection.get("slack_ops")

    @task
    def transform():
        return 1

    fetch() >> transform() >> upload >> notify()
"""


def test_connections_are_read_per_task_from_operators_hooks_and_constants() -> None:
    assert task_connections(DAG_FILE) == {
        "upload": frozenset({"aws_reporting"}),
        "fetch": frozenset({"aws_default", "partner_api"}),
        "notify_ops": frozenset({"slack_ops"}),
    }
    assert task_connections("def broken(:\n") == {}


class FakeAirflow:
    url = "http://airflow.invalid"

    def __init__(self, dag_file: Path, runs: list[DagRunInfo]) -> None:
        self.dag_file, self.runs = dag_file, runs
        self.listed: list[str | None] = []

    def get_dag(self, dag_id: str) -> DagInfo:
        return DagInfo(dag_id, False, fileloc=str(self.dag_file))

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
        self.listed.append(dag_id)
        return [r for r in self.runs if dag_id in (None, r.dag_id)][:limit]

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        failed = run_id.endswith("bad")
        return [
            TaskInstanceInfo(dag_id, run_id, "upload", "failed" if failed else "success", 1, duration_s=3.0)
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        return "[t] ERROR task - Task failed with exception\nPermissionError: ExpiredToken: expired\n"


def test_recent_runs_of_every_dag_are_recorded_from_one_listing(tmp_path: Path) -> None:
    dag_file = tmp_path / "sales.py"
    dag_file.write_text(DAG_FILE)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    runs = [
        DagRunInfo("sales", "r1-bad", "failed", start_date=t0, end_date=t0 + timedelta(minutes=1)),
        DagRunInfo("billing", "r2", "success", start_date=t0, end_date=t0 + timedelta(minutes=2)),
        DagRunInfo("billing", "r3", "running", start_date=t0 + timedelta(minutes=3)),
    ]
    airflow = FakeAirflow(dag_file, runs)
    db = open_state(tmp_path / "state.db")
    assert ingest.record_recent_runs(airflow, db) == 2  # type: ignore[arg-type]
    assert airflow.listed == [None]
    assert ingest.record_recent_runs(airflow, db) == 0  # type: ignore[arg-type]
    history = store.load_history(db)
    assert sorted(history) == ["billing", "sales"]
    (failed,) = history["sales"]
    assert failed.cause is not None and "ExpiredToken" in failed.cause
    assert ingest.connections_of(airflow.get_dag("sales"))["upload"] == frozenset({"aws_reporting"})
    assert ingest.connections_of(DagInfo("gone", False, fileloc=str(tmp_path / "missing.py"))) == {}


def test_task_timeouts_come_from_the_adapter_when_it_can_say() -> None:
    class WithTimeouts(FakeAirflow):
        def task_timeouts(self, dag_id: str) -> dict[str, float | None]:
            return {"upload": 600.0, "notify_ops": None}

    class Unreachable(FakeAirflow):
        def task_timeouts(self, dag_id: str) -> dict[str, float | None]:
            raise AirflowUnavailable("down", "start it")

    assert ingest.task_timeouts(WithTimeouts(Path("x"), []), "sales") == {"upload": 600.0, "notify_ops": None}  # type: ignore[arg-type]
    assert ingest.task_timeouts(Unreachable(Path("x"), []), "sales") == {}  # type: ignore[arg-type]
