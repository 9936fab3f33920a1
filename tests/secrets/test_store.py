from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from assistant.errors import CredentialError, UsageError
from assistant.secrets import Credential, CredentialStore, git_auth_env

SECRET = "ghp_SuperSecretToken_1234567890"


def test_round_trip_encrypted_at_rest_with_a_private_key_file(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.set(Credential("github", "token", SECRET))
    assert store.get("github").secret == SECRET
    stored = (tmp_path / "secrets" / "github.cred").read_bytes()
    assert SECRET.encode() not in stored
    key_file = tmp_path / "secrets" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets" / "github.cred").stat().st_mode) == 0o600
    assert store.names() == [("github", "token")]
    assert SECRET not in repr(store.get("github")) and SECRET not in str(store.get("github"))


def test_configured_key_is_used_and_a_wrong_key_cannot_decrypt(tmp_path: Path) -> None:
    CredentialStore(tmp_path, "first passphrase").set(Credential("c", "basic", SECRET, "alice"))
    assert not (tmp_path / "secrets" / "secret.key").exists()
    assert CredentialStore(tmp_path, "first passphrase").get("c").username == "alice"
    with pytest.raises(CredentialError, match="cannot be decrypted"):
        CredentialStore(tmp_path, "another passphrase").get("c")


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.set(Credential("c", "token", SECRET))
    os.chmod(tmp_path / "secrets" / "secret.key", 0o644)
    with pytest.raises(CredentialError, match="readable by other users"):
        CredentialStore(tmp_path).get("c")


def test_remove_and_bad_names(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.set(Credential("c", "token", SECRET))
    store.remove("c")
    assert store.names() == []
    with pytest.raises(CredentialError, match="no credential named"):
        store.get("c")
    with pytest.raises(UsageError):
        store.set(Credential("../evil", "token", SECRET))
    with pytest.raises(UsageError, match="empty"):
        store.set(Credential("empty", "token", ""))


def test_askpass_answers_from_the_environment_and_files_vanish() -> None:
    with git_auth_env(Credential("c", "basic", SECRET, "alice")) as env:
        askpass = env["GIT_ASKPASS"]
        assert SECRET not in Path(askpass).read_text()
        full = {**os.environ, **env}
        user = subprocess.run(
            [askpass, "Username for 'https://example'"], env=full, capture_output=True, text=True
        )
        password = subprocess.run(
            [askpass, "Password for 'https://alice@example'"], env=full, capture_output=True
        )
        assert user.stdout.strip() == "alice"
        assert password.stdout.decode().strip() == SECRET
    assert not Path(askpass).exists()


def test_ssh_key_is_a_private_temporary_file_during_the_call(tmp_path: Path) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"
    with git_auth_env(Credential("k", "ssh_key", key)) as env:
        key_path = Path(env["GIT_SSH_COMMAND"].split("-i ", 1)[1].split(" ", 1)[0])
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        assert not key_path.is_relative_to(tmp_path)
    assert not key_path.exists()
