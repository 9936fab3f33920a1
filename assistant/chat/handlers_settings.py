"""The ``repo_settings`` intent: change what a registered repository deploys, once confirmed.

The engine asks :func:`confirmation` before acting (unless --yes): it finds the repository the
user means ("my workflows repo" -> ``workflows-dags``), checks that something would change, and
words the question with the settings before and after. :func:`repo_settings` then calls
``Assistant.repo_set`` and reports in words what happened: a new ref, folder or URL is deployed
only when its commit passes validation, otherwise the last good release stays in Airflow.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from assistant.chat.handlers import Context
from assistant.chat.replies import Reply
from assistant.errors import CredentialError, GitError, UsageError

if TYPE_CHECKING:
    from assistant.gitops.models import Repo, SettingsOutcome, SyncOutcome
    from assistant.service import Assistant

FULL_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
# What repo_set calls a setting (SettingsOutcome.changed) -> how the chat says it.
LABELS = {"ref": "", "path": "DAG folder ", "namespace": "namespace ", "url": "URL "}
REF_KINDS = (("branch", "branch"), ("tag", "tag"), ("commit", "sha"))


def resolve_repo(assistant: Assistant, phrase: str) -> str | Reply:
    """The registered repository ``phrase`` means: its exact name, a word of its name
    ("workflows" -> ``workflows-dags``) or a close spelling; else a Reply that asks or explains."""
    repos = [r.name for r in assistant.repos()]
    wanted = phrase.strip().strip("`'\"")
    for name in repos:
        if name.lower() == wanted.lower():
            return name
    words = {w for w in re.split(r"[-_.\s]+", wanted.lower()) if w}
    partial = [n for n in repos if words and words <= set(re.split(r"[-_.]+", n.lower()))]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        return Reply(
            f"Several repositories match {wanted!r}: {', '.join(sorted(partial))}. Which one?",
            ok=False,
            awaiting="slot:name",
            data={"candidates": sorted(partial)},
        )
    close = difflib.get_close_matches(wanted.lower(), [n.lower() for n in repos], n=3, cutoff=0.8)
    if len(close) == 1:
        return next(n for n in repos if n.lower() == close[0])
    known = ", ".join(repos) or "none yet (add one: `add repo <url>`)"
    return Reply(f"I know no repository called {wanted!r}. Connected repositories: {known}.", ok=False)


def confirmation(assistant: Assistant, slots: dict[str, Any]) -> Reply | None:
    """The question to ask before changing the settings; None when nothing would change.

    The repository's name in ``slots`` is replaced by the one it resolved to, so the action is on
    the repository the question named.
    """
    resolved = resolve_repo(assistant, str(slots["name"]))
    if isinstance(resolved, Reply):
        return resolved
    slots["name"] = resolved
    if slots.get("commit") and not FULL_SHA_RE.match(str(slots["commit"]).lower()):
        return Reply(
            f"To pin {resolved} to a commit I need its full 40-character id, not {slots['commit']!r} "
            f"(`git rev-parse {slots['commit']}` prints it).",
            ok=False,
        )
    repo = next(r for r in assistant.repos() if r.name == resolved)
    changes = _planned(repo, slots)
    if not changes:
        return None  # the handler says nothing needs to change; no question for that
    text = f"Change {resolved}: " + "; ".join(changes) + "?"
    if any(slots.get(key) for key in ("url", "branch", "tag", "commit", "path")):
        text += (
            " The newest commit is validated first and deployed only if nothing blocks;"
            " if it fails, the current release stays in Airflow."
        )
    if slots.get("namespace") and slots["namespace"] != repo.namespace:
        text += f" Its DAGs move from {repo.namespace}/{resolved} to {slots['namespace']}/{resolved}."
    return Reply(text + " (yes/no)", awaiting="confirm")


def repo_settings(assistant: Assistant, slots: dict[str, Any], ctx: Context) -> Reply:
    resolved = resolve_repo(assistant, str(slots["name"]))
    if isinstance(resolved, Reply):
        return resolved
    slots["name"] = ctx.repo = resolved
    try:
        outcome = assistant.repo_set(resolved, **_options(slots))
    except (UsageError, GitError, CredentialError) as exc:  # refused before anything is stored
        hint = f"\nHint: {exc.hint}" if exc.hint else ""
        return Reply(f"{exc.message}; nothing was changed.{hint}", ok=False)
    deployment = outcome.deployment
    dags = (deployment.dags if deployment is not None else []) or outcome.dags
    if dags:
        ctx.dag_id = dags[0].dag_id
    return Reply(report(outcome), ok=outcome.ok, data=outcome)


def report(outcome: SettingsOutcome) -> str:
    """What changed and what it did to Airflow, in words."""
    if not outcome.changed:
        return f"Nothing to change: {outcome.repo} already has these settings."
    changed = "; ".join(
        f"{LABELS.get(setting, setting + ' ')}{before} → {after}"
        for setting, (before, after) in outcome.changed.items()
    )
    lines = [f"Changed {outcome.repo}: {changed}."]
    if outcome.moved_from and "namespace" in outcome.changed:
        moved_to = outcome.changed["namespace"][1]
        lines.append(f"Its DAGs moved from {outcome.moved_from}/{outcome.repo} to {moved_to}/{outcome.repo}.")
    if outcome.deployment is not None:
        lines.extend(_deployment_lines(outcome.deployment))
    dags = (outcome.deployment.dags if outcome.deployment is not None else []) or outcome.dags
    lines.extend(f"- {d.dag_id}: {d.state}" + (f" ({d.detail})" if d.detail else "") for d in dags)
    return "\n".join(lines)


def _deployment_lines(deployment: SyncOutcome) -> list[str]:
    commit = (deployment.commit or "")[:10]
    if deployment.result == "deployed":
        lines = [f"Deployed commit {commit}: it passed validation and is live in Airflow."]
    elif deployment.result == "unchanged":
        lines = [f"Commit {commit} from that folder was already deployed; nothing was redeployed."]
    elif deployment.result == "stale":
        lines = [f"The repository could not be fetched: {deployment.message}."]
    else:
        lines = [
            f"The new commit was not deployed: {deployment.message}.",
            f"The last good release stays in Airflow; {deployment.repo} shows 'failing validation' until"
            " a commit passes (push a fix, or change the setting back).",
        ]
    lines.extend(f"! {finding}" for finding in deployment.findings[:10])
    lines.extend(f"not published: {s.path} ({s.reason})" for s in deployment.skipped[:10])
    return lines


def _options(slots: dict[str, Any]) -> dict[str, str]:
    """The keyword arguments of ``Assistant.repo_set`` for the settings in ``slots``."""
    options = {
        key: str(slots[key]) for key in ("url", "branch", "tag", "path", "namespace") if slots.get(key)
    }
    if slots.get("commit"):
        options["ref"] = str(slots["commit"]).lower()
    return options


def _planned(repo: Repo, slots: dict[str, Any]) -> list[str]:
    """The changes the slots ask for, worded "before → after"; settings already so are left out."""
    changes = []
    if slots.get("url") and str(slots["url"]) != repo.url:
        changes.append(f"URL {repo.url} → {slots['url']}")
    for slot, kind in REF_KINDS:
        value = str(slots.get(slot) or "")
        if value and (kind, value.lower() if kind == "sha" else value) != (repo.ref_kind, repo.ref):
            changes.append(f"{_ref(repo.ref_kind, repo.ref)} → {_ref(kind, value)}")
            break
    if slots.get("path") is not None and _folder(str(slots["path"])) != repo.dag_path:
        changes.append(
            f"DAG folder {_folder(repo.dag_path) or '(repository root)'} → "
            f"{_folder(str(slots['path'])) or '(repository root)'}"
        )
    if slots.get("namespace") and slots["namespace"] != repo.namespace:
        changes.append(f"namespace {repo.namespace} → {slots['namespace']}")
    return changes


def _ref(kind: str, value: str) -> str:
    return f"commit {value[:10]}" if kind == "sha" else f"{kind} {value}"


def _folder(path: str) -> str:
    """A DAG folder as repo_set stores it: no leading/trailing slash, no '.' parts."""
    return "/".join(p for p in path.strip().strip("/").split("/") if p not in ("", "."))
