"""Webhook verification and parsing (GitHub and GitLab push events); no HTTP framework here.

The web front end hands over raw headers and body; this module decides, in constant time where
secrets are compared, whether the delivery is authentic and which registered repo it concerns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Literal

from assistant.gitops.models import Repo
from assistant.gitops.urls import normalise

Provider = Literal["github", "gitlab"]


@dataclass(frozen=True)
class WebhookResult:
    status: int  # 202 accepted/ignored, 401 bad signature, 400 malformed
    outcome: str  # queued / ignored / pong / duplicate / unauthorized / malformed
    detail: str = ""
    repo: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class PushEvent:
    urls: tuple[str, ...]
    ref: str
    after: str
    delivery_id: str | None


def github_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def gitlab_token_ok(secret: str, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(secret.encode(), header.encode())


def parse_push(provider: Provider, payload: Mapping[str, object], delivery_id: str | None) -> PushEvent:
    if provider == "github":
        repository = payload.get("repository") or {}
        keys = ("clone_url", "ssh_url", "git_url", "html_url", "url")
    else:
        repository = payload.get("project") or payload.get("repository") or {}
        keys = ("git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url", "url")
    urls = tuple(str(repository[k]) for k in keys if isinstance(repository, dict) and repository.get(k))
    return PushEvent(urls, str(payload.get("ref") or ""), str(payload.get("after") or ""), delivery_id)


class DeliveryLog:
    """Remembers recent delivery ids so a redelivered webhook queues nothing twice."""

    def __init__(self, capacity: int = 2048) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = Lock()

    def first_time(self, delivery_id: str) -> bool:
        with self._lock:
            if delivery_id in self._seen:
                self._seen.move_to_end(delivery_id)
                return False
            self._seen[delivery_id] = None
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True


def tracks(repo: Repo, ref: str) -> bool:
    if repo.ref_kind == "branch":
        return ref == f"refs/heads/{repo.ref}"
    if repo.ref_kind == "tag":
        return ref == f"refs/tags/{repo.ref}"
    return False  # pinned to a commit: pushes never move it


class WebhookHandler:
    """Authenticates a delivery against the matching repos' secrets and queues their sync."""

    def __init__(
        self,
        repos: Callable[[], list[Repo]],
        secret_of: Callable[[Repo], str | None],
        enqueue: Callable[[str, str | None], None],
        deliveries: DeliveryLog | None = None,
    ) -> None:
        self._repos = repos
        self._secret_of = secret_of
        self._enqueue = enqueue
        self._deliveries = deliveries or DeliveryLog()

    def handle(self, provider: Provider, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        if not isinstance(payload, dict):
            # Still authenticate first: an unauthenticated caller learns nothing.
            return WebhookResult(401, "unauthorized", "signature missing or wrong")
        if provider == "github":
            event = headers.get("x-github-event", "")
            delivery = headers.get("x-github-delivery")
        else:
            event = headers.get("x-gitlab-event", "")
            delivery = headers.get("x-gitlab-event-uuid") or headers.get("x-gitlab-webhook-uuid")
        push = parse_push(provider, payload, delivery)
        keys = {normalise(u) for u in push.urls}
        candidates = [r for r in self._repos() if normalise(r.url) in keys]
        authentic = [r for r in candidates if self._authentic(provider, r, headers, body)]
        if not authentic:
            if candidates:
                return WebhookResult(401, "unauthorized", "signature missing or wrong")
            # No registered repo: nothing could verify it; answer as ignored without acting.
            return WebhookResult(202, "ignored", "no registered repository matches")
        if provider == "github" and event == "ping":
            return WebhookResult(202, "pong", "ping received", authentic[0].name)
        if (provider == "github" and event != "push") or (provider == "gitlab" and event != "Push Hook"):
            return WebhookResult(202, "ignored", f"event {event or '(none)'} is not a push")
        if push.delivery_id and not self._deliveries.first_time(f"{provider}:{push.delivery_id}"):
            return WebhookResult(202, "duplicate", "delivery already handled")
        tracked = [r for r in authentic if tracks(r, push.ref)]
        if not tracked:
            return WebhookResult(202, "ignored", f"{push.ref or 'ref'} is not a tracked branch or tag")
        deleted = set(push.after) == {"0"}
        if deleted:
            return WebhookResult(202, "ignored", "the tracked ref was deleted; the last release stays")
        for repo in tracked:
            self._enqueue(repo.name, push.after or None)
        names = ", ".join(r.name for r in tracked)
        return WebhookResult(202, "queued", f"sync queued for {names}", tracked[0].name, push.after or None)

    def _authentic(self, provider: Provider, repo: Repo, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self._secret_of(repo)
        if not secret:
            return False
        if provider == "github":
            return github_signature_ok(secret, body, headers.get("x-hub-signature-256"))
        return gitlab_token_ok(secret, headers.get("x-gitlab-token"))
