"""The polling fallback of `serve`: a cheap remote query per repo, so a missed webhook is caught."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from assistant.errors import AssistantError
from assistant.gitops.git import GitRemote
from assistant.gitops.models import Repo

log = logging.getLogger("assistant.gitops")


def needs_sync(repo: Repo, head: str) -> bool:
    """A new head (never attempted), or a repo whose last fetch failed."""
    return repo.state == "stale" or head != (repo.last_attempt_commit or repo.deployed_commit)


class Poller:
    def __init__(
        self,
        repos: Callable[[], list[Repo]],
        remote_of: Callable[[Repo], GitRemote],
        enqueue: Callable[[str, str | None], None],
        interval_s: float,
    ) -> None:
        self._repos = repos
        self._remote_of = remote_of
        self._enqueue = enqueue
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="poller", daemon=True)

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def poll_once(self) -> list[str]:
        queued = []
        for repo in self._repos():
            if repo.ref_kind == "sha":
                continue
            try:
                _ref, head = self._remote_of(repo).resolve(repo.ref_kind, repo.ref)
            except AssistantError as exc:
                log.info("poll of %s failed: %s", repo.name, exc.message)
                if repo.state != "stale":
                    queued.append(repo.name)  # let the sync record the staleness and notify
                    self._enqueue(repo.name, None)
                continue
            if needs_sync(repo, head):
                queued.append(repo.name)
                self._enqueue(repo.name, head)
        return queued

    def _loop(self) -> None:
        while True:  # a first round at start-up catches pushes made while `serve` was down
            try:
                self.poll_once()
            except Exception as exc:  # the poller must survive anything one round throws
                log.warning("poll round failed: %s", exc)
            if self._stop.wait(self.interval_s):
                return
