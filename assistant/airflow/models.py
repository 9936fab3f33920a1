"""Plain data the Airflow adapter returns: no client library types leak past the adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TERMINAL_RUN_STATES = frozenset({"success", "failed"})


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    is_paused: bool
    is_stale: bool = False
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    description: str | None = None
    fileloc: str | None = None
    relative_fileloc: str | None = None
    bundle_name: str | None = None
    bundle_version: str | None = None
    has_import_errors: bool = False
    timetable_summary: str | None = None
    file_token: str | None = None
    last_parsed_time: datetime | None = None


@dataclass(frozen=True)
class DagRunInfo:
    dag_id: str
    run_id: str
    state: str
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    run_after: datetime | None = None
    conf: dict[str, object] = field(default_factory=dict)
    run_type: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_RUN_STATES

    @property
    def duration_s(self) -> float | None:
        if self.start_date and self.end_date:
            return (self.end_date - self.start_date).total_seconds()
        return None


@dataclass(frozen=True)
class TaskInstanceInfo:
    dag_id: str
    run_id: str
    task_id: str
    state: str | None
    try_number: int
    map_index: int = -1
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration_s: float | None = None
    operator: str | None = None


@dataclass(frozen=True)
class ImportErrorInfo:
    filename: str
    stacktrace: str
    bundle_name: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    components: dict[str, str]


@dataclass(frozen=True)
class ConnectionCheck:
    """What Airflow's own connection test says of one connection now (``ok`` None: not testable)."""

    conn_id: str
    ok: bool | None
    message: str
