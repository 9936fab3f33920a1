"""Deployments: fetch -> release -> validate -> publish (atomic) -> record -> pick-up -> notify.

Every path that can fail before the publish leaves the DAGs folder untouched: the last good
release stays linked. Records are written so that an interrupted process never leaves a link
to a release that did not pass validation (the row says 'publishing' before the swap).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.airflow.port import AirflowPort
from assistant.config import Config
from assistant.errors import AssistantError, GitError, UsageError, ValidationFailed
from assistant.gitops import pickup, policies, publish, release
from assistant.gitops.git import GitRemote
from assistant.gitops.locks import repo_lock
from assistant.gitops.models import NAMESPACES, Repo, RepoSpec, SyncOutcome
from assistant.gitops.store import RepoStore
from assistant.gitops.validator import Validator, blocking_messages, relative
from assistant.notify import NotifierPort
from assistant.secrets import CredentialStore


@dataclass
class _Candidate:
    """A release that passed validation and is ready to publish."""

    info: release.ReleaseInfo
    dag_files: dict[str, str]  # dag_id -> file relative to the release
    validation: dict[str, object]
    policy: str = ""  # the policy it was validated with (see gitops.policies)


class Deployer:
    def __init__(
        self,
        config: Config,
        store: RepoStore,
        credentials: CredentialStore,
        validator: Validator,
        airflow: Callable[[], AirflowPort],
        notifier: NotifierPort,
        *,
        wait_timeout_s: float = 60.0,
        git_retries: int = 3,
        on_published: Callable[[RepoSpec, Path, dict[str, str]], object] | None = None,
    ) -> None:
        if config.dags_folder is None:
            raise UsageError("no Airflow DAGs folder is configured", "set ASSISTANT_DAGS_FOLDER")
        self.config = config
        self.dags_folder: Path = config.dags_folder
        self.store = store
        self.credentials = credentials
        self.validator = validator
        self._airflow = airflow
        self.notifier = notifier
        self.wait_timeout_s = wait_timeout_s
        self.git_retries = git_retries
        # Called after a release is live (e.g. to index the deployed DAG code for generation).
        self.on_published = on_published
        self.locks_dir = config.home / "locks"
        # SSH host keys accepted on first contact are kept here, not in the user's ~/.ssh.
        self.known_hosts = config.known_hosts

    # -- entry points -------------------------------------------------------------------------

    def add(self, spec: RepoSpec, *, wait: bool = True) -> SyncOutcome:
        """Register, fetch, validate and publish a new repo; on any failure nothing is registered."""
        if self.store.exists(spec.name):
            raise UsageError(
                f"a repository named {spec.name!r} is already registered", "choose another --name"
            )
        if spec.credential:
            self.credentials.get(spec.credential)  # fails early if missing
        link = publish.link_path(self.dags_folder, spec.namespace, spec.name)
        if link.exists() or link.is_symlink():
            raise UsageError(
                f"{link} already exists in the DAGs folder", "choose another --name or --namespace"
            )
        with repo_lock(self.locks_dir, spec.name):
            started = time.monotonic()
            try:
                remote = self.remote_for(spec)
                ref, _sha = remote.resolve(spec.ref_kind, spec.ref)
                spec = RepoSpec(**{**spec.__dict__, "ref": ref})
                commit = remote.fetch(self._cache(spec.name), spec.ref_kind, ref)
                candidate = self._build_and_validate(spec, commit, self._choose_policy(spec, commit))
            except AssistantError:
                self._forget_files(spec.name)
                raise
            self.store.add(spec)
            outcome = self._publish(spec, candidate, previous=None, is_rollback=False, wait=wait)
            outcome.elapsed_s = time.monotonic() - started
            return outcome

    def sync(self, name: str, *, wait: bool = True, force: bool = False) -> SyncOutcome:
        """Deploy the newest commit of the tracked ref if it is not deployed yet (``force``: again)."""
        with repo_lock(self.locks_dir, name):
            return self.sync_locked(name, wait=wait, force=force)

    def sync_locked(self, name: str, *, wait: bool = True, force: bool = False) -> SyncOutcome:
        """:meth:`sync` for a caller that already holds the repo's lock."""
        started = time.monotonic()
        repo = self.store.get(name)
        self._reconcile(repo)
        repo = self.store.get(name)
        try:
            remote = self.remote_for(repo.spec)
            _ref, head = remote.resolve(repo.ref_kind, repo.ref)
            if not force and head == repo.deployed_commit and self._is_published(repo, head):
                self.store.set_deployed(name, head, repo.state_detail)
                return SyncOutcome(
                    name, "unchanged", head, f"{head[:10]} is already deployed", policy=repo.policy_used
                )
            commit = remote.fetch(self._cache(name), repo.ref_kind, repo.ref)
        except GitError as exc:
            return self._stale(repo, exc)
        except AssistantError as exc:  # credentials
            return self._stale(repo, exc)
        policy_label = ""
        try:
            chosen = self._choose_policy(repo.spec, commit)
            policy_label = chosen.label
            candidate = self._build_and_validate(repo.spec, commit, chosen)
        except ValidationFailed as exc:
            return self._failed(repo, commit, exc, started, policy_label)
        outcome = self._publish(repo.spec, candidate, previous=repo, is_rollback=False, wait=wait)
        outcome.elapsed_s = time.monotonic() - started
        return outcome

    def rollback(self, name: str, to: str | None = None, *, wait: bool = True) -> SyncOutcome:
        """Republish a recorded good release (default: the newest one before the deployed commit)."""
        with repo_lock(self.locks_dir, name):
            started = time.monotonic()
            repo = self.store.get(name)
            good = self.store.good_deployments(name)
            if to:
                choices = [d for d in good if d.commit_sha.startswith(to.lower())]
                if not choices:
                    raise UsageError(
                        f"no good deployment of commit {to!r} for {name}",
                        f"pick a commit from `assistant repo history {name}`",
                    )
            else:
                choices = [d for d in good if d.commit_sha != repo.deployed_commit]
                if not choices:
                    raise UsageError(
                        f"{name} has no earlier good deployment to roll back to",
                        f"see `assistant repo history {name}`",
                    )
            target = choices[0]
            info = release.load_release(Path(target.release_dir)) if target.release_dir else None
            if info is not None and not release.verify_release(info) and target.validation is not None:
                dag_files = {k: str(v) for k, v in (target.validation.get("dag_files") or {}).items()}
                candidate = _Candidate(info, dag_files, dict(target.validation), target.policy)
            else:  # cleaned up: export (from the folder it was deployed from) and validate it again
                spec = repo.spec
                if target.dag_path is not None:
                    spec = RepoSpec(**{**spec.__dict__, "dag_path": target.dag_path})
                commit = self.remote_for(spec).fetch(
                    self._cache(name), repo.ref_kind, repo.ref, sha=target.commit_sha
                )
                candidate = self._build_and_validate(spec, commit, self._choose_policy(spec, commit))
            outcome = self._publish(repo.spec, candidate, previous=repo, is_rollback=True, wait=wait)
            outcome.elapsed_s = time.monotonic() - started
            return outcome

    def remove(self, name: str) -> Repo:
        """Take the repo's DAGs out of Airflow and forget it; other repos are untouched."""
        with repo_lock(self.locks_dir, name):
            repo = self.store.get(name)
            publish.unpublish(self.dags_folder, repo.namespace, name)
            self.store.remove(name)
            self._forget_files(name)
        self.notifier.notify(
            "info", f"repo {name}", f"removed; its DAGs leave Airflow ({repo.namespace}/{name})"
        )
        return repo

    # -- steps --------------------------------------------------------------------------------

    def airflow(self) -> AirflowPort:
        return self._airflow()

    def remote_for(self, spec: RepoSpec) -> GitRemote:
        credential = self.credentials.get(spec.credential) if spec.credential else None
        return GitRemote(spec.url, credential, retries=self.git_retries, known_hosts=self.known_hosts)

    def _cache(self, name: str) -> Path:
        return self.config.repos_dir / name

    def _forget_files(self, name: str) -> None:
        shutil.rmtree(self._cache(name), ignore_errors=True)
        shutil.rmtree(self.config.releases_dir / name, ignore_errors=True)

    def _is_published(self, repo: Repo, commit: str) -> bool:
        """Is ``commit``, exported from the repo's current DAG path, the linked release?"""
        target = publish.published_target(self.dags_folder, repo.namespace, repo.name)
        info = release.load_release(target) if target else None
        return info is not None and info.commit == commit and info.dag_path == repo.dag_path

    def _choose_policy(self, spec: RepoSpec, commit: str) -> policies.ChosenPolicy:
        return policies.choose_policy(spec.policy_toml, self._cache(spec.name), commit)

    def _build_and_validate(self, spec: RepoSpec, commit: str, chosen: policies.ChosenPolicy) -> _Candidate:
        info = release.build_release(
            self._cache(spec.name), self.config.releases_dir, spec.name, commit, spec.dag_path
        )
        where = f"{spec.dag_path or 'the repository root'} of {commit[:10]}"
        if not any(f.endswith(".py") for f in info.files):
            raise ValidationFailed(
                f"no Python files under {where}", "check --path (the folder holding your DAGs)"
            )
        known = self.store.deployed_dag_files(exclude_repo=spec.name)
        result = self.validator.validate(Path(info.path), known, policy=chosen.policy)
        dag_files = {dag_id: relative(path, Path(info.path)) for dag_id, path in result.dag_ids().items()}
        collisions = [
            f"{dag_id!r} in {spec.namespace}/{spec.name}/{file} is already deployed from {known[dag_id]}"
            for dag_id, file in sorted(dag_files.items())
            if dag_id in known
        ]
        problems = collisions + [m for m in blocking_messages(result, Path(info.path)) if m not in collisions]
        if collisions or not result.ok:
            raise ValidationFailed(
                f"{commit[:10]} did not pass validation (policy: {chosen.label}): " + "; ".join(problems[:5]),
                "fix the DAGs and push again; the last good release stays deployed",
            )
        if not dag_files:
            raise ValidationFailed(
                f"no DAGs found under {where}", "check --path (the folder holding your DAGs)"
            )
        validation = dict(result.to_dict())
        validation["dag_files"] = dag_files
        validation["policy"] = chosen.label
        return _Candidate(info, dag_files, validation, chosen.label)

    def _publish(
        self, spec: RepoSpec, candidate: _Candidate, *, previous: Repo | None, is_rollback: bool, wait: bool
    ) -> SyncOutcome:
        info = candidate.info
        before = publish.published_target(self.dags_folder, spec.namespace, spec.name)
        old = release.load_release(before) if before else None
        deployment_id = self.store.start_deployment(
            spec.name,
            info.commit,
            str(info.path),
            is_rollback=is_rollback,
            dag_path=info.dag_path,
            policy=candidate.policy,
        )
        self.store.update_deployment(
            deployment_id,
            "publishing",
            validation=candidate.validation,
            dag_ids=list(candidate.dag_files),
            finished=False,
        )
        publish.publish(self.dags_folder, spec.namespace, spec.name, Path(info.path))
        published_at = pickup.now()
        verb = "rolled back to" if is_rollback else "deployed"
        summary = f"{verb} {info.commit[:10]}: {len(candidate.dag_files)} DAG(s)"
        if info.skipped:
            summary += f", {len(info.skipped)} file(s) not published"
        self.store.update_deployment(deployment_id, "deployed", summary)
        if is_rollback:
            self.store.set_deployed(spec.name, info.commit, summary)
            if previous is not None and previous.last_attempt_commit:
                self.store.set_state(spec.name, "ok", summary, attempt_commit=previous.last_attempt_commit)
        else:
            self.store.set_deployed(spec.name, info.commit, summary)
        release.clean_releases(
            self.config.releases_dir, spec.name, keep={Path(info.path), *([Path(before)] if before else [])}
        )
        outcome = SyncOutcome(
            spec.name,
            "deployed",
            info.commit,
            summary,
            deployment_id,
            skipped=info.skipped,
            policy=candidate.policy,
        )
        if wait:
            changed = {f for f, digest in info.files.items() if old is None or old.files.get(f) != digest}
            previous_ids = set(self._previous_dag_ids(spec.name, deployment_id))
            unpause = set()
            if spec.unpause or self.config.unpause_new_dags:
                unpause = set(candidate.dag_files) - previous_ids
            outcome.dags = pickup.pick_up(
                self._airflow(),
                candidate.dag_files,
                changed,
                f"{spec.namespace}/{spec.name}",
                published_at,
                unpause=unpause,
                timeout_s=self.wait_timeout_s,
            )
        level = (
            "warning" if any(d.state in ("import error", "not visible yet") for d in outcome.dags) else "info"
        )
        self.notifier.notify(level, f"repo {spec.name}", summary)
        if self.on_published is not None:
            try:
                self.on_published(spec, Path(info.path), candidate.dag_files)
            except AssistantError as exc:  # the deployment stands; only the index is behind
                self.notifier.notify(
                    "warning", f"repo {spec.name}", f"deployed, but not indexed: {exc.message}"
                )
        return outcome

    def _previous_dag_ids(self, name: str, current_id: int) -> list[str]:
        for deployment in self.store.good_deployments(name):
            if deployment.id != current_id:
                return deployment.dag_ids
        return []

    def _failed(
        self, repo: Repo, commit: str, exc: ValidationFailed, started: float, policy: str = ""
    ) -> SyncOutcome:
        deployment_id = self.store.start_deployment(
            repo.name, commit, None, dag_path=repo.dag_path, policy=policy
        )
        self.store.update_deployment(deployment_id, "failed", exc.message)
        self.store.set_state(repo.name, "failing", exc.message, attempt_commit=commit)
        kept = f"; {repo.deployed_commit[:10]} stays deployed" if repo.deployed_commit else ""
        self.notifier.notify("error", f"repo {repo.name}", exc.message + kept)
        return SyncOutcome(
            repo.name,
            "failed",
            commit,
            exc.message + kept,
            deployment_id,
            elapsed_s=time.monotonic() - started,
            policy=policy,
        )

    def _stale(self, repo: Repo, exc: AssistantError) -> SyncOutcome:
        self.store.set_state(repo.name, "stale", exc.message)
        kept = f"; {repo.deployed_commit[:10]} stays deployed" if repo.deployed_commit else ""
        self.notifier.notify("warning", f"repo {repo.name}", f"cannot fetch: {exc.message}{kept}")
        return SyncOutcome(repo.name, "stale", repo.deployed_commit, f"{exc.message}{kept}")

    def _reconcile(self, repo: Repo) -> None:
        """Settle what an interrupted process left: a link still in the namespace the repo was
        moving from, and rows left 'publishing' (from what the link points at)."""
        self._adopt_stray_links(repo)
        linked = publish.published_target(self.dags_folder, repo.namespace, repo.name)
        for deployment in self.store.history(repo.name, limit=20):
            if deployment.result != "publishing":
                continue
            if (
                linked
                and deployment.release_dir
                and Path(deployment.release_dir).resolve() == linked.resolve()
            ):
                self.store.update_deployment(
                    deployment.id, "deployed", "deployed (recovered after an interruption)"
                )
                self.store.set_deployed(repo.name, deployment.commit_sha)
            else:
                self.store.update_deployment(deployment.id, "interrupted", "interrupted before publishing")

    def _adopt_stray_links(self, repo: Repo) -> None:
        others = tuple(n for n in NAMESPACES if n != repo.namespace)
        stray = publish.stray_links(self.dags_folder, repo.name, others, self.config.releases_dir)
        for namespace in stray:
            if publish.published_target(self.dags_folder, repo.namespace, repo.name) is None:
                publish.move(self.dags_folder, namespace, repo.namespace, repo.name)
            else:
                publish.unpublish(self.dags_folder, namespace, repo.name)
