"""SSH keys against a real sshd that asks for them (loopback, random port, git-shell only).

Skipped, with the reason, when this machine cannot run sshd (decided at runtime by
``sshd_unavailable``: no binary, no privilege-separation directory, or `sshd -t` refusing the
configuration). ``scripts/bootstrap.sh`` installs openssh-server when it runs as root.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import CredentialError, GitError
from assistant.gitops.git import GitRemote, TransientGitError
from assistant.secrets import Credential
from tests.gitops.gitrepos import RemoteRepo, dag_source, make_remote, unique
from tests.gitops.gitservers import LOOPBACK, SshGitServer, closed_port, files_containing, make_key, ssh_spy


def _key_body(private_key: Path) -> bytes:
    """A line from the middle of the private key: present in any copy of it, in no public file."""
    lines = private_key.read_text().splitlines()
    return lines[2].encode()


@pytest.fixture
def ssh_remote(tmp_path: Path) -> RemoteRepo:
    remote = make_remote(tmp_path / "ssh-root", "flows")
    remote.commit({"dags/a.py": dag_source(unique("ssh"))}, "first")
    return remote


@pytest.fixture
def other_key(tmp_path: Path) -> Path:
    return make_key(tmp_path / "keys" / "id_other")


def _cred(key: Path, name: str = "deploy") -> Credential:
    return Credential(name, "ssh_key", key.read_text())


def _remote(url: str, credential: Credential | None = None, **options: Any) -> GitRemote:
    """A GitRemote learning host keys into the test's ASSISTANT_HOME (never the real ~/.ssh)."""
    known_hosts = Path(os.environ["ASSISTANT_HOME"]) / "ssh" / "known_hosts"
    return GitRemote(url, credential, known_hosts=known_hosts, **options)


@pytest.fixture(autouse=True)
def _real_ssh_dir_untouched() -> Iterator[None]:
    """ssh finds ~ in the password database, not $HOME: prove the tests leave the real one alone."""
    real = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh" / "known_hosts"
    before = real.read_bytes() if real.exists() else None
    yield
    assert (real.read_bytes() if real.exists() else None) == before


def test_the_right_key_reads_and_fetches(
    ssh_git_server: SshGitServer, ssh_remote: RemoteRepo, ssh_client_key: Path, tmp_path: Path
) -> None:
    url = ssh_git_server.url(ssh_remote.bare)
    remote = _remote(url, _cred(ssh_client_key))
    _ref, sha = remote.resolve("branch", "")
    cache = tmp_path / "cache"
    assert remote.fetch(cache, "branch", "main") == sha
    assert "Accepted publickey" in ssh_git_server.log.read_text()
    assert files_containing(_key_body(ssh_client_key), cache, tmp_path / "home") == []


def test_a_key_with_crlf_line_ends_still_works(
    ssh_git_server: SshGitServer, ssh_remote: RemoteRepo, ssh_client_key: Path
) -> None:
    pasted = ssh_client_key.read_text().replace("\n", "\r\n").rstrip("\r\n")
    url = ssh_git_server.url(ssh_remote.bare)
    assert _remote(url, Credential("k", "ssh_key", pasted)).resolve("branch", "")[0] == "main"


def test_a_wrong_key_is_refused_once_and_named(
    ssh_git_server: SshGitServer, ssh_remote: RemoteRepo, other_key: Path
) -> None:
    sleeps: list[float] = []
    remote = _remote(ssh_git_server.url(ssh_remote.bare), _cred(other_key), sleep=sleeps.append)
    with pytest.raises(CredentialError) as caught:
        remote.ls_remote()
    assert caught.value.message.startswith("wrong credentials:")
    assert "SSH key of credential 'deploy'" in caught.value.message
    assert "assistant cred set deploy --ssh-key FILE" in caught.value.hint
    assert sleeps == []


def test_no_key_says_which_credential_to_set(ssh_git_server: SshGitServer, ssh_remote: RemoteRepo) -> None:
    with pytest.raises(CredentialError) as caught:
        _remote(ssh_git_server.url(ssh_remote.bare)).ls_remote()
    assert "asks for credentials and none was given" in caught.value.message
    assert "assistant cred set flows --ssh-key FILE" in caught.value.hint


def test_a_missing_repository_behind_ssh(
    ssh_git_server: SshGitServer, ssh_client_key: Path, tmp_path: Path
) -> None:
    with pytest.raises(GitError, match="does not appear to be a git repository") as caught:
        _remote(ssh_git_server.url(tmp_path / "nope.git"), _cred(ssh_client_key)).ls_remote()
    assert not isinstance(caught.value, (CredentialError, TransientGitError))


