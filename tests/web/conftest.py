from __future__ import annotations

from pathlib import Path

import pytest

from assistant.compose import Components
from assistant.config import load_config
from assistant.service import Assistant
from tests.gitops.gitrepos import RemoteRepo, SyntaxAndIdValidator, make_remote


@pytest.fixture
def offline_assistant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    """An Assistant deploying into a private DAGs folder, with the stand-in validator (no Airflow)."""
    monkeypatch.setenv("ASSISTANT_DAGS_FOLDER", str(tmp_path / "dags"))
    return Assistant(Components(load_config(), validator=SyntaxAndIdValidator()))


@pytest.fixture
def remote(tmp_path: Path) -> RemoteRepo:
    return make_remote(tmp_path / "remotes")
