"""Per-repo validation policy: set with `repo set --policy` > the repo's .assistant/policy.toml >
the default, read from the commit being deployed (stand-in validator: its only policy rule is tags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import UsageError, ValidationFailed
from assistant.gitops import publish
from assistant.gitops.policies import relaxations
from assistant.service import Assistant
from assistant.validation.policy import Policy, parse_policy
from tests.gitops.gitrepos import RemoteRepo, SyntaxAndIdValidator, dag_source

POLICY = ".assistant/policy.toml"
TAGS_BLOCK = '[policy]\ntags = "block"\n'
TAGS_OFF = '[policy]\ntags = "off"\n'


def _untagged(dag_id: str, version: str = "v1") -> str:
    return dag_source(dag_id, version).replace(', tags=["' + version + '"]', "")


def _policies(assistant: Assistant) -> list[Policy | None]:
    validator: SyntaxAndIdValidator = assistant.components.validator  # type: ignore[assignment]
    return validator.policies


def _linked(assistant: Assistant, name: str = "r") -> Path:
    return Path(publish.link_path(assistant.config.dags_folder, "personal", name)).resolve()  # type: ignore[arg-type]


def test_without_a_policy_the_default_is_used(offline_assistant: Assistant, remote: RemoteRepo) -> None:
    remote.commit({"a.py": _untagged("pd_a")})
    outcome = offline_assistant.repo_add(remote.url, name="r", wait=False)
    assert outcome.result == "deployed" and outcome.policy == "default"
    assert _policies(offline_assistant) == [None]
    assert offline_assistant.repos()[0].policy_used == "default"
    assert offline_assistant.repo_history("r")[0].policy == "default"


def test_the_repos_own_policy_file_is_read_from_the_commit(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"dags/a.py": dag_source("pf_a"), POLICY: TAGS_BLOCK})
    outcome = offline_assistant.repo_add(remote.url, name="r", path="dags", wait=False)
    assert outcome.policy == POLICY and _policies(offline_assistant)[-1] == Policy(tags="block")
    assert offline_assistant.repos()[0].policy_used == POLICY
    before = _linked(offline_assistant)
    remote.commit({"dags/a.py": _untagged("pf_a", "v2")})
    [blocked] = offline_assistant.repo_sync("r", wait=False)
    assert blocked.result == "failed" and f"(policy: {POLICY})" in blocked.message
    assert _linked(offline_assistant) == before
    remote.commit({POLICY: TAGS_OFF})  # the next commit relaxes its own house rule
    [relaxed] = offline_assistant.repo_sync("r", wait=False)
    assert relaxed.result == "deployed" and _policies(offline_assistant)[-1] == Policy(tags="off")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[policy\ntags = 1", "is broken: cannot read"),
        ('[policy]\ntags = "sometimes"\n', "is not a level"),
        ("[nonsense]\nx = 1\n", "unknown policy section"),
        ('[severity]\n"security.reverse-shell" = "off"\n', "may not relax"),
        ("[limits]\ntimeout_s = 600\n", "may not relax"),
    ],
)
def test_a_broken_policy_file_fails_that_commit_only(
    offline_assistant: Assistant, remote: RemoteRepo, content: str, match: str
) -> None:
    good = remote.commit({"a.py": dag_source("pb_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    before = _linked(offline_assistant)
    bad = remote.commit({POLICY: content})
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert outcome.result == "failed" and outcome.commit == bad
    assert match in outcome.message and "stays deployed" in outcome.message
    assert _linked(offline_assistant) == before
    [repo] = offline_assistant.repos()
    assert (repo.state, repo.deployed_commit) == ("failing", good)
    with pytest.raises(ValidationFailed, match=match):  # and `repo add` of such a commit registers nothing
        offline_assistant.repo_add(remote.url, name="other", wait=False)


def test_a_policy_folder_instead_of_a_file_is_broken(
    offline_assistant: Assistant, remote: RemoteRepo
) -> None:
    remote.commit({"a.py": dag_source("pdir_a"), f"{POLICY}/x": "1"})
    with pytest.raises(ValidationFailed, match="it is a folder"):
        offline_assistant.repo_add(remote.url, name="r", wait=False)


def test_a_set_policy_wins_over_the_repos_file_and_is_kept_as_a_copy(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": dag_source("ps_a"), POLICY: TAGS_BLOCK})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    chosen = tmp_path / "team-policy.toml"
    chosen.write_text(TAGS_OFF)
    offline_assistant.repo_set("r", policy_file=chosen, wait=False)
    chosen.unlink()  # stored as a copy, not referenced
    remote.commit({"a.py": _untagged("ps_a", "v2")})
    [outcome] = offline_assistant.repo_sync("r", wait=False)
    assert outcome.result == "deployed" and outcome.policy == "repo set"
    assert _policies(offline_assistant)[-1] == Policy(tags="off")
    assert offline_assistant.repos()[0].policy_used == "repo set"
    offline_assistant.repo_set("r", no_policy=True, wait=False)  # back to the repo's own file
    [forced] = offline_assistant.repo_sync("r", wait=False, force=True)
    assert forced.result == "failed" and f"(policy: {POLICY})" in forced.message


def test_a_set_policy_may_relax_what_a_committed_one_may_not(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": dag_source("pr_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    chosen = tmp_path / "p.toml"
    chosen.write_text('[severity]\n"security.shell-injection" = "warn"\n[limits]\ntimeout_s = 90\n')
    offline_assistant.repo_set("r", policy_file=chosen, wait=False)
    [outcome] = offline_assistant.repo_sync("r", wait=False, force=True)
    assert outcome.result == "deployed" and _policies(offline_assistant)[-1].timeout_s == 90  # type: ignore[union-attr]


def test_a_bad_policy_file_is_refused_by_repo_set(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": dag_source("pu_a")})
    offline_assistant.repo_add(remote.url, name="r", wait=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nowner = 3\n")
    with pytest.raises(UsageError, match="is not a level"):
        offline_assistant.repo_set("r", policy_file=bad)
    assert offline_assistant.repos()[0].policy_toml is None


def test_repo_add_takes_a_policy_too(
    offline_assistant: Assistant, remote: RemoteRepo, tmp_path: Path
) -> None:
    remote.commit({"a.py": _untagged("pa_a")})
    chosen = tmp_path / "p.toml"
    chosen.write_text(TAGS_BLOCK)
    with pytest.raises(ValidationFailed, match=r"\(policy: repo set\)"):
        offline_assistant.repo_add(remote.url, name="r", policy_file=chosen, wait=False)
    assert offline_assistant.repos() == []


def test_relaxations_allow_house_rules_and_stricter_checks() -> None:
    allowed = parse_policy(
        '[policy]\ntags = "off"\nmin_retries = 0\n[limits]\ntimeout_s = 10\n'
        '[severity]\n"policy.airflow3.AIR312" = "off"\n"security.raw-socket" = "block"\n'
    )
    assert relaxations(allowed) == []
    refused = parse_policy('[severity]\n"bandit.B602" = "warn"\n[limits]\nmemory_mb = 4096\n')
    assert len(relaxations(refused)) == 2
