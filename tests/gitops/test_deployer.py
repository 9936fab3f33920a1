"""Deployments against real git repos on disk, into a private DAGs folder (no Airflow needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.errors import AssistantError, CredentialError, GitError, UsageError, ValidationFailed
from assistant.gitops import publish, release
from assistant.service import Assistant
from tests.gitops.gitrepos import RemoteRepo, dag_source, make_remote


def _linked(assistant: Assistant, name: str, namespace: str = "personal") -> Path:
    return Path(publish.link_path(assistant.config.dags_folder, namespace, name)).resolve()  # type: ignore[arg-type]


def test_add_deploys_and_records(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    commit = remote.commit(
        {"dags/a.py": dag_source("team_a"), "dags/b.py": dag_source("team_b"), "x.md": "doc"}
    )
    outcome = offline_assistant.repo_add(
        remote.url, name="team", path="dags", namespace="company", wait=False
    )
    assert (outcome.result, outcome.commit) == ("deployed", commit)
    linked = _linked(offline_assistant, "team", "company")
    assert sorted(p.name for p in linked.iterdir() if p.suffix == ".py") == ["a.py", "b.py"]
    [repo] = offline_assistant.repos()
    assert (repo.name, repo.ref, repo.deployed_commit, repo.state) == ("team", "main", commit, "ok")
    [deployment] = offline_assistant.repo_history("team")
    assert deployment.result == "deployed" and deployment.dag_ids == ["team_a", "team_b"]


def test_sync_publishes_a_new_commit_and_skips_an_unchanged_one(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("s_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    [same] = offline_assistant.repo_sync("r", wait=False)
    assert same.result == "unchanged"
    second = remote.commit({"a.py": dag_source("s_a", "v2")})
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert (outcome.result, outcome.commit) == ("deployed", second)
    assert '"v2"' in (_linked(offline_assistant, "r") / "a.py").read_text()


def test_failing_commit_keeps_the_last_good_release(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    good = remote.commit({"a.py": dag_source("f_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    before = _linked(offline_assistant, "r")
    bad = remote.commit({"a.py": "def broken(:\n"})
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert outcome.result == "failed" and "did not pass validation" in outcome.message
    assert _linked(offline_assistant, "r") == before
    [repo] = offline_assistant.repos()
    assert (repo.state, repo.deployed_commit, repo.last_attempt_commit) == ("failing", good, bad)
    assert repo.display_state == "failing validation"
    notes = offline_assistant.components.notifier.recent()
    assert notes[0].level == "error" and "stays deployed" in notes[0].message


def test_dag_id_collision_across_repos_names_both_files(offline_assistant: Assistant, tmp_path: Path) -> None:
    first = make_remote(tmp_path / "one", "one")
    first.commit({"dags/x.py": dag_source("shared_id")})
    offline_assistant.repo_add(first.url, name="one", path="dags", namespace="company", wait=False)
    second = make_remote(tmp_path / "two", "two")
    second.commit({"y.py": dag_source("shared_id")})
    with pytest.raises(ValidationFailed) as err:
        offline_assistant.repo_add(second.url, name="two", wait=False)
    assert "personal/two/y.py" in err.value.message and "company/one/x.py" in err.value.message
    assert [r.name for r in offline_assistant.repos()] == ["one"]


def test_rollback_republishes_the_previous_good_release(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    first = remote.commit({"a.py": dag_source("rb_a", "v1")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    first_release = _linked(offline_assistant, "r")
    second = remote.commit({"a.py": dag_source("rb_a", "v2")})
    offline_assistant.repo_sync("r", wait=False)
    outcome = offline_assistant.repo_rollback("r", wait=False)
    assert (outcome.result, outcome.commit) == ("deployed", first)
    assert _linked(offline_assistant, "r") == first_release
    [repo] = offline_assistant.repos()
    assert repo.deployed_commit == first and repo.last_attempt_commit == second  # the poller will not undo it
    history = offline_assistant.repo_history("r")
    assert history[0].is_rollback and history[0].commit_sha == first
    again = offline_assistant.repo_rollback("r", to=second[:8], wait=False)
    assert again.commit == second
    with pytest.raises(UsageError, match="no good deployment"):
        offline_assistant.repo_rollback("r", to="deadbeef", wait=False)


def test_rollback_to_a_cleaned_release_exports_it_again(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    first = remote.commit({"a.py": dag_source("rc_a", "v1")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    remote.commit({"a.py": dag_source("rc_a", "v2")})
    offline_assistant.repo_sync("r", wait=False)
    shutil.rmtree(release.release_path(offline_assistant.config.releases_dir, "r", first))
    outcome = offline_assistant.repo_rollback("r", wait=False)
    assert outcome.commit == first and '"v1"' in (_linked(offline_assistant, "r") / "a.py").read_text()


def test_remove_unpublishes_only_that_repo(offline_assistant: Assistant, tmp_path: Path) -> None:
    keep = make_remote(tmp_path / "k", "keep")
    keep.commit({"k.py": dag_source("keep_me")})
    gone = make_remote(tmp_path / "g", "gone")
    gone.commit({"g.py": dag_source("remove_me")})
    offline_assistant.repo_add(keep.url, name="keep", wait=False)
    offline_assistant.repo_add(gone.url, name="gone", wait=False)
    offline_assistant.repo_remove("gone")
    dags = offline_assistant.config.dags_folder
    assert not (dags / "personal" / "gone").exists() and (dags / "personal" / "keep" / "k.py").exists()
    assert not (offline_assistant.config.repos_dir / "gone").exists()
    assert [r.name for r in offline_assistant.repos()] == ["keep"]


def test_unreachable_remote_marks_the_repo_stale_and_keeps_the_release(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": dag_source("st_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    offline_assistant.components.deployer.git_retries = 1
    before = _linked(offline_assistant, "r")
    remote.bare.rename(tmp_path / "moved.git")
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert outcome.result == "stale" and not outcome.ok
    [repo] = offline_assistant.repos()
    assert repo.state == "stale" and repo.display_state.startswith("stale since ")
    assert _linked(offline_assistant, "r") == before


@pytest.mark.parametrize(
    ("setup", "options", "error", "match"),
    [
        ("none", {"url": "http//bad url"}, UsageError, "malformed"),
        ("none", {"url": "https://git.invalid.example/acme/x.git"}, GitError, "cannot reach|no repository"),
        ("dags", {"branch": "nope"}, GitError, "no branch 'nope'"),
        ("dags", {"tag": "v9"}, GitError, "no tag 'v9'"),
        ("empty", {}, GitError, "empty"),
        ("nodags", {}, ValidationFailed, "no DAGs found"),
        ("nopy", {}, ValidationFailed, "no Python files"),
        ("dags", {"credential": "missing"}, CredentialError, "no credential named"),
        ("dags", {"path": "../x"}, UsageError, "inside the repository"),
    ],
)
def test_bad_input_registers_nothing(
    offline_assistant: Assistant,
    remote: RemoteRepo,
    setup: str,
    options: dict[str, str],
    error: type[AssistantError],
    match: str,
) -> None:
    if setup == "dags":
        remote.commit({"a.py": dag_source("bad_a")})
    elif setup == "nodags":
        remote.commit({"a.py": "x = 1\n"})
    elif setup == "nopy":
        remote.commit({"README.md": "hello"})
    offline_assistant.components.deployer.git_retries = 1
    url = options.pop("url", remote.url)
    with pytest.raises(error, match=match):
        offline_assistant.repo_add(url, name="r", wait=False, **options)
    assert offline_assistant.repos() == []
    assert not (offline_assistant.config.dags_folder / "personal" / "r").exists()
    assert not (offline_assistant.config.repos_dir / "r").exists()


def test_a_name_already_taken_is_refused(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": dag_source("taken_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    with pytest.raises(UsageError, match="already registered"):
        offline_assistant.repo_add(remote.url, name="r", wait=False)
    assert len(offline_assistant.repos()) == 1