def test_a_changed_host_key_is_reported_as_such(
    ssh_git_server: SshGitServer, ssh_remote: RemoteRepo, ssh_client_key: Path
) -> None:
    url = ssh_git_server.url(ssh_remote.bare)
    _remote(url, _cred(ssh_client_key)).ls_remote()  # records the host key (accept-new)
    (ssh_git_server.workdir / "host_ed25519").unlink()
    (ssh_git_server.workdir / "host_ed25519.pub").unlink()
    ssh_git_server.stop()
    port = ssh_git_server.port
    ssh_git_server.start(port=port)  # a new host key on the same port, so known_hosts applies
    if ssh_git_server.port != port:
        pytest.skip("could not restart sshd on the same port")
    with pytest.raises(GitError, match="SSH host key") as caught:
        _remote(ssh_git_server.url(ssh_remote.bare), _cred(ssh_client_key)).ls_remote()
    assert not isinstance(caught.value, (CredentialError, TransientGitError))
    known_hosts = Path(os.environ["ASSISTANT_HOME"]) / "ssh" / "known_hosts"
    assert f"ssh-keygen -R '[127.0.0.1]:{port}' -f {known_hosts}" in caught.value.hint


def test_a_closed_ssh_port_is_retried_then_reported(ssh_client_key: Path) -> None:
    sleeps: list[float] = []
    url = f"ssh://git@{LOOPBACK}:{closed_port()}/flows.git"
    with pytest.raises(TransientGitError, match=r"Connection refused \(3 attempts\)"):
        _remote(url, _cred(ssh_client_key), retries=3, backoff_s=0.1, sleep=sleeps.append).ls_remote()
    assert sleeps == [0.1, 0.2]


# -- the CLI against the real Airflow --------------------------------------------------------


@pytest.fixture
def spied_ssh(private_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR (``private_tmp``) and an ``ssh`` wrapper first in PATH for the CLI; returns the wrapper's log."""
    log = tmp_path / "ssh-spy.log"
    bin_dir = ssh_spy(tmp_path / "spy-bin", log)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.mark.integration
def test_repo_add_over_ssh_with_a_stored_key(
    live_airflow: dict[str, str],
    run_cli: Any,
    ssh_git_server: SshGitServer,
    ssh_remote: RemoteRepo,
    ssh_client_key: Path,
    other_key: Path,
    spied_ssh: Path,
    tmp_path: Path,
) -> None:
    name = unique("ssh")
    dag_id = unique("sshdag")
    ssh_remote.commit({"dags/a.py": dag_source(dag_id)})
    url = ssh_git_server.url(ssh_remote.bare)
    outputs = [
        run_cli("cred", "set", "deploy", "--ssh-key", str(ssh_client_key)),
        run_cli("cred", "set", "other", "--ssh-key", str(other_key)),
    ]
    assert all(r.returncode == 0 for r in outputs), [r.stderr for r in outputs]

    wrong = run_cli("repo", "add", url, "--name", name, "--path", "dags", "--credential", "other")
    outputs.append(wrong)
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert wrong.stderr.startswith("error: wrong credentials: ") and "'other'" in wrong.stderr
    assert json.loads(run_cli("repo", "list", "--json").stdout) == []
    assert not (Path(live_airflow["ASSISTANT_DAGS_FOLDER"]) / "personal" / name).exists()

    added = run_cli("repo", "add", url, "--name", name, "--path", "dags", "--credential", "deploy", "--json")
    outputs.append(added)
    try:
        assert added.returncode == 0, added.stderr
        outcome = json.loads(added.stdout)
        assert outcome["result"] == "deployed" and [d["dag_id"] for d in outcome["dags"]] == [dag_id]
        ssh_remote.commit({"dags/a.py": dag_source(dag_id, "v2")})
        synced = run_cli("repo", "sync", name, "--json")
        outputs.append(synced)
        assert synced.returncode == 0 and json.loads(synced.stdout)[0]["result"] == "deployed"
    finally:
        outputs.append(run_cli("repo", "remove", name))

    # While each git call ran, the key was a 0600 file in a 0700 directory of its own, in TMPDIR...
    spied = [line.split(" ", 1) for line in spied_ssh.read_text().splitlines()]
    keys = [Path(p) for mode, p in spied[0::2]]
    assert len(keys) >= 3 and {mode for mode, _ in spied[0::2]} == {"600"}
    assert {mode for mode, _ in spied[1::2]} == {"700"}
    tmp = Path(os.environ["TMPDIR"])
    assert all(k.is_relative_to(tmp) for k in keys)
    # ...and is gone afterwards: no copy of either key in clear anywhere the assistant writes.
    assert not any(k.exists() for k in keys)
    assert [p.name for p in tmp.iterdir() if p.name.startswith("assistant-git-")] == []
    roots = [
        Path(os.environ["ASSISTANT_HOME"]),
        Path(os.environ["HOME"]),
        tmp,
        Path(live_airflow["ASSISTANT_DAGS_FOLDER"]),
    ]
    for key in (ssh_client_key, other_key):
        assert files_containing(_key_body(key), *roots) == []
        assert all(_key_body(key).decode() not in r.stdout + r.stderr for r in outputs)
        dump = "\n".join(sqlite3.connect(Path(os.environ["ASSISTANT_HOME"]) / "state.db").iterdump())
        assert _key_body(key).decode() not in dump
    # The host key accepted on first contact went to the assistant's own known_hosts.
    assert "ssh-ed25519" in (Path(os.environ["ASSISTANT_HOME"]) / "ssh" / "known_hosts").read_text()
