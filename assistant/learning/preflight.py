"""Pre-flight: just before a run, Airflow tests the connections the DAG's tasks use.

History says how a DAG tends to fail; a connection test says how things stand now. An expired
token or an upstream that is down fails the test before the first run fails on it, which is
exactly the failure history cannot foresee. Airflow runs the test itself (its hooks'
``test_connection``, ``POST /connections/test``), so no secret leaves Airflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.airflow.models import ConnectionCheck
from assistant.errors import AirflowUnavailable

MAX_CONNECTIONS = 8  # tested per prediction (each test may take a few seconds)


@dataclass(frozen=True)
class Preflight:
    checks: tuple[ConnectionCheck, ...] = ()

    @property
    def failing(self) -> list[ConnectionCheck]:
        return [c for c in self.checks if c.ok is False]

    @property
    def passing(self) -> list[ConnectionCheck]:
        return [c for c in self.checks if c.ok is True]

    def describe(self) -> str:
        """One line of evidence: what each test said."""
        if not self.checks:
            return "no connection to test (the DAG's file names none)"
        parts = []
        for check in self.checks:
            state = "ok" if check.ok else "FAILS" if check.ok is False else "not tested"
            detail = f" ({_short(check.message)})" if check.ok is not True and check.message else ""
            parts.append(f"{check.conn_id} {state}{detail}")
        return "connection tests just now: " + "; ".join(parts)


def preflight(test: Callable[[str], ConnectionCheck], connection_ids: Iterable[str]) -> Preflight:
    """Test each connection (at most MAX_CONNECTIONS, in name order), a failing one twice: only a
    second failure counts. Airflow unreachable means no test rather than an error, as the rest of
    the warning still stands."""
    checks: list[ConnectionCheck] = []
    for conn_id in sorted(set(connection_ids))[:MAX_CONNECTIONS]:
        try:
            check = test(conn_id)
            if check.ok is False:
                check = test(conn_id)  # a blip fails once; a broken connection fails again
        except AirflowUnavailable:
            return Preflight(tuple(checks))
        checks.append(check)
    return Preflight(tuple(checks))


def _short(message: str, limit: int = 120) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
