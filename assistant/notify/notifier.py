"""Record notifications and forward them to a Slack-compatible webhook."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal, Protocol

Level = Literal["info", "warning", "error"]
log = logging.getLogger("assistant.notify")
_LOG_LEVEL = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_ICON = {"info": ":white_check_mark:", "warning": ":warning:", "error": ":x:"}


@dataclass(frozen=True)
class Notification:
    id: int
    at: str
    level: str
    topic: str
    message: str
    seen: bool


class NotifierPort(Protocol):
    def notify(self, level: Level, topic: str, message: str) -> None: ...


class Notifier:
    """Writes to the ``notifications`` table and the log; posts to Slack when a URL is set.

    A failing webhook never fails the deployment that triggered it: it is logged (without the
    URL, which is a secret) and the notification stays recorded locally.
    """

    def __init__(
        self, db: sqlite3.Connection, slack_webhook_url: str | None = None, timeout_s: float = 5.0
    ) -> None:
        self._db = db
        self._slack_url = slack_webhook_url
        self._timeout_s = timeout_s
        self._lock = threading.Lock()

    def notify(self, level: Level, topic: str, message: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO notifications (level, topic, message) VALUES (?, ?, ?)", (level, topic, message)
            )
        log.log(_LOG_LEVEL.get(level, logging.INFO), "[%s] %s", topic, message)
        if self._slack_url:
            self._post_slack(level, topic, message)

    def _post_slack(self, level: str, topic: str, message: str) -> None:
        body = json.dumps({"text": f"{_ICON.get(level, '')} *{topic}*: {message}"}).encode()
        request = urllib.request.Request(
            self._slack_url or "", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "code", None) or type(exc).__name__
            log.warning("the Slack webhook did not accept a notification (%s)", reason)

    def recent(self, limit: int = 20, unseen_only: bool = False) -> list[Notification]:
        query = "SELECT id, at, level, topic, message, seen FROM notifications"
        if unseen_only:
            query += " WHERE seen = 0"
        query += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (limit,)).fetchall()
        return [Notification(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def mark_seen(self, up_to_id: int) -> None:
        with self._lock:
            self._db.execute("UPDATE notifications SET seen = 1 WHERE id <= ?", (up_to_id,))
