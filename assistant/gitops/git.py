"""The real git, through GitPython: remote queries, shallow fetches into a bare cache, tree reads.

Every call gets the credential through its environment (:func:`assistant.secrets.git_auth_env`);
URLs never carry secrets. git's own failures become :class:`GitError` with the URL redacted and
a hint, classified so that transient failures (host down) are retried and the others are not.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from assistant.errors import CredentialError, GitError
from assistant.gitops.urls import default_name, redact
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
    "permission denied (",  # ssh: "Permission denied (publickey)."; not a local file's EACCES
    "invalid username or password",
    "access denied",
    "http basic: access denied",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "terminal prompts disabled",
)
_HOST_KEY_MARKERS = (
    "host key verification failed",
    "remote host identification has changed",
)
_MISSING_MARKERS = (
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "no such file",
)
_TRANSIENT_MARKERS = (
    "could not resolve host",
    "could not resolve hostname",
    "connection refused",
    "connection reset",
    "connection closed",
    "connection timed out",
    "timed out",
    "network is unreachable",
    "no route to host",
    "failed to connect",
    "the remote end hung up",
    "returned error: 5",
    "temporary failure",
    "operation too slow",
)
_TIMEOUT_MARKER = "did not complete in"  # GitPython's message when kill_after_timeout fires

# How long one git call may take before it is killed (then retried as a transient failure).
LS_REMOTE_TIMEOUT_S = 60.0
FETCH_TIMEOUT_S = 600.0


_KIND_WORDS = {"token": "token", "basic": "username and password", "ssh_key": "SSH key"}


def uses_ssh(url: str) -> bool:
    """ssh://... and scp-like user@host:path URLs authenticate with keys, the others with tokens."""
    if "://" in url:
        return url.split("://", 1)[0].lower() in ("ssh", "git+ssh", "ssh+git")
    return True


