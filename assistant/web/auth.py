"""The bearer token of the REST API: where it comes from, how it is stored, how it is checked.

The token is the ``api_token`` setting (``ASSISTANT_API_TOKEN`` or ``[serve] api_token``); when that
is unset, ``serve`` generates one on first start and keeps it in ``<home>/api_token`` (mode 0600).
The value is never logged: :class:`ApiToken` says where it lives, ``assistant serve --show-token``
prints it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.config import Config

MIN_LENGTH = 16
TOKEN_FILE = "api_token"
_log = logging.getLogger("assistant.web")


@dataclass(frozen=True)
class ApiToken:
    value: str = field(repr=False)
    source: str  # "env ASSISTANT_API_TOKEN", "config.toml [serve] api_token" or "file"
    path: Path | None = None  # the file it is kept in, when generated

    def where(self) -> str:
        """Where to find the token, for the serve log (never the value itself)."""
        if self.path is not None:
            return f"the API token is in {self.path} (print it with `assistant serve --show-token`)"
        return f"the API token is the one set in {self.source}"


def token_path(config: Config) -> Path:
    return config.home / TOKEN_FILE


def ensure_token(config: Config) -> ApiToken:
    """The configured token, else the stored one, else a new one stored with 0600 permissions."""
    if config.api_token:
        if len(config.api_token) < MIN_LENGTH:
            raise ConfigError(
                f"the API token is too short ({len(config.api_token)} characters)",
                f"set ASSISTANT_API_TOKEN (or [serve] api_token) to at least {MIN_LENGTH} random "
                "characters, or unset it and `serve` generates one",
            )
        return ApiToken(config.api_token, config.source.get("api_token", "the configuration"))
    path = token_path(config)
    stored = _read(path)
    if stored is None:
        stored = _create(path)
    return ApiToken(stored, "file", path)


def _read(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _log.warning("%s was readable by others; its permissions are now 0600", path)
        path.chmod(0o600)
    value = path.read_text().strip()
    if len(value) < MIN_LENGTH:
        raise ConfigError(
            f"the API token in {path} is too short",
            "delete the file and `serve` generates a new one on its next start",
        )
    return value


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read(path) or value
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    _log.info("generated a new API token in %s", path)
    return value


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token``, compared in constant time."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    # Digests of equal length: the comparison reveals neither content nor length.
    return hmac.compare_digest(_digest(given.strip()), _digest(token)) and bool(given.strip())


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()
