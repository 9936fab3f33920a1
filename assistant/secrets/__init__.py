"""Encrypted credentials: stored with Fernet at rest, handed to git only at call time."""

from __future__ import annotations

from assistant.secrets.git_env import git_auth_env
from assistant.secrets.store import Credential, CredentialStore

__all__ = ["Credential", "CredentialStore", "git_auth_env"]
