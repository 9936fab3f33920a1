"""The adapter against the real local Airflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.airflow.rest import RestAirflow
from assistant.airflow.visibility import wait_for_dags
from assistant.errors import AirflowUnavailable, DagNotFound, RunNotFound, RunTimeout
from assistant.tools import runs
from tests.airflow_helpers import drop_dag

pytestmark = pytest.mark.integration


@pytest.fixture
def airflow(live_airflow: dict[str, str]) -> RestAirflow:
    return RestAirflow(
        live_airflow["ASSISTANT_AIRFLOW_URL"],
        live_airflow["ASSISTANT_AIRFLOW_USERNAME"],
        live_airflow["ASSISTANT_AIRFLOW_PASSWORD"],
    )


def _visible(airflow: RestAirflow, dag_id: str) -> None:
    seen = wait_for_dags(airflow, [dag_id], timeout_s=90)
    assert dag_id in seen.visible, f"Airflow did not pick up {dag_id}"


def test_health_reports_components(airflow: RestAirflow) -> None:
    health = airflow.health()
    assert health.ok
    assert health.components["scheduler"] == "healthy"


def test_successful_run_end_to_end(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "ok_dag")
    _visible(airflow, dag_id)
    dag = airflow.get_dag(dag_id)
    assert dag.is_paused  # paused at creation
    assert "test" in dag.tags
    run = runs.trigger(airflow, dag_id, {"who": "tests"})
    assert run.conf == {"who": "tests"}
    report = runs.wait(airflow, run, timeout_s=180)
    assert report.run.state == "success"
    assert [t.task_id for t in report.tasks] == ["hello"]
    assert report.failed_logs == []
    _, logs = runs.logs(airflow, dag_id, run.run_id)
    assert "hello from the assistant tests" in logs[0].text
    assert airflow.list_runs(dag_id)[0].run_id == run.run_id


def test_failed_run_brings_back_the_error_log(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "failing_dag")
    _visible(airflow, dag_id)
    report = runs.wait(airflow, runs.trigger(airflow, dag_id), timeout_s=180)
    assert report.run.state == "failed"
    assert report.failed_logs[0].task_id == "upload_to_s3"
    assert "ExpiredToken" in report.failed_logs[0].text


def test_import_error_is_listed(airflow: RestAirflow, dag_dir: Path) -> None:
    _, path = drop_dag(dag_dir, "broken_dag")
    seen = wait_for_dags(airflow, ["never_appears"], files=[path.name], timeout_s=90)
    assert seen.import_errors, "the broken file should produce an import error"
    assert "module_that_does_not_exist_anywhere" in seen.import_errors[0].stacktrace


def test_unknown_dag_suggests_close_matches(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "ok_dag")
    _visible(airflow, dag_id)
    with pytest.raises(DagNotFound) as info:
        airflow.get_dag(dag_id[:-1] + "x")
    assert dag_id in info.value.close_matches


def test_unknown_run_is_run_not_found(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "ok_dag")
    _visible(airflow, dag_id)
    with pytest.raises(RunNotFound):
        airflow.get_run(dag_id, "no_such_run")


def test_wait_times_out_with_a_hint(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "ok_dag")
    _visible(airflow, dag_id)
    run = airflow.trigger(dag_id)  # still paused: it will not finish
    with pytest.raises(RunTimeout) as info:
        airflow.wait_for_run(dag_id, run.run_id, timeout_s=1, poll_s=0.2)
    assert "assistant status" in info.value.hint


def test_airflow_down_is_unavailable() -> None:
    airflow = RestAirflow("http://127.0.0.1:9", "admin", "admin", timeout_s=2)
    with pytest.raises(AirflowUnavailable) as info:
        airflow.list_dags()
    assert "make airflow-up" in info.value.hint


def test_task_timeouts_in_seconds(airflow: RestAirflow, dag_dir: Path) -> None:
    dag_id, path = drop_dag(dag_dir, "ok_dag")
    path.write_text(path.read_text().replace("@task\n", "@task(execution_timeout=timedelta(minutes=90))\n"))
    path.write_text("from datetime import timedelta\n" + path.read_text())
    _visible(airflow, dag_id)
    assert airflow.task_timeouts(dag_id) == {"hello": 5400.0}
