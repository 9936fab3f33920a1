"""The repo_settings dialog of the engine: confirmation, which setting, context, outcomes in words.

A scripted router and a stand-in service, as in test_engine.py; the real stack (router, git,
validation, Airflow) is exercised by test_chat_repo_settings.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assistant.chat.engine import Conversation
from assistant.chat.handlers import HANDLERS
from assistant.chat.handlers_ops import OPS_HANDLERS
from assistant.compose import Components
from assistant.config import load_config
from assistant.errors import GitError
from assistant.gitops.models import DagStatus, Repo, SettingsOutcome, SyncOutcome

SHA = "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"


@dataclass
class Route:
    intent: str
    slots: dict[str, Any]
    confidence: float = 0.95


def _repo(name: str, **changes: Any) -> Repo:
    base = Repo(
        name=name,
        url=f"https://github.com/acme/{name}.git",
        namespace="personal",
        ref_kind="branch",
        ref="main",
        dag_path="dags",
        credential=None,
        webhook_credential=None,
        unpause=False,
        state="ok",
        state_detail="",
        deployed_commit="1" * 40,
        last_sync_at=None,
        stale_since=None,
        last_attempt_commit=None,
        created_at="2024-01-01T00:00:00",
    )
    return replace(base, **changes)


class StubAssistant:
    """Routes by a table; repo_set records its calls and answers with ``outcome``."""

    def __init__(self, routes: dict[str, Route], repos: list[Repo]) -> None:
        self.routes = routes
        self._repos = repos
        self.components = Components(load_config())
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.outcome: SettingsOutcome | None = None

    def route(self, text: str) -> Route:
        return self.routes.get(text, Route("unknown", {}, 0.1))

    def repos(self) -> list[Repo]:
        return self._repos

    def dags(self, namespace: str | None = None) -> list[Any]:
        return []

    def repo_sync(self, name: str | None = None) -> list[SyncOutcome]:
        return [SyncOutcome(name or "all", "unchanged", "1" * 40)]

    def repo_set(self, name: str, **options: Any) -> SettingsOutcome:
        self.calls.append((name, options))
        if options.get("branch") == "nope":
            raise GitError(f"no branch 'nope' in {name}", "list branches with `git ls-remote --heads`")
        if self.outcome is not None:
            return self.outcome
        deployed = SyncOutcome(name, "deployed", "2" * 40, dags=[DagStatus("etl_daily", "a.py", "paused")])
        return SettingsOutcome(name, {"ref": ("branch main", "branch develop")}, deployment=deployed)


def _conversation(stub: StubAssistant, yes: bool = False) -> Conversation:
    return Conversation(stub, {**HANDLERS, **OPS_HANDLERS}, assume_yes=yes)  # type: ignore[arg-type]


SWITCH = "switch my workflows repo to the develop branch"


def test_a_branch_switch_asks_first_then_reports_the_new_commit() -> None:
    stub = StubAssistant(
        {SWITCH: Route("repo_settings", {"name": "workflows", "branch": "develop"})},
        [_repo("workflows-dags"), _repo("billing")],
    )
    conv = _conversation(stub)
    ask = conv.handle(SWITCH)
    assert ask.awaiting == "confirm" and stub.calls == []
    assert "workflows-dags: branch main → branch develop?" in ask.text  # resolved from "workflows"
    assert "current release stays" in ask.text
    done = conv.handle("yes")
    assert stub.calls == [("workflows-dags", {"branch": "develop"})]
    assert done.ok and done.intent == "repo_settings"
    assert "Changed workflows-dags: branch main → branch develop." in done.text
    assert f"Deployed commit {'2' * 10}" in done.text and "- etl_daily: paused" in done.text
    assert conv.context.repo == "workflows-dags" and conv.context.dag_id == "etl_daily"


def test_no_drops_the_change() -> None:
    stub = StubAssistant(
        {SWITCH: Route("repo_settings", {"name": "workflows", "branch": "develop"})}, [_repo("workflows")]
    )
    conv = _conversation(stub)
    conv.handle(SWITCH)
    assert conv.handle("no").text.startswith("Cancelled")
    assert stub.calls == []


def test_yes_flag_changes_without_asking() -> None:
    stub = StubAssistant(
        {SWITCH: Route("repo_settings", {"name": "workflows", "branch": "develop"})}, [_repo("workflows")]
    )
    reply = _conversation(stub, yes=True).handle(SWITCH)
    assert stub.calls == [("workflows", {"branch": "develop"})] and reply.ok


def test_a_request_naming_no_setting_asks_which_and_takes_the_answer() -> None:
    stub = StubAssistant(
        {"change the settings of etl": Route("repo_settings", {"name": "etl"})}, [_repo("etl")]
    )
    conv = _conversation(stub)
    ask = conv.handle("change the settings of etl")
    assert ask.awaiting == "slot:setting" and "branch" in ask.text
    confirm = conv.handle("the company namespace")
    assert confirm.awaiting == "confirm"
    assert "namespace personal → company" in confirm.text and "personal/etl to company/etl" in confirm.text
    stub.outcome = SettingsOutcome(
        "etl",
        {"namespace": ("personal", "company")},
        moved_from="personal",
        dags=[DagStatus("etl_daily", "a.py", "paused")],
    )
    done = conv.handle("yes")
    assert stub.calls == [("etl", {"namespace": "company"})]
    assert "Its DAGs moved from personal/etl to company/etl." in done.text


def test_an_answer_that_names_no_setting_is_asked_again() -> None:
    stub = StubAssistant({"change etl": Route("repo_settings", {"name": "etl"})}, [_repo("etl")])
    conv = _conversation(stub)
    conv.handle("change etl")
    again = conv.handle("hmm")
    assert again.awaiting == "slot:setting" and again.text.startswith("That does not look right")


def test_it_is_the_repository_talked_about_last() -> None:
    stub = StubAssistant(
        {
            "sync etl": Route("sync_repo", {"name": "etl"}),
            "switch it to the develop branch": Route("repo_settings", {"branch": "develop"}),
        },
        [_repo("etl")],
    )
    conv = _conversation(stub)
    conv.handle("sync etl")
    ask = conv.handle("switch it to the develop branch")
    assert ask.awaiting == "confirm" and "Change etl:" in ask.text


def test_a_validation_failure_says_the_last_good_release_stays() -> None:
    stub = StubAssistant(
        {SWITCH: Route("repo_settings", {"name": "workflows", "branch": "develop"})}, [_repo("workflows")]
    )
    failed = SyncOutcome(
        "workflows",
        "failed",
        "3" * 40,
        "3333333333 did not pass validation (policy: default): a.py:1 syntax.error; 1111111111 stays deployed",
    )
    stub.outcome = SettingsOutcome("workflows", {"ref": ("branch main", "branch develop")}, deployment=failed)
    conv = _conversation(stub)
    conv.handle(SWITCH)
    reply = conv.handle("yes")
    assert not reply.ok
    assert "The new commit was not deployed: 3333333333 did not pass validation" in reply.text
    assert "The last good release stays in Airflow" in reply.text


def test_settings_already_in_place_need_no_confirmation() -> None:
    stub = StubAssistant(
        {"change the branch of etl to main": Route("repo_settings", {"name": "etl", "branch": "main"})},
        [_repo("etl")],
    )
    stub.outcome = SettingsOutcome("etl", message="nothing to change: etl already has these settings")
    reply = _conversation(stub).handle("change the branch of etl to main")
    assert reply.awaiting is None and reply.ok
    assert reply.text == "Nothing to change: etl already has these settings."


def test_unknown_and_ambiguous_repositories() -> None:
    stub = StubAssistant(
        {
            "switch foo to the develop branch": Route("repo_settings", {"name": "foo", "branch": "develop"}),
            "switch flows to the develop branch": Route(
                "repo_settings", {"name": "flows", "branch": "develop"}
            ),
        },
        [_repo("flows-eu"), _repo("flows-us")],
    )
    conv = _conversation(stub)
    unknown = conv.handle("switch foo to the develop branch")
    assert not unknown.ok and "no repository called 'foo'" in unknown.text and "flows-eu" in unknown.text
    which = conv.handle("switch flows to the develop branch")
    assert which.awaiting == "slot:name" and "flows-eu, flows-us" in which.text
    confirm = conv.handle("flows-us")
    assert confirm.awaiting == "confirm" and "Change flows-us:" in confirm.text
    conv.handle("yes")
    assert stub.calls == [("flows-us", {"branch": "develop"})]


def test_a_short_commit_id_is_refused_before_asking() -> None:
    stub = StubAssistant(
        {"pin etl to commit 3f9c2ab": Route("repo_settings", {"name": "etl", "commit": "3f9c2ab"})},
        [_repo("etl")],
    )
    reply = _conversation(stub).handle("pin etl to commit 3f9c2ab")
    assert not reply.ok and reply.awaiting is None and "full 40-character id" in reply.text
    assert stub.calls == []
    stub.routes["pin etl"] = Route("repo_settings", {"name": "etl", "commit": SHA})
    conv = _conversation(stub)
    assert f"commit {SHA[:10]}" in conv.handle("pin etl").text
    conv.handle("yes")
    assert stub.calls == [("etl", {"ref": SHA})]


def test_a_refused_change_says_nothing_was_changed() -> None:
    stub = StubAssistant(
        {"switch etl to nope": Route("repo_settings", {"name": "etl", "branch": "nope"})}, [_repo("etl")]
    )
    reply = _conversation(stub, yes=True).handle("switch etl to nope")
    assert not reply.ok
    assert reply.text.startswith("no branch 'nope' in etl; nothing was changed.\nHint: list branches")
