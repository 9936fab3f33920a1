"""Stage 6, ``--run``: execute each DAG once with ``dag.test()`` inside the sandbox.

``dag.test()`` needs a metadata database. A template is made once per Airflow installation, in
the sandbox (a forked child of the warm worker runs what ``airflow db migrate`` runs on a new
database), and cached under ``$ASSISTANT_HOME/cache/airflow-db/`` keyed by the Airflow version and
the installed Airflow distributions. Every DAG run gets its own copy in its own job folder, so
runs never share state.

Only files without a blocking finding are run: a DAG the static scan or the import flagged is
never executed, not even in the sandbox. What tasks may do while they run is documented in
sandbox_run.py and summarised by :func:`isolation` in every report made with ``--run``.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from assistant.errors import ValidationFailed
from assistant.validation.import_stage import process_limit_findings
from assistant.validation.sandbox import SandboxWorker
from assistant.validation.security import RawFinding

TEMPLATE_TIMEOUT_S = 300.0
MAX_PROCESSES = 256  # the template database's migration (trusted Airflow code)
RUN_PROCESS_FACTOR = 4  # a run's tasks may start processes: [limits] max_processes times this
NOT_CACHED = frozenset({"run.timeout", "run.crashed", "run.error"})  # may pass on a second try
SANDBOX_ERRORS = re.compile(
    r"Network is unreachable|name resolution|Name or service not known|Could not resolve|"
    r"Failed to connect|Couldn't connect|Connection refused|NewConnectionError|Read-only file system",
    re.I,
)
SANDBOX_HINT = (
    "during --run tasks have no network and may write only to their own temporary folder: "
    "mock external systems, or give the call a fallback when it is unavailable"
)


def template_key(airflow_python: Path, version: str) -> str:
    """Airflow's version plus a hash of its installed distributions (providers bring tables too)."""
    venv = Path(airflow_python).parent.parent
    names = sorted(p.name for p in venv.glob("lib/python*/site-packages/apache_airflow*.dist-info"))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', version)}-{digest}"


def template_db(worker: SandboxWorker, folder: Path, key: str) -> tuple[Path, float | None]:
    """(the cached template database, seconds spent creating it or None when it was cached)."""
    target = folder / f"{key}.db"
    if target.is_file():
        return target, None
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another validation may be making the same template
        if target.is_file():
            return target, None
        started = time.perf_counter()
        scratch = worker.run_dir / "template.db"
        job = {
            "id": "template-db",
            "kind": "migrate",
            "path": str(scratch),
            "root": str(worker.run_dir),
            "timeout_s": TEMPLATE_TIMEOUT_S,
            "cpu_s": int(TEMPLATE_TIMEOUT_S),
            "memory_mb": 2048,
            "max_processes": MAX_PROCESSES,
        }
        [result] = worker.run([job])
        if result.get("status") != "ok" or not scratch.is_file():
            detail = result.get("message") or result.get("status")
            raise ValidationFailed(
                f"could not create Airflow's metadata database for --run: {detail}",
                f"check that `{worker.airflow_python.parent / 'airflow'} db migrate` works with a "
                "throw-away AIRFLOW_HOME, or validate without --run",
            )
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(scratch, temporary)
        os.replace(temporary, target)
        scratch.unlink(missing_ok=True)
        return target, time.perf_counter() - started


def run_job(
    worker: SandboxWorker, number: int, dag_id: str, dag_path: Path, root: Path, template: Path, limits: dict
) -> tuple[dict[str, Any], Path]:
    """One DAG's job and its private folder (its own database copy, HOME and TMPDIR)."""
    job_dir = worker.root / "runs" / f"job-{number:05d}"
    for folder in ("home", "tmp", "logs"):
        (job_dir / folder).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, job_dir / "airflow.db")
    job = {
        "id": f"run-{number}",
        "kind": "run",
        "path": str(dag_path),
        "root": str(root),
        "dag_id": dag_id,
        "sandbox": f"{job_dir}{os.sep}",  # the only writable place; the separator stops job-1 ~ job-10
        "source_root": str(worker.root),
        **limits,
    }
    return job, job_dir


