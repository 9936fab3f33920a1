"""The warm sandbox worker: runs under *Airflow's* interpreter, never imported by the assistant.

Started once per validation batch (see :mod:`assistant.validation.sandbox`), it imports Airflow
once and then, for every job it reads on stdin (one JSON line per batch), forks a fresh child
that enters a pids cgroup of its own when the machine has a writable one (sandbox_pids.py: a
fork bomb is stopped at ``max_processes`` and cannot starve the next file), limits itself
(rlimits, its own session, an audit hook from sandbox_hook.py that blocks process creation,
sockets, writes outside the sandbox and dynamic ``exec``), then loads one DAG file with Airflow's
``DagBag`` (or runs a repo's tests with pytest) and writes a JSON result back through a pipe.
The parent enforces the wall-clock timeout, kills the child's whole process group, then
everything left in its cgroup, and removes the cgroup.
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
from dataclasses import dataclass, field
from typing import Any

sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE; sources are read-only to children
PROTOCOL_OUT = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # anything printed by Airflow or a DAG goes to stderr, never into the protocol
PIDS: Any = None  # sandbox_pids.PidsLimiter when a writable pids cgroup exists (set by main)


@dataclass
class _Running:
    """A job's forked child while it runs."""

    id: str
    pid: int
    read_fd: int
    deadline: float
    cgroup: Any  # sandbox_pids.JobCgroup or None
    chunks: list[bytes] = field(default_factory=list)


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


def _run_import(job: dict[str, object], sandbox: Any) -> dict[str, object]:
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


def _run_pytest(job: dict[str, object], sandbox: Any) -> dict[str, object]:
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


def _child(job: dict[str, object], write_fd: int, cgroup: Any) -> None:
    result: dict[str, object]
    try:
        if cgroup is not None:  # before anything else: every process the job makes is counted
            cgroup.join()
            job["pids_cgroup"] = cgroup.describe()
        _limit(job)
        sandbox = _sibling("sandbox_hook").Sandbox(
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


def _start(job: dict[str, object]) -> _Running:
    cgroup = PIDS.new_job(int(job.get("max_processes", 64))) if PIDS is not None else None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, write_fd, cgroup)
    os.close(write_fd)
    deadline = time.monotonic() + float(job.get("timeout_s", 30))
    return _Running(str(job["id"]), pid, read_fd, deadline, cgroup)


def _finish(job: _Running, timed_out: bool) -> dict[str, object]:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(job.pid, signal.SIGKILL)
    _, status = os.waitpid(job.pid, 0)
    os.close(job.read_fd)
    result = _result(job.chunks, status, timed_out)
    if job.cgroup is not None:  # kills what left the process group, removes the cgroup
        usage = job.cgroup.close()
        if not usage.pop("removed"):
            print(f"pids cgroup {job.cgroup.path} could not be removed", file=sys.stderr)
        result["processes"] = usage
    return result


def _result(chunks: list[bytes], status: int, timed_out: bool) -> dict[str, object]:
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


def _reap_orphans(running: dict[int, _Running]) -> None:
    """Reap exited processes that jobs left behind (as PID 1 of our namespace we inherit them),
    stopping at a running job's own child: _finish waits for that one."""
    ours = {job.pid for job in running.values()}
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid in ours:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(info.si_pid, 0)


def run_batch(jobs: list[dict[str, object]], parallel: int) -> list[dict[str, object]]:
    pending = list(jobs)
    running: dict[int, _Running] = {}  # by read_fd
    results: dict[str, dict[str, object]] = {}
    while pending or running:
        while pending and len(running) < parallel:
            job = _start(pending.pop(0))
            running[job.read_fd] = job
        now = time.monotonic()
        wait = max(0.0, min(job.deadline for job in running.values()) - now)
        ready, _, _ = select.select(list(running), [], [], wait)
        for read_fd in ready:
            data = os.read(read_fd, 65536)
            if data:
                running[read_fd].chunks.append(data)
                continue
            job = running.pop(read_fd)
            results[job.id] = _finish(job, timed_out=False)
        now = time.monotonic()
        for read_fd in [fd for fd, job in running.items() if job.deadline <= now]:
            job = running.pop(read_fd)
            results[job.id] = _finish(job, timed_out=True)
        _reap_orphans(running)
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


def _pids_limiter() -> tuple[Any, str]:
    """The pids cgroup limiter named by ``--pids-cgroup-prefix PREFIX``, or (None, why not)."""
    arguments = sys.argv[1:]
    if "--pids-cgroup-prefix" not in arguments:
        return None, "no cgroup name was given to the worker"
    prefix = arguments[arguments.index("--pids-cgroup-prefix") + 1]
    return _sibling("sandbox_pids").PidsLimiter.setup(prefix)


def main() -> None:
    global PIDS
    _sibling("sandbox_hook")
    PIDS, problem = _pids_limiter()  # before Airflow is imported: the probe child forks cheaply
    import airflow
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401  (warm the import once)

    hello = {
        "ready": True,
        "airflow_version": airflow.__version__,
        "pid": os.getpid(),
        "pids_cgroup": PIDS.describe() if PIDS is not None else None,
        "pids_cgroup_problem": problem,
    }
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
