"""What the conversation engine answers: text for people, data for scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    text: str
    ok: bool = True
    intent: str = "unknown"
    slots: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    # Set when the engine waits for the user: "slot:<name>" (a question) or "confirm".
    awaiting: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from assistant.cli.output import to_jsonable

        return {
            "ok": self.ok,
            "intent": self.intent,
            "slots": to_jsonable(self.slots),
            "text": self.text,
            "awaiting": self.awaiting,
            "data": to_jsonable(self.data),
        }
