"""GitOps end to end: the CLI, the real validation pipeline and the real local Airflow."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.gitops import publish, release
from tests.gitops.gitrepos import dag_source, make_remote, unique
from tests.gitops.live import api_dag, removed_afterwards, until

pytestmark = pytest.mark.integration


def test_add_sync_rollback_remove_through_the_cli(
    live_airflow: dict[str, str], run_cli: Any, tmp_path: Path
) -> None:
    name = unique("repo")
    first, second = unique("live"), unique("live")
    remote = make_remote(tmp_path)
    remote.commit(
        {"dags/one.py": dag_source(first), "dags/two.py": dag_source(second), "dags/helper.txt": "x"}
    )
    added = run_cli("repo", "add", remote.url, "--name", name, "--path", "dags", "--json")
    with removed_afterwards(run_cli, name):
        assert added.returncode == 0, added.stderr
        outcome = json.loads(added.stdout)
        assert outcome["result"] == "deployed"
        assert {d["dag_id"]: d["state"] for d in outcome["dags"]} == {first: "paused", second: "paused"}
        assert api_dag(first).relative_fileloc == f"personal/{name}/one.py"

        remote.commit({"dags/one.py": dag_source(first, "v2")})
        synced = run_cli("repo", "sync", name, "--json")
        assert synced.returncode == 0, synced.stderr
        assert until(lambda: "v2" in api_dag(first).tags)

        remote.commit({"dags/one.py": "def broken(:\n"})
        failed = run_cli("repo", "sync", name)
        assert failed.returncode == 1 and "did not pass validation" in failed.stdout
        listed = json.loads(run_cli("repo", "list", "--json").stdout)
        assert listed[0]["state"] == "failing validation"
        assert "v2" in api_dag(first).tags  # the last good release stays

        rolled = run_cli("repo", "rollback", name, "--json")
        assert rolled.returncode == 0, rolled.stderr
        assert until(lambda: "v1" in api_dag(first).tags)
        history = json.loads(run_cli("repo", "history", name, "--json").stdout)
        assert [h["result"] for h in history] == ["deployed", "failed", "deployed", "deployed"]
    assert until(lambda: api_dag(first) is None or api_dag(first).is_stale)


def test_bad_input_is_one_line_and_registers_nothing(
    live_airflow: dict[str, str], run_cli: Any, tmp_path: Path
) -> None:
    remote = make_remote(tmp_path)
    remote.commit({"a.py": "x = 1\n"})
    for args, needle in (
        (("repo", "add", "not a url"), "malformed"),
        (("repo", "add", remote.url, "--branch", "nope"), "no branch 'nope'"),
        (("repo", "add", remote.url), "no DAGs found"),
        (("repo", "add", "https://user:pw@github.com/a/b.git"), "contains credentials"),
    ):
        result = run_cli(*args)
        assert result.returncode != 0 and needle in result.stderr and "Traceback" not in result.stderr
        assert "pw@" not in result.stderr
    assert json.loads(run_cli("repo", "list", "--json").stdout) == []


def test_secrets_never_reach_a_file(live_airflow: dict[str, str], run_cli: Any, tmp_path: Path) -> None:
    token = "tok_" + unique("S3cr3t")
    hook = "hook_" + unique("S3cr3t")
    name = unique("repo")
    remote = make_remote(tmp_path / "remote")
    remote.commit({"a.py": dag_source(unique("sec"))})
    assert run_cli("cred", "set", "gh", "--token", input=token + "\n").returncode == 0
    assert run_cli("cred", "set", "hook", "--token", input=hook + "\n").returncode == 0
    listed = run_cli("cred", "list")
    assert "gh" in listed.stdout and token not in listed.stdout
    added = run_cli(
        "repo", "add", remote.url, "--name", name, "--credential", "gh", "--webhook-credential", "hook"
    )
    try:
        assert added.returncode == 0, added.stderr
        remote.commit({"b.py": dag_source(unique("sec"))})
        outputs = [
            added,
            run_cli("repo", "sync", name),
            run_cli("repo", "list"),
            run_cli("repo", "history", name),
        ]
    finally:
        outputs.append(run_cli("repo", "remove", name))
    home = Path(os.environ["ASSISTANT_HOME"])
    roots = [home, Path(live_airflow["ASSISTANT_DAGS_FOLDER"])]
    scanned = 0
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                scanned += 1
                assert token.encode() not in data and hook.encode() not in data, path
    assert scanned > 5
    for result in outputs:
        assert token not in result.stdout + result.stderr and hook not in result.stdout + result.stderr
    db = sqlite3.connect(home / "state.db")
    dump = "\n".join(db.iterdump())
    assert token not in dump and hook not in dump


def test_killing_the_sync_mid_deployment_leaves_a_whole_validated_release(
    live_airflow: dict[str, str], run_cli: Any, tmp_path: Path
) -> None:
    name = unique("repo")
    dag_id = unique("kill")
    remote = make_remote(tmp_path)
    bulk = {f"dags/sql/q{i:04d}.sql": f"select {i};\n" * 20 for i in range(1500)}
    remote.commit({"dags/a.py": dag_source(dag_id, "v1"), **bulk})
    assert run_cli("repo", "add", remote.url, "--name", name, "--path", "dags", "--no-wait").returncode == 0
    dags = Path(live_airflow["ASSISTANT_DAGS_FOLDER"])
    home = Path(os.environ["ASSISTANT_HOME"])
    releases = home / "releases" / name
    try:
        for phase, version in (("export", "v2"), ("validation", "v3")):
            before = publish.published_target(dags, "personal", name)
            remote.commit(
                {
                    "dags/a.py": dag_source(dag_id, version),
                    **{k: v + f"-- {version}\n" for k, v in bulk.items()},
                }
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "repo", "sync", name, "--no-wait"],
                env=dict(os.environ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            caught = _catch(proc, releases, before, phase)
            proc.wait(60)
            assert caught, f"the sync finished before reaching {phase}"
            linked = publish.published_target(dags, "personal", name)
            if phase == "export":
                assert linked == before  # killed before the swap: the old release is still served
            _assert_whole_and_validated(linked, home)
        final = run_cli("repo", "sync", name, "--no-wait")
        assert final.returncode == 0, final.stderr
        linked = publish.published_target(dags, "personal", name)
        assert '"v3"' in (linked / "a.py").read_text()
        _assert_whole_and_validated(linked, home)
    finally:
        run_cli("repo", "remove", name)


def _catch(proc: subprocess.Popen[bytes], releases: Path, before: Path | None, phase: str) -> bool:
    """SIGKILL ``proc`` once it is in ``phase``; False if it ended first."""
    while proc.poll() is None:
        names = [p.name for p in releases.iterdir()] if releases.is_dir() else []
        exporting = any(n.startswith(".tmp-") for n in names)
        new_release = [n for n in names if not n.startswith(".") and (releases / n).resolve() != before]
        if (phase == "export" and exporting) or (phase == "validation" and new_release and not exporting):
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.005)
    return False


def _assert_whole_and_validated(linked: Path | None, home: Path) -> None:
    assert linked is not None
    info = release.load_release(linked)
    assert info is not None and release.verify_release(info) == []
    db = sqlite3.connect(home / "state.db")
    rows = db.execute(
        "SELECT validation_json FROM deployments WHERE release_dir = ? AND result IN ('deployed', 'publishing')",
        (str(linked),),
    ).fetchall()
    assert rows and json.loads(rows[0][0])["ok"] is True
