"""The ``--run`` half of the sandbox worker: runs under *Airflow's* interpreter, never imported by
the assistant (sandbox_worker.py loads it by path).

Job kinds handled here, each in a forked, limited child of the warm worker:

- ``migrate``: create an empty metadata database at ``job["path"]`` (what ``airflow db migrate``
  does on a new database), checkpointed into one file so it can be copied per run;
- ``run``: parse one DAG file and execute one DAG once with ``dag.test()`` against the job's own
  copy of that database, recording every task's state, error, traceback line and output.

While a DAG runs (the assistant's report repeats this):

- as root, the child first confines itself (sandbox_confine.py), before the file is parsed: a
  private mount namespace with every filesystem read-only except the job folder, and no
  capabilities at all (so no ``setns`` back into the host's network, no remounting, no
  setuid gains); other users get RLIMIT_NPROC too (Linux never applies it to uid 0); the
  number of processes and threads is capped by the job's pids cgroup where one could be made;
- tasks may start processes (BashOperator needs them) and signal them; the network namespace
  keeps them offline, the PID namespace and the job's process group bound their lifetime, and
  ``cleanup_strays`` kills what escaped the process group once the batch is done;
- Python code may not open network sockets (local ``AF_UNIX`` ones are allowed: Airflow's
  in-process API uses a socketpair), resolve names, connect to local sockets outside the job
  folder, write, rename or delete outside the job folder, or run dynamically built code;
- re-parsing the file inside ``dag.test()`` happens under the stricter parse-time rules;
- retries are switched off so a failing task fails the run at once.

Only the standard library and Airflow are used here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import sys
import time
import traceback
from typing import Any

# While a DAG runs (sandbox mode "run") tasks may start and signal processes: BashOperator needs them.
RUN_ALLOWED_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "pty.spawn",
}
LOCAL_SOCKET_FAMILIES = {-1, 1}  # AF_UNIX (Airflow's in-process API uses a socketpair); -1: from a fd
# "2026-01-01T00:00:00.1Z [info     ] message   [logger.name] key=value ..." (structlog, no colours)
STRUCTURED = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[\s*\w+\s*\] (.*)\s+\[([\w.]+)\](?: \w+=.*)?$")
HOUSEKEEPING = ("Tmp dir root location", "Running command:", "Output:", "Command exited with return code")
TRACE_STARTS = ("Task failed with exception", "[DAG TEST] Error running task", "Task failed;")
AIRFLOW_LOGGERS = ("airflow.", "task", "py.warnings", "sqlalchemy", "alembic", "httpx", "uvicorn")


def prewarm() -> None:
    """Import what ``dag.test()`` needs and build the in-process execution API once, in the warm
    parent: Cadwyn generates its versioned routes on first use (~7 s of CPU), which every forked
    child would otherwise pay again. Threads (the API's event loop) start only in the children."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager  # noqa: F401
    from airflow.models.dagrun import DagRun  # noqa: F401
    from airflow.sdk.execution_time import supervisor, task_runner  # noqa: F401
    from airflow.serialization.serialized_objects import DagSerialization  # noqa: F401
    from airflow.utils import db  # noqa: F401

    app = supervisor.in_process_api_server().app
    if getattr(app, "_cadwyn_initialized", True) is False:
        app._cadwyn_initialize()


def run_allows(sandbox: Any, event: str, args: tuple[object, ...]) -> bool:
    """The audit hook's run-time rules, consulted before the parse-time ones: True allows the
    event, a blocked one raises; False leaves it to the parse-time rules (writes, exec, ctypes)."""
    if event in RUN_ALLOWED_EVENTS:
        return True
    if event == "socket.getaddrinfo" and not sandbox._near_repo(depth=6):
        return True  # Airflow resolves its own host name; with no network nothing else resolves anyway
    if event == "socket.__new__":
        if args[1] in LOCAL_SOCKET_FAMILIES:
            return True
        sandbox._block(event, "opens a network socket (tasks have no network here)", repr(args[1:3]))
    if event == "socket.connect" and isinstance(args[1], str | bytes):
        address = os.fsdecode(args[1])
        if address.startswith("\0") or sandbox._writable(address):
            return True
        sandbox._block(event, f"connects to the local socket {address}", address)
    return event == "shutil.rmtree" and sandbox._writable(args[0])


def _point_airflow_at(database: str, dags_folder: str, job_dir: str) -> None:
    import tempfile

    from airflow import settings

    env = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}",
        "AIRFLOW__CORE__DAGS_FOLDER": dags_folder,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": os.path.join(job_dir, "logs"),
        "HOME": os.path.join(job_dir, "home"),
        "TMPDIR": os.path.join(job_dir, "tmp"),
    }
    os.environ.update(env)
    for folder in ("home", "tmp", "logs"):
        os.makedirs(os.path.join(job_dir, folder), exist_ok=True)
    tempfile.tempdir = env["TMPDIR"]
    settings.configure_vars()
    settings.reconfigure_orm()


def migrate(job: dict[str, Any], sandbox: object) -> dict[str, object]:
    """Create a fresh metadata database at job["path"] (trusted Airflow code only)."""
    from airflow import settings
    from airflow.utils import db

    path = str(job["path"])
    _point_airflow_at(path, os.path.join(str(job["sandbox"]), "no-dags"), str(job["sandbox"]))
    db.upgradedb()
    settings.dispose_orm()
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the one file we copy
    finally:
        connection.close()
    return {"path": path}


def _confinement() -> Any:
    """sandbox_confine.py, loaded by sandbox_worker before this module."""
    return sys.modules["_assistant_sandbox_confine"]


