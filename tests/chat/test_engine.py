"""Dialog logic of the conversation engine, with a scripted router and in-memory DAGs.

The router and Airflow are stand-ins here on purpose: this tests the engine's own rules (slot
questions, confirmations, context, follow-ups, recording). The real stack is exercised by
tests/integration/test_chat_script.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.airflow.models import DagInfo, DagRunInfo
from assistant.chat.engine import Conversation
from assistant.chat.handlers import HANDLERS, Context
from assistant.compose import Components
from assistant.config import load_config
from assistant.tools.runs import RunReport, TaskLog


@dataclass
class Route:
    intent: str
    slots: dict[str, Any]
    confidence: float = 0.9


class StubAssistant:
    def __init__(self, routes: dict[str, Route], dags: list[str]) -> None:
        self.routes = routes
        self._dags = [DagInfo(dag_id=d, is_paused=False, description=None) for d in dags]
        self.components = Components(load_config())
        self.triggered: list[tuple[str, dict[str, object]]] = []
        self.removed: list[str] = []

    def route(self, text: str) -> Route:
        return self.routes.get(text, Route("unknown", {}, 0.1))

    def dags(self, namespace: str | None = None) -> list[DagInfo]:
        return self._dags

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        self.triggered.append((dag_id, conf or {}))
        return DagRunInfo(dag_id, f"run{len(self.triggered)}", "queued")

    def wait(self, run: DagRunInfo, timeout_s: float) -> RunReport:
        now = datetime.now(UTC)
        done = DagRunInfo(run.dag_id, run.run_id, "failed", start_date=now, end_date=now)
        return RunReport(done, [], [TaskLog("upload", 1, "failed", "ExpiredToken")])

    risky: set[str] = set()  # noqa: RUF012

    def risk_warning(self, dag_id: str) -> str | None:
        return f"{dag_id} failed its last 3 runs: ExpiredToken." if dag_id in self.risky else None

    def ingest_runs(self, limit: int = 50, dag_id: str | None = None) -> None:
        self.ingested = dag_id

    def status(self, dag_id: str | None = None, limit: int = 10) -> list[DagRunInfo]:
        return [DagRunInfo(dag_id or "x", f"run{len(self.triggered)}", "failed")]

    def logs(self, dag_id: str, run_id: str | None = None, task_id: str | None = None):
        return DagRunInfo(dag_id, run_id or "latest", "failed"), [
            TaskLog("upload", 1, "failed", f"log of {dag_id}")
        ]


def _conversation(stub: StubAssistant, yes: bool = False) -> Conversation:
    handlers = dict(HANDLERS)

    def remove_repo(assistant: Any, slots: dict[str, Any], ctx: Context):
        from assistant.chat.replies import Reply

        assistant.removed.append(slots["name"])
        return Reply(f"removed {slots['name']}")

    handlers["remove_repo"] = remove_repo
    return Conversation(stub, handlers, assume_yes=yes)  # type: ignore[arg-type]


def test_missing_slot_is_asked_for_and_the_answer_fills_it() -> None:
    stub = StubAssistant({"run a dag": Route("run_dag", {})}, ["etl_daily", "aws_deploy"])
    conv = _conversation(stub)
    stub.routes["run a dag"] = Route("run_dag", {"dag_id": ""})
    first = conv.handle("run a dag")
    assert first.awaiting == "slot:dag_id"
    second = conv.handle("aws_deploy")
    assert stub.triggered == [("aws_deploy", {})]
    assert "aws_deploy" in second.text and "ExpiredToken" in second.text
    assert stub.ingested == "aws_deploy"  # the finished run is learned from


def test_descriptive_name_resolves_to_the_deployed_dag() -> None:
    stub = StubAssistant({"run my deployment workflow": Route("run_dag", {})}, ["my_deployment", "etl_daily"])
    reply = _conversation(stub).handle("run my deployment workflow")
    assert stub.triggered[0][0] == "my_deployment"
    assert reply.intent == "run_dag"


def test_ambiguous_name_asks_which() -> None:
    stub = StubAssistant(
        {"run the backup": Route("run_dag", {"dag_id": "backup"})}, ["backup_s3", "backup_gcs"]
    )
    conv = _conversation(stub)
    reply = conv.handle("run the backup")
    assert reply.awaiting == "slot:dag_id"
    assert "backup_s3" in reply.text and "backup_gcs" in reply.text
    conv.handle("backup_gcs")
    assert stub.triggered == [("backup_gcs", {})]


def test_unknown_name_says_so_with_closest() -> None:
    stub = StubAssistant({"run zzz": Route("run_dag", {"dag_id": "etl_daly"})}, ["etl_daily"])
    reply = _conversation(stub).handle("run zzz")
    assert stub.triggered == [("etl_daily", {})]  # typo tolerated
    stub2 = StubAssistant({"run q": Route("run_dag", {"dag_id": "quantum_thing"})}, ["etl_daily"])
    reply = _conversation(stub2).handle("run q")
    assert not reply.ok and "no deployed DAG" in reply.text
    assert stub2.triggered == []


def test_remove_asks_for_confirmation_and_no_cancels() -> None:
    stub = StubAssistant({"stop tracking etl": Route("remove_repo", {"name": "etl"})}, [])
    conv = _conversation(stub)
    ask = conv.handle("stop tracking etl")
    assert ask.awaiting == "confirm"
    assert conv.handle("no").text.startswith("Cancelled")
    assert stub.removed == []
    conv.handle("stop tracking etl")
    conv.handle("yes")
    assert stub.removed == ["etl"]


def test_yes_flag_skips_confirmation() -> None:
    stub = StubAssistant({"stop tracking etl": Route("remove_repo", {"name": "etl"})}, [])
    _conversation(stub, yes=True).handle("stop tracking etl")
    assert stub.removed == ["etl"]


def test_context_carries_across_turns() -> None:
    stub = StubAssistant(
        {
            "run etl_daily": Route("run_dag", {"dag_id": "etl_daily"}),
            "show its logs": Route("dag_logs", {}),
            "run it again": Route("run_dag", {}),
            "status of etl_daily": Route("dag_status", {"dag_id": "etl_daily"}),
        },
        ["etl_daily", "aws_deploy"],
    )
    conv = _conversation(stub)
    conv.handle("run etl_daily")
    logs = conv.handle("show its logs")
    assert "log of etl_daily" in logs.text
    conv.handle("run it again")
    assert [d for d, _ in stub.triggered] == ["etl_daily", "etl_daily"]
    conv.handle("status of etl_daily")
    follow = conv.handle("and for aws_deploy?")
    assert follow.intent == "dag_status"
    assert "aws_deploy" in follow.text


def test_every_turn_is_recorded_without_secrets() -> None:
    stub = StubAssistant({}, [])
    conv = _conversation(stub)
    conv.handle("clone https://bob:supersecretpw@example.invalid/x.git please")
    rows = stub.components.db.execute("SELECT message, intent, ok FROM chat_turns").fetchall()
    assert len(rows) == 1
    assert "supersecretpw" not in rows[0]["message"]
    assert rows[0]["intent"] == "unknown"


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_message_is_gentle(text: str) -> None:
    reply = _conversation(StubAssistant({}, [])).handle(text)
    assert reply.ok and "help" in reply.text


def test_a_new_request_while_a_question_is_pending_is_not_taken_as_the_answer() -> None:
    stub = StubAssistant(
        {
            "show the logs": Route("dag_logs", {}),
            "how do I pass parameters to a DAG run?": Route("question", {}, 0.95),
        },
        ["etl_daily"],
    )
    answers: list[str] = []
    stub.answer = lambda q: (
        answers.append(q) or type("A", (), {"text": "use conf", "citations": [], "found": True})()
    )
    conv = _conversation(stub)
    assert conv.handle("show the logs").awaiting == "slot:dag_id"
    reply = conv.handle("how do I pass parameters to a DAG run?")
    assert reply.intent == "question"
    assert answers == ["how do I pass parameters to a DAG run?"]
    assert conv.pending is None


def test_background_notifications_are_shown_once() -> None:
    stub = StubAssistant({"status": Route("dag_status", {})}, ["etl_daily"])
    conv = _conversation(stub)
    notifier = stub.components.notifier
    notifier.notify("error", "repo flows", "commit 3f9c2ab failed validation; the last good release stays")
    first = conv.handle("status")
    assert first.text.startswith("Since we last spoke:")
    assert "3f9c2ab failed validation" in first.text
    second = conv.handle("status")
    assert "Since we last spoke" not in second.text


def test_a_risky_run_named_by_description_asks_first() -> None:
    stub = StubAssistant({"run my deployment workflow": Route("run_dag", {})}, ["my_deployment", "etl_daily"])
    stub.risky = {"my_deployment"}
    conv = _conversation(stub)
    ask = conv.handle("run my deployment workflow")
    assert ask.awaiting == "confirm"
    assert "my_deployment failed its last 3 runs" in ask.text
    assert stub.triggered == []
    conv.handle("yes")
    assert stub.triggered == [("my_deployment", {})]
