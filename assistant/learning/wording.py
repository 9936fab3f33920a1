"""Words of the failure warning: recommendations per kind of cause, and durations."""

from __future__ import annotations

from datetime import datetime

_ADVICE = (
    (
        ("expiredtoken", "credential", "unauthor", "forbidden", "401", "403", "auth"),
        "renew the credentials its connection uses",
    ),
    (("timeout", "timed out"), "raise execution_timeout or make the task faster"),
    (("connection test",), "fix that connection in Airflow (Admin > Connections) until its test passes"),
    (
        ("connection", "unavailable", "503", "502", "refused", "upstream", "dns"),
        "check that the upstream service is reachable again",
    ),
    (("no such file", "filenotfound", "not found"), "check that the input it reads exists"),
    (
        ("keyerror", "typeerror", "attributeerror", "valueerror", "nameerror", "importerror"),
        "fix the code and deploy it (this looks like a bug, not an outage)",
    ),
)


def recommend(risk: str, cause: str | None, dag_id: str, *, again: bool = True) -> str:
    if risk == "low":
        return "looks safe to run"
    if cause is None:
        return "it can be run; watch the outcome (recent failures came and went)"
    task = cause.split(":", 1)[0]
    lowered = cause.lower()
    fix = next((text for words, text in _ADVICE if any(w in lowered for w in words)), None)
    fix = fix or f"read the log of {task} (`assistant logs {dag_id} --task {task}`) and fix the cause"
    if risk == "high":
        return f"fix the cause before running: {fix}"
    return f"it may fail{' again' if again else ''} at {task}; {fix}"


def ago(days: float) -> str:
    return f"{duration(days)} ago"


def duration(days: float) -> str:
    if days >= 2:
        return f"{days:.0f} days"
    hours = days * 24
    if hours >= 1:
        return f"{hours:.0f} h"
    return f"{hours * 60:.0f} min"


def since(when: datetime, now: datetime) -> str:
    return ago(max((now - when).total_seconds(), 0.0) / 86400)
