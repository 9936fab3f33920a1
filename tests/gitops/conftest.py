from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitops.gitrepos import RemoteRepo, make_remote, offline_assistant, remote
from tests.gitops.gitservers import HttpGitServer, SshGitServer, make_key, sshd_path, sshd_unavailable

__all__ = ["offline_assistant", "remote"]  # shared fixtures, defined in gitrepos.py

HTTP_TOKEN = "tok_Http_S3cret_7c1f9a"


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR of the CLI processes, to check what the git calls leave behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp


@pytest.fixture
def http_remote(tmp_path: Path) -> RemoteRepo:
    """A bare repo ``flows.git`` (and its working clone) under the HTTP server's project root."""
    return make_remote(tmp_path / "http-root", "flows")


@pytest.fixture
def http_git_server(http_remote: RemoteRepo) -> Iterator[HttpGitServer]:
    """git http-backend behind basic auth on 127.0.0.1:<random port>; the password is HTTP_TOKEN."""
    server = HttpGitServer(http_remote.bare.parent, username=None, password=HTTP_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sshd_skip_reason(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    return sshd_unavailable(tmp_path_factory.mktemp("sshd-probe"))


@pytest.fixture
def ssh_client_key(tmp_path: Path) -> Path:
    """The private key the test server authorizes (its .pub next to it), outside every scanned root."""
    return make_key(tmp_path / "keys" / "id_good")


@pytest.fixture
def ssh_git_server(
    sshd_skip_reason: str | None, ssh_client_key: Path, tmp_path: Path
) -> Iterator[SshGitServer]:
    """sshd on 127.0.0.1:<random port> letting ``ssh_client_key`` in, through git-shell only."""
    if sshd_skip_reason:
        pytest.skip(f"no SSH test server: {sshd_skip_reason}")
    server = SshGitServer(tmp_path / "sshd", ssh_client_key.with_suffix(".pub"), str(sshd_path())).start()
    try:
        yield server
    finally:
        server.stop()
