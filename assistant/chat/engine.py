"""The conversation engine: route a message, fill missing slots, confirm, act, remember.

It knows nothing of terminals: the REPL, `assistant ask` and scripted chats are thin adapters
that feed it lines and print its Replies.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.chat import dialog, handlers_settings
from assistant.chat.handlers import Context, Handler
from assistant.chat.replies import Reply
from assistant.chat.resolve import resolve_dag
from assistant.errors import AssistantError
from assistant.redact import redact

if TYPE_CHECKING:
    from assistant.service import Assistant

_FOLLOW_UP = re.compile(
    r"^\s*(?:and|what about|how about|same for|now)\b(?:\s+(?:for|with|of))?\s+(?P<rest>.+?)\s*\??\s*$", re.I
)
_PRONOUN = re.compile(r"\b(it|its|that|this one|again|the same)\b", re.I)
# Intents whose dag_id may come from the conversation's context ("show its logs").
_DAG_CONTEXT_INTENTS = {"run_dag", "dag_status", "dag_logs", "predict_failure"}
_REPO_CONTEXT_INTENTS = {"sync_repo", "remove_repo", "rollback", "repo_settings"}
# Intents whose confirmation looks at reality first: None from one means nothing to confirm.
_CONFIRMATIONS: dict[str, Callable[[Assistant, dict[str, Any]], Reply | None]] = {
    "repo_settings": handlers_settings.confirmation,
}


@dataclass
class Pending:
    intent: str
    slots: dict[str, Any]
    awaiting: str  # "slot:<name>" or "confirm"


@dataclass
class Conversation:
    assistant: Assistant
    handlers: dict[str, Handler]
    assume_yes: bool = False
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    context: Context = field(default_factory=Context)
    pending: Pending | None = None

    def handle(self, message: str) -> Reply:
        text = message.strip()
        if not text:
            return Reply("Say what you need, or `help`.", ok=True, intent="help")
        notices = self._unseen_notices()
        reply = self._continue_pending(text)
        if reply is None:
            intent, slots = self._understand(text)
            reply = self._proceed(intent, slots)
        if notices:
            reply.text = "Since we last spoke:\n" + "\n".join(notices) + "\n\n" + reply.text
        self._mark_notices_seen()
        self._record(text, reply)
        return reply

    def _unseen_notices(self) -> list[str]:
        """Deploys and failures reported in the background (serve, webhooks) since the last turn."""
        unseen = self.assistant.components.notifier.recent(limit=10, unseen_only=True)
        return [f"[{n.level}] {n.topic}: {n.message}" for n in reversed(unseen)]

    def _mark_notices_seen(self) -> None:
        # What this turn's own action reported is in its reply: it is not news next turn.
        latest = self.assistant.components.notifier.recent(limit=1)
        if latest:
            self.assistant.components.notifier.mark_seen(latest[0].id)

    # -- understanding ------------------------------------------------------------------------

    def _understand(self, text: str) -> tuple[str, dict[str, Any]]:
        follow = _FOLLOW_UP.match(text)
        if follow and self.context.last_intent in _DAG_CONTEXT_INTENTS | {"dag_logs"}:
            rest = follow.group("rest").strip().strip("?").strip()
            if rest and len(rest.split()) <= 3:
                slots = {k: v for k, v in self.context.last_slots.items() if k not in {"dag_id", "task_id"}}
                slots["dag_id"] = rest.split()[-1]
                return self.context.last_intent, slots
        route = self.assistant.route(text)
        intent, slots = route.intent, dict(route.slots)
        if intent == "question":
            slots["text"] = text
        if intent == "generate_dag" and not slots.get("description"):
            slots["description"] = text
        refers_back = bool(_PRONOUN.search(text))
        if intent in _DAG_CONTEXT_INTENTS and not slots.get("dag_id"):
            short = intent in {"dag_logs", "dag_status"} and len(text.split()) <= 4
            if self.context.dag_id and (refers_back or short):
                slots["dag_id"] = self.context.dag_id
                slots["use_context_run"] = intent == "dag_logs"
            elif getattr(route, "mention", None) or (intent == "run_dag" and not refers_back):
                # "run my deployment workflow": a description, resolved against the deployed DAGs
                slots["dag_id"] = getattr(route, "mention", None) or text
        repo_slot = "target" if intent == "rollback" else "name"
        if intent in _REPO_CONTEXT_INTENTS and not slots.get(repo_slot) and self.context.repo and refers_back:
            slots[repo_slot] = self.context.repo
        return intent, slots

    # -- dialog -------------------------------------------------------------------------------

    def _continue_pending(self, text: str) -> Reply | None:
        pending = self.pending
        if pending is None:
            return None
        if pending.awaiting == "confirm":
            self.pending = None
            if dialog.is_yes(text):
                return self._act(pending.intent, pending.slots)
            if dialog.is_no(text):
                return Reply("Cancelled; nothing was changed.", intent=pending.intent, slots=pending.slots)
            return None  # a new request: the unconfirmed action is dropped
        slot = pending.awaiting.removeprefix("slot:")
        if dialog.is_no(text):
            self.pending = None
            return Reply("Cancelled.", intent=pending.intent)
        value = dialog.coerce_answer(slot, text)
        # an answer that names settings ("the develop branch") is one, however request-like
        if not isinstance(value, dict) and self._is_new_request(text):
            self.pending = None
            return None
        if value in (None, ""):
            return Reply(
                f"That does not look right. {dialog.question(pending.intent, slot)}",
                ok=False,
                intent=pending.intent,
                awaiting=pending.awaiting,
            )
        self.pending = None
        answer = value if isinstance(value, dict) else {slot: value}
        return self._proceed(pending.intent, {**pending.slots, **answer})

    def _is_new_request(self, text: str) -> bool:
        """An answer to "Which DAG?" is a name; a request the router is sure about is a new one."""
        route = self.assistant.route(text)
        if route.intent == "unknown" or route.confidence < 0.8:
            return False
        words = text.split()
        if len(words) >= 3:
            return True
        names = {d.dag_id.lower() for d in self.assistant.dags()}
        return not any(w.strip("`'\",.?!").lower() in names for w in words)

    def _proceed(self, intent: str, slots: dict[str, Any]) -> Reply:
        missing = dialog.missing_slot(intent, slots)
        if missing:
            self.pending = Pending(intent, slots, f"slot:{missing}")
            return Reply(
                dialog.question(intent, missing), intent=intent, slots=slots, awaiting=f"slot:{missing}"
            )
        if intent in _CONFIRMATIONS and not self.assume_yes:
            return self._checked_confirmation(intent, slots)
        if intent in dialog.ALWAYS_CONFIRM and not self.assume_yes:
            self.pending = Pending(intent, slots, "confirm")
            return Reply(self._confirmation(intent, slots), intent=intent, slots=slots, awaiting="confirm")
        if intent == "run_dag" and not self.assume_yes and not slots.get("risk_checked"):
            warning = self._risk_warning(slots)
            if warning:
                self.pending = Pending(intent, {**slots, "risk_checked": True}, "confirm")
                return Reply(
                    warning + " Run it anyway? (yes/no)", intent=intent, slots=slots, awaiting="confirm"
                )
        return self._act(intent, slots)

    def _confirmation(self, intent: str, slots: dict[str, Any]) -> str:
        if intent == "remove_repo":
            return f"Stop tracking {slots['name']} and remove its DAGs from Airflow? (yes/no)"
        if intent == "rollback":
            version = (
                f" to {slots['version']}" if slots.get("version") else " to its previous good deployment"
            )
            return f"Roll back {slots['target']}{version}? (yes/no)"
        return f"Go ahead with {intent.replace('_', ' ')}? (yes/no)"

    def _checked_confirmation(self, intent: str, slots: dict[str, Any]) -> Reply:
        """Ask what _CONFIRMATIONS words from reality (or its answer: an unknown name, "which
        one?"); act at once when it finds nothing to confirm."""
        try:
            reply = _CONFIRMATIONS[intent](self.assistant, slots)
        except AssistantError as exc:
            reply = Reply(exc.message + (f"\nHint: {exc.hint}" if exc.hint else ""), ok=False)
        if reply is None:
            return self._act(intent, slots)
        reply.intent, reply.slots = intent, dict(slots)
        if reply.awaiting:
            self.pending = Pending(intent, slots, reply.awaiting)
        return reply

    def _risk_warning(self, slots: dict[str, Any]) -> str | None:
        """The failure check, on the DAG the name resolves to ("my deployment workflow" included);
        the resolved id is kept in the slots so the run is of the DAG that was checked."""
        try:
            found = resolve_dag(str(slots.get("dag_id") or ""), self.assistant.dags())
            if found.dag_id is None:
                return None  # the handler asks which DAG, or says none matches
            slots["dag_id"] = found.dag_id
            return self.assistant.risk_warning(found.dag_id)
        except AssistantError:
            return None

    # -- acting -------------------------------------------------------------------------------

    def _act(self, intent: str, slots: dict[str, Any]) -> Reply:
        handler = self.handlers.get(intent) or self.handlers["unknown"]
        try:
            reply = handler(self.assistant, slots, self.context)
        except AssistantError as exc:
            reply = Reply(exc.message + (f"\nHint: {exc.hint}" if exc.hint else ""), ok=False)
        reply.intent, reply.slots = intent, {k: v for k, v in slots.items() if k not in _INTERNAL_SLOTS}
        if reply.awaiting:
            self.pending = Pending(intent, slots, reply.awaiting)
        if intent not in {"help", "unknown", "question"}:
            self.context.last_intent, self.context.last_slots = intent, dict(reply.slots)
        for key in ("name", "target"):
            if intent in _REPO_CONTEXT_INTENTS | {"add_repo"} and isinstance(slots.get(key), str):
                self.context.repo = slots[key]
        return reply

    def _record(self, message: str, reply: Reply) -> None:
        db = self.assistant.components.db
        db.execute(
            "INSERT INTO chat_turns (session_id, message, intent, slots_json, action, result, ok)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.session_id,
                redact(message),
                reply.intent,
                redact(json.dumps(reply.to_dict()["slots"])),
                reply.awaiting or reply.intent,
                redact(reply.text[:4000]),
                int(reply.ok),
            ),
        )


_INTERNAL_SLOTS = {"risk_checked", "use_context_run", "text"}
