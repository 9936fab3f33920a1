"""GitOps: Git repositories of DAGs, validated releases, atomic publication, webhooks, polling."""

from __future__ import annotations

from assistant.gitops.models import (
    NAMESPACES,
    DagStatus,
    Deployment,
    Repo,
    RepoSpec,
    SettingsOutcome,
    SyncOutcome,
)

__all__ = ["NAMESPACES", "DagStatus", "Deployment", "Repo", "RepoSpec", "SettingsOutcome", "SyncOutcome"]
