"""In `serve`: ingest finished runs periodically, including runs started outside the assistant."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from assistant.errors import AssistantError

log = logging.getLogger("assistant.runs")


class RunWatcher:
    def __init__(self, ingest: Callable[[], object], interval_s: float) -> None:
        self._ingest = ingest
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RunWatcher:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name="run-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> object:
        try:
            summary = self._ingest()
        except AssistantError as exc:
            log.warning("run ingestion failed: %s", exc)
            return None
        log.info("runs ingested: %s", summary)
        return summary

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()
