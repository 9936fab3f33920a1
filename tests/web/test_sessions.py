"""Chat sessions kept in memory: bounded, expiring, one message at a time."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from assistant.web.errors import SessionBusy, UnknownSession
from assistant.web.sessions import ChatSessions

_ids = itertools.count()


@dataclass
class FakeConversation:
    session_id: str = field(default_factory=lambda: f"s{next(_ids)}")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_and_stay_bounded() -> None:
    clock = Clock()
    sessions = ChatSessions(FakeConversation, max_sessions=2, ttl_s=60, clock=clock)  # type: ignore[arg-type]
    with sessions.use(None) as first:
        pass
    with sessions.use(first.session_id) as again:
        assert again is first
    clock.now = 30
    with sessions.use(None) as second:
        pass
    with sessions.use(first.session_id):  # first is now the most recently used
        pass
    with sessions.use(None):  # over the bound: the least recently used (second) goes
        pass
    assert len(sessions) == 2
    with pytest.raises(UnknownSession), sessions.use(second.session_id):
        pass
    clock.now = 1000  # idle past the TTL
    with pytest.raises(UnknownSession), sessions.use(first.session_id):
        pass


def test_one_message_at_a_time_per_session() -> None:
    sessions = ChatSessions(FakeConversation, max_sessions=1)  # type: ignore[arg-type]
    with sessions.use(None) as busy:
        with pytest.raises(SessionBusy), sessions.use(busy.session_id):
            pass
        with pytest.raises(SessionBusy), sessions.use(None):  # the only slot is busy
            pass
    sessions.end(busy.session_id)
    with pytest.raises(UnknownSession):
        sessions.end(busy.session_id)
