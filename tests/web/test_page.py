"""The web chat page: served at /, self-contained, and never turns reply text into HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import API_TOKEN


def test_the_page_is_served_self_contained(client: Any) -> None:
    from fastapi.testclient import TestClient

    response = TestClient(client.app).get("/")  # no token needed for the page itself
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"(?i)\b(?:https?|wss?|ftp):|//[a-z0-9.-]+\.[a-z]{2,}", html), "external URL"
    assert not re.search(r"(?i)<(?:script|link|img|iframe)[^>]*\ssrc=", html)
    assert not re.search(r"(?i)<link[^>]*rel=\"?stylesheet", html)
    assert "@import" not in html
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'$|script-src 'sha256-[A-Za-z0-9+/=]+';", policy)
    assert "unsafe-inline" not in policy


def test_the_page_talks_to_the_api_and_escapes_replies(client: Any) -> None:
    html = client.get("/").text
    assert '"api/v1" + path' in html and "/chat" in html and "/dags?last_run=true" in html
    assert "sessionStorage" in html and "Bearer" in html
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html
    assert "body.textContent = text" in html
    assert "white-space: pre-wrap" in html  # line breaks of replies are kept


def test_the_page_has_accessible_basics(client: Any) -> None:
    html = client.get("/").text
    assert '<html lang="en">' in html
    for field in ("message", "token-input"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert 'event.key === "Enter"' in html and "requestSubmit" in html  # Enter sends
    assert '"Run " + dag.dag_id' in html  # each run button names its DAG


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_page_script_drives_the_api(app: Any) -> None:
    """The page's own script, run by Node with a DOM stand-in, against a live server (no browser here)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        harness = Path(__file__).with_name("page_harness.js")
        done = subprocess.run(
            ["node", str(harness), f"http://127.0.0.1:{port}/", API_TOKEN],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.should_exit = True
        thread.join(10)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["tokenAsked"] and "refused" in seen["refusedMessage"]
    assert [d[0] for d in seen["dags"]] == ["aws_deploy", "etl_daily", "sales_load"]
    assert seen["dags"][0][1:] == ["Run", "no recent runs · paused"]
    kinds_and_texts = [(e["kind"], e["text"]) for e in seen["entries"]]
    assert kinds_and_texts[0] == ("entry you", "run etl_daily")
    assert kinds_and_texts[1][0] == "entry assistant" and "success" in kinds_and_texts[1][1]
    logs = kinds_and_texts[3][1]
    assert "<b>hello</b> from etl_daily" in logs and "\nsecond line" in logs  # as text, lines kept
    assert any("expired" in text for kind, text in kinds_and_texts if kind == "entry note")
    assert kinds_and_texts[-1][1].startswith("Triggered aws_deploy: run manual__")
    api_calls = [r for r in seen["requests"] if r["url"].startswith("api/v1")]
    assert all(r["auth"] for r in api_calls[1:])  # after the refused one, every call carries the token
    assert {"api/v1/dags/aws_deploy/risk", "api/v1/dags/aws_deploy/runs"} <= {r["url"] for r in api_calls}
