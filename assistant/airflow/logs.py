"""Turn the structured task log of the v2 API into plain text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SKIP_PREFIXES = ("::group::", "::endgroup::")
_SOURCES_GROUP = "::group::Log message source details"
_KNOWN_KEYS = {"event", "timestamp", "level", "logger", "sources", "error_detail", "chan", "loc"}
# Context Airflow repeats on every line of a task log; it adds nothing to reading one.
_CONTEXT_KEYS = {
    "dag_id",
    "task_id",
    "run_id",
    "ti_id",
    "try_number",
    "map_index",
    "filename",
    "lineno",
    "ti",
    "bundle_name",
    "bundle_version",
    "dag_file",
    "hostname",
    "context_carrier",
}
_MAX_EXTRA_CHARS = 120


def render_log(content: Iterable[Any]) -> str:
    """Render each entry as ``[time] LEVEL logger - event key=value``; plain strings pass through."""
    lines: list[str] = []
    in_sources = False
    for item in getattr(content, "actual_instance", content) or []:
        if hasattr(item, "to_dict"):
            item = item.to_dict()
        if isinstance(item, str):
            lines.append(item.rstrip("\n"))
            continue
        if not isinstance(item, dict):
            continue
        event = str(item.get("event") or "")
        if event.startswith(_SOURCES_GROUP):
            in_sources = True
            continue
        if event.startswith(_SKIP_PREFIXES):
            in_sources = False
            continue
        if in_sources or "sources" in item:
            continue
        parts = []
        stamp = item.get("timestamp")
        if stamp:
            parts.append(f"[{stamp.isoformat() if hasattr(stamp, 'isoformat') else stamp}]")
        if item.get("level"):
            parts.append(str(item["level"]).upper())
        if item.get("logger"):
            parts.append(f"{item['logger']} -")
        parts.append(event)
        extras = [
            f"{k}={v}"
            for k, v in item.items()
            if k not in _KNOWN_KEYS | _CONTEXT_KEYS
            and v not in (None, "")
            and len(str(v)) <= _MAX_EXTRA_CHARS
        ]
        if extras:
            parts.append(" ".join(extras))
        lines.append(" ".join(p for p in parts if p))
        for detail in item.get("error_detail") or []:
            lines.extend(_render_error(detail))
    return "\n".join(lines)


def _render_error(detail: Any) -> list[str]:
    if not isinstance(detail, dict):
        return [str(detail)]
    out = ["Traceback (most recent call last):"]
    for frame in detail.get("frames") or []:
        out.append(f'  File "{frame.get("filename")}", line {frame.get("lineno")}, in {frame.get("name")}')
    out.append(f"{detail.get('exc_type', 'Error')}: {detail.get('exc_value', '')}")
    return out
