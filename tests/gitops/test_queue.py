from __future__ import annotations

import threading

from assistant.gitops.queue import SyncQueue


def test_syncs_of_one_repo_are_serialised_and_a_burst_is_coalesced() -> None:
    release = threading.Event()
    started = threading.Event()
    calls: list[str] = []
    active: set[str] = set()
    overlaps: list[str] = []
    lock = threading.Lock()

    def sync(name: str) -> str:
        with lock:
            if name in active:
                overlaps.append(name)
            active.add(name)
            calls.append(name)
        started.set()
        if len(calls) == 1:
            release.wait(30)
        with lock:
            active.discard(name)
        return "deployed"

    queue = SyncQueue(sync, workers=3).start()
    try:
        queue.request("a")
        assert started.wait(30)
        for _ in range(10):  # a burst of pushes while the first sync runs
            queue.request("a")
        queue.request("b")
        release.set()
        assert queue.wait_idle(30)
    finally:
        queue.stop()
    assert calls.count("a") == 2  # the running one, then exactly one more for the whole burst
    assert calls.count("b") == 1
    assert overlaps == []
    assert queue.stats.coalesced == 9


def test_a_failing_sync_does_not_stop_the_worker() -> None:
    done: list[str] = []

    def sync(name: str) -> str:
        if name == "bad":
            raise RuntimeError("boom")
        done.append(name)
        return "ok"

    queue = SyncQueue(sync, workers=1).start()
    try:
        queue.request("bad")
        queue.request("good")
        assert queue.wait_idle(30)
    finally:
        queue.stop()
    assert done == ["good"] and queue.stats.failures == 1
