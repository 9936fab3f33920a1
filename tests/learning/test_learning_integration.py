"""On the real Airflow: a DAG failing for one reason is predicted high risk; a deployed fix lowers it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from assistant.airflow.visibility import wait_for_dags
from assistant.compose import build_assistant
from tests.airflow_helpers import delete_connection, drop_dag, put_fs_connection

pytestmark = pytest.mark.integration


def test_repeated_failure_then_fix(dag_dir: Path, run_cli: object) -> None:
    assistant = build_assistant()
    airflow = assistant.components.airflow
    dag_id, path = drop_dag(dag_dir, "failing_dag")
    assert dag_id in wait_for_dags(airflow, [dag_id], timeout_s=90).visible

    first = assistant.predict(dag_id)
    assert first.risk == "unknown" and "no history" in first.reason

    for _ in range(3):
        report = assistant.wait(assistant.trigger(dag_id), timeout_s=180)
        assert report.run.state == "failed"

    risky = assistant.predict(dag_id)
    assert risky.risk == "high", risky
    assert "3 recent failures of upload_to_s3" in risky.reason
    assert "ExpiredToken" in risky.reason
    assert "credentials" in risky.recommendation
    warning = assistant.risk_warning(dag_id)
    assert warning is not None and "ExpiredToken" in warning

    shown = run_cli("predict", dag_id, "--json")  # type: ignore[operator]
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["risk"] == "high"

    # Deploy the fix: the task no longer raises.
    path.write_text(path.read_text().replace('raise PermissionError("ExpiredToken', 'print("renewed'))
    after_fix = assistant.predict(dag_id)
    assert after_fix.risk != "high"
    assert "code changed" in after_fix.reason
    assert after_fix.probability is not None and risky.probability is not None
    assert after_fix.probability < risky.probability

    dag = airflow.get_dag(dag_id)
    if dag.file_token:
        airflow.reparse(dag.file_token)
    states = []
    for _ in range(5):  # the first run may still use the old code until Airflow re-parses the file
        states.append(assistant.wait(assistant.trigger(dag_id), timeout_s=180).run.state)
        if states[-1] == "success":
            break
    assert states[-1] == "success", states

    fixed = assistant.predict(dag_id)
    assert fixed.risk == "low", fixed
    assert fixed.probability is not None and fixed.probability < risky.probability
    assert assistant.risk_warning(dag_id) is None

    proposal = assistant.learn(apply=False)
    page = next(p for p in proposal.proposals if p.dag_id == dag_id)
    assert "ExpiredToken" in page.diff and not page.path.exists()


def test_a_connection_failing_its_test_is_a_warning_before_any_run(dag_dir: Path, tmp_path: Path) -> None:
    assistant = build_assistant()
    airflow = assistant.components.airflow
    conn_id = f"fs_preflight_{uuid.uuid4().hex[:8]}"
    dag_id, path = drop_dag(dag_dir, "sensor_dag")
    path.write_text(path.read_text().replace("CONN_ID", conn_id))
    inbox = tmp_path / "inbox"
    put_fs_connection(airflow, conn_id, inbox)
    try:
        assert dag_id in wait_for_dags(airflow, [dag_id], timeout_s=90).visible

        risky = assistant.predict(dag_id)  # no run yet: only Airflow's test of the connection speaks
        assert risky.risk == "high", risky
        assert f"connection {conn_id} fails Airflow's connection test" in risky.reason
        assert "does not exist" in risky.reason
        assert "fix that connection in Airflow" in risky.recommendation
        warning = assistant.risk_warning(dag_id)
        assert warning is not None and conn_id in warning

        inbox.mkdir()
        calm = assistant.predict(dag_id)
        assert calm.risk == "unknown", calm
        assert any(f"{conn_id} ok" in line for line in calm.evidence)
    finally:
        delete_connection(airflow, conn_id)
