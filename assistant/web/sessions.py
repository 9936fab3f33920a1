"""Chat sessions of the REST API, kept in memory: bounded, expiring, one message at a time each.

Each session is one :class:`~assistant.chat.engine.Conversation`, so a confirmation asked in one
request is answered in the next and "it" refers to the DAG talked about before. Sessions idle for
longer than ``ttl_s`` are dropped; past ``max_sessions`` the least recently used idle one goes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.web.errors import SessionBusy, UnknownSession

if TYPE_CHECKING:
    from assistant.chat.engine import Conversation

MAX_SESSIONS = 100
TTL_S = 3600.0


@dataclass
class _Session:
    conversation: Conversation
    last_used: float
    busy: threading.Lock = field(default_factory=threading.Lock)


class ChatSessions:
    def __init__(
        self,
        new_conversation: Callable[[], Conversation],
        *,
        max_sessions: int = MAX_SESSIONS,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._new = new_conversation
        self._max = max_sessions
        self._ttl = ttl_s
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    @contextlib.contextmanager
    def use(self, session_id: str | None) -> Iterator[Conversation]:
        """The conversation of ``session_id`` (a new one when None), held for one message."""
        session = self._get(session_id) if session_id else self._create()
        if not session.busy.acquire(blocking=False):
            raise SessionBusy(
                "this chat session is still answering the previous message",
                'wait for that reply, or start another session (send no "session")',
            )
        try:
            yield session.conversation
        finally:
            session.last_used = self._clock()
            session.busy.release()

    def end(self, session_id: str) -> None:
        with self._lock:
            if self._sessions.pop(session_id, None) is None:
                raise _unknown(session_id)

    def _get(self, session_id: str) -> _Session:
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
            if session is None:
                raise _unknown(session_id)
            self._sessions.move_to_end(session_id)
            session.last_used = self._clock()
            return session

    def _create(self) -> _Session:
        conversation = self._new()
        with self._lock:
            self._expire()
            while len(self._sessions) >= self._max:
                idle = next((k for k, s in self._sessions.items() if not s.busy.locked()), None)
                if idle is None:
                    raise SessionBusy(
                        f"all {self._max} chat sessions are busy", "try again when a reply has come back"
                    )
                del self._sessions[idle]
            session = _Session(conversation, self._clock())
            self._sessions[conversation.session_id] = session
            return session

    def _expire(self) -> None:
        deadline = self._clock() - self._ttl
        for key in [k for k, s in self._sessions.items() if s.last_used < deadline and not s.busy.locked()]:
            del self._sessions[key]


def _unknown(session_id: str) -> UnknownSession:
    return UnknownSession(
        f"no chat session {session_id!r} (it expired, or the server restarted)",
        'send the message without "session" to start a new one',
    )
