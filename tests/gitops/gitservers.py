"""Real, loopback-only Git servers that ask for credentials, for the credential tests.

``HttpGitServer``: plain HTTP on 127.0.0.1 with HTTP basic auth in front of ``git http-backend``
(run as CGI with GIT_PROJECT_ROOT / GIT_HTTP_EXPORT_ALL), on a random free port. Every request
is recorded (path, query, the credentials it carried) so tests can check what git sent.

``SshGitServer``: the system ``sshd`` on a random loopback port with a throwaway host key, only
public-key authentication against one authorized key, every session forced through
``git-shell``. :func:`sshd_unavailable` says why it cannot run here (then the tests skip).
"""

from __future__ import annotations

import base64
import getpass
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A loopback port with nothing listening: connections to it are refused."""
    return free_port()


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class SeenRequest:
    method: str
    path: str
    query: str
    username: str | None
    password: str | None
    authorized: bool


@dataclass
class HttpGitServer:
    """Serves the bare repositories under ``root`` at http://127.0.0.1:PORT/<name>.git."""

    root: Path
    username: str | None  # None: any username is accepted (token-style auth)
    password: str
    port: int = 0
    requests: list[SeenRequest] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def url(self, repo: str) -> str:
        return f"http://{LOOPBACK}:{self.port}/{repo}"

    def start(self) -> HttpGitServer:
        server = self

        class Handler(_GitCgiHandler):
            git_server = server

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="git-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def check(self, header: str | None) -> tuple[str | None, str | None, bool]:
        if not header or not header.startswith("Basic "):
            return None, None, False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None, False
        ok = password == self.password and (self.username is None or user == self.username)
        return user, password, ok


class _GitCgiHandler(BaseHTTPRequestHandler):
    git_server: HttpGitServer
    protocol_version = "HTTP/1.0"  # one request per connection; the CGI output is streamed as is

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        server = self.git_server
        parts = urlsplit(self.path)
        user, password, ok = server.check(self.headers.get("Authorization"))
        server.requests.append(SeenRequest(self.command, parts.path, parts.query, user, password, ok))
        if not ok:
            body = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(server.root),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "REMOTE_USER": user or "",
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        for header, var in (("Git-Protocol", "GIT_PROTOCOL"), ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if self.headers.get(header):
                env[var] = self.headers[header]
        body = self._read_body()
        if body is not None:
            env["CONTENT_LENGTH"] = str(len(body))
        done = subprocess.run(
            ["git", "http-backend"], input=body or b"", env=env, capture_output=True, timeout=120
        )
        separator = b"\r\n\r\n" if b"\r\n\r\n" in done.stdout else b"\n\n"
        head, _, payload = done.stdout.partition(separator)
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length else None


# -- SSH -------------------------------------------------------------------------------------

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def sshd_path() -> str | None:
    found = shutil.which("sshd")
    if found:
        return found
    return next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), None)


def make_key(path: Path, comment: str = "assistant-test") -> Path:
    """A fresh ed25519 key pair without passphrase at ``path`` / ``path``.pub."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


@dataclass
class SshGitServer:
    """``sshd`` on 127.0.0.1:PORT letting one key in as the current user, through git-shell only."""

    workdir: Path
    authorized_key: Path  # public key file
    sshd: str
    port: int = 0
    user: str = field(default_factory=getpass.getuser)
    _proc: subprocess.Popen[bytes] | None = None

    def url(self, repo_path: Path) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}{repo_path}"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    def _config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        host_key = self.workdir / "host_ed25519"
        if not host_key.exists():
            make_key(host_key, "assistant-test-host")
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(self.authorized_key.read_text())
        os.chmod(authorized, 0o600)
        git_shell = shutil.which("git-shell") or "git-shell"
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {LOOPBACK}:{self.port}",
                    f"HostKey {host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "AuthenticationMethods publickey",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",  # the throwaway files live under the world-writable /tmp
                    "PermitTTY no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "AllowAgentForwarding no",
                    "PermitUserEnvironment no",
                    "AcceptEnv GIT_PROTOCOL",
                    "LogLevel VERBOSE",
                    f'ForceCommand {git_shell} -c "$SSH_ORIGINAL_COMMAND"',
                    "",
                ]
            )
        )
        return config

    def start(self, attempts: int = 3, port: int | None = None) -> SshGitServer:
        """Start sshd on ``port`` (default: a free one); a taken port is replaced by a free one."""
        last = ""
        for attempt in range(attempts):
            self.port = port if port and attempt == 0 else free_port()
            config = self._config()
            with self.log.open("ab") as log:
                self._proc = subprocess.Popen(
                    [self.sshd, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
                )
            if _wait_listening(self.port, self._proc, 10.0):
                return self
            self.stop()
            last = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"sshd did not start:\n{last}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._proc = None


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5) as sock:
                sock.settimeout(2)
                return sock.recv(4).startswith(b"SSH-")
        except OSError:
            time.sleep(0.05)
    return False


def sshd_unavailable(workdir: Path) -> str | None:
    """Why the SSH tests cannot run on this machine, or None when they can.

    Decided at runtime: the binary must exist, and ``sshd -t`` must accept a throwaway
    configuration (as root it also needs its privilege-separation directory, which the
    Debian package normally creates when its service starts; we create it when missing).
    """
    sshd = sshd_path()
    if sshd is None:
        return "sshd is not installed (scripts/bootstrap.sh installs openssh-server when run as root)"
    for tool in ("ssh", "ssh-keygen", "git-shell"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    shell = pwd.getpwuid(os.getuid()).pw_shell
    if Path(shell).name in ("nologin", "false"):  # sshd runs even a forced command through it
        return f"the login shell of {getpass.getuser()} is {shell}"
    if os.geteuid() == 0 and not Path("/run/sshd").is_dir():
        try:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        except OSError as exc:
            return f"sshd needs /run/sshd and it cannot be created: {exc}"
    probe = workdir / "probe"
    key = make_key(probe / "client", "probe")
    server = SshGitServer(probe, key.with_suffix(".pub"), sshd, port=free_port())
    checked = subprocess.run([sshd, "-t", "-f", str(server._config())], capture_output=True, text=True)
    if checked.returncode != 0:
        return f"`sshd -t` refuses a loopback test configuration: {checked.stderr.strip()[:300]}"
    return None


# -- leak checks -----------------------------------------------------------------------------


def files_containing(needle: bytes, *roots: Path) -> list[Path]:
    """Every regular file under ``roots`` whose bytes contain ``needle`` (symlinks not followed)."""
    found = []
    for root in roots:
        if not root.exists():
            continue
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            if path.is_file() and not path.is_symlink():
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if needle in data:
                    found.append(path)
    return found


def ssh_spy(bin_dir: Path, log: Path) -> Path:
    """An ``ssh`` wrapper for PATH that records the mode of its ``-i`` key file, then runs ssh."""
    real = shutil.which("ssh")
    bin_dir.mkdir(parents=True, exist_ok=True)
    spy = bin_dir / "ssh"
    spy.write_text(
        "#!/bin/sh\n"
        'key=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = "-i" ] && key="$a"; prev="$a"; done\n'
        f'if [ -n "$key" ]; then stat -c "%a %n" "$key" "$(dirname "$key")" >> "{log}"; fi\n'
        f'exec {real} "$@"\n'
    )
    spy.chmod(0o755)
    return bin_dir
