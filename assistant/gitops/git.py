"""The real git, through GitPython: remote queries, shallow fetches into a bare cache, tree reads.

Every call gets the credential through its environment (:func:`assistant.secrets.git_auth_env`);
URLs never carry secrets. git's own failures become :class:`GitError` with the URL redacted and
a hint, classified so that transient failures (host down) are retried and the others are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import CredentialError, GitError
from assistant.gitops.urls import redact
from assistant.secrets import Credential, git_auth_env


class TransientGitError(GitError):
    """The provider is unreachable or failing; worth retrying later."""


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # blob / commit (submodule) / tree
    sha: str
    size: int | None
    path: bytes


_AUTH_MARKERS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied",
    "invalid username or password",
    "access denied",
    "http basic: access denied",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "terminal prompts disabled",
)
_MISSING_MARKERS = (
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "no such file",
)
_TRANSIENT_MARKERS = (
    "could not resolve host",
    "connection refused",
    "connection timed out",
    "timed out",
    "network is unreachable",
    "failed to connect",
    "the remote end hung up",
    "returned error: 5",
    "temporary failure",
)


def _clean_stderr(stderr: str, url: str) -> str:
    text = stderr.replace(url, redact(url))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("stderr:")]
    lines = [ln.removeprefix("fatal: ").removeprefix("error: ").strip("'\" ") for ln in lines]
    return (lines[-1] if lines else "git failed")[:300]


def _translate(exc: Exception, url: str, what: str) -> GitError:
    stderr = str(getattr(exc, "stderr", "") or exc)
    low = stderr.lower()
    shown = redact(url)
    detail = _clean_stderr(stderr, url)
    if any(m in low for m in _AUTH_MARKERS):
        return CredentialError(
            f"{what} {shown} was refused: authentication failed",
            "store a valid token with `assistant cred set NAME --token` (or --ssh-key) and pass --credential NAME",
        )
    if any(m in low for m in _TRANSIENT_MARKERS):
        return TransientGitError(
            f"cannot reach {shown}: {detail}", "check the network or the Git provider; retried"
        )
    if any(m in low for m in _MISSING_MARKERS):
        return GitError(f"no repository at {shown}: {detail}", "check the URL (and that it is readable)")
    return GitError(f"{what} {shown} failed: {detail}", "check the URL, ref and credential")


class GitRemote:
    """Operations on one remote URL with one (optional) credential."""

    def __init__(
        self,
        url: str,
        credential: Credential | None = None,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self._credential = credential
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def _run(self, what: str, action: Callable[[dict[str, str]], object]) -> object:
        import git

        attempt = 0
        while True:
            attempt += 1
            try:
                with git_auth_env(self._credential) as env:
                    return action(env)
            except git.GitCommandError as exc:
                error = _translate(exc, self.url, what)
            if not isinstance(error, TransientGitError) or attempt >= self._retries:
                raise error from None
            self._sleep(self._backoff_s * 2 ** (attempt - 1))

    def ls_remote(self) -> dict[str, str]:
        """{ref name: sha} of the remote, plus 'HEAD->' -> default branch ref when advertised."""
        import git

        def action(env: dict[str, str]) -> object:
            return git.Git().ls_remote("--symref", self.url, env=env)

        out = str(self._run("reading", action))
        refs: dict[str, str] = {}
        for line in out.splitlines():
            left, _, right = line.partition("\t")
            if left.startswith("ref: "):
                refs["HEAD->"] = left.removeprefix("ref: ").strip()
            elif right:
                refs[right.strip()] = left.strip()
        return refs

    def resolve(self, ref_kind: str, ref: str) -> tuple[str, str]:
        """(ref, sha) the spec points at now; ``ref`` filled in with the default branch if empty."""
        refs = self.ls_remote()
        shown = redact(self.url)
        if not [k for k in refs if k != "HEAD->"]:
            raise GitError(f"the repository {shown} is empty", "push a commit with your DAGs first")
        if ref_kind == "sha":
            return ref, ref
        if ref_kind == "tag":
            sha = refs.get(f"refs/tags/{ref}^{{}}") or refs.get(f"refs/tags/{ref}")
            if not sha:
                raise GitError(f"no tag {ref!r} in {shown}", f"list tags with `git ls-remote --tags {shown}`")
            return ref, sha
        if not ref:
            head = refs.get("HEAD->", "")
            if not head.startswith("refs/heads/"):
                raise GitError(f"{shown} advertises no default branch", "pass --branch NAME")
            ref = head.removeprefix("refs/heads/")
        sha = refs.get(f"refs/heads/{ref}")
        if not sha:
            raise GitError(
                f"no branch {ref!r} in {shown}", f"list branches with `git ls-remote --heads {shown}`"
            )
        return ref, sha

    def fetch(self, cache: Path, ref_kind: str, ref: str, sha: str | None = None) -> str:
        """Fetch the commit of the spec (or ``sha``) shallowly into the bare ``cache``; return its sha."""
        import git

        repo = open_cache(cache)
        if sha and has_commit(repo, sha):
            return sha
        if sha or ref_kind == "sha":
            refspec = sha or ref
        elif ref_kind == "tag":
            refspec = f"+refs/tags/{ref}:refs/tags/{ref}"
        else:
            refspec = f"+refs/heads/{ref}:refs/remotes/origin/{ref}"

        def action(env: dict[str, str]) -> object:
            return repo.git.fetch("--depth=1", "--no-tags", "--quiet", self.url, refspec, env=env)

        self._run("fetching", action)
        try:
            return str(repo.git.rev_parse("FETCH_HEAD^{commit}")).strip()
        except git.GitCommandError as exc:
            raise GitError(
                f"the fetched ref {ref!r} is not a commit", "track a branch, a tag or a commit sha"
            ) from exc


def open_cache(cache: Path) -> object:
    import git

    if (cache / "HEAD").exists():
        return git.Repo(cache)
    cache.mkdir(parents=True, exist_ok=True)
    return git.Repo.init(cache, bare=True)


def has_commit(repo: object, sha: str) -> bool:
    import git

    try:
        repo.git.cat_file("-e", f"{sha}^{{commit}}")  # type: ignore[attr-defined]
        return True
    except git.GitCommandError:
        return False


class TreeReader:
    """Reads the tree of a commit in the bare cache through one long-lived ``git cat-file``."""

    def __init__(self, cache: Path) -> None:
        self._repo = open_cache(cache)

    def __enter__(self) -> TreeReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._repo.close()  # type: ignore[attr-defined]

    def entries(self, commit: str, subdir: str) -> Iterator[TreeEntry]:
        """Every entry (blobs, symlinks, submodules) under ``subdir`` of ``commit``, recursively."""
        args = ["-r", "-z", "-l", "--full-tree", commit]
        if subdir:
            args += ["--", subdir]
        raw: bytes = self._repo.git.ls_tree(*args, stdout_as_string=False)  # type: ignore[attr-defined]
        for record in raw.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            mode, kind, sha, size = meta.decode().split(None, 3)
            yield TreeEntry(mode, kind, sha, None if size.strip() == "-" else int(size), path)

    def blob(self, sha: str) -> bytes:
        _hexsha, _kind, _size, data = self._repo.git.get_object_data(sha)  # type: ignore[attr-defined]
        return bytes(data)
