"""Slots of repo_settings and answers to "What should I change?" (pure rules, no model)."""

from __future__ import annotations

import pytest

from assistant.chat import dialog
from assistant.chat.router_text import TypoCorrector
from assistant.chat.slots import extract_slots
from assistant.chat.slots_settings import settings_answer
from tests.chat.settings_requests import PARTIAL_SETTINGS_REQUESTS, SETTINGS_REQUESTS

SHA = "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        *SETTINGS_REQUESTS,
        *PARTIAL_SETTINGS_REQUESTS,
        # each setting in other words
        ("Switch Reporting To Branch hotfix/login-7", {"name": "Reporting", "branch": "hotfix/login-7"}),
        ("make billing track the staging branch", {"name": "billing", "branch": "staging"}),
        ("track tag v1.5.0 for the platform repo", {"name": "platform", "tag": "v1.5.0"}),
        (f"pin marketing to commit {SHA}", {"name": "marketing", "commit": SHA}),
        ("set the dag path of growth to pipelines/dags", {"name": "growth", "path": "pipelines/dags"}),
        ("set the path of orders-dags to dags", {"name": "orders-dags", "path": "dags"}),
        ("use the repository root as the dag folder of sales", {"name": "sales", "path": "."}),
        ("take the DAGs of tools from the ./flows directory", {"name": "tools", "path": "./flows"}),
        ("move analytics from personal to community", {"name": "analytics", "namespace": "community"}),
        ("change the namespace of ml to company", {"name": "ml", "namespace": "company"}),
        (
            "point crm at https://github.com/acme/crm-v2.git",
            {"name": "crm", "url": "https://github.com/acme/crm-v2.git"},
        ),
        # a commit id stands alone: the hex end of a name is part of the name
        ("change the settings of workflows-bb49783b", {"name": "workflows-bb49783b"}),
        ("pin etl to commit 3f9c2ab.", {"name": "etl", "commit": "3f9c2ab"}),
        # no setting named: the dialog asks which
        ("edit the settings of the crm repo", {"name": "crm"}),
        # the repository from the conversation
        ("put that repo on the release branch", {"branch": "release"}),
    ],
)
def test_repo_settings_reads_the_repository_and_the_settings(
    corrector: TypoCorrector, text: str, slots: dict[str, str]
) -> None:
    assert extract_slots("repo_settings", text, corrector) == slots


def test_a_namespace_only_counts_where_the_repository_moves(corrector: TypoCorrector) -> None:
    # "the community repo" says which repository, not where it goes
    slots = extract_slots("repo_settings", "switch the community repo to the develop branch", corrector)
    assert slots == {"branch": "develop"}
    slots = extract_slots("repo_settings", "switch etl in company to the develop branch", corrector)
    assert slots == {"name": "etl", "branch": "develop"}


@pytest.mark.parametrize(
    ("answer", "settings"),
    [
        ("the develop branch", {"branch": "develop"}),
        ("branch develop", {"branch": "develop"}),
        ("tag v1.2.0", {"tag": "v1.2.0"}),
        ("company", {"namespace": "company"}),
        ("namespace community", {"namespace": "community"}),
        ("folder pipelines/dags", {"path": "pipelines/dags"}),
        ("pipelines/dags", {"path": "pipelines/dags"}),
        ("https://github.com/acme/flows.git", {"url": "https://github.com/acme/flows.git"}),
        (SHA, {"commit": SHA}),
        ("develop", {}),
        ("what do you mean", {}),
    ],
)
def test_an_answer_names_settings_or_nothing(answer: str, settings: dict[str, str]) -> None:
    assert settings_answer(answer) == settings
    assert dialog.coerce_answer("setting", answer) == (settings or None)


def test_the_dialog_asks_for_the_repository_then_for_a_setting() -> None:
    assert dialog.missing_slot("repo_settings", {}) == "name"
    assert dialog.missing_slot("repo_settings", {"name": "etl"}) == "setting"
    assert dialog.missing_slot("repo_settings", {"name": "etl", "namespace": "company"}) is None
    assert "branch" in dialog.question("repo_settings", "setting")
    assert "repo_settings" in dialog.ALWAYS_CONFIRM