def _suggested_name(url: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", default_name(url)).strip("-.")[:64]
    return name if name and name[0].isalnum() else "git"


def _auth_error(url: str, credential: Credential | None) -> CredentialError:
    shown = redact(url)
    flag = "--ssh-key FILE" if uses_ssh(url) else "--token"
    if credential is None:
        name = _suggested_name(url)
        return CredentialError(
            f"{shown} asks for credentials and none was given",
            f"store one with `assistant cred set {name} {flag}` and add the repo with `--credential {name}`",
        )
    return CredentialError(
        f"wrong credentials: {shown} refused the {_KIND_WORDS.get(credential.kind, 'secret')} "
        f"of credential {credential.name!r}",
        f"store the right one with `assistant cred set {credential.name} {flag}` "
        "(and check it may read this repository)",
    )


def _clean_stderr(stderr: str, url: str) -> str:
    """The most telling line of git's error output: the first fatal/error/ssh line, URL redacted."""
    text = stderr.replace(url, redact(url)).strip()
    text = re.sub(r"^stderr:\s*'", "", text).removesuffix("'")  # GitPython wraps git's stderr so
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    telling = [ln for ln in lines if ln.lower().startswith(("fatal:", "error:", "ssh:"))]
    chosen = (telling or lines or ["git failed"])[0]
    chosen = chosen.removeprefix("fatal: ").removeprefix("error: ").strip()
    return re.sub(r"^unable to access '[^']*': ", "", chosen)[:300]  # the URL is in the message already


def _ssh_host(url: str) -> str:
    """The host as ssh-keygen -R wants it: ``host`` or ``[host]:port``."""
    if "://" in url:
        parts = urlsplit(url)
        return f"[{parts.hostname}]:{parts.port}" if parts.port else str(parts.hostname)
    return url.split("@", 1)[-1].split(":", 1)[0]


def translate_error(
    exc: Exception,
    url: str,
    what: str,
    credential: Credential | None = None,
    timeout_s: float | None = None,
    known_hosts: Path | None = None,
) -> GitError | CredentialError:
    stderr = str(getattr(exc, "stderr", "") or exc)
    low = stderr.lower()
    shown = redact(url)
    detail = _clean_stderr(stderr, url)
    if _TIMEOUT_MARKER in low:
        return TransientGitError(
            f"{shown} did not answer within {timeout_s or 0:g} s", "check the network or the Git provider"
        )
    if any(m in low for m in _AUTH_MARKERS):
        return _auth_error(url, credential)
    if any(m in low for m in _HOST_KEY_MARKERS):
        host = shlex.quote(_ssh_host(url))
        files = [shlex.quote(str(known_hosts))] if known_hosts else []
        removals = " or ".join(f"`ssh-keygen -R {host} -f {f}`" for f in [*files, "~/.ssh/known_hosts"])
        return GitError(
            f"the SSH host key of {shown} is not the one recorded when it was first seen",
            f"this may be an attack; if the server's key really changed, forget the old one with {removals}",
        )
    if any(m in low for m in _TRANSIENT_MARKERS):
        return TransientGitError(f"cannot reach {shown}: {detail}", "check the network or the Git provider")
    if any(m in low for m in _MISSING_MARKERS):
        readable = f"that credential {credential.name!r} may read it" if credential else "that it is public"
        return GitError(f"no repository at {shown}: {detail}", f"check the URL and {readable}")
    return GitError(f"{what} {shown} failed: {detail}", "check the URL, ref and credential")


def check_credential_fits(url: str, credential: Credential | None) -> None:
    """A token cannot open an ssh:// URL and an SSH key cannot open an https:// one."""
    if credential is None or url.startswith("file:") or url.startswith("git://"):
        return
    shown = redact(url)
    if uses_ssh(url) and credential.kind != "ssh_key":
        raise CredentialError(
            f"credential {credential.name!r} is a {_KIND_WORDS.get(credential.kind, credential.kind)}, "
            f"but {shown} is an SSH URL that needs a key",
            "store a key with `assistant cred set NAME --ssh-key FILE`, or use the https:// URL",
        )
    if not uses_ssh(url) and credential.kind == "ssh_key":
        raise CredentialError(
            f"credential {credential.name!r} is an SSH key, but {shown} is an HTTP(S) URL",
            "use the ssh:// (or git@host:path) URL, or store a token with `assistant cred set NAME --token`",
        )


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
        ls_remote_timeout_s: float = LS_REMOTE_TIMEOUT_S,
        fetch_timeout_s: float = FETCH_TIMEOUT_S,
        known_hosts: Path | None = None,
    ) -> None:
        check_credential_fits(url, credential)
        self.url = url
        self._credential = credential
        self._retries = max(1, retries)
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._ls_remote_timeout_s = ls_remote_timeout_s
        self._fetch_timeout_s = fetch_timeout_s
        self._known_hosts = known_hosts

    def _run(self, what: str, timeout_s: float, action: Callable[[dict[str, str]], object]) -> object:
        """Run ``action(env)``; transient failures are retried with exponential backoff."""
        import git

        attempt = 0
        while True:
            attempt += 1
            try:
                with git_auth_env(self._credential, self._known_hosts) as env:
                    return action(env)
            except git.GitCommandError as exc:
                error = translate_error(exc, self.url, what, self._credential, timeout_s, self._known_hosts)
            if not isinstance(error, TransientGitError):
                raise error from None
            if attempt >= self._retries:
                tries = f" ({attempt} attempts)" if attempt > 1 else ""
                raise TransientGitError(
                    error.message + tries, error.hint + ("; retried with backoff" if attempt > 1 else "")
                ) from None
            self._sleep(self._backoff_s * 2 ** (attempt - 1))

    def ls_remote(self) -> dict[str, str]:
        """{ref name: sha} of the remote, plus 'HEAD->' -> default branch ref when advertised."""
        import git

        timeout = self._ls_remote_timeout_s

        def action(env: dict[str, str]) -> object:
            return git.Git().ls_remote("--symref", self.url, env=env, kill_after_timeout=timeout)

        out = str(self._run("reading", timeout, action))
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
        _remove_stale_locks(cache)
        if sha or ref_kind == "sha":
            refspec = sha or ref
        elif ref_kind == "tag":
            refspec = f"+refs/tags/{ref}:refs/tags/{ref}"
        else:
            refspec = f"+refs/heads/{ref}:refs/remotes/origin/{ref}"

        timeout = self._fetch_timeout_s

        def action(env: dict[str, str]) -> object:
            return repo.git.fetch(  # type: ignore[attr-defined]
                "--depth=1", "--no-tags", "--quiet", self.url, refspec, env=env, kill_after_timeout=timeout
            )

        self._run("fetching", timeout, action)
        try:
            return str(repo.git.rev_parse("FETCH_HEAD^{commit}")).strip()
        except git.GitCommandError as exc:
            raise GitError(
                f"the fetched ref {ref!r} is not a commit", "track a branch, a tag or a commit sha"
            ) from exc


def _remove_stale_locks(cache: Path) -> None:
    """Drop lock files a killed fetch left behind (callers hold the repo's lock, so none is live)."""
    for lock in [cache / "shallow.lock", cache / "packed-refs.lock", cache / "config.lock"]:
        lock.unlink(missing_ok=True)
    refs = cache / "refs"
    if refs.is_dir():
        for lock in refs.rglob("*.lock"):
            lock.unlink(missing_ok=True)


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
