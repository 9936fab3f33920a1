"""HTTP(S) credentials against a real server that asks for them: basic auth before git http-backend.

The server (tests/gitops/gitservers.py) runs on 127.0.0.1 only, on a random port. The first half
drives GitRemote directly (no Airflow); the second half runs the CLI against the real local Airflow.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import CredentialError, GitError
from assistant.gitops.git import GitRemote, TransientGitError
from assistant.secrets import Credential
from tests.gitops.conftest import HTTP_TOKEN
from tests.gitops.gitrepos import RemoteRepo, dag_source, unique
from tests.gitops.gitservers import LOOPBACK, HttpGitServer, closed_port, files_containing

WRONG_TOKEN = "tok_Wrong_S3cret_55e0b2"


def _token(secret: str = HTTP_TOKEN, name: str = "tok") -> Credential:
    return Credential(name, "token", secret)


@pytest.fixture
def flows(http_remote: RemoteRepo) -> str:
    return http_remote.commit({"dags/a.py": dag_source(unique("http"))}, "first")


# -- GitRemote against the server ------------------------------------------------------------


def test_the_token_travels_only_in_the_authorization_header(
    http_git_server: HttpGitServer, flows: str, tmp_path: Path
) -> None:
    url = http_git_server.url("flows.git")
    remote = GitRemote(url, _token())
    assert remote.resolve("branch", "") == ("main", flows)
    cache = tmp_path / "cache"
    assert remote.fetch(cache, "branch", "main") == flows

    seen = http_git_server.requests
    assert seen[0].authorized is False and seen[0].password is None  # git asks without, gets 401
    assert any(r.authorized and r.password == HTTP_TOKEN for r in seen)
    assert {r.username for r in seen if r.authorized} == {"x-access-token"}
    assert all(HTTP_TOKEN not in r.path + r.query for r in seen)
    assert files_containing(HTTP_TOKEN.encode(), cache, tmp_path / "home") == []
    assert "@" not in (cache / "config").read_text() and "@" not in (cache / "FETCH_HEAD").read_text()


def test_username_and_password(http_remote: RemoteRepo, flows: str) -> None:
    server = HttpGitServer(http_remote.bare.parent, username="alice", password="pw-Alice-9").start()
    try:
        url = server.url("flows.git")
        assert (
            GitRemote(url, Credential("a", "basic", "pw-Alice-9", "alice")).resolve("branch", "")[1] == flows
        )
        with pytest.raises(CredentialError, match="wrong credentials"):
            GitRemote(url, Credential("b", "basic", "pw-Alice-9", "bob")).ls_remote()
    finally:
        server.stop()


def test_a_wrong_token_is_refused_once_and_named(http_git_server: HttpGitServer, flows: str) -> None:
    sleeps: list[float] = []
    remote = GitRemote(http_git_server.url("flows.git"), _token(WRONG_TOKEN), sleep=sleeps.append)
    with pytest.raises(CredentialError) as caught:
        remote.ls_remote()
    error = caught.value
    assert error.message.startswith("wrong credentials:")
    assert "'tok'" in error.message and "assistant cred set tok --token" in error.hint
    assert WRONG_TOKEN not in str(error)
    # An authentication failure is not retried (a provider may lock the account after a few).
    assert sleeps == []
    assert sum(r.password == WRONG_TOKEN for r in http_git_server.requests) == 1


def test_no_credential_says_which_one_to_set(http_git_server: HttpGitServer, flows: str) -> None:
    with pytest.raises(CredentialError) as caught:
        GitRemote(http_git_server.url("flows.git")).ls_remote()
    assert "asks for credentials and none was given" in caught.value.message
    assert "assistant cred set flows --token" in caught.value.hint
    assert "--credential flows" in caught.value.hint


def test_a_users_credential_helper_never_sees_the_token(
    http_git_server: HttpGitServer, flows: str, tmp_path: Path
) -> None:
    """A `credential.helper store` in ~/.gitconfig would write the token in clear to ~/.git-credentials."""
    home = Path(os.environ["HOME"])
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    url = http_git_server.url("flows.git")
    GitRemote(url, _token()).fetch(tmp_path / "cache", "branch", "main")
    assert not (home / ".git-credentials").exists()
    assert files_containing(HTTP_TOKEN.encode(), home) == []
    # ...and a later call without a credential is not answered from a helper either.
    (home / ".git-credentials").write_text(f"http://x:{HTTP_TOKEN}@{LOOPBACK}%3a{http_git_server.port}\n")
    with pytest.raises(CredentialError, match="none was given"):
        GitRemote(url).ls_remote()


def test_a_missing_repository_on_the_server(http_git_server: HttpGitServer, flows: str) -> None:
    with pytest.raises(GitError, match="no repository at") as caught:
        GitRemote(http_git_server.url("nope.git"), _token()).ls_remote()
    assert not isinstance(caught.value, (CredentialError, TransientGitError))


def test_a_token_cannot_be_used_for_an_ssh_url() -> None:
    with pytest.raises(CredentialError, match="SSH URL that needs a key"):
        GitRemote("ssh://git@127.0.0.1:1/x.git", _token())
    with pytest.raises(CredentialError, match="is an SSH key"):
        GitRemote("http://127.0.0.1:1/x.git", Credential("k", "ssh_key", "key"))


def test_a_closed_port_is_retried_with_backoff_then_reported() -> None:
    sleeps: list[float] = []
    url = f"http://{LOOPBACK}:{closed_port()}/flows.git"
    with pytest.raises(TransientGitError) as caught:
        GitRemote(url, _token(), retries=3, backoff_s=0.25, sleep=sleeps.append).ls_remote()
    assert sleeps == [0.25, 0.5]
    assert caught.value.message.startswith(f"cannot reach {url}: ")
    assert "Failed to connect" in caught.value.message and "(3 attempts)" in caught.value.message
    assert HTTP_TOKEN not in str(caught.value)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (kernel backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_a_host_that_never_answers_is_killed_after_the_timeout(silent_port: int) -> None:
    url = f"http://{LOOPBACK}:{silent_port}/flows.git"
    remote = GitRemote(url, _token(), retries=2, sleep=lambda _s: None, ls_remote_timeout_s=1.5)
    with pytest.raises(TransientGitError, match=r"did not answer within 1.5 s \(2 attempts\)"):
        remote.ls_remote()


# -- the CLI against the real Airflow --------------------------------------------------------


def _scan_roots(live_airflow: dict[str, str], tmp_path: Path) -> list[Path]:
    """Everything the assistant (or git on its behalf) may have written to."""
    return [
        Path(os.environ["ASSISTANT_HOME"]),
        Path(os.environ["HOME"]),  # ~/.gitconfig, ~/.git-credentials, ~/.ssh
        Path(os.environ["TMPDIR"]),
        Path(live_airflow["ASSISTANT_DAGS_FOLDER"]),
    ]


def _assert_nothing_registered(run_cli: Any, name: str, live_airflow: dict[str, str]) -> None:
    assert json.loads(run_cli("repo", "list", "--json").stdout) == []
    home = Path(os.environ["ASSISTANT_HOME"])
    assert not (home / "repos" / name).exists() and not (home / "releases" / name).exists()
    assert not (Path(live_airflow["ASSISTANT_DAGS_FOLDER"]) / "personal" / name).exists()


@pytest.mark.integration
def test_repo_add_with_a_token_deploys_and_the_token_lands_nowhere(
    live_airflow: dict[str, str],
    run_cli: Any,
    http_git_server: HttpGitServer,
    http_remote: RemoteRepo,
    private_tmp: Path,
    tmp_path: Path,
) -> None:
    name = unique("http")
    dag_id = unique("httpdag")
    http_remote.commit({"dags/a.py": dag_source(dag_id)})
    url = http_git_server.url("flows.git")
    stored = run_cli("cred", "set", "tok", "--token", input=HTTP_TOKEN + "\n")
    assert stored.returncode == 0, stored.stderr
    outputs = [stored]
    added = run_cli("repo", "add", url, "--name", name, "--path", "dags", "--credential", "tok", "--json")
    outputs.append(added)
    try:
        assert added.returncode == 0, added.stderr
        outcome = json.loads(added.stdout)
        assert outcome["result"] == "deployed"
        assert [d["dag_id"] for d in outcome["dags"]] == [dag_id]
        assert any(r.password == HTTP_TOKEN and r.authorized for r in http_git_server.requests)

        listed = run_cli("repo", "list", "--json")
        outputs.append(listed)
        assert json.loads(listed.stdout)[0]["url"] == url

        # The token is revoked upstream: the sync goes stale, names the credential, keeps the release.
        deployed = outcome["commit"]
        http_git_server.password = "tok_Rotated_S3cret_0d4e"
        http_remote.commit({"dags/a.py": dag_source(dag_id, "v2")})
        stale = run_cli("repo", "sync", name)
        outputs.append(stale)
        assert stale.returncode == 1 and "wrong credentials" in stale.stdout and "'tok'" in stale.stdout
        after = json.loads(run_cli("repo", "list", "--json").stdout)[0]
        assert after["state"].startswith("stale since") and after["deployed_commit"] == deployed

        # The user stores the new token: the next sync deploys again.
        rotated = run_cli("cred", "set", "tok", "--token", input="tok_Rotated_S3cret_0d4e\n")
        synced = run_cli("repo", "sync", name, "--json")
        outputs += [rotated, synced]
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert json.loads(synced.stdout)[0]["result"] == "deployed"
    finally:
        outputs.append(run_cli("repo", "remove", name))

    dump = "\n".join(sqlite3.connect(Path(os.environ["ASSISTANT_HOME"]) / "state.db").iterdump())
    for secret in (HTTP_TOKEN, "tok_Rotated_S3cret_0d4e"):
        assert files_containing(secret.encode(), *_scan_roots(live_airflow, tmp_path)) == []
        assert all(secret not in result.stdout + result.stderr for result in outputs)
        assert secret not in dump
    assert "x-access-token" not in dump  # no user-info part in any stored URL
    assert [p.name for p in private_tmp.iterdir() if p.name.startswith("assistant-git-")] == []


@pytest.mark.integration
def test_repo_add_with_bad_credentials_or_no_server_registers_nothing(
    live_airflow: dict[str, str],
    run_cli: Any,
    http_git_server: HttpGitServer,
    flows: str,
    private_tmp: Path,
    tmp_path: Path,
) -> None:
    url = http_git_server.url("flows.git")
    assert run_cli("cred", "set", "tok", "--token", input=WRONG_TOKEN + "\n").returncode == 0
    assert run_cli("cred", "set", "key", "--ssh-key", str(_fake_key(tmp_path))).returncode == 0
    cases = (
        (("--credential", "tok"), "error: wrong credentials: ", "assistant cred set tok --token"),
        ((), f"error: {url} asks for credentials and none was given", "assistant cred set flows --token"),
        (("--credential", "nope"), "error: no credential named 'nope'", "assistant cred set nope --token"),
        (("--credential", "key"), "error: credential 'key' is an SSH key", "--token"),
    )
    for extra, message, hint in cases:
        result = run_cli("repo", "add", url, "--name", "flows", *extra)
        assert result.returncode == 1, (extra, result.stdout, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 2 and lines[0].startswith(message) and hint in lines[1], (extra, lines)
        assert WRONG_TOKEN not in result.stdout + result.stderr
        _assert_nothing_registered(run_cli, "flows", live_airflow)

    unreachable = f"http://{LOOPBACK}:{closed_port()}/flows.git"
    result = run_cli("repo", "add", unreachable, "--credential", "tok")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach {unreachable}: ")
    assert "(3 attempts)" in result.stderr and "Traceback" not in result.stderr
    _assert_nothing_registered(run_cli, "flows", live_airflow)

    assert files_containing(WRONG_TOKEN.encode(), *_scan_roots(live_airflow, tmp_path)) == []
    assert [p.name for p in private_tmp.iterdir() if p.name.startswith("assistant-git-")] == []


def _fake_key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "fake_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    return path
