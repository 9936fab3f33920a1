"""Handlers for repositories, validation, failure prediction and DAG generation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chat.handlers import Context, resolve_dag_slot
from assistant.chat.handlers_settings import repo_settings
from assistant.chat.replies import Reply
from assistant.errors import RepoNotFound, UsageError

if TYPE_CHECKING:
    from assistant.service import Assistant


def _outcome_text(outcome: Any) -> str:
    commit = f" at {outcome.commit[:8]}" if outcome.commit else ""
    lines = [
        f"{outcome.repo}: {outcome.result}{commit}." + (f" {outcome.message}" if outcome.message else "")
    ]
    for dag in outcome.dags:
        lines.append(f"- {dag.dag_id}: {dag.state}" + (f" ({dag.detail})" if dag.detail else ""))
    for finding in outcome.findings[:10]:
        lines.append(f"! {finding}")
    for skipped in outcome.skipped[:10]:
        lines.append(f"skipped {getattr(skipped, 'path', skipped)}: {getattr(skipped, 'reason', '')}")
    return "\n".join(lines)


def add_repo(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    options = {k: slots[k] for k in ("name", "namespace", "branch") if slots.get(k)}
    outcome = assistant.repo_add(str(slots["url"]), **options)
    ctx.repo = outcome.repo
    dag_ids = [d.dag_id for d in outcome.dags]
    if dag_ids:
        ctx.dag_id = dag_ids[0]
    return Reply(f"Added {outcome.repo}.\n" + _outcome_text(outcome), ok=outcome.ok, data=outcome)


def remove_repo(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    repo = assistant.repo_remove(str(slots["name"]))
    if ctx.repo == repo.name:
        ctx.repo = None
    return Reply(f"Stopped tracking {repo.name}; its DAGs were removed from Airflow.", data=repo)


def list_repos(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    repos = assistant.repos()
    if not repos:
        return Reply("No repositories are connected. Add one: `add repo <url>`.", data=[])
    lines = []
    for r in repos:
        commit = (r.deployed_commit or "-")[:8]
        state = r.state + (f" ({r.state_detail})" if r.state_detail and r.state != "ok" else "")
        lines.append(f"- {r.name} [{r.namespace}] {r.ref_kind} {r.ref} @ {commit}: {state}")
    return Reply(f"{len(repos)} repositories:\n" + "\n".join(lines), data=repos)


def sync_repo(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    outcomes = assistant.repo_sync(slots.get("name"))
    if not outcomes:
        return Reply("No repositories to sync. Add one: `add repo <url>`.", ok=False)
    if slots.get("name"):
        ctx.repo = str(slots["name"])
    return Reply("\n".join(_outcome_text(o) for o in outcomes), ok=all(o.ok for o in outcomes), data=outcomes)


def _repo_of(assistant: Assistant, target: str) -> str:
    repos = assistant.repos()
    for repo in repos:
        if repo.name.lower() == target.lower():
            return repo.name
    for repo in repos:  # a DAG id: the repository that deployed it
        history = assistant.repo_history(repo.name, limit=1)
        if history and target in history[0].dag_ids:
            return repo.name
    names = ", ".join(r.name for r in repos) or "none"
    raise RepoNotFound(f"no repository or deployed DAG named {target!r}", f"connected repositories: {names}")


def rollback(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    name = _repo_of(assistant, str(slots["target"]))
    ctx.repo = name
    outcome = assistant.repo_rollback(name, slots.get("version") or None)
    return Reply("Rolled back.\n" + _outcome_text(outcome), ok=outcome.ok, data=outcome)


def validate(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    target = str(slots["target"])
    path = Path(target).expanduser()
    if not path.exists():
        try:
            name = _repo_of(assistant, target)
        except RepoNotFound:
            raise UsageError(
                f"{target} is neither a file, a folder nor a connected repository",
                "give a path to a DAG file or folder, or a repository name",
            ) from None
        live = [d for d in assistant.repo_history(name) if d.result == "deployed" and d.release_dir]
        if not live or not Path(live[0].release_dir or "").is_dir():
            raise UsageError(f"{name} has no deployed release to check", f"sync it first: `sync {name}`")
        path = Path(live[0].release_dir or "")
    report = assistant.validate([path])
    lines = [("Safe to deploy: nothing blocks." if report.ok else "Blocked: fix the findings marked BLOCK.")]
    for file in report.files:
        blocking = [f for f in file.findings if f.severity == "block"]
        others = [f for f in file.findings if f.severity != "block"]
        lines.append(
            f"{file.path}: {'ok' if file.ok else 'BLOCKED'}"
            + (f" (DAGs: {', '.join(file.dag_ids)})" if file.dag_ids else "")
        )
        for f in [*blocking, *others][:12]:
            where = f" line {f.line}" if f.line else ""
            lines.append(f"  {f.severity.upper()} {f.rule}{where}: {f.message} — {f.hint}")
    return Reply("\n".join(lines), ok=report.ok, data=report.to_dict())


def predict_failure(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    resolved = resolve_dag_slot(assistant, slots, ctx, "assess")
    if isinstance(resolved, Reply):
        return resolved
    ctx.dag_id = resolved
    p = assistant.predict(resolved)
    if p.risk == "unknown":
        return Reply(
            f"{resolved} has no run history yet, so I cannot predict its outcome. {p.recommendation}".strip(),
            data=p,
        )
    chance = f" ({p.probability:.0%} chance of failure)" if p.probability is not None else ""
    text = f"Risk for {resolved}: {p.risk}{chance}, confidence {p.confidence}.\n{p.reason}"
    if p.recommendation:
        text += f"\nRecommendation: {p.recommendation}"
    return Reply(text, data=p)


def generate_dag(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    result = assistant.generate(str(slots["description"]), repo=slots.get("repo"))
    data = result.to_dict()
    if data.get("dag_id"):
        ctx.dag_id = data["dag_id"]
    return Reply(
        data.get("summary") or ("Generated " + str(data.get("dag_id"))), ok=bool(data.get("ok")), data=data
    )


OPS_HANDLERS = {
    "add_repo": add_repo,
    "remove_repo": remove_repo,
    "list_repos": list_repos,
    "sync_repo": sync_repo,
    "rollback": rollback,
    "repo_settings": repo_settings,
    "validate": validate,
    "predict_failure": predict_failure,
    "generate_dag": generate_dag,
}
