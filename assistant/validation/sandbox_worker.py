"""The warm sandbox worker: runs under *Airflow's* interpreter, never imported by the assistant.

Started once per validation batch (see :mod:`assistant.validation.sandbox`), it imports Airflow
once and then, for every job it reads on stdin (one JSON line per batch), forks a fresh child
that limits itself (rlimits, its own session, an audit hook that blocks process creation,
sockets, writes outside the sandbox and dynamic ``exec``), then loads one DAG file with Airflow's
``DagBag`` (or runs a repo's tests with pytest) and writes a JSON result back through a pipe.
The parent enforces the wall-clock timeout and kills the child's whole process group.
``--run`` jobs (create the metadata database, run one DAG with ``dag.test()``) live in
sandbox_run.py, loaded by path: what a task may do at run time is documented there.

Only the standard library and Airflow are used here: this file runs in Airflow's environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import select
import signal
import sys
import time
import traceback
from typing import Any

sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE; sources are read-only to children
PROTOCOL_OUT = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # anything printed by Airflow or a DAG goes to stderr, never into the protocol

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


def _limit(job: dict[str, object]) -> None:
    os.setsid()
    cpu = int(job.get("cpu_s", 30))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    fsize = int(job.get("file_size_mb", 64)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    if job.get("kind") != "run":  # run jobs set it once they know who the tasks run as
        nproc = int(job.get("max_processes", 64))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    with open("/proc/self/status") as fh:
        size_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    limit = size_kb * 1024 + int(job.get("memory_mb", 1024)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    log = os.open(
        os.path.join(str(job["sandbox"]), f"child-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT, 0o600
    )
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(str(job["sandbox"]))


def _error_line(text: str, path: str) -> int | None:
    lines = re.findall(rf'File "{re.escape(path)}", line (\d+)', text)
    if lines:
        return int(lines[-1])
    match = re.search(r"\bline (\d+)", text)
    return int(match.group(1)) if match else None


def _dag_info(dag: object) -> dict[str, object]:
    tasks = list(getattr(dag, "tasks", []))
    timetable = getattr(dag, "timetable", None)
    return {
        "dag_id": dag.dag_id,  # type: ignore[attr-defined]
        "fileloc": getattr(dag, "fileloc", None),
        "tags": sorted(str(t) for t in (getattr(dag, "tags", None) or [])),
        "owners": sorted({str(getattr(t, "owner", "")) for t in tasks}),
        "catchup": getattr(dag, "catchup", None),
        "tasks": len(tasks),
        "retries": {t.task_id: int(getattr(t, "retries", 0) or 0) for t in tasks},
        "schedule": str(getattr(timetable, "summary", "")),
    }


def _airflow_shim(name: str) -> bool:
    """Airflow 3 keeps old module paths (``airflow.operators.bash``) as import-time shims with no
    spec: they import, with a deprecation warning (ruff's AIR rules report the move)."""
    if not name.startswith("airflow."):
        return False
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            importlib.import_module(name)
        except ImportError:
            return False
    return True


def _check_modules(job: dict[str, object]) -> list[dict[str, object]]:
    import importlib.util

    missing = []
    for name, line in job.get("modules", []):  # type: ignore[union-attr]
        try:
            found = importlib.util.find_spec(name) is not None or _airflow_shim(name)
            reason = "" if found else "not found"
        except Exception as exc:  # a parent package is missing or fails to import
            found, reason = False, f"{type(exc).__name__}: {exc}"
        if not found:
            missing.append({"module": name, "line": line, "reason": reason[:300]})
    return missing


def _run_import(job: dict[str, object], sandbox: Sandbox) -> dict[str, object]:
    from airflow.dag_processing.dagbag import DagBag

    sys.path.insert(0, str(job["root"]))
    sandbox.active = True
    missing = _check_modules(job)
    bag = DagBag(dag_folder=str(job["path"]), safe_mode=False, load_op_links=False)
    sandbox.active = False
    errors = [
        {"message": text.strip()[-2000:], "line": _error_line(text, str(job["path"]))}
        for text in bag.import_errors.values()
    ]
    warnings = [w for ws in bag.captured_warnings.values() for w in ws]
    return {
        "dags": [_dag_info(d) for d in bag.dags.values()],
        "import_errors": errors,
        "warnings": [str(w)[:500] for w in warnings],
        "missing_modules": missing,
    }


def _run_pytest(job: dict[str, object], sandbox: Sandbox) -> dict[str, object]:
    for extra in job.get("extra_path", []):  # type: ignore[union-attr]
        sys.path.append(str(extra))
    sys.path.insert(0, str(job["root"]))
    os.chdir(str(job["root"]))
    try:
        import pytest
    except ImportError:
        return {"pytest_missing": True}

    class Collector:
        def __init__(self) -> None:
            self.failed: list[dict[str, object]] = []
            self.passed = 0

        def pytest_runtest_logreport(self, report: object) -> None:
            if report.failed:  # type: ignore[attr-defined]
                text = str(getattr(report, "longreprtext", ""))
                self.failed.append({"test": report.nodeid, "message": text.strip()[-800:]})  # type: ignore[attr-defined]
            elif report.when == "call" and report.passed:  # type: ignore[attr-defined]
                self.passed += 1

    collector = Collector()
    sandbox.active = True
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "-o", "addopts=", str(job["path"])], plugins=[collector]
    )
    sandbox.active = False
    return {"exit_code": int(code), "failed": collector.failed, "passed": collector.passed}


