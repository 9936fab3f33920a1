"""One deployment of a repo at a time, across threads and processes (`serve` and the CLI)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def repo_lock(locks_dir: Path, name: str) -> Iterator[None]:
    locks_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
