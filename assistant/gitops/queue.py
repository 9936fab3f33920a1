"""The sync queue of `serve`: syncs of one repo are serialised, a burst is coalesced.

A request for a repo that is already waiting is merged into it; a request that arrives while the
repo is syncing marks it to run once more afterwards (and only once, whatever the burst size),
so the newest commit always ends up deployed without one sync per push.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("assistant.gitops")


@dataclass
class QueueStats:
    requested: int = 0
    coalesced: int = 0
    runs: int = 0
    failures: int = 0
    last_results: dict[str, str] = field(default_factory=dict)


class SyncQueue:
    def __init__(self, sync: Callable[[str], object], workers: int = 2) -> None:
        self._sync = sync
        self._cond = threading.Condition()
        self._waiting: list[str] = []  # FIFO of repo names, each at most once
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"sync-worker-{i}", daemon=True) for i in range(workers)
        ]
        self.stats = QueueStats()

    def start(self) -> SyncQueue:
        for thread in self._threads:
            thread.start()
        return self

    def request(self, name: str, commit: str | None = None) -> None:
        with self._cond:
            self.stats.requested += 1
            if name in self._running:
                if name in self._again:
                    self.stats.coalesced += 1
                self._again.add(name)
            elif name in self._waiting:
                self.stats.coalesced += 1
            else:
                self._waiting.append(name)
            self._cond.notify_all()
        log.info("sync of %s requested%s", name, f" (commit {commit[:10]})" if commit else "")

    def pending(self) -> set[str]:
        with self._cond:
            return set(self._waiting) | self._running | self._again

    def wait_idle(self, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not (self._waiting or self._running or self._again), timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout_s)

    def _next(self) -> str | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                for name in self._waiting:
                    if name not in self._running:
                        self._waiting.remove(name)
                        self._running.add(name)
                        return name
                self._cond.wait()

    def _work(self) -> None:
        while True:
            name = self._next()
            if name is None:
                return
            try:
                result = self._sync(name)
                self.stats.last_results[name] = str(getattr(result, "result", result))
            except Exception as exc:  # one repo's failure must not stop the worker
                self.stats.failures += 1
                self.stats.last_results[name] = f"error: {exc}"
                log.warning("sync of %s failed: %s", name, exc)
            with self._cond:
                self.stats.runs += 1
                self._running.discard(name)
                if name in self._again:
                    self._again.discard(name)
                    if name not in self._waiting:
                        self._waiting.append(name)
                self._cond.notify_all()
