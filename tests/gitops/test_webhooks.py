from __future__ import annotations

import hashlib
import hmac
import json
import threading

from assistant.gitops.models import Repo
from assistant.gitops.webhooks import WebhookHandler, github_signature_ok, gitlab_token_ok

SECRET = "hook-secret-123"


def _repo(name: str = "r", url: str = "https://github.com/acme/dags.git", ref: str = "main") -> Repo:
    return Repo(
        name, url, "personal", "branch", ref, "", None, "hook", False, "ok", "", None, None, None, None, ""
    )


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _push(
    ref: str = "refs/heads/main", after: str = "a" * 40, url: str = "https://github.com/acme/dags.git"
) -> bytes:
    return json.dumps({"ref": ref, "after": after, "repository": {"clone_url": url}}).encode()


def _handler(repos: list[Repo]) -> tuple[WebhookHandler, list[tuple[str, str | None]]]:
    queued: list[tuple[str, str | None]] = []
    handler = WebhookHandler(lambda: repos, lambda r: SECRET, lambda n, c: queued.append((n, c)))
    return handler, queued


def _gh(
    body: bytes, event: str = "push", delivery: str = "d1", signature: str | None = None
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature if signature is not None else _sign(body),
    }


def test_signature_checks() -> None:
    body = b'{"a": 1}'
    assert github_signature_ok(SECRET, body, _sign(body))
    assert not github_signature_ok(SECRET, body, _sign(body, "other"))
    assert not github_signature_ok(SECRET, body + b" ", _sign(body))
    assert not github_signature_ok(SECRET, body, None) and not github_signature_ok(SECRET, body, "sha1=abc")
    assert (
        gitlab_token_ok(SECRET, SECRET)
        and not gitlab_token_ok(SECRET, "nope")
        and not gitlab_token_ok(SECRET, None)
    )


def test_valid_push_is_queued_once_per_delivery() -> None:
    handler, queued = _handler([_repo()])
    body = _push()
    first = handler.handle("github", _gh(body), body)
    assert (first.status, first.outcome, first.repo) == (202, "queued", "r")
    again = handler.handle("github", _gh(body), body)
    assert (again.status, again.outcome) == (202, "duplicate")
    assert queued == [("r", "a" * 40)]


def test_bad_or_missing_signature_is_401_and_changes_nothing() -> None:
    handler, queued = _handler([_repo()])
    body = _push()
    assert handler.handle("github", _gh(body, signature="sha256=" + "0" * 64), body).status == 401
    assert handler.handle("github", {"X-GitHub-Event": "push"}, body).status == 401
    assert handler.handle("github", _gh(b"not json", signature=_sign(b"not json")), b"not json").status == 401
    assert queued == []


def test_unknown_repo_untracked_branch_and_ping() -> None:
    handler, queued = _handler([_repo()])
    other = _push(url="https://github.com/acme/other.git")
    assert handler.handle("github", _gh(other), other).outcome == "ignored"
    feature = _push(ref="refs/heads/feature")
    result = handler.handle("github", _gh(feature, delivery="d2"), feature)
    assert (result.status, result.outcome) == (202, "ignored")
    ping = json.dumps({"zen": "hi", "repository": {"clone_url": "https://github.com/acme/dags.git"}}).encode()
    assert handler.handle("github", _gh(ping, event="ping"), ping).outcome == "pong"
    deleted = _push(after="0" * 40)
    assert handler.handle("github", _gh(deleted, delivery="d3"), deleted).outcome == "ignored"
    assert queued == []


def test_gitlab_push_hook_with_token() -> None:
    handler, queued = _handler([_repo(url="git@gitlab.example:acme/dags.git")])
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "after": "b" * 40,
            "project": {"git_http_url": "https://gitlab.example/acme/dags.git"},
        }
    ).encode()
    bad = handler.handle("gitlab", {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}, body)
    assert bad.status == 401 and queued == []
    good = handler.handle("gitlab", {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET}, body)
    assert (good.status, good.outcome) == (202, "queued") and queued == [("r", "b" * 40)]


def test_repo_without_a_webhook_secret_rejects_deliveries() -> None:
    queued: list[tuple[str, str | None]] = []
    handler = WebhookHandler(lambda: [_repo()], lambda r: None, lambda n, c: queued.append((n, c)))
    body = _push()
    assert handler.handle("github", _gh(body), body).status == 401 and queued == []


def test_concurrent_duplicate_deliveries_queue_once() -> None:
    handler, queued = _handler([_repo()])
    body = _push()
    threads = [
        threading.Thread(target=handler.handle, args=("github", _gh(body, delivery="same"), body))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queued) == 1
