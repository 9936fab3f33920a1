"""Registered repos and their deployments in the state database (001_initial.sql, 007_repo_settings.sql)."""

from __future__ import annotations

import difflib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.errors import RepoNotFound
from assistant.gitops.models import Deployment, Repo, RepoSpec

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
# Each repo with the policy that validated its deployed release.
_REPOS = (
    "SELECT repos.*, (SELECT d.policy FROM deployments d WHERE d.repo = repos.name "
    "AND d.commit_sha = repos.deployed_commit AND d.result = 'deployed' ORDER BY d.id DESC LIMIT 1) "
    "AS policy_used FROM repos"
)
# The settings `repo set` may change, as columns of the repos table.
SETTINGS = (
    "url",
    "namespace",
    "ref_kind",
    "ref",
    "dag_path",
    "credential",
    "webhook_credential",
    "unpause",
    "policy_toml",
)


class RepoStore:
    """All reads and writes of the GitOps tables; safe to share between the threads of `serve`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, query: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(query, params).fetchall()

    # -- repos --------------------------------------------------------------------------------

    def add(self, spec: RepoSpec) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO repos (name, url, namespace, ref_kind, ref, dag_path, credential, webhook_credential, "
                "unpause, policy_toml) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    spec.name,
                    spec.url,
                    spec.namespace,
                    spec.ref_kind,
                    spec.ref,
                    spec.dag_path,
                    spec.credential,
                    spec.webhook_credential,
                    int(spec.unpause),
                    spec.policy_toml,
                ),
            )

    def update_settings(self, spec: RepoSpec) -> None:
        """Store the settings of ``spec`` for the registered repo of that name (its state is kept)."""
        values = [getattr(spec, column) for column in SETTINGS]
        values[SETTINGS.index("unpause")] = int(spec.unpause)
        assignments = ", ".join(f"{column} = ?" for column in SETTINGS)
        with self._tx() as db:
            db.execute(f"UPDATE repos SET {assignments} WHERE name = ?", (*values, spec.name))

    def get(self, name: str) -> Repo:
        rows = self._all(f"{_REPOS} WHERE name = ?", (name,))
        if not rows:
            known = [r.name for r in self.list()]
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            if close:
                hint = f"did you mean {', '.join(close)}? (see `assistant repo list`)"
            elif known:
                hint = f"registered: {', '.join(known)}"
            else:
                hint = "register one with `assistant repo add URL`"
            raise RepoNotFound(f"no repository named {name!r}", hint)
        return _repo(rows[0])

    def exists(self, name: str) -> bool:
        return bool(self._all("SELECT 1 FROM repos WHERE name = ?", (name,)))

    def list(self) -> list[Repo]:
        return [_repo(r) for r in self._all(f"{_REPOS} ORDER BY namespace, name")]

    def remove(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM deployments WHERE repo = ?", (name,))
            db.execute("DELETE FROM repos WHERE name = ?", (name,))

    def set_state(
        self, name: str, state: str, detail: str = "", *, attempt_commit: str | None = None
    ) -> None:
        stale = f"COALESCE(stale_since, {_NOW})" if state == "stale" else "NULL"
        with self._tx() as db:
            db.execute(
                f"UPDATE repos SET state = ?, state_detail = ?, stale_since = {stale}, last_sync_at = {_NOW}, "
                "last_attempt_commit = COALESCE(?, last_attempt_commit) WHERE name = ?",
                (state, detail, attempt_commit, name),
            )

    def set_deployed(self, name: str, commit: str, detail: str = "") -> None:
        with self._tx() as db:
            db.execute(
                f"UPDATE repos SET state = 'ok', state_detail = ?, deployed_commit = ?, last_attempt_commit = ?, "
                f"stale_since = NULL, last_sync_at = {_NOW} WHERE name = ?",
                (detail, commit, commit, name),
            )

    # -- deployments --------------------------------------------------------------------------

    def start_deployment(
        self,
        repo: str,
        commit: str,
        release_dir: str | None,
        *,
        is_rollback: bool = False,
        dag_path: str | None = None,
        policy: str = "",
    ) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO deployments (repo, commit_sha, release_dir, is_rollback, dag_path, policy) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (repo, commit, release_dir, int(is_rollback), dag_path, policy),
            )
            return int(cursor.lastrowid or 0)

    def update_deployment(
        self,
        deployment_id: int,
        result: str,
        summary: str = "",
        *,
        validation: dict[str, Any] | None = None,
        dag_ids: list[str] | None = None,
        finished: bool = True,
    ) -> None:
        sets = ["result = ?", "summary = ?"]
        params: list[Any] = [result, summary]
        if validation is not None:
            sets.append("validation_json = ?")
            params.append(json.dumps(validation, default=str))
        if dag_ids is not None:
            sets.append("dag_ids = ?")
            params.append(json.dumps(sorted(dag_ids)))
        if finished:
            sets.append(f"finished_at = {_NOW}")
        with self._tx() as db:
            db.execute(f"UPDATE deployments SET {', '.join(sets)} WHERE id = ?", (*params, deployment_id))

    def history(self, repo: str, limit: int = 50) -> list[Deployment]:
        rows = self._all("SELECT * FROM deployments WHERE repo = ? ORDER BY id DESC LIMIT ?", (repo, limit))
        return [_deployment(r) for r in rows]

    def deployment(self, deployment_id: int) -> Deployment:
        rows = self._all("SELECT * FROM deployments WHERE id = ?", (deployment_id,))
        return _deployment(rows[0])

    def good_deployments(self, repo: str) -> list[Deployment]:
        """Deployments that published a validated release, newest first."""
        rows = self._all(
            "SELECT * FROM deployments WHERE repo = ? AND result IN ('deployed', 'publishing') ORDER BY id DESC",
            (repo,),
        )
        return [_deployment(r) for r in rows]

    def current_deployment(self, repo: Repo) -> Deployment | None:
        """The deployment that published the repo's deployed commit."""
        rows = self._all(
            "SELECT * FROM deployments WHERE repo = ? AND commit_sha = ? AND result = 'deployed' "
            "ORDER BY id DESC LIMIT 1",
            (repo.name, repo.deployed_commit),
        )
        return _deployment(rows[0]) if rows else None

    def deployed_dag_files(self, exclude_repo: str) -> dict[str, str]:
        """dag_id -> '<repo>: file' for the DAGs currently deployed by every other repo."""
        found: dict[str, str] = {}
        for repo in self.list():
            if repo.name == exclude_repo or not repo.deployed_commit:
                continue
            rows = self._all(
                "SELECT validation_json, dag_ids FROM deployments WHERE repo = ? AND commit_sha = ? "
                "AND result = 'deployed' ORDER BY id DESC LIMIT 1",
                (repo.name, repo.deployed_commit),
            )
            if not rows:
                continue
            files = _dag_files(rows[0]["validation_json"])
            for dag_id in json.loads(rows[0]["dag_ids"] or "[]"):
                location = f"{repo.namespace}/{repo.name}/{files.get(dag_id, '?')}"
                found[dag_id] = location
        return found


