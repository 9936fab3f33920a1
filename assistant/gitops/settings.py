"""`repo set`: change a registered repository's settings in place, without `repo remove` + `add`.

- What is deployed (URL, branch/tag/ref, DAG path): the settings are stored, then the repo is
  synced as after a push: the commit is exported from the (new) folder and validated, and only
  published when nothing blocks; otherwise the last good release stays, the repo shows
  'failing validation' and the outcome says why.
- The namespace: the repo's link is renamed into the new namespace folder, so its DAGs leave one
  folder and appear in the other at the same instant. Namespaces do not change validation, so
  the release is not validated again.
- Metadata (credentials, webhook credential, unpause, policy) is stored; nothing is redeployed.
  A new policy applies from the next deployment.

What cannot work (an unknown credential, a branch the remote lacks, a link already taken in the
new namespace) is refused before anything is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, UsageError
from assistant.gitops import pickup, publish
from assistant.gitops.locks import repo_lock
from assistant.gitops.models import DagStatus, RepoSpec, SettingsOutcome
from assistant.gitops.urls import redact

if TYPE_CHECKING:
    from assistant.gitops.deployer import Deployer

DEPLOYED = frozenset({"url", "ref_kind", "ref", "dag_path"})  # a change here means a new release
FETCHING = DEPLOYED | {"credential"}  # checked against the remote before they are stored
SHOWN = {"ref_kind": "ref", "ref": "ref", "dag_path": "path", "policy_toml": "policy"}


def change_settings(
    deployer: Deployer, name: str, changes: Mapping[str, Any], *, wait: bool = True
) -> SettingsOutcome:
    """Apply ``changes`` (RepoSpec field -> value, from :func:`assistant.gitops.spec.make_changes`)."""
    with repo_lock(deployer.locks_dir, name):
        repo = deployer.store.get(name)
        new = RepoSpec(**{**repo.spec.__dict__, **changes})
        changed = {key for key in changes if getattr(repo.spec, key) != getattr(new, key)}
        if not changed:
            return SettingsOutcome(name, message=f"nothing to change: {name} already has these settings")
        new = _checked(deployer, repo.namespace, new, changed)
        deployer.store.update_settings(new)
        outcome = SettingsOutcome(name, describe_changes(repo.spec, new, changed))
        moved_at = pickup.now()
        if "namespace" in changed and publish.move(deployer.dags_folder, repo.namespace, new.namespace, name):
            outcome.moved_from = repo.namespace
        if changed & DEPLOYED:
            outcome.deployment = deployer.sync_locked(name, wait=wait)
        if outcome.moved_from and (outcome.deployment is None or outcome.deployment.result != "deployed"):
            outcome.dags = _announce_move(deployer, name, moved_at, wait=wait)
        outcome.message = _message(outcome, changed, new)
        return outcome


def _checked(deployer: Deployer, namespace: str, new: RepoSpec, changed: set[str]) -> RepoSpec:
    """``new`` with its ref resolved; raises (nothing stored yet) when a setting cannot work."""
    if new.webhook_credential and "webhook_credential" in changed:
        deployer.credentials.get(new.webhook_credential)  # CredentialError when missing
    if "namespace" in changed:
        link = publish.link_path(deployer.dags_folder, new.namespace, new.name)
        if link.exists() or link.is_symlink():
            raise UsageError(
                f"{link} already exists in the DAGs folder",
                f"move it out of the DAGs folder first, or keep {new.name} in {namespace}",
            )
    if changed & FETCHING:
        remote = deployer.remote_for(new)  # CredentialError when missing
        ref, _head = remote.resolve(new.ref_kind, new.ref)  # GitError: no such branch or tag, refused
        new = replace(new, ref=ref)
        if new.ref_kind == "sha" and changed & DEPLOYED:
            remote.fetch(deployer.config.repos_dir / new.name, "sha", ref)  # GitError: unknown commit
    return new


def describe_changes(old: RepoSpec, new: RepoSpec, changed: set[str]) -> dict[str, tuple[str, str]]:
    """User-facing setting -> (before, after), e.g. {'ref': ('branch main', 'branch dev')}."""
    return {SHOWN.get(key, key): (_shown(old, key), _shown(new, key)) for key in sorted(changed)}


def _shown(spec: RepoSpec, key: str) -> str:
    if key in ("ref", "ref_kind"):
        return f"{spec.ref_kind} {spec.ref}"
    if key == "dag_path":
        return spec.dag_path or "(repository root)"
    if key == "policy_toml":
        if spec.policy_toml is None:
            return "none"
        return f"set ({hashlib.sha256(spec.policy_toml.encode()).hexdigest()[:8]})"
    value = getattr(spec, key)
    if value is None:
        return "none"
    if key == "url":
        return redact(str(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _announce_move(deployer: Deployer, name: str, moved_at: datetime, *, wait: bool) -> list[DagStatus]:
    """After a move without a new release: re-index it under its new place, wait for Airflow."""
    repo = deployer.store.get(name)
    where = f"{repo.namespace}/{name}"
    deployer.notifier.notify("info", f"repo {name}", f"moved to {where}")
    current = deployer.store.current_deployment(repo)
    validation = (current.validation if current else None) or {}
    dag_files = {str(k): str(v) for k, v in (validation.get("dag_files") or {}).items()}
    target = publish.published_target(deployer.dags_folder, repo.namespace, name)
    if deployer.on_published is not None and target is not None and dag_files:
        try:
            deployer.on_published(repo.spec, target, dag_files)
        except AssistantError as exc:  # the move stands; only the index is behind
            deployer.notifier.notify("warning", f"repo {name}", f"moved, but not indexed: {exc.message}")
    if not wait or not dag_files:
        return []
    return pickup.pick_up(
        deployer.airflow(),
        dag_files,
        set(dag_files.values()),
        where,
        moved_at,
        timeout_s=deployer.wait_timeout_s,
    )


def _message(outcome: SettingsOutcome, changed: set[str], new: RepoSpec) -> str:
    parts = [f"{setting}: {before} → {after}" for setting, (before, after) in outcome.changed.items()]
    lines = [f"{outcome.repo}: " + "; ".join(parts)]
    if outcome.moved_from:
        lines.append(f"its DAGs moved from {outcome.moved_from}/{new.name} to {new.namespace}/{new.name}")
    if outcome.deployment is not None:
        lines.append(f"{outcome.deployment.result}: {outcome.deployment.message}")
    if "policy_toml" in changed:
        lines.append(
            "the policy applies from the next deployment "
            f"(`assistant repo sync {new.name} --force` validates the deployed commit with it now)"
        )
    if "unpause" in changed:
        lines.append("unpausing applies to DAGs that later deployments bring for the first time")
    return "\n".join(lines)
