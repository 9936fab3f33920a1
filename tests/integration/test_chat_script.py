"""The user's journey, end to end, through `assistant chat --script`: a real git repository,
the real Airflow, the real router, retrieval and validation."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.airflow_helpers import FIXTURES

pytestmark = pytest.mark.integration


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def workflows_repo(tmp_path: Path) -> tuple[str, str]:
    """A bare repository (file:// URL) holding one DAG with a unique id."""
    suffix = uuid.uuid4().hex[:6]
    dag_id = f"my_deployment_{suffix}"
    bare = tmp_path / f"flows_{suffix}.git"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    work = tmp_path / "work"
    _git("clone", "-q", str(bare), str(work), cwd=tmp_path)
    (work / "dags").mkdir()
    (work / "dags" / f"{dag_id}.py").write_text(
        (FIXTURES / "ok_dag.py").read_text().replace("DAG_ID", dag_id)
    )
    _git("add", ".", cwd=work)
    _git("commit", "-qm", "first DAG", cwd=work)
    _git("push", "-q", "origin", "HEAD:main", cwd=work)
    return f"file://{bare}", dag_id


def test_scripted_journey(run_cli, live_airflow, workflows_repo, tmp_path: Path) -> None:
    url, dag_id = workflows_repo
    others = run_cli("dags", "--json")
    leftovers = [d["dag_id"] for d in json.loads(others.stdout) if "deployment" in d["dag_id"]]
    assert not leftovers, (
        f"remove these DAGs first, the journey's name resolution would ask which: {leftovers}"
    )
    repo_name = url.rsplit("/", 1)[-1].removesuffix(".git")
    script = tmp_path / "journey.txt"
    script.write_text(
        "\n".join(
            [
                "# the journey of a new user",
                f"add my workflows repo {url} to company",
                "which dags are deployed?",
                "run my deployment workflow",
                "status",
                "show its logs",
                "how do I pass parameters to a DAG run?",
                f"stop tracking {repo_name}",
            ]
        )
    )
    result = run_cli("chat", "--script", str(script), "--yes", timeout=600)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    turns = out.split("you> ")[1:]
    assert len(turns) == 7
    add, listed, ran, status, logs, answer, removed = turns
    assert f"{repo_name}: deployed" in add and dag_id in add
    assert dag_id in listed
    assert f"Ran {dag_id}" in ran and "success" in ran
    assert f"Latest run of {dag_id}: success" in status
    assert "hello from the assistant tests" in logs
    assert "Sources:" in answer and "conf" in answer
    assert f"Stopped tracking {repo_name}" in removed
    assert "Traceback" not in out + result.stderr


def test_piped_stdin_is_the_same_engine(run_cli, live_airflow) -> None:
    result = run_cli("chat", input="what can you do?\nwhat's the weather in Paris\n")
    turns = result.stdout.split("you> ")[1:]
    assert len(turns) == 2
    assert "I can:" in turns[0]
    assert "outside what I can help with" in turns[1]
    assert result.returncode == 1  # the declined request counts as not done
