"""The audit hook of a sandboxed child: runs under *Airflow's* interpreter, never imported by the
assistant (sandbox_worker.py loads it by path and installs one :class:`Sandbox` per child).

While a DAG file is parsed (or a repo's tests run) it records and refuses what a DAG must not do
at that time: starting processes, sockets, native code through ctypes, dynamically built code
and writes outside the sandbox. ``--run`` children consult sandbox_run.run_allows first.
It sees only what Python audits: the kernel-level limits (rlimits, namespaces, the pids cgroup)
are what holds when code gets past it.

Standard library only.
"""

from __future__ import annotations

import os
import sys
from typing import Any

BLOCKED_EVENTS = {
    "subprocess.Popen": "starts a process",
    "os.system": "runs a shell command",
    "os.exec": "replaces the process",
    "os.posix_spawn": "starts a process",
    "os.spawn": "starts a process",
    "os.fork": "forks the process",
    "os.forkpty": "forks the process",
    "os.kill": "sends a signal",
    "os.killpg": "sends a signal",
    "pty.spawn": "spawns a terminal",
    "socket.__new__": "opens a socket",
    "socket.connect": "opens a network connection",
    "socket.getaddrinfo": "resolves a host name",
    "urllib.Request": "makes an HTTP request",
    "ctypes.dlopen": "loads a native library with ctypes",
    "ctypes.call_function": "calls native code with ctypes",
    "ctypes.cdata": "reads raw memory with ctypes",
    "shutil.rmtree": "deletes a directory tree",
}
# Libraries probe these while they are imported (urllib3 opens a socket to test IPv6): blocked only
# when the repository's own code is one of the nearest callers.
NEAR_ONLY_EVENTS = {"socket.__new__", "ctypes.dlopen", "ctypes.call_function", "ctypes.cdata"}
PATH_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.truncate",
    "os.mkdir",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Sandbox:
    """The audit hook of one child: records and blocks what a DAG must not do while it is parsed."""

    def __init__(self, source_root: str, writable_root: str, dag_path: str, allow_processes: bool) -> None:
        self.source_root = source_root
        self.writable_root = writable_root
        self.dag_path = dag_path
        self.allow_processes = allow_processes
        self.events: list[dict[str, object]] = []
        self.active = False
        self.mode = "parse"  # "run" while dag.test() executes tasks: run_rules decide first
        self.run_rules: Any = None  # sandbox_run.run_allows

    def _repo_line(self) -> int | None:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename.startswith(self.source_root):
                return frame.f_lineno
            frame = frame.f_back
        return None

    def _near_repo(self, depth: int = 4) -> bool:
        frame = sys._getframe(2)
        for _ in range(depth):
            if frame is None:
                return False
            if frame.f_code.co_filename.startswith(self.source_root):
                return True
            frame = frame.f_back
        return False

    def _block(self, event: str, reason: str, detail: str) -> None:
        what = {"event": event, "reason": reason, "detail": detail[:200], "mode": self.mode}
        self.events.append({**what, "line": self._repo_line()})
        raise PermissionError(f"blocked by the validation sandbox: {reason} ({event})")

    def _writable(self, path: object) -> bool:
        if isinstance(path, int):
            return True
        text = os.fsdecode(path) if isinstance(path, bytes | str) else str(path)
        full = os.path.realpath(text)
        return full.startswith(self.writable_root) or full in {"/dev/null", "/dev/stdout", "/dev/stderr"}

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.active:
            return
        if self.mode == "run" and self.run_rules is not None and self.run_rules(self, event, args):
            return
        if event in BLOCKED_EVENTS:
            if self.allow_processes and event in {"subprocess.Popen", "os.fork", "os.posix_spawn", "os.exec"}:
                return
            if event in NEAR_ONLY_EVENTS and not self._near_repo():
                return
            self._block(event, BLOCKED_EVENTS[event], repr(args[:2]))
        elif event == "open":
            path, mode, flags = [*args, None, None, 0][:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & WRITE_FLAGS
            )
            if writing and not self._writable(path):
                self._block(event, f"writes outside the sandbox to {path!s}", repr(path))
        elif event in PATH_EVENTS:
            if not self._writable(args[0]):
                self._block(event, f"changes {args[0]!s} outside the sandbox", repr(args[:2]))
        elif event in {"exec", "compile"}:
            caller = sys._getframe(1)
            if caller.f_code.co_filename.startswith(self.source_root):
                what = args[0]
                name = getattr(what, "co_filename", "<string>")
                if not str(name).startswith(self.source_root):
                    self._block(event, f"runs dynamically built code with {event}()", repr(what)[:120])
