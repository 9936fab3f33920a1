"""Changing a repository's settings in chat, end to end through `assistant chat --script`: a real
git repository, the real router, validation pipeline and local Airflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gitops.gitrepos import dag_source, make_remote, unique
from tests.gitops.live import removed_afterwards

pytestmark = pytest.mark.integration


def _chat(run_cli: Any, tmp_path: Path, lines: list[str]) -> tuple[int, list[str]]:
    script = tmp_path / f"script-{unique()}.txt"
    script.write_text("\n".join(lines) + "\n")
    result = run_cli("chat", "--script", str(script), timeout=600)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.returncode, result.stdout.split("you> ")[1:]


def _listed(run_cli: Any, name: str) -> dict[str, Any]:
    listed = run_cli("repo", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return next(r for r in json.loads(listed.stdout) if r["name"] == name)


def test_switching_branch_in_chat_deploys_the_new_commit_after_confirmation(
    run_cli: Any, live_airflow: dict[str, str], tmp_path: Path
) -> None:
    suffix = unique("")[1:]
    name, dag_id = f"workflows-{suffix}", f"chat_settings_{suffix}"
    remote = make_remote(tmp_path / "remotes", "flows")
    first = remote.commit({"dags/flow.py": dag_source(dag_id, "v1")})
    develop = remote.commit_on_branch("develop", {"dags/flow.py": dag_source(dag_id, "v2")})
    broken = remote.commit_on_branch(
        "broken", {"dags/flow.py": dag_source(dag_id, "v3"), "dags/bad.py": "def x(:\n"}
    )
    published = Path(live_airflow["ASSISTANT_DAGS_FOLDER"]) / "company" / name / "dags" / "flow.py"
    with removed_afterwards(run_cli, name):
        code, turns = _chat(
            run_cli,
            tmp_path,
            [
                f"add my workflows repo {remote.url} to company as {name}",
                "switch my workflows repo to the develop branch",
                "yes",
            ],
        )
        assert code == 0, turns
        added, asked, switched = turns
        assert f"{name}: deployed at {first[:8]}" in added
        assert f"Change {name}: branch main → branch develop?" in asked and "(yes/no)" in asked
        assert f"Changed {name}: branch main → branch develop." in switched
        assert f"Deployed commit {develop[:10]}" in switched and f"- {dag_id}: paused" in switched
        listed = _listed(run_cli, name)
        assert (listed["ref_kind"], listed["ref"], listed["deployed_commit"]) == (
            "branch",
            "develop",
            develop,
        )
        assert '"v2"' in published.read_text()

        code, turns = _chat(
            run_cli,
            tmp_path,
            [f"change the settings of {name}", "the broken branch", "yes", f"stop tracking {name}", "no"],
        )
        assert code == 1, turns  # the blocked deployment is a failure
        which, asked, blocked, remove, kept = turns
        assert "What should I change" in which
        assert f"Change {name}: branch develop → branch broken?" in asked
        assert f"The new commit was not deployed: {broken[:10]} did not pass validation" in blocked
        assert "bad.py" in blocked and "The last good release stays in Airflow" in blocked
        assert "(yes/no)" in remove and kept.strip().endswith("Cancelled; nothing was changed.")
        listed = _listed(run_cli, name)
        assert (listed["ref"], listed["deployed_commit"], listed["state"]) == (
            "broken",
            develop,
            "failing validation",
        )
        assert '"v2"' in published.read_text()  # Airflow still has the last good release
