"""The REST API over HTTP (FastAPI's test client), the real service over an in-memory Airflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.service import Assistant
from tests.gitops.gitrepos import RemoteRepo, dag_source
from tests.web.conftest import API_TOKEN, MAX_BODY
from tests.web.fakes import FakeAirflow


def _is_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "hint"} and body["error"], body
    return body


def test_every_api_route_needs_the_right_token(app: Any) -> None:
    from fastapi.testclient import TestClient

    anonymous = TestClient(app)
    routes = [
        ("GET", "/api/v1/dags"),
        ("POST", "/api/v1/chat"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/no-such-endpoint"),
        ("POST", "/api/v1/dags/etl_daily/runs"),
    ]
    wrong = [
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": f"Bearer {API_TOKEN}x"},
        {"Authorization": "Bearer "},
    ]
    for method, path in routes:
        for headers in wrong:
            response = anonymous.request(method, path, headers=headers, json={"message": "list dags"})
            body = _is_error(response, 401)
            assert "--show-token" in body["hint"]
            assert response.headers["www-authenticate"] == "Bearer"
    ok = anonymous.get("/api/v1/dags", headers={"Authorization": f"bearer {API_TOKEN}"})
    assert ok.status_code == 200
    assert anonymous.get("/healthz").status_code == 200  # outside /api: no token, as before


def test_errors_have_one_shape_and_a_fitting_status(client: Any, fake_airflow: FakeAirflow) -> None:
    typo = _is_error(client.get("/api/v1/dags/etl_daly/runs"), 404)
    assert typo["close_matches"] == ["etl_daily"] and "did you mean etl_daily" in typo["hint"]
    _is_error(client.get("/api/v1/dags/etl_daily/runs/manual__99"), 404)
    _is_error(client.post("/api/v1/repos/nope/sync"), 404)
    _is_error(client.get("/api/v1/nothing-here"), 404)
    _is_error(client.get("/api/v1/dags/etl_daily/risk_score"), 404)
    _is_error(client.put("/api/v1/dags"), 405)
    bad_json = client.post("/api/v1/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    _is_error(bad_json, 400)
    assert "message" in _is_error(client.post("/api/v1/chat", json={}), 400)["error"]
    assert (
        "mesage"
        in _is_error(client.post("/api/v1/chat", json={"mesage": "hi", "message": "x"}), 400)["error"]
    )
    _is_error(client.post("/api/v1/dags/etl_daily/runs", json={"conf": "not an object"}), 400)
    _is_error(client.get("/api/v1/dags/etl_daily/runs?limit=0"), 400)
    _is_error(client.get("/api/v1/dags?namespace=elsewhere"), 400)
    _is_error(client.post("/api/v1/chat", content=b"x" * (MAX_BODY + 1)), 413)
    chunked = client.post("/api/v1/chat", content=iter([b"x" * 40_000, b"y" * 40_000]))
    _is_error(chunked, 413)
    fake_airflow.down = True
    down = _is_error(client.get("/api/v1/dags"), 503)
    assert "cannot reach Airflow" in down["error"] and down["hint"]


def test_dags_runs_status_and_logs(client: Any, fake_airflow: FakeAirflow) -> None:
    listed = client.get("/api/v1/dags").json()["dags"]
    assert [d["dag_id"] for d in listed] == ["aws_deploy", "etl_daily", "sales_load"]
    assert "last_run" not in listed[0]

    started = client.post("/api/v1/dags/etl_daily/runs", json={"conf": {"day": "2024-02-01"}})
    assert started.status_code == 201
    run = started.json()
    assert run["state"] == "queued" and run["conf"] == {"day": "2024-02-01"}
    assert fake_airflow.dags["etl_daily"].is_paused is False  # unpaused so the run starts
    assert client.post("/api/v1/dags/aws_deploy/runs").status_code == 201  # no body: empty conf

    recent = client.get("/api/v1/dags/etl_daily/runs").json()["runs"]
    assert [r["run_id"] for r in recent] == [run["run_id"]]
    with_runs = {d["dag_id"]: d["last_run"] for d in client.get("/api/v1/dags?last_run=true").json()["dags"]}
    assert with_runs["etl_daily"]["run_id"] == run["run_id"] and with_runs["sales_load"] is None

    fake_airflow.wait_for_run("etl_daily", run["run_id"], timeout_s=1)
    one = client.get(f"/api/v1/dags/etl_daily/runs/{run['run_id']}").json()
    assert one["run"]["state"] == "success" and one["run"]["duration_s"] == 2.0
    assert [t["task_id"] for t in one["tasks"]] == ["hello"] and one["failed_logs"] == []

    logs = client.get(f"/api/v1/dags/etl_daily/runs/{run['run_id']}/logs?task=hello").json()
    assert logs["logs"][0]["text"].startswith("<b>hello</b> from etl_daily")  # text, as Airflow said
    latest = client.get("/api/v1/dags/etl_daily/logs").json()
    assert latest["run"]["run_id"] == run["run_id"]
    _is_error(client.get(f"/api/v1/dags/etl_daily/runs/{run['run_id']}/logs?task=nope"), 404)


def test_a_chat_session_keeps_context_and_confirmations_across_requests(
    client: Any, api_assistant: Assistant, remote: RemoteRepo
) -> None:
    first = client.post("/api/v1/chat", json={"message": "run etl_daily"}).json()
    assert first["ok"] and first["intent"] == "run_dag" and "success" in first["text"]
    assert first["data"]["run"]["dag_id"] == "etl_daily"
    session = first["session"]
    follow = client.post("/api/v1/chat", json={"message": "show its logs", "session": session}).json()
    assert follow["intent"] == "dag_logs" and "<b>hello</b> from etl_daily" in follow["text"]
    assert follow["session"] == session

    remote.commit({"a.py": dag_source("web_chat_a")})
    api_assistant.components.deployer.wait_timeout_s = 0
    api_assistant.repo_add(remote.url, name="flows", wait=False)
    ask = client.post("/api/v1/chat", json={"message": "stop tracking flows", "session": session}).json()
    assert ask["awaiting"] == "confirm" and "flows" in ask["text"]
    elsewhere = client.post("/api/v1/chat", json={"message": "yes"}).json()  # another session
    assert elsewhere["session"] != session and [r.name for r in api_assistant.repos()] == ["flows"]
    done = client.post("/api/v1/chat", json={"message": "yes", "session": session}).json()
    assert done["ok"] and done["intent"] == "remove_repo", done
    assert api_assistant.repos() == []

    assert client.delete(f"/api/v1/chat/{session}").status_code == 204
    gone = client.post("/api/v1/chat", json={"message": "show its logs", "session": session})
    assert "without" in _is_error(gone, 404)["hint"]


def test_generate_answers_the_json_of_generate_json(client: Any) -> None:
    response = client.post(
        "/api/v1/generate",
        json={"description": "every day at 2am run a bash command that backs up the database"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"ok", "dag_id", "path", "tasks", "schedule", "validation", "summary"}
    assert body["ok"] is True and body["path"] is None, body["summary"]
    assert body["tasks"] and {"task_id", "kind", "upstream"} <= set(body["tasks"][0])
    _is_error(client.post("/api/v1/generate", json={"description": "x", "repo": "nope"}), 404)


def test_answer_cites_its_sources_and_risk_is_the_prediction(
    client: Any, api_assistant: Assistant, tmp_path: Path
) -> None:
    page = tmp_path / "docs" / "params.md"
    page.parent.mkdir()
    page.write_text(
        "# Run parameters\n\n## Passing parameters\n\nTo pass parameters to a DAG run, trigger it with a "
        "run configuration: a JSON object the tasks read from `params`.\n"
    )
    api_assistant.index([page.parent])
    answer = client.get("/api/v1/answer", params={"q": "how do I pass parameters to a DAG run?"}).json()
    assert answer["found"] is True and "configuration" in answer["text"]
    assert answer["citations"] and answer["citations"][0]["source"].endswith("params.md")
    _is_error(client.get("/api/v1/answer?q="), 400)

    risk = client.get("/api/v1/dags/etl_daily/risk").json()
    assert risk["dag_id"] == "etl_daily" and risk["risk"] in {"unknown", "low", "medium", "high"}
    _is_error(client.get("/api/v1/dags/etl_daly/risk"), 404)


def test_repos_are_listed_without_secrets_and_synced(
    client: Any, api_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("web_repo_a")})
    api_assistant.components.deployer.wait_timeout_s = 0
    api_assistant.repo_add(remote.url, name="flows", wait=False)
    [repo] = client.get("/api/v1/repos").json()["repos"]
    assert repo["name"] == "flows" and "policy_toml" not in repo and repo["policy_set"] is False
    remote.commit({"b.py": dag_source("web_repo_b")})
    synced = client.post("/api/v1/repos/flows/sync", params={"wait": "false"}).json()
    assert synced["ok"] and synced["outcomes"][0]["result"] == "deployed"
    again = client.post("/api/v1/repos/sync", params={"wait": "false"}).json()
    assert again["outcomes"][0]["result"] == "unchanged"


def test_openapi_schema_lists_the_endpoints(client: Any) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/chat", "/dags", "/dags/{dag_id}/runs", "/dags/{dag_id}/risk", "/generate", "/answer"} <= set(
        schema["paths"]
    )


@pytest.mark.parametrize("path", ["/", "/api/v1/dags"])
def test_nothing_is_served_to_other_origins(client: Any, path: str) -> None:
    response = client.get(path, headers={"Origin": "http://evil.invalid"})
    assert "access-control-allow-origin" not in response.headers
