"""Notifications of deploys and failures: the state database (shown in chat) and the log always,
a Slack-compatible incoming webhook when one is configured."""

from __future__ import annotations

from assistant.notify.notifier import Notification, Notifier, NotifierPort

__all__ = ["Notification", "Notifier", "NotifierPort"]
