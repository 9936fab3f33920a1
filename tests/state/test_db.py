from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.errors import StateError
from assistant.state import open_state
from assistant.state.db import migrations


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    conn = open_state(tmp_path / "state.db")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == migrations()[-1][0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"repos", "deployments", "runs", "task_outcomes", "chat_turns", "notifications"} <= tables


def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = open_state(path)
    conn.execute("INSERT INTO chat_turns (session_id, message) VALUES ('s', 'hello')")
    conn.close()
    again = open_state(path)
    assert again.execute("SELECT message FROM chat_turns").fetchone()[0] == "hello"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 999")
    raw.close()
    with pytest.raises(StateError) as info:
        open_state(path)
    assert "upgrade" in info.value.hint


def test_garbage_file_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError):
        open_state(path)


def test_repo_settings_migration_keeps_existing_repos(tmp_path: Path) -> None:
    """A database from before 007 (repos and deployments in it) opens with the new columns empty."""
    from assistant.gitops.store import RepoStore
    from assistant.state.db import _statements

    path = tmp_path / "state.db"
    raw = sqlite3.connect(path)
    for number, script in migrations():
        if number < 7:
            for statement in _statements(script.read_text()):
                raw.execute(statement)
    raw.execute("PRAGMA user_version = 6")
    raw.execute("INSERT INTO repos (name, url, namespace, ref) VALUES ('r', 'file:///x', 'company', 'main')")
    raw.execute(
        "INSERT INTO deployments (repo, commit_sha, result, dag_ids) VALUES ('r', 'abc', 'deployed', '[\"d\"]')"
    )
    raw.execute("UPDATE repos SET deployed_commit = 'abc'")
    raw.commit()
    raw.close()
    store = RepoStore(open_state(path))
    [repo] = store.list()
    assert (repo.name, repo.namespace, repo.policy_toml, repo.policy_used) == ("r", "company", None, "")
    [deployment] = store.history("r")
    assert (deployment.dag_path, deployment.policy, deployment.dag_ids) == (None, "", ["d"])
