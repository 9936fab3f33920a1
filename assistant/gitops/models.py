"""Plain data of the GitOps domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Namespace = Literal["company", "community", "personal"]
NAMESPACES: tuple[str, ...] = ("company", "community", "personal")
RefKind = Literal["branch", "tag", "sha"]


@dataclass(frozen=True)
class RepoSpec:
    """What the user asked for when registering a repository."""

    name: str
    url: str
    namespace: str = "personal"
    ref_kind: str = "branch"
    ref: str = ""  # empty branch: the remote's default branch
    dag_path: str = ""
    credential: str | None = None
    webhook_credential: str | None = None
    unpause: bool = False
    policy_toml: str | None = None  # a policy set for this repo (a copy of the file's TOML)


@dataclass(frozen=True)
class Repo:
    name: str
    url: str
    namespace: str
    ref_kind: str
    ref: str
    dag_path: str
    credential: str | None
    webhook_credential: str | None
    unpause: bool
    state: str
    state_detail: str
    deployed_commit: str | None
    last_sync_at: str | None
    stale_since: str | None
    last_attempt_commit: str | None
    created_at: str
    policy_toml: str | None = None
    policy_used: str = ""  # the policy that validated the deployed release (see gitops.policies)

    @property
    def spec(self) -> RepoSpec:
        return RepoSpec(
            self.name,
            self.url,
            self.namespace,
            self.ref_kind,
            self.ref,
            self.dag_path,
            self.credential,
            self.webhook_credential,
            self.unpause,
            self.policy_toml,
        )

    @property
    def display_state(self) -> str:
        if self.state == "stale" and self.stale_since:
            return f"stale since {self.stale_since[:19].replace('T', ' ')}"
        if self.state == "failing":
            return "failing validation"
        return self.state


@dataclass(frozen=True)
class Deployment:
    id: int
    repo: str
    commit_sha: str
    release_dir: str | None
    started_at: str
    finished_at: str | None
    result: str
    summary: str
    dag_ids: list[str]
    is_rollback: bool
    validation: dict[str, Any] | None = None
    dag_path: str | None = None  # None: recorded before the DAG path was kept per deployment
    policy: str = ""  # the policy that validated it ('' when unknown)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class ReleaseInfo:
    """A release directory: an immutable export of the DAG path of one commit."""

    path: Any  # pathlib.Path
    commit: str
    dag_path: str = ""
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass
class DagStatus:
    dag_id: str
    file: str
    state: str  # visible / paused / active / import error / not visible yet
    detail: str = ""


@dataclass
class SyncOutcome:
    """What one sync, add or rollback did, for the front ends."""

    repo: str
    result: Literal["deployed", "unchanged", "failed", "blocked", "stale"]
    commit: str | None = None
    message: str = ""
    deployment_id: int | None = None
    dags: list[DagStatus] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    policy: str = ""  # the policy the release was validated with

    @property
    def ok(self) -> bool:
        return self.result in ("deployed", "unchanged")


@dataclass
class SettingsOutcome:
    """What `repo set` changed, and the deployment it caused (None when only metadata changed)."""

    repo: str
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # setting -> (before, after)
    message: str = ""
    moved_from: str | None = None  # the namespace the DAGs left, when the namespace changed
    dags: list[DagStatus] = field(default_factory=list)  # after a move without a new release
    deployment: SyncOutcome | None = None

    @property
    def ok(self) -> bool:
        return self.deployment is None or self.deployment.ok
