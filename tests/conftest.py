"""Shared fixtures: every test gets its own HOME and ASSISTANT_HOME and a clean environment.

Integration tests take ``live_airflow``: the real local Airflow of scripts/airflow.sh, started
if it is not running (``make test`` starts it first and stops it afterwards).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_SCRIPT = ROOT / "scripts" / "airflow.sh"
SHARED_MODELS = ROOT / ".local" / "test-models"


def _airflow_env() -> dict[str, str]:
    out = subprocess.run([str(AIRFLOW_SCRIPT), "env"], capture_output=True, text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return env


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME and ASSISTANT_HOME per test; no ASSISTANT_* leaks in from the caller."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "assistant-home"))
    # The ONNX export of the embedding model (made once, ~10 s) is shared by every test.
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(SHARED_MODELS))
    monkeypatch.setenv("ASSISTANT_LEARNED_DOCS_DIR", str(tmp_path / "learned-docs"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
    return tmp_path / "assistant-home"


@pytest.fixture(scope="session")
def airflow_settings() -> dict[str, str]:
    """The ASSISTANT_* settings that point at the local Airflow; starts it when it is down."""
    env = _airflow_env()
    status = subprocess.run([str(AIRFLOW_SCRIPT), "status"], capture_output=True, text=True)
    if status.returncode != 0:
        started = subprocess.run([str(AIRFLOW_SCRIPT), "up"], capture_output=True, text=True)
        if started.returncode != 0:
            pytest.fail(f"could not start the local Airflow:\n{started.stdout}\n{started.stderr}")
    return env


@pytest.fixture
def live_airflow(airflow_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in airflow_settings.items():
        monkeypatch.setenv(key, value)
    return airflow_settings


@pytest.fixture
def dag_dir(live_airflow: dict[str, str]) -> Iterator[Path]:
    """A fresh folder inside Airflow's DAGs folder for this test's files, removed afterwards."""
    folder = Path(live_airflow["ASSISTANT_DAGS_FOLDER"]) / f"test_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def run_cli() -> object:
    """Run ``python -m assistant ARGS`` in a subprocess with the test's environment."""

    def _run(*args: str, input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env=dict(os.environ),
        )

    return _run
