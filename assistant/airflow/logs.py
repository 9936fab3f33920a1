"""Turn the structured task log of the v2 API into plain text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SKIP_PREFIXES = ("::group::", "::endgroup::")
_KNOWN_KEYS = {"event", "timestamp", "level", "logger", "sources", "error_detail", "chan", "loc"}


def render_log(content: Iterable[Any]) -> str:
    """Render each entry as ``[time] LEVEL logger - event key=value``; plain strings pass through."""
    lines: list[str] = []
    for item in content:
        if hasattr(item, "to_dict"):
            item = item.to_dict()
        if isinstance(item, str):
            lines.append(item.rstrip("\n"))
            continue
        if not isinstance(item, dict):
            continue
        event = str(item.get("event") or "")
        if event.startswith(_SKIP_PREFIXES) or ("sources" in item and not event):
            continue
        if "sources" in item:
            continue
        parts = []
        if item.get("timestamp"):
            parts.append(f"[{item['timestamp']}]")
        if item.get("level"):
            parts.append(str(item["level"]).upper())
        if item.get("logger"):
            parts.append(f"{item['logger']} -")
        parts.append(event)
        extras = [f"{k}={v}" for k, v in item.items() if k not in _KNOWN_KEYS and v not in (None, "")]
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
