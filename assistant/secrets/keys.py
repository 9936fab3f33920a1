"""Where the encryption key of the credential store comes from.

In order: the configured key (``ASSISTANT_SECRET_KEY``), the OS keyring when a real backend is
available, else a key file under the assistant's home readable only by its owner (created on
first use).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from assistant.errors import CredentialError

KEYRING_SERVICE = "airflow-assistant"
KEY_FILE_NAME = "secret.key"


def load_key(home: Path, configured: str | None) -> bytes:
    """Return a Fernet key (urlsafe base64 of 32 bytes)."""
    if configured:
        return _key_from_passphrase(configured)
    from_keyring = _keyring_key(home)
    if from_keyring is not None:
        return from_keyring
    return _file_key(home / "secrets" / KEY_FILE_NAME)


def _key_from_passphrase(value: str) -> bytes:
    """Accept a Fernet key as is; derive one from any other string."""
    raw = value.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"airflow-assistant:" + raw).digest())


def _keyring_key(home: Path) -> bytes | None:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    account = str(home.resolve())
    try:
        stored = keyring.get_password(KEYRING_SERVICE, account)
        if stored:
            return stored.encode()
        from cryptography.fernet import Fernet

        key = Fernet.generate_key()
        keyring.set_password(KEYRING_SERVICE, account, key.decode())
        return key
    except Exception:  # keyring backends raise their own types; fall back to the key file
        return None


def _file_key(path: Path) -> bytes:
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CredentialError(
                f"the key file {path} is readable by other users (mode {mode:o})",
                f"run `chmod 600 {path}`",
            )
        return path.read_bytes().strip()
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