def isolation(
    worker: SandboxWorker, limits: dict[str, Any], confinement: dict[str, str], template: dict
) -> dict:
    """What was in force while the DAGs ran, for report.sandbox["run"]."""
    return {
        "how": "each DAG once with dag.test(): retries off, its own copy of a fresh metadata database",
        "template_db": template,
        "network": worker.network,
        **(confinement or {"confinement": "no DAG was run"}),
        "audit_hook": (
            "tasks may start and signal processes; Python code may not open network sockets, resolve "
            "names, connect to local sockets or write, rename or delete outside the run's own folder, "
            "nor exec dynamically built code; re-parsing the file keeps the parse-time rules"
        ),
        "process_lifetime": (
            "each run in its own process group, killed at its time limit; strays killed when the batch "
            "ends (PID namespace)"
            if worker.pid_namespace
            else "each run in its own process group, killed at its time limit (no PID namespace)"
        ),
        "limits": dict(limits),
    }


def task_line(source: str, task_id: str) -> int | None:
    """Where a task is defined: the call with ``task_id="..."`` or the ``def`` of a @task."""
    base = task_id.split("[", 1)[0]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "task_id" and isinstance(value, ast.Constant) and value.value == base:
                    return node.lineno
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == base:
            return node.lineno
    return None


def _progress(job_dir: Path) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(tasks started and not finished, last entry per task) from the run's progress file: what
    is known of a run that was killed at its time limit."""
    running: list[str] = []
    last: dict[str, dict[str, Any]] = {}
    try:
        lines = (job_dir / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        key = str(entry.get("task") or entry.get("task_id"))
        last[key] = entry
        if entry.get("event") == "start":
            running.append(key)
        elif key in running:
            running.remove(key)
    return running, last


def _failure_message(dag_id: str, task: dict[str, Any]) -> str:
    error = str(task.get("error") or "no exception was raised (see the task log)")
    message = f"task {task['task_id']} of DAG {dag_id} failed: {error.splitlines()[0][:300]}"
    output = [line for line in task.get("output", []) if line not in error]
    if output:
        message += f" (last output: {output[-1][:200]})"
    return message


def _task_failed(dag_id: str, task: dict[str, Any], source: str) -> RawFinding:
    error = str(task.get("error", ""))
    blocked = "blocked by the validation sandbox" in error or SANDBOX_ERRORS.search(
        error + " ".join(task.get("output", []))
    )
    return RawFinding(
        "run.task-failed",
        "block",
        task.get("line") or task_line(source, str(task["task_id"])) or task.get("defined_at"),
        _failure_message(dag_id, task),
        SANDBOX_HINT
        if blocked
        else "fix the task's error (the run used a fresh database, no connections or variables, "
        f"retries off); `airflow dags test {dag_id}` shows the whole log",
    )


def run_findings(
    result: dict[str, Any], dag_id: str, source: str, job_dir: Path, timeout_s: float
) -> tuple[list[RawFinding], dict[str, Any]]:
    """(findings, the run's summary for FileReport.runs) from one run job's result."""
    findings, summary = _outcome(result, dag_id, source, job_dir, timeout_s)
    limited = process_limit_findings(
        result,
        f"while DAG {dag_id} ran",
        f"make the tasks start fewer processes at once, or raise [limits] max_processes in the policy "
        f"(a run may use {RUN_PROCESS_FACTOR} times it)",
    )
    return limited + findings, summary


def _outcome(
    result: dict[str, Any], dag_id: str, source: str, job_dir: Path, timeout_s: float
) -> tuple[list[RawFinding], dict[str, Any]]:
    status = result.get("status")
    if status == "timeout":
        running, last = _progress(job_dir)
        task = running[-1] if running else None
        where = f": task {task} was still running" if task else ""
        line = (task_line(source, task) or (last.get(task) or {}).get("defined_at")) if task else None
        finished = [e for e in last.values() if e.get("event") == "end"]
        summary = {
            "dag_id": dag_id,
            "state": "timeout",
            "running": running,
            "tasks": [{k: e.get(k) for k in ("task_id", "state", "duration_s")} for e in finished],
        }
        findings = [_task_failed(dag_id, e, source) for e in finished if e.get("state") == "failed"]
        findings.append(
            RawFinding(
                "run.timeout",
                "block",
                line,
                f"DAG {dag_id} did not finish within {timeout_s:g}s{where}",
                "make the task finish (a hanging call, an endless loop, a sensor waiting for what never "
                "comes): set execution_timeout on it, or raise [limits] run_timeout_s in the policy",
            )
        )
        return findings, summary
    if status == "crashed":
        return [
            RawFinding(
                "run.crashed",
                "block",
                None,
                f"the run of DAG {dag_id} was killed ({result.get('message')}): it hit a CPU, memory or "
                "process limit",
                "make the tasks lighter, or raise [limits] cpu_s / memory_mb in the policy",
            )
        ], {"dag_id": dag_id, "state": "crashed"}
    if status != "ok":
        trace = str(result.get("trace") or "").strip().splitlines()
        return [
            RawFinding(
                "run.error",
                "block",
                None,
                f"DAG {dag_id} could not be run: {result.get('message')}"
                + (f" ({trace[-1][:200]})" if trace else ""),
                f"run `airflow dags test {dag_id}` in Airflow's environment to see the whole error",
            )
        ], {"dag_id": dag_id, "state": "error"}
    return _ran(result, dag_id, source)


def _ran(result: dict[str, Any], dag_id: str, source: str) -> tuple[list[RawFinding], dict[str, Any]]:
    state = str(result.get("state"))
    tasks = list(result.get("tasks", []))
    summary = {
        "dag_id": dag_id,
        "state": state,
        "elapsed_s": result.get("elapsed_s"),
        "tasks": [{k: t.get(k) for k in ("task_id", "state", "duration_s")} for t in tasks],
    }
    findings: list[RawFinding] = []
    errors = " ".join(str(t.get("error", "")) for t in tasks)
    for event in result.get("events", []):
        parse_time = event.get("mode") != "run"
        if not parse_time and f"({event['event']})" in errors:
            continue  # already told by the failed task's own error
        findings.append(
            RawFinding(
                "sandbox.blocked-operation" if parse_time else "run.blocked-operation",
                "block" if parse_time else "warn",
                event.get("line"),
                f"while DAG {dag_id} {'was parsed' if parse_time else 'ran'} it tried to {event['reason']} "
                f"({event['event']})",
                "nothing may run at parse time" if parse_time else SANDBOX_HINT,
            )
        )
    if state == "not-run":
        detail = "; ".join(str(e).strip().splitlines()[-1] for e in result.get("import_errors", []) if e)
        findings.append(
            RawFinding(
                "run.error",
                "block",
                None,
                f"DAG {dag_id} was not run: it did not load in the run sandbox{': ' + detail if detail else ''}",
                "the file must load the same way on every parse; fix the error shown",
            )
        )
        return findings, summary
    failed = [t for t in tasks if t.get("state") == "failed"]
    findings.extend(_task_failed(dag_id, task, source) for task in failed)
    counts: dict[str, list[str]] = {}
    for task in tasks:
        counts.setdefault(str(task.get("state")), []).append(str(task["task_id"]))
    shown = ", ".join(
        f"{len(ids)} {s} ({', '.join(ids[:4])}{' …' if len(ids) > 4 else ''})" for s, ids in counts.items()
    )
    if state == "success":
        findings.append(
            RawFinding(
                "run.passed",
                "info",
                None,
                f"DAG {dag_id} ran once in {result.get('elapsed_s')}s: {shown}",
                "",
            )
        )
    elif not failed:
        findings.append(
            RawFinding(
                "run.incomplete",
                "block",
                None,
                f"DAG {dag_id} ended in state {state} without a failed task: {shown or 'no task ran'}",
                "check trigger rules, pools and tasks that wait for input or external events",
            )
        )
    else:
        findings.append(RawFinding("run.summary", "info", None, f"DAG {dag_id} ended {state}: {shown}", ""))
    return findings, summary
