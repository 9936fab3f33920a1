"""Map the JSON of Airflow's REST API v2 to the adapter's dataclasses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.airflow.models import DagInfo, DagRunInfo, ImportErrorInfo, TaskInstanceInfo


def when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds(value: Any) -> float | None:
    """A duration as the API gives it (``{"days", "seconds", "microseconds"}``, or a number)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return (
            float(value.get("days") or 0) * 86400
            + float(value.get("seconds") or 0)
            + float(value.get("microseconds") or 0) / 1e6
        )
    return None


def dag(d: dict[str, Any]) -> DagInfo:
    return DagInfo(
        dag_id=d["dag_id"],
        is_paused=bool(d.get("is_paused")),
        is_stale=bool(d.get("is_stale")),
        tags=tuple(t["name"] if isinstance(t, dict) else str(t) for t in d.get("tags") or ()),
        owners=tuple(d.get("owners") or ()),
        description=d.get("description"),
        fileloc=d.get("fileloc"),
        relative_fileloc=d.get("relative_fileloc"),
        bundle_name=d.get("bundle_name"),
        bundle_version=d.get("bundle_version"),
        has_import_errors=bool(d.get("has_import_errors")),
        timetable_summary=d.get("timetable_summary"),
        file_token=d.get("file_token"),
        last_parsed_time=when(d.get("last_parsed_time")),
    )


def run(r: dict[str, Any]) -> DagRunInfo:
    return DagRunInfo(
        dag_id=r["dag_id"],
        run_id=r["dag_run_id"],
        state=r.get("state") or "unknown",
        logical_date=when(r.get("logical_date")),
        start_date=when(r.get("start_date")),
        end_date=when(r.get("end_date")),
        run_after=when(r.get("run_after")),
        conf=dict(r.get("conf") or {}),
        run_type=r.get("run_type"),
    )


def task_instance(t: dict[str, Any]) -> TaskInstanceInfo:
    map_index = t.get("map_index")
    return TaskInstanceInfo(
        dag_id=t["dag_id"],
        run_id=t["dag_run_id"],
        task_id=t["task_id"],
        state=t.get("state"),
        try_number=int(t.get("try_number") or 0),
        map_index=int(map_index if map_index is not None else -1),
        start_date=when(t.get("start_date")),
        end_date=when(t.get("end_date")),
        duration_s=t.get("duration"),
        operator=t.get("operator") or t.get("operator_name"),
    )


def import_error(e: dict[str, Any]) -> ImportErrorInfo:
    return ImportErrorInfo(
        filename=e.get("filename") or "",
        stacktrace=e.get("stack_trace") or "",
        bundle_name=e.get("bundle_name"),
        timestamp=when(e.get("timestamp")),
    )
