"""The credential store: one Fernet-encrypted file per credential under ``<home>/secrets``.

Only names are ever listed. Values are decrypted on demand, kept in memory for the duration of
one git call, and never logged.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.errors import CredentialError, UsageError
from assistant.secrets.keys import load_key

CredentialKind = Literal["token", "ssh_key", "basic"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SUFFIX = ".cred"


@dataclass(frozen=True)
class Credential:
    name: str
    kind: CredentialKind
    secret: str = field(repr=False)
    username: str | None = None

    def __str__(self) -> str:  # never the secret
        return f"Credential({self.name}, {self.kind})"


class CredentialStore:
    def __init__(self, home: Path, configured_key: str | None = None) -> None:
        self.directory = home / "secrets"
        self._home = home
        self._configured_key = configured_key
        self._fernet_cache: object | None = None

    def _fernet(self) -> object:
        if self._fernet_cache is None:
            from cryptography.fernet import Fernet

            try:
                self._fernet_cache = Fernet(load_key(self._home, self._configured_key))
            except ValueError:
                raise CredentialError(
                    "the credential key is not a valid key", "set ASSISTANT_SECRET_KEY or remove the key file"
                ) from None
        return self._fernet_cache

    def encrypt(self, plain: str) -> str:
        return self._fernet().encrypt(plain.encode()).decode()  # type: ignore[attr-defined]

    def decrypt(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet().decrypt(token.encode()).decode()  # type: ignore[attr-defined]
        except (InvalidToken, ValueError):
            raise CredentialError(
                "a stored secret cannot be decrypted with the current key",
                "the key changed (ASSISTANT_SECRET_KEY, keyring or key file); set the credential again",
            ) from None

    def _path(self, name: str) -> Path:
        check_name(name)
        return self.directory / f"{name}{_SUFFIX}"

    def set(self, credential: Credential) -> None:
        if not credential.secret:
            raise UsageError("the secret is empty", "pass a non-empty token, password or key")
        payload = json.dumps(
            {"kind": credential.kind, "username": credential.username, "secret": credential.secret}
        )
        path = self._path(credential.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.encrypt(payload))
        os.replace(tmp, path)

    def get(self, name: str) -> Credential:
        path = self._path(name)
        if not path.exists():
            raise CredentialError(
                f"no credential named {name!r}", f"store it with `assistant cred set {name} --token`"
            )
        data = json.loads(self.decrypt(path.read_text()))
        return Credential(name=name, kind=data["kind"], secret=data["secret"], username=data.get("username"))

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def names(self) -> list[tuple[str, str]]:
        """(name, kind) pairs; decrypts each to know its kind, never returns a secret."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            name = path.name.removesuffix(_SUFFIX)
            try:
                kind = self.get(name).kind
            except CredentialError:
                kind = "unreadable"
            found.append((name, kind))
        return found

    def remove(self, name: str) -> None:
        path = self._path(name)
        if not path.exists():
            raise CredentialError(f"no credential named {name!r}", "list them with `assistant cred list`")
        path.unlink()


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid credential name {name!r}",
            "use letters, digits, '.', '_' or '-' (at most 64 characters), starting with a letter or digit",
        )