def _child(job: dict[str, object], write_fd: int) -> None:
    result: dict[str, object]
    try:
        _limit(job)
        sandbox = Sandbox(
            str(job.get("source_root", job["root"])),
            str(job["sandbox"]),
            str(job["path"]),
            bool(job.get("allow_processes", False)),
        )
        sys.addaudithook(sandbox.hook)
        kind = job.get("kind")
        if kind in {"run", "migrate"}:
            runner = getattr(_run_module(), "run_dag" if kind == "run" else "migrate")
        else:
            runner = _run_pytest if kind == "pytest" else _run_import
        result = {"status": "ok", **runner(job, sandbox)}
        result["events"] = sandbox.events
    except BaseException as exc:  # report, never propagate: this is a forked child
        result = {
            "status": "error",
            "message": f"{type(exc).__name__}: {exc}",
            "trace": traceback.format_exc()[-1500:],
        }
    data = json.dumps(result, default=str).encode()
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]
    os._exit(0)


def _start(job: dict[str, object]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, write_fd)
    os.close(write_fd)
    return pid, read_fd


def _finish(pid: int, read_fd: int, chunks: list[bytes], timed_out: bool) -> dict[str, object]:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    if timed_out:
        return {"status": "timeout"}
    raw = b"".join(chunks)
    if raw:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if os.WIFSIGNALED(status):
        return {"status": "crashed", "message": f"killed by signal {os.WTERMSIG(status)}"}
    return {"status": "crashed", "message": f"exited with code {os.WEXITSTATUS(status)} without a result"}


def _sibling(name: str) -> Any:
    """A module of this folder loaded by path as ``_assistant_NAME`` (``-I`` keeps the folder off
    sys.path, and it must stay off: its module names would shadow a DAG's own imports)."""
    import importlib.util

    key = f"_assistant_{name}"
    if key not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
        spec = importlib.util.spec_from_file_location(key, path)
        assert spec is not None and spec.loader is not None
        sys.modules[key] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[key])
    return sys.modules[key]


def _run_module() -> Any:
    _sibling("sandbox_confine")  # sandbox_run finds it in sys.modules
    return _sibling("sandbox_run")


def run_batch(jobs: list[dict[str, object]], parallel: int) -> list[dict[str, object]]:
    pending = list(jobs)
    running: dict[int, tuple[str, int, float, list[bytes]]] = {}  # read_fd -> (id, pid, deadline, chunks)
    results: dict[str, dict[str, object]] = {}
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            started = time.monotonic()
            pid, read_fd = _start(job)
            running[read_fd] = (str(job["id"]), pid, started + float(job.get("timeout_s", 30)), [])
        now = time.monotonic()
        wait = max(0.0, min(deadline for _, _, deadline, _ in running.values()) - now)
        ready, _, _ = select.select(list(running), [], [], wait)
        for read_fd in ready:
            job_id, pid, _, chunks = running[read_fd]
            data = os.read(read_fd, 65536)
            if data:
                chunks.append(data)
                continue
            del running[read_fd]
            results[job_id] = _finish(pid, read_fd, chunks, timed_out=False)
        now = time.monotonic()
        for read_fd in [fd for fd, entry in running.items() if entry[2] <= now]:
            job_id, pid, _, chunks = running.pop(read_fd)
            results[job_id] = _finish(pid, read_fd, chunks, timed_out=True)
    if any(job.get("kind") == "run" for job in jobs):
        _run_module().cleanup_strays()
    return [results[str(job["id"])] for job in jobs]


def _versions(names: list[str]) -> dict[str, str | None]:
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def main() -> None:
    import airflow
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401  (warm the import once)

    hello = {"ready": True, "airflow_version": airflow.__version__, "pid": os.getpid()}
    PROTOCOL_OUT.write(json.dumps(hello) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("op") == "prewarm":  # no reply: a failure only costs each run child time
            try:
                _run_module().prewarm()
            except Exception:
                traceback.print_exc()
            continue
        if request.get("op") == "dists":
            reply: dict[str, object] = {"versions": _versions(request.get("names", []))}
        else:
            reply = {"results": run_batch(request["jobs"], max(1, int(request.get("parallel", 1))))}
        PROTOCOL_OUT.write(json.dumps(reply, default=str) + "\n")


if __name__ == "__main__":
    main()
