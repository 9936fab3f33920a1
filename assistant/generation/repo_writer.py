"""Commit a generated DAG file into a registered repository and push it (GitPython).

The repository's tracked branch is cloned shallowly into a temporary work tree, the file is
written under the repo's DAG path, committed and pushed; the normal webhook/poll deployment takes
it from there. The credential reaches git only through the environment of each call
(:func:`assistant.secrets.git_auth_env`); the URL never carries it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from assistant.errors import GitError, UsageError
from assistant.gitops.git import translate_error
from assistant.gitops.urls import redact
from assistant.secrets import git_auth_env

if TYPE_CHECKING:
    from assistant.gitops.models import Repo
    from assistant.secrets import Credential

COMMITTER = ("Airflow assistant", "assistant@localhost")


@dataclass(frozen=True)
class PushedFile:
    repo: str
    branch: str
    path: str  # inside the repository
    commit: str


class GitRepoWriter:
    """Writes one file into one registered repository's DAG path and pushes the commit."""

    def __init__(self, repo: Repo, credential: Credential | None, known_hosts: Path | None = None) -> None:
        if repo.ref_kind != "branch":
            raise UsageError(
                f"repository {repo.name} tracks a {repo.ref_kind} ({repo.ref}), which cannot be pushed to",
                "register the repository on a branch to push generated DAGs into it, or use --out FILE",
            )
        self.repo = repo
        self.credential = credential
        self.known_hosts = known_hosts

    def target_path(self, filename: str) -> str:
        return str(PurePosixPath(self.repo.dag_path or ".") / filename).removeprefix("./")

    def write(self, filename: str, content: str, message: str) -> PushedFile:
        import git

        url = self.repo.url
        with (
            tempfile.TemporaryDirectory(prefix="assistant-generate-") as tmp,
            git_auth_env(self.credential, self.known_hosts) as env,
        ):
            work = Path(tmp) / "work"
            options: dict[str, object] = {"depth": 1, "env": env}
            if self.repo.ref:
                options["branch"] = self.repo.ref
            try:
                clone = git.Repo.clone_from(url, work, **options)
            except git.GitCommandError as exc:
                raise translate_error(
                    exc, url, "cloning", self.credential, known_hosts=self.known_hosts
                ) from None
            try:
                branch = clone.active_branch.name
            except TypeError:
                raise GitError(
                    f"{redact(url)} has no branch checked out", "register the repo on a branch"
                ) from None
            relative = self.target_path(filename)
            target = work / relative
            if target.exists():
                raise UsageError(
                    f"{relative} already exists in repository {self.repo.name}",
                    "choose another name (describe it with 'called NEW_NAME') or edit the file in the repo",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            clone.index.add([relative])
            actor = git.Actor(*COMMITTER)
            commit = clone.index.commit(message, author=actor, committer=actor)
            try:
                with clone.git.custom_environment(**env):
                    clone.git.push("origin", f"HEAD:refs/heads/{branch}")
            except git.GitCommandError as exc:
                raise translate_error(
                    exc, url, "pushing to", self.credential, known_hosts=self.known_hosts
                ) from None
            return PushedFile(self.repo.name, branch, relative, commit.hexsha)
