"""The webhook endpoints over HTTP (FastAPI's test client) with the real daemon and real git."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from assistant.service import Assistant
from assistant.web.app import create_app
from tests.gitops.gitrepos import RemoteRepo, dag_source

SECRET = "whsec-9f8e7d"


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _push_body(remote: RemoteRepo, after: str) -> bytes:
    return json.dumps(
        {"ref": "refs/heads/main", "after": after, "repository": {"clone_url": remote.url}}
    ).encode()


def test_signed_push_is_accepted_at_once_and_deployed(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    from fastapi.testclient import TestClient

    remote.commit({"a.py": dag_source("web_a", "v1")})
    offline_assistant.cred_set("hook", "token", SECRET)
    offline_assistant.repo_add(remote.url, name="r", webhook_credential="hook", wait=False)
    offline_assistant.components.deployer.wait_timeout_s = 0  # its DAGs are not in Airflow's folder
    daemon = offline_assistant.gitops_daemon(poll_interval_s=0)
    daemon.start()
    try:
        client = TestClient(create_app(daemon, max_body_bytes=4096))
        new = remote.commit({"a.py": dag_source("web_a", "v2")})
        body = _push_body(remote, new)
        headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "1", "X-Hub-Signature-256": _signed(body)}
        response = client.post("/webhooks/github", content=body, headers=headers)
        assert response.status_code == 202 and response.json()["outcome"] == "queued"
        assert daemon.queue.wait_idle(60)
        [repo] = offline_assistant.repos()
        assert repo.deployed_commit == new
        linked = Path(offline_assistant.config.dags_folder, "personal", "r", "a.py")  # type: ignore[arg-type]
        assert '"v2"' in linked.read_text()

        bad = client.post(
            "/webhooks/github", content=body, headers={**headers, "X-Hub-Signature-256": "sha256=00"}
        )
        assert bad.status_code == 401
        dup = client.post("/webhooks/github", content=body, headers=headers)
        assert dup.json()["outcome"] == "duplicate"
        big = client.post("/webhooks/github", content=b"x" * 5000, headers=headers)
        assert big.status_code == 413
        gitlab_body = json.dumps(
            {"ref": "refs/heads/main", "after": new, "project": {"git_http_url": remote.url}}
        )
        gitlab = client.post(
            "/webhooks/gitlab",
            content=gitlab_body,
            headers={"X-Gitlab-Token": "wrong", "X-Gitlab-Event": "Push Hook"},
        )
        assert gitlab.status_code == 401
        assert client.get("/healthz").json()["ok"] is True
    finally:
        daemon.stop()
