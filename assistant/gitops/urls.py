"""Remote URLs: validation, redaction and normalisation for matching webhooks to repos."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from assistant.errors import UsageError

_SCP_LIKE = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*)$")
_SCHEMES = {"https", "http", "ssh", "git", "file"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def check_url(url: str) -> str:
    """Return ``url`` stripped, or raise UsageError for a malformed URL or one carrying a secret."""
    url = url.strip()
    hint = "use https://host/owner/repo.git, ssh://git@host/owner/repo.git, git@host:owner/repo.git or file:///path"
    if not url or any(c.isspace() for c in url):
        raise UsageError(f"malformed repository URL {redact(url)!r}", hint)
    if "://" not in url:
        if _SCP_LIKE.match(url) and not url.startswith("/"):
            return url
        raise UsageError(f"malformed repository URL {redact(url)!r}", hint)
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise UsageError(f"unsupported URL scheme {parts.scheme!r} in {redact(url)!r}", hint)
    if parts.scheme == "file":
        if not parts.path:
            raise UsageError(f"malformed repository URL {redact(url)!r}", hint)
        return url
    if not parts.hostname:
        raise UsageError(f"repository URL {redact(url)!r} has no host", hint)
    if parts.password is not None or (parts.username and parts.scheme in ("https", "http")):
        raise UsageError(
            "the repository URL contains credentials",
            "remove them from the URL and store them with `assistant cred set NAME --token`, "
            "then pass --credential NAME",
        )
    return url


def redact(url: str) -> str:
    """The URL without any user-info part (``https://user:pw@host`` -> ``https://host``)."""
    if "://" in url:
        scheme, _, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            authority = authority.rsplit("@", 1)[1]
        return f"{scheme}://{authority}{slash}{path}"
    return url


def normalise(url: str) -> str:
    """A comparable key: host/path lower-cased, without scheme, user, port, '.git' or slashes."""
    url = redact(url.strip())
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file":
            key = f"file:{parts.path}"
        else:
            key = f"{(parts.hostname or '').lower()}/{parts.path.lstrip('/')}"
    else:
        match = _SCP_LIKE.match(url)
        key = f"{match.group('host').lower()}/{match.group('path')}" if match else url
    key = key.rstrip("/")
    return key.removesuffix(".git").lower()


def default_name(url: str) -> str:
    tail = redact(url).rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.removesuffix(".git") or "repo"


def check_repo_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid repository name {name!r}",
            "use letters, digits, '.', '_' or '-' (at most 63 characters), starting with a letter or digit",
        )
    return name
