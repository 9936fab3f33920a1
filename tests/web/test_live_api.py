"""The REST API in front of the real local Airflow: list the DAGs, trigger one, read its outcome."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.airflow.visibility import wait_for_dags
from assistant.compose import build_assistant
from assistant.web.app import create_app
from tests.airflow_helpers import drop_dag
from tests.web.conftest import API_TOKEN, AUTH

pytestmark = pytest.mark.integration


def test_list_and_trigger_through_the_api(live_airflow: dict[str, str], dag_dir: Path) -> None:
    from fastapi.testclient import TestClient

    dag_id, _ = drop_dag(dag_dir, "ok_dag", prefix="web")
    assistant = build_assistant()
    assert dag_id in wait_for_dags(assistant.components.airflow, [dag_id], timeout_s=90).visible
    app = create_app(assistant.gitops_daemon(poll_interval_s=0), assistant=assistant, api_token=API_TOKEN)
    client = TestClient(app, headers=AUTH)

    listed = client.get("/api/v1/dags?last_run=true")
    assert listed.status_code == 200, listed.text
    [dag] = [d for d in listed.json()["dags"] if d["dag_id"] == dag_id]
    assert dag["is_paused"] is True and dag["last_run"] is None

    started = client.post(f"/api/v1/dags/{dag_id}/runs", json={"conf": {"who": "web"}})
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["conf"] == {"who": "web"}

    deadline = time.monotonic() + 180
    state = run["state"]
    while state not in {"success", "failed"} and time.monotonic() < deadline:
        time.sleep(1)
        state = client.get(f"/api/v1/dags/{dag_id}/runs/{run['run_id']}").json()["run"]["state"]
    assert state == "success"
    logs = client.get(f"/api/v1/dags/{dag_id}/runs/{run['run_id']}/logs").json()["logs"]
    assert "hello from the assistant tests" in logs[0]["text"]
    assert client.get("/api/v1/dags?last_run=true").json()["dags"]  # still answers
    missing = client.get(f"/api/v1/dags/{dag_id}x/runs")
    assert missing.status_code == 404 and dag_id in missing.json()["close_matches"]
