from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.compose import Components
from assistant.config import load_config
from assistant.service import Assistant
from assistant.web.app import create_app
from tests.gitops.gitrepos import SyntaxAndIdValidator, offline_assistant, remote
from tests.web.fakes import FakeAirflow

__all__ = ["offline_assistant", "remote"]  # fixtures shared with tests/gitops

API_TOKEN = "test-api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
MAX_BODY = 64 * 1024


@pytest.fixture
def fake_airflow() -> FakeAirflow:
    return FakeAirflow(["aws_deploy", "etl_daily", "sales_load"])


@pytest.fixture
def api_assistant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_airflow: FakeAirflow) -> Assistant:
    """An Assistant over the in-memory Airflow, deploying into a private DAGs folder."""
    monkeypatch.setenv("ASSISTANT_DAGS_FOLDER", str(tmp_path / "dags"))
    components = Components(load_config(), validator=SyntaxAndIdValidator(), airflow=fake_airflow)
    return Assistant(components)


@pytest.fixture
def app(api_assistant: Assistant) -> Any:
    daemon = api_assistant.gitops_daemon(poll_interval_s=0)
    return create_app(daemon, assistant=api_assistant, api_token=API_TOKEN, max_body_bytes=MAX_BODY)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A test client that sends the right token."""
    from fastapi.testclient import TestClient

    with TestClient(app, headers=AUTH) as test_client:
        yield test_client