def _dag_files(validation_json: str | None) -> dict[str, str]:
    if not validation_json:
        return {}
    data = json.loads(validation_json)
    return {str(k): str(v) for k, v in (data.get("dag_files") or {}).items()}


def _repo(row: sqlite3.Row) -> Repo:
    return Repo(
        name=row["name"],
        url=row["url"],
        namespace=row["namespace"],
        ref_kind=row["ref_kind"],
        ref=row["ref"],
        dag_path=row["dag_path"],
        credential=row["credential"],
        webhook_credential=row["webhook_credential"],
        unpause=bool(row["unpause"]),
        state=row["state"],
        state_detail=row["state_detail"],
        deployed_commit=row["deployed_commit"],
        last_sync_at=row["last_sync_at"],
        stale_since=row["stale_since"],
        last_attempt_commit=row["last_attempt_commit"],
        created_at=row["created_at"],
        policy_toml=row["policy_toml"],
        policy_used=row["policy_used"] or "",
    )


def _deployment(row: sqlite3.Row) -> Deployment:
    return Deployment(
        id=row["id"],
        repo=row["repo"],
        commit_sha=row["commit_sha"],
        release_dir=row["release_dir"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=row["result"],
        summary=row["summary"],
        dag_ids=json.loads(row["dag_ids"] or "[]"),
        is_rollback=bool(row["is_rollback"]),
        validation=json.loads(row["validation_json"]) if row["validation_json"] else None,
        dag_path=row["dag_path"],
        policy=row["policy"],
    )
