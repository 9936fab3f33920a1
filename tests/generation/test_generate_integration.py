"""Generation end to end with the real parts: the validation pipeline with the local Airflow's
interpreter (import included), real git repositories on disk, the CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from assistant.compose import build_assistant
from assistant.errors import RepoNotFound, UsageError
from assistant.gitops.models import RepoSpec
from assistant.service import Assistant

ISSUE_EXAMPLE = "deploy to AWS, back up to S3, then send a Slack notification"


@pytest.fixture
def assistant() -> Assistant:
    return build_assistant()


def test_generated_dag_validates_in_airflow_and_is_written_to_out(
    assistant: Assistant, tmp_path: Path
) -> None:
    out = tmp_path / "dags"
    out.mkdir()
    result = assistant.generate(
        "every hour fetch https://api.example.com/orders, then load it into postgres", out=out
    )
    assert result.ok, result.summary
    written = out / f"{result.spec.dag_id}.py"
    assert result.path == str(written) and written.read_text() == result.code
    files = result.validation["files"]
    assert [f["dag_ids"] for f in files] == [[result.spec.dag_id]]
    assert result.validation["ok"] is True
    data = result.to_dict()
    assert set(data) == {"ok", "dag_id", "path", "tasks", "schedule", "validation", "summary"}
    assert data["tasks"] == [
        {"task_id": "fetch_orders", "kind": "http", "upstream": []},
        {"task_id": "load_into_postgres", "kind": "sql", "upstream": ["fetch_orders"]},
    ]
    assert data["schedule"] == "@hourly"
    assert "No similar deployed DAGs" in data["summary"]


def test_a_dag_that_fails_validation_is_not_written(assistant: Assistant, tmp_path: Path) -> None:
    generator = assistant.components.generator
    generator.known_dag_ids = lambda: {"clean_data": "other_repo/clean.py"}
    target = tmp_path / "clean.py"
    result = assistant.generate("clean the data", out=target)
    assert not result.ok and result.path is None
    assert not target.exists()
    rules = [f["rule"] for f in result.validation["files"][0]["findings"] if f["severity"] == "block"]
    assert rules == ["import.dag-id-collision"]
    assert "did NOT pass validation" in result.summary


def test_out_refuses_to_overwrite(assistant: Assistant, tmp_path: Path) -> None:
    existing = tmp_path / "mine.py"
    existing.write_text("# mine\n")
    with pytest.raises(UsageError, match="already exists"):
        assistant.generate("clean the data", out=existing)
    assert existing.read_text() == "# mine\n"


def _bare_repo_with_dags_folder(tmp_path: Path) -> Path:
    seed, bare = tmp_path / "seed", tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    (seed / "dags").mkdir()
    (seed / "dags" / "existing.py").write_text("# an existing DAG file\n")
    subprocess.run(["git", "-C", str(seed), "add", "."], check=True)
    subprocess.run(["git", "-C", str(seed), "commit", "-q", "-m", "seed"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(bare)], check=True)
    return bare


def test_repo_option_commits_and_pushes_into_the_dag_path(assistant: Assistant, tmp_path: Path) -> None:
    bare = _bare_repo_with_dags_folder(tmp_path)
    assistant.components.repo_store.add(
        RepoSpec(name="flows", url=f"file://{bare}", ref="main", dag_path="dags")
    )
    result = assistant.generate(ISSUE_EXAMPLE, repo="flows")
    assert result.ok, result.summary
    path = f"dags/{result.spec.dag_id}.py"
    assert result.path == f"flows:{path}"
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() == result.commit
    pushed = subprocess.run(
        ["git", "-C", str(bare), "show", f"main:{path}"], capture_output=True, text=True, check=True
    ).stdout
    assert pushed == result.code
    files = subprocess.run(
        ["git", "-C", str(bare), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(files) == sorted(["dags/existing.py", path])


def test_unknown_repo_is_a_clear_error(assistant: Assistant) -> None:
    with pytest.raises(RepoNotFound):
        assistant.generate(ISSUE_EXAMPLE, repo="nope")


def test_unreachable_llm_falls_back_to_the_parser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_OLLAMA_HOST", "http://127.0.0.1:9")
    result = build_assistant().generate("clean the data, then email ops@example.com")
    assert result.spec_source == "parser"
    assert [t.kind for t in result.spec.tasks] == ["python", "email"]
    assert any("rule-based parser" in note for note in result.notes)


def test_cli_json_shape_and_errors(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("generate", "--json", "every sunday", "email the report to team@example.com")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["ok"], data["schedule"], data["path"]) == (True, "0 0 * * 0", None)
    assert [t["kind"] for t in data["tasks"]] == ["email"]
    empty = run_cli("generate", "   ")
    assert empty.returncode == 2
    assert empty.stderr.startswith("error: the description is empty") and "Traceback" not in empty.stderr
    assert "hint:" in empty.stderr


def test_secrets_in_the_description_never_reach_the_code(assistant: Assistant, tmp_path: Path) -> None:
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    result = assistant.generate(f"call https://bob:{secret}@api.example.com/sync with token {secret}")
    assert result.ok, result.summary
    assert secret not in result.code and secret not in json.dumps(result.to_dict())
    assert any("masked" in note for note in result.notes)
