"""`repo set`: settings changed in place, against real git repos on disk (stand-in validator)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.errors import CredentialError, GitError, RepoNotFound, UsageError
from assistant.gitops import publish
from assistant.service import Assistant
from tests.gitops.gitrepos import RemoteRepo, SyntaxAndIdValidator, dag_source


def _linked(assistant: Assistant, name: str = "r", namespace: str = "personal") -> Path:
    return Path(publish.link_path(assistant.config.dags_folder, namespace, name)).resolve()  # type: ignore[arg-type]


def _assert_moved_to_company(assistant: Assistant, release: Path) -> None:
    """Repo r's link left personal/ and serves ``release`` from company/."""
    assert not (assistant.config.dags_folder / "personal" / "r").is_symlink()
    assert _linked(assistant, namespace="company") == release


def _validator(assistant: Assistant) -> SyntaxAndIdValidator:
    return assistant.components.validator  # type: ignore[return-value]


def test_a_new_branch_is_validated_and_deployed(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": dag_source("br_a", "v1")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    develop = remote.commit_on_branch("develop", {"a.py": dag_source("br_a", "v2")})
    outcome = offline_assistant.repo_set("r", branch="develop", wait=False)
    assert outcome.ok and outcome.changed == {"ref": ("branch main", "branch develop")}
    assert outcome.deployment is not None
    assert (outcome.deployment.result, outcome.deployment.commit) == ("deployed", develop)
    assert '"v2"' in (_linked(offline_assistant) / "a.py").read_text()
    [repo] = offline_assistant.repos()
    assert (repo.ref_kind, repo.ref, repo.deployed_commit, repo.state) == ("branch", "develop", develop, "ok")


def test_a_branch_that_fails_validation_is_not_deployed(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    good = remote.commit({"a.py": dag_source("bf_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    before = _linked(offline_assistant)
    bad = remote.commit_on_branch("develop", {"a.py": "def broken(:\n"})
    outcome = offline_assistant.repo_set("r", branch="develop", wait=False)
    assert not outcome.ok and outcome.deployment is not None
    assert outcome.deployment.result == "failed"
    assert "did not pass validation" in outcome.message and "stays deployed" in outcome.message
    assert _linked(offline_assistant) == before
    [repo] = offline_assistant.repos()
    assert (repo.ref, repo.state, repo.deployed_commit, repo.last_attempt_commit) == (
        "develop",
        "failing",
        good,
        bad,
    )
    fixed = remote.commit_on_branch("develop", {"a.py": dag_source("bf_a", "v3")})
    [synced] = offline_assistant.repo_sync("r", wait=False)  # as after a push: the fix deploys
    assert (synced.result, synced.commit) == ("deployed", fixed)


def test_a_new_path_deploys_the_same_commit_from_the_other_folder(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    commit = remote.commit({"dags/a.py": dag_source("p_a"), "other/b.py": dag_source("p_b")})
    offline_assistant.repo_add(remote.url, name="r", path="dags", wait=False)
    first = _linked(offline_assistant)
    outcome = offline_assistant.repo_set("r", path="other", wait=False)
    assert outcome.deployment is not None and outcome.deployment.result == "deployed"
    assert outcome.changed == {"path": ("dags", "other")}
    linked = _linked(offline_assistant)
    assert linked != first and sorted(p.name for p in linked.glob("*.py")) == ["b.py"]
    assert (first / "a.py").exists()  # the previous release is kept (rollback)
    history = offline_assistant.repo_history("r")
    assert [(d.commit_sha, d.dag_path, d.dag_ids) for d in history] == [
        (commit, "other", ["p_b"]),
        (commit, "dags", ["p_a"]),
    ]
    [again] = offline_assistant.repo_sync("r", wait=False)
    assert again.result == "unchanged"


def test_a_path_without_dags_fails_and_stays_failing(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"dags/a.py": dag_source("np_a"), "docs/README.md": "hi"})
    offline_assistant.repo_add(remote.url, name="r", path="dags", wait=False)
    before = _linked(offline_assistant)
    outcome = offline_assistant.repo_set("r", path="docs", wait=False)
    assert outcome.deployment is not None and outcome.deployment.result == "failed"
    assert "no Python files under docs" in outcome.message
    assert _linked(offline_assistant) == before
    [again] = offline_assistant.repo_sync("r", wait=False)  # not 'unchanged': docs/ was never published
    assert again.result == "failed"
    assert offline_assistant.repos()[0].display_state == "failing validation"
    back = offline_assistant.repo_set("r", path="dags", wait=False)
    assert back.deployment is not None and back.deployment.result == "unchanged"
    assert offline_assistant.repos()[0].state == "ok"


def test_metadata_changes_do_not_redeploy(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": dag_source("md_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    offline_assistant.cred_set("hook", "token", "s3cret")
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\ntags = "block"\n')
    calls = len(_validator(offline_assistant).calls)
    outcome = offline_assistant.repo_set(
        "r", unpause=True, webhook_credential="hook", policy_file=policy, wait=False
    )
    assert outcome.ok and outcome.deployment is None and outcome.moved_from is None
    assert set(outcome.changed) == {"unpause", "webhook_credential", "policy"}
    assert "applies from the next deployment" in outcome.message
    assert len(_validator(offline_assistant).calls) == calls
    assert len(offline_assistant.repo_history("r")) == 1
    [repo] = offline_assistant.repos()
    assert repo.unpause and repo.webhook_credential == "hook" and repo.policy_toml == policy.read_text()
    cleared = offline_assistant.repo_set("r", no_webhook_credential=True, no_policy=True, wait=False)
    assert cleared.changed["policy"][1] == "none" and offline_assistant.repos()[0].webhook_credential is None


def test_same_values_change_nothing(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": dag_source("same_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    outcome = offline_assistant.repo_set("r", branch="main", namespace="personal", wait=False)
    assert outcome.changed == {} and "nothing to change" in outcome.message
    assert len(offline_assistant.repo_history("r")) == 1


def test_a_new_namespace_moves_the_link_without_validating_again(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("ns_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    before = _linked(offline_assistant)
    calls = len(_validator(offline_assistant).calls)
    outcome = offline_assistant.repo_set("r", namespace="company", wait=False)
    assert outcome.ok and outcome.moved_from == "personal" and outcome.deployment is None
    assert "moved from personal/r to company/r" in outcome.message
    _assert_moved_to_company(offline_assistant, before)
    dags = offline_assistant.config.dags_folder
    assert ".assistant-swap-*" in (dags / "company" / ".airflowignore").read_text()
    assert len(_validator(offline_assistant).calls) == calls
    second = remote.commit({"a.py": dag_source("ns_a", "v2")})
    [synced] = offline_assistant.repo_sync("r", wait=False)
    assert synced.commit == second and '"v2"' in (dags / "company" / "r" / "a.py").read_text()


def test_namespace_and_branch_together(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": dag_source("nb_a", "v1")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    remote.commit_on_branch("develop", {"a.py": dag_source("nb_a", "v2")})
    outcome = offline_assistant.repo_set("r", namespace="community", branch="develop", wait=False)
    assert outcome.moved_from == "personal" and outcome.deployment is not None
    assert outcome.deployment.result == "deployed"
    dags = offline_assistant.config.dags_folder
    assert '"v2"' in (dags / "community" / "r" / "a.py").read_text()
    assert not (dags / "personal" / "r").exists()


def test_an_interrupted_move_is_finished_by_the_next_sync(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("im_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    before = _linked(offline_assistant)
    store = offline_assistant.components.repo_store
    [repo] = store.list()
    store.update_settings(type(repo.spec)(**{**repo.spec.__dict__, "namespace": "company"}))  # killed here
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert outcome.result == "unchanged"
    _assert_moved_to_company(offline_assistant, before)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"branch": "nope"}, GitError, "no branch 'nope'"),
        ({"ref": "0" * 40}, GitError, "fetching"),
        ({"credential": "missing"}, CredentialError, "no credential named"),
        ({"webhook_credential": "missing"}, CredentialError, "no credential named"),
        ({"url": "https://user:pw@example.com/a.git"}, UsageError, "contains credentials"),
        ({"path": "../x"}, UsageError, "inside the repository"),
        ({"branch": "a", "tag": "b"}, UsageError, "at most one"),
        ({"credential": "x", "no_credential": True}, UsageError, "not both"),
        ({"policy_file": Path("/nonexistent/policy.toml")}, UsageError, "does not exist"),
        ({}, UsageError, "nothing to change"),
    ],
)
def test_refused_settings_store_nothing(
    offline_assistant: Assistant,
    remote: RemoteRepo,
    options: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    remote.commit({"a.py": dag_source("rf_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    offline_assistant.components.deployer.git_retries = 1
    [before] = offline_assistant.repos()
    with pytest.raises(error, match=match):
        offline_assistant.repo_set("r", wait=False, **options)
    [after] = offline_assistant.repos()
    assert after == before


def test_no_option_names_the_options(offline_assistant: Assistant) -> None:
    with pytest.raises(UsageError) as err:
        offline_assistant.repo_set("r")
    assert "--branch" in err.value.hint and "--policy FILE/--no-policy" in err.value.hint


def test_unknown_repo_suggests_close_names(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": dag_source("un_a")})
    offline_assistant.repo_add(remote.url, name="flows", wait=False)
    with pytest.raises(RepoNotFound) as err:
        offline_assistant.repo_set("flow", branch="main")
    assert "did you mean flows?" in err.value.hint


def test_a_taken_link_in_the_new_namespace_is_refused(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("tk_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    (offline_assistant.config.dags_folder / "company" / "r").mkdir(parents=True)
    with pytest.raises(UsageError, match="already exists"):
        offline_assistant.repo_set("r", namespace="company")
    assert offline_assistant.repos()[0].namespace == "personal"
    assert (offline_assistant.config.dags_folder / "personal" / "r").is_symlink()


def test_rollback_exports_a_cleaned_release_from_the_folder_it_came_from(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    first = remote.commit({"dags/a.py": dag_source("rbp_a", "v1"), "other/b.py": dag_source("rbp_b")})
    offline_assistant.repo_add(remote.url, name="r", path="dags", wait=False)
    remote.commit({"dags/a.py": dag_source("rbp_a", "v2")})
    offline_assistant.repo_sync("r", wait=False)
    offline_assistant.repo_set("r", path="other", wait=False)
    [cleaned] = [d for d in offline_assistant.repo_history("r") if d.commit_sha == first]
    assert cleaned.release_dir is not None
    shutil.rmtree(cleaned.release_dir)
    outcome = offline_assistant.repo_rollback("r", wait=False)
    assert outcome.commit == first
    assert '"v1"' in (_linked(offline_assistant) / "a.py").read_text()
