"""`repo set` end to end: the CLI, the real validation pipeline and the real local Airflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gitops.gitrepos import dag_source, make_remote, unique
from tests.gitops.live import api_dag, removed_afterwards, until

pytestmark = pytest.mark.integration

TAGS_BLOCK = '[policy]\ntags = "block"\n'


def test_namespace_move_and_a_blocked_path_change(
    live_airflow: dict[str, str], run_cli: Any, tmp_path: Path
) -> None:
    name = unique("repo")
    dag_id, untagged_id = unique("live"), unique("live")
    remote = make_remote(tmp_path)
    untagged = dag_source(untagged_id).replace(', tags=["v1"]', "")
    remote.commit(
        {"dags/one.py": dag_source(dag_id), "v2/two.py": untagged, ".assistant/policy.toml": TAGS_BLOCK}
    )
    added = run_cli("repo", "add", remote.url, "--name", name, "--path", "dags", "--unpause", "--json")
    with removed_afterwards(run_cli, name):
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["policy"] == ".assistant/policy.toml"

        moved = run_cli("repo", "set", name, "--namespace", "company", "--json")
        assert moved.returncode == 0, moved.stderr
        outcome = json.loads(moved.stdout)
        assert outcome["moved_from"] == "personal" and outcome["deployment"] is None
        assert [d["state"] for d in outcome["dags"]] == ["active"]  # Airflow kept it unpaused
        dag = until(lambda: (d := api_dag(dag_id)) and d.relative_fileloc.startswith("company/") and d)
        assert dag.relative_fileloc == f"company/{name}/one.py" and not dag.is_stale

        blocked = run_cli("repo", "set", name, "--path", "v2")
        assert blocked.returncode == 1, blocked.stderr
        assert "policy.tags" in blocked.stdout and "(policy: .assistant/policy.toml)" in blocked.stdout
        assert "stays deployed" in blocked.stdout
        [listed] = json.loads(run_cli("repo", "list", "--json").stdout)
        assert (listed["namespace"], listed["dag_path"], listed["state"]) == (
            "company",
            "v2",
            "failing validation",
        )
        assert api_dag(untagged_id) is None
        assert not api_dag(dag_id).is_stale  # the last good release is still served


def test_the_warm_validator_of_serve_switches_policy_per_deployment(
    live_airflow: dict[str, str], tmp_path: Path
) -> None:
    from assistant.config import load_config
    from assistant.gitops.validator import PipelineValidator
    from assistant.validation.policy import Policy

    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "a.py").write_text(dag_source(unique("warm")).replace(', tags=["v1"]', ""))
    validator = PipelineValidator(load_config())
    validator.hold_open()
    try:
        assert validator.validate(folder, {}).ok
        assert not validator.validate(folder, {}, policy=Policy(tags="block")).ok
        assert not validator.validate(folder, {}, policy=Policy(tags="block", timeout_s=20)).ok
        assert validator.validate(folder, {}).ok
    finally:
        validator.close()
