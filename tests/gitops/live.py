"""Helpers for the GitOps tests against the real local Airflow, through the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def api_dag(dag_id: str) -> Any:
    """The DAG as Airflow's API shows it now, or None when Airflow does not know it."""
    from assistant.compose import Components
    from assistant.config import load_config
    from assistant.errors import DagNotFound

    try:
        return Components(load_config()).airflow.get_dag(dag_id)
    except DagNotFound:
        return None


def until(predicate: Any, timeout_s: float = 90.0) -> Any:
    """The first true value of ``predicate()``, polled for up to ``timeout_s``; else its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


@contextmanager
def removed_afterwards(run_cli: Any, name: str) -> Iterator[None]:
    """`assistant repo remove NAME` when the block ends, however it ends; the removal must succeed."""
    try:
        yield
    finally:
        removed = run_cli("repo", "remove", name)
    assert removed.returncode == 0, removed.stderr
