"""What git_auth_env hands to git: no user helper, no prompt, a private key file, known_hosts."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from assistant.secrets import Credential, git_auth_env

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\r\nabc\r\n-----END OPENSSH PRIVATE KEY-----"


def _git_config(env: dict[str, str], key: str, cwd: Path) -> list[str]:
    done = subprocess.run(
        ["git", "config", "--get-all", key],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines()


def test_the_users_credential_helpers_are_cleared(tmp_path: Path) -> None:
    (Path(os.environ["HOME"]) / ".gitconfig").write_text(
        '[credential]\n\thelper = store\n[credential "http://127.0.0.1"]\n\thelper = cache\n'
    )
    with git_auth_env(Credential("c", "token", "s3cret")) as env:
        assert _git_config(env, "credential.helper", tmp_path)[-1] == ""  # the reset comes last
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert "s3cret" not in " ".join(k + v for k, v in env.items() if k != "ASSISTANT_GIT_PASSWORD")


def test_a_callers_git_config_count_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "http.proxy")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "http://proxy.invalid:3128")
    with git_auth_env(None) as env:
        assert env["GIT_CONFIG_COUNT"] == "2" and env["GIT_CONFIG_KEY_1"] == "credential.helper"
        assert _git_config(env, "http.proxy", tmp_path) == ["http://proxy.invalid:3128"]


def test_ssh_key_file_is_normalised_private_and_temporary(tmp_path: Path) -> None:
    known_hosts = tmp_path / "home" / "ssh" / "known_hosts"
    with git_auth_env(Credential("k", "ssh_key", KEY), known_hosts) as env:
        argv = shlex.split(env["GIT_SSH_COMMAND"])
        key_path = Path(argv[argv.index("-i") + 1])
        assert key_path.read_bytes() == KEY.replace("\r\n", "\n").encode() + b"\n"
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
        assert "BatchMode=yes" in argv and "IdentitiesOnly=yes" in argv
        assert f'UserKnownHostsFile="{known_hosts}" ~/.ssh/known_hosts' in argv
        assert stat.S_IMODE(known_hosts.parent.stat().st_mode) == 0o700
    assert not key_path.exists() and not key_path.parent.exists()
