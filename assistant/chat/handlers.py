"""One handler per intent: slots in, a Reply out. Handlers call the Assistant service only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.chat.replies import Reply
from assistant.chat.resolve import resolve_dag
from assistant.errors import AssistantError, NotAvailable

if TYPE_CHECKING:
    from assistant.service import Assistant


@dataclass
class Context:
    """What the conversation remembers between turns."""

    dag_id: str | None = None
    run_id: str | None = None
    repo: str | None = None
    last_intent: str | None = None
    last_slots: dict[str, Any] = field(default_factory=dict)
    wait_timeout_s: float = 600.0


Handler = Callable[["Assistant", dict[str, Any], Context], Reply]

CAPABILITIES = (
    'add a Git repository of DAGs and deploy it ("add my repo https://…")',
    "sync, list, remove and roll back repositories",
    "change what a repository deploys: its branch, tag or commit, DAG folder, namespace or URL"
    ' ("switch etl to the develop branch")',
    "list deployed DAGs, run one and wait for it, show its status and logs",
    'validate a DAG file or folder ("is ./dags/etl.py safe?")',
    "generate a DAG from a description",
    "warn before a run that is likely to fail",
    "answer questions about Airflow and this assistant, with sources",
)


def resolve_dag_slot(assistant: Assistant, slots: dict[str, Any], ctx: Context, verb: str) -> str | Reply:
    phrase = str(slots.get("dag_id") or "")
    dags = assistant.dags()
    found = resolve_dag(phrase, dags)
    if found.dag_id:
        return found.dag_id
    if found.vague:
        names = ", ".join(d.dag_id for d in dags[:10])
        return Reply(
            f"Which DAG should I {verb}?" + (f" Deployed: {names}." if names else ""),
            ok=True,
            awaiting="slot:dag_id",
        )
    if found.ambiguous:
        options = ", ".join(found.candidates)
        return Reply(
            f"Several DAGs match {phrase!r}: {options}. Which one should I {verb}?",
            ok=False,
            awaiting="slot:dag_id",
            data={"candidates": found.candidates},
        )
    hint = f" Closest: {', '.join(found.closest)}." if found.closest else ""
    return Reply(
        f"I found no deployed DAG matching {phrase!r}.{hint} `list dags` shows them all.",
        ok=False,
        data={"closest": found.closest},
    )


def list_dags(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    dags = assistant.dags(slots.get("namespace"))
    if not dags:
        where = f" in namespace {slots['namespace']}" if slots.get("namespace") else ""
        return Reply(f"No DAGs are deployed{where} yet. Add a repository: `add repo <url>`.", data=[])
    lines = [
        f"- {d.dag_id} ({'paused' if d.is_paused else 'active'})"
        + (f" — {d.description}" if d.description else "")
        for d in dags
    ]
    return Reply(f"{len(dags)} DAGs:\n" + "\n".join(lines), data=dags)


def run_dag(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    resolved = resolve_dag_slot(assistant, slots, ctx, "run")
    if isinstance(resolved, Reply):
        return resolved
    conf = slots.get("conf") or {}
    run = assistant.trigger(resolved, conf)
    ctx.dag_id, ctx.run_id = resolved, run.run_id
    report = assistant.wait(run, ctx.wait_timeout_s)
    with contextlib.suppress(AssistantError):  # learning from the run never changes its outcome
        assistant.ingest_runs(limit=5, dag_id=resolved)
    state = report.run.state
    duration = f" in {report.run.duration_s:.1f}s" if report.run.duration_s is not None else ""
    text = f"Ran {resolved} (run {run.run_id}): {state}{duration}."
    for log in report.failed_logs:
        text += f"\nTask {log.task_id} failed (try {log.try_number}). Last lines of its log:\n{log.text}"
    return Reply(text, ok=state == "success", data=report)


def dag_status(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    dag_id: str | None = None
    if slots.get("dag_id"):
        resolved = resolve_dag_slot(assistant, slots, ctx, "check")
        if isinstance(resolved, Reply):
            return resolved
        dag_id = resolved
        ctx.dag_id = dag_id
    recent = assistant.status(dag_id, limit=5)
    if not recent:
        return Reply(f"No runs yet{' of ' + dag_id if dag_id else ''}.", data=[])
    lines = []
    for r in recent:
        took = f", {r.duration_s:.1f}s" if r.duration_s is not None else ""
        lines.append(f"- {r.dag_id} {r.run_id}: {r.state}{took}")
    head = f"Latest run of {dag_id}: {recent[0].state}." if dag_id else "Recent runs:"
    return Reply(head + "\n" + "\n".join(lines), data=recent)


def dag_logs(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    resolved = resolve_dag_slot(assistant, slots, ctx, "show logs for")
    if isinstance(resolved, Reply):
        return resolved
    ctx.dag_id = resolved
    run_id = ctx.run_id if ctx.dag_id == resolved and slots.get("use_context_run") else None
    run, logs = assistant.logs(resolved, run_id, slots.get("task_id"))
    failed = [log for log in logs if log.state == "failed"] or logs
    parts = [f"Run {run.run_id} of {resolved}: {run.state}."]
    for log in failed:
        lines = log.text.splitlines()
        parts.append(f"--- {log.task_id} (try {log.try_number}, {log.state}) ---\n" + "\n".join(lines[-30:]))
    return Reply("\n".join(parts), ok=True, data={"run": run, "logs": logs})


def question(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    answer = assistant.answer(slots.get("text") or "")
    text = answer.text
    if answer.citations:
        text += "\n\nSources:\n" + "\n".join(f"- {c}" for c in answer.citations)
    return Reply(text, ok=answer.found, data=answer)


def help_(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    return Reply("I can:\n" + "\n".join(f"- {c}" for c in CAPABILITIES))


def unknown(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    return Reply(
        "Sorry, that is outside what I can help with. I can:\n" + "\n".join(f"- {c}" for c in CAPABILITIES),
        ok=False,
    )


def marketplace(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    raise NotAvailable(
        "the shared-DAG marketplace is not available yet",
        "add the repository that holds the DAG with `add repo <url> to community`",
    )


HANDLERS: dict[str, Handler] = {
    "list_dags": list_dags,
    "run_dag": run_dag,
    "dag_status": dag_status,
    "dag_logs": dag_logs,
    "question": question,
    "help": help_,
    "unknown": unknown,
    "marketplace_search": marketplace,
    "marketplace_install": marketplace,
    "marketplace_rate": marketplace,
}
