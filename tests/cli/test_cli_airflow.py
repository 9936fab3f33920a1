"""The CLI as a user runs it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.airflow.rest import RestAirflow
from assistant.airflow.visibility import wait_for_dags
from tests.airflow_helpers import drop_dag


def test_help_lists_commands(run_cli) -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("dags", "run", "status", "logs", "doctor", "config"):
        assert command in result.stdout


def test_config_redacts_password(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_AIRFLOW_PASSWORD", "s3cr3t-value-123")
    result = run_cli("config", "--json")
    assert result.returncode == 0
    assert "s3cr3t-value-123" not in result.stdout
    assert json.loads(result.stdout)["airflow_password"]["value"] == "****** (set)"


def test_airflow_down_is_one_line_error(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_AIRFLOW_URL", "http://127.0.0.1:9")
    result = run_cli("status")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach Airflow at http://127.0.0.1:9")
    assert "make airflow-up" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_conf_is_a_usage_error(run_cli) -> None:
    result = run_cli("run", "anything", "--conf", "{not json")
    assert result.returncode == 2
    assert "--conf is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_wrong_credentials(run_cli, live_airflow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_AIRFLOW_PASSWORD", "definitely-wrong")
    result = run_cli("dags")
    assert result.returncode == 1
    assert "rejected the credentials" in result.stderr
    assert "definitely-wrong" not in result.stderr + result.stdout


@pytest.mark.integration
def test_unknown_dag_exits_nonzero_with_suggestion(run_cli, live_airflow) -> None:
    result = run_cli("run", "no_such_dag_anywhere")
    assert result.returncode == 1
    assert "no DAG named 'no_such_dag_anywhere'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_run_wait_status_logs(run_cli, live_airflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "failing_dag")
    airflow = RestAirflow(live_airflow["ASSISTANT_AIRFLOW_URL"], "admin", "admin")
    assert dag_id in wait_for_dags(airflow, [dag_id], timeout_s=90).visible

    result = run_cli("run", dag_id, "--wait", "--timeout", "180", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["run"]["state"] == "failed"
    assert "ExpiredToken" in report["failed_logs"][0]["text"]

    status = run_cli("status", dag_id, "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout)[0]["run_id"] == report["run"]["run_id"]

    logs = run_cli("logs", dag_id, "--task", "upload_to_s3")
    assert logs.returncode == 0
    assert "ExpiredToken" in logs.stdout

    missing = run_cli("logs", dag_id, "--task", "nope")
    assert missing.returncode == 1
    assert "upload_to_s3" in missing.stderr


@pytest.mark.integration
def test_timeout_is_reported(run_cli, live_airflow, dag_dir: Path) -> None:
    dag_id, _ = drop_dag(dag_dir, "ok_dag")
    airflow = RestAirflow(live_airflow["ASSISTANT_AIRFLOW_URL"], "admin", "admin")
    assert dag_id in wait_for_dags(airflow, [dag_id], timeout_s=90).visible
    result = run_cli("run", dag_id, "--wait", "--timeout", "0.01")
    assert result.returncode == 1
    assert "still" in result.stderr and "--timeout" in result.stderr


@pytest.mark.integration
def test_doctor_all_green(run_cli, live_airflow) -> None:
    result = run_cli("doctor", "--json")
    checks = json.loads(result.stdout)
    failing = [c for c in checks if not c["ok"]]
    assert not failing, failing
    assert result.returncode == 0


@pytest.mark.integration
def test_setup_prepares_a_fresh_home(run_cli, live_airflow) -> None:
    result = run_cli("setup")
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("embedding model", "documentation index", "router", "airflow healthy"):
        assert f"ok   {step}" in result.stdout
    assert "passages indexed" in result.stdout
    again = run_cli("search", "how do I suppress a finding of the security scan", "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)[0]["source"].startswith("knowledge/")