def _frame_line(error: BaseException | None, path: str) -> int | None:
    line = None
    tb = error.__traceback__ if error is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _callable_line(task: object, path: str) -> int | None:
    code = getattr(getattr(task, "python_callable", None), "__code__", None)
    return code.co_firstlineno if code is not None and code.co_filename == path else None


def _output(log_path: str, start: int) -> list[str]:
    """What the task itself printed (its commands' output, its own loggers, plain prints), from the
    child's log since ``start``; Airflow's bookkeeping and tracebacks (reported apart) left out."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(start)
            text = fh.read(200_000).decode("utf-8", "replace")
    except OSError:
        return []
    kept: list[str] = []
    in_trace = False
    for raw in text.splitlines():
        match = STRUCTURED.match(raw)
        if match is None:
            if raw.strip() and not in_trace:
                kept.append(raw.strip()[:300])
            continue
        message, logger = match.group(1).strip(), match.group(2)
        in_trace = message.startswith(TRACE_STARTS)
        if "SubprocessHook" in logger:
            if not message.startswith(HOUSEKEEPING):
                kept.append(message[:300])
        elif not logger.startswith(AIRFLOW_LOGGERS):
            kept.append(message[:300])
    return kept[-12:]


class _Recorder:
    """Wraps dag.test()'s per-task runner: progress for timeouts, and each task's outcome."""

    def __init__(self, job_dir: str, path: str, log_path: str) -> None:
        self.progress = os.path.join(job_dir, "progress.jsonl")
        self.path = path
        self.log_path = log_path
        self.tasks: dict[str, dict[str, object]] = {}

    def _note(self, entry: dict[str, object]) -> None:
        with open(self.progress, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def wrap(self, original: Any) -> Any:
        def run_task(*, ti: Any, task: Any, run_triggerer: bool = False) -> Any:
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            self._note({"event": "start", "task": key, "defined_at": _callable_line(task, self.path)})
            started, offset = time.monotonic(), os.fstat(2).st_size
            error: BaseException | None = None
            try:
                result = original(ti=ti, task=task, run_triggerer=run_triggerer)
            except Exception as exc:
                result, error = None, exc
                raise
            finally:
                error = error or getattr(result, "error", None)
                entry: dict[str, object] = {
                    "task_id": key,
                    "state": str(getattr(ti.state, "value", ti.state)),
                    "duration_s": round(time.monotonic() - started, 3),
                    "line": _frame_line(error, self.path),  # the failing line of the DAG file, if in it
                    "defined_at": _callable_line(task, self.path),
                }
                if error is not None:
                    entry["error"] = f"{type(error).__name__}: {error}"[:600]
                    entry["trace"] = "".join(traceback.format_exception(error))[-2500:]
                    entry["output"] = _output(self.log_path, offset)
                self.tasks[key] = entry
                self._note({"event": "end", **{k: v for k, v in entry.items() if k != "trace"}})
            return result

        return run_task


def run_dag(job: dict[str, Any], sandbox: Any) -> dict[str, object]:
    import airflow.sdk.definitions.dag as dag_module
    from airflow.dag_processing.dagbag import DagBag

    job_dir, path, dag_id = str(job["sandbox"]), str(job["path"]), str(job["dag_id"])
    # The file itself is the dags folder: dag.test() re-syncs its bundle, and must parse only this file.
    _point_airflow_at(os.path.join(job_dir, "airflow.db"), path, job_dir)
    confined = _confinement().confine(job_dir, int(job.get("max_processes", 256)), job.get("pids_cgroup"))
    sys.path.insert(0, str(job["root"]))
    sandbox.active = True
    bag = DagBag(dag_folder=path, safe_mode=False, load_op_links=False)
    sandbox.active = False
    base: dict[str, object] = {"dag_id": dag_id, "confinement": confined, "events": sandbox.events}
    if sandbox.events or dag_id not in bag.dags:
        errors = [text.strip()[-1500:] for text in bag.import_errors.values()]
        return {**base, "state": "not-run", "import_errors": errors}
    dag = bag.dags[dag_id]
    for task in dag.tasks:
        task.retries = 0  # one attempt: report the first failure instead of waiting for a retry
    recorder = _Recorder(job_dir, path, os.path.join(job_dir, f"child-{os.getpid()}.log"))
    dag_module._run_task = recorder.wrap(dag_module._run_task)
    original_process_file = DagBag.process_file

    def process_file(self: Any, *args: Any, **kwargs: Any) -> Any:
        mode, sandbox.mode = sandbox.mode, "parse"  # parse-time rules while dag.test() re-parses
        try:
            return original_process_file(self, *args, **kwargs)
        finally:
            sandbox.mode = mode

    DagBag.process_file = process_file  # type: ignore[method-assign]
    started = time.monotonic()
    sandbox.run_rules = run_allows
    sandbox.mode, sandbox.active = "run", True
    try:
        run = dag.test()
    finally:
        sandbox.active = False
    elapsed = time.monotonic() - started
    states = {
        (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(
            getattr(ti.state, "value", ti.state)
        )
        for ti in run.get_task_instances()
    }
    tasks = []
    for key, state in sorted(states.items()):
        entry = dict(recorder.tasks.get(key, {"task_id": key, "line": None}))
        entry["state"] = state
        tasks.append(entry)
    return {
        **base,
        "state": str(getattr(run.state, "value", run.state)),
        "elapsed_s": round(elapsed, 3),
        "tasks": tasks,
    }


def cleanup_strays() -> None:
    """Kill what run jobs left behind outside their process group (a shell task's ``setsid``'d
    children), then reap zombies. Only as PID 1 of our own PID namespace, between batches, where
    ``kill(-1)`` reaches nothing but processes our jobs started."""
    if os.getpid() == 1:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
