"""Stage 4 (import in Airflow) and stage 6 (the repo's tests): the jobs sent to the sandbox worker
and the findings read from its answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.validation.security import RawFinding

SANDBOX_MARK = "blocked by the validation sandbox"
ERROR_KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "import.cycle",
        re.compile(r"Cycle detected|AirflowDagCycleException", re.I),
        "remove the dependency that closes the loop between tasks",
    ),
    (
        "import.duplicate-task-id",
        re.compile(r"DuplicateTaskIdFound|already has a task with task_id|duplicate", re.I),
        "give every task in the DAG a unique task_id",
    ),
    (
        "import.invalid-schedule",
        re.compile(r"schedule|cron|timetable|Invalid (?:cron|timetable)", re.I),
        "use a valid cron expression, preset (@daily), timedelta or timetable",
    ),
    (
        "import.timeout",
        re.compile(r"AirflowTaskTimeout|DagBag import timeout|timed out", re.I),
        "make the file parse quickly: no network, sleeps or heavy work at the top level",
    ),
)


def import_job(
    job_id: str,
    sandbox_path: Path,
    root: Path,
    modules: list[tuple[str, int, bool]],
    policy_limits: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": job_id,
        "kind": "import",
        "path": str(sandbox_path),
        "root": str(root),
        "modules": [[name, line] for name, line, _ in modules],
        **policy_limits,
    }


def _classify(message: str) -> tuple[str, str]:
    for rule, pattern, hint in ERROR_KINDS:
        if pattern.search(message):
            return rule, hint
    return "import.error", "fix the error shown; the file must import cleanly in Airflow's environment"


def _summary(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "import failed"


def process_limit_findings(result: dict[str, Any], during: str, hint: str) -> list[RawFinding]:
    """A blocking finding when the job's pids cgroup refused a fork or a thread (its ``pids.events``
    counted a "max" event), whatever the job's code did with the error it got."""
    usage = result.get("processes") or {}
    if not usage.get("refused"):
        return []
    peak = f", {usage['peak']} at once" if usage.get("peak") else ""
    return [
        RawFinding(
            "sandbox.process-limit",
            "block",
            None,
            f"{during} it reached the sandbox's limit of {usage.get('limit')} processes and threads"
            f"{peak}: {usage['refused']} more were refused (a fork bomb, or a pool far too large)",
            hint,
        )
    ]


def import_findings(
    result: dict[str, Any], timeout_s: float
) -> tuple[list[RawFinding], list[dict[str, Any]]]:
    """(findings, dags) from one import job's result."""
    status = result.get("status")
    limited = process_limit_findings(
        result,
        "while Airflow parsed the file",
        "start no processes or threads at the top level of the file; move that work into a task",
    )
    if status == "timeout":
        return [
            *limited,
            RawFinding(
                "sandbox.timeout",
                "block",
                None,
                f"importing the file did not finish within {timeout_s:g}s",
                "remove endless loops, sleeps and network calls from the top level of the file",
            ),
        ], []
    if status == "crashed":
        return [
            *limited,
            RawFinding(
                "sandbox.crashed",
                "block",
                None,
                f"the sandboxed import was killed ({result.get('message')}): it hit a CPU, memory or "
                "process limit",
                "do not allocate huge data or spawn processes while the DAG is parsed",
            ),
        ], []
    if status != "ok":
        return [
            *limited,
            RawFinding(
                "sandbox.error",
                "block",
                None,
                f"the sandbox failed: {result.get('message')}",
                "run the validation again; report it if it persists",
            ),
        ], []
    findings: list[RawFinding] = list(limited)
    for event in result.get("events", []):
        findings.append(
            RawFinding(
                "sandbox.blocked-operation",
                "block",
                event.get("line"),
                f"while Airflow parsed the file it tried to {event['reason']} ({event['event']})",
                "move this into a task; nothing may run processes, sockets, native code or writes at parse time",
            )
        )
    for error in result.get("import_errors", []):
        message = str(error.get("message", ""))
        if SANDBOX_MARK in message and result.get("events"):
            continue
        rule, hint = _classify(message)
        findings.append(RawFinding(rule, "block", error.get("line"), _summary(message), hint))
    for warning in result.get("warnings", [])[:5]:
        findings.append(
            RawFinding(
                "import.warning",
                "info",
                None,
                _summary(str(warning)),
                "Airflow warned while parsing; update the code it points at",
            )
        )
    dags = list(result.get("dags", []))
    if not dags and not result.get("import_errors") and not findings:
        findings.append(
            RawFinding(
                "import.no-dag",
                "info",
                None,
                "Airflow found no DAG in this file",
                "fine for helper modules; a DAG file must create a DAG at the top level",
            )
        )
    return findings, dags


def pytest_findings(result: dict[str, Any], airflow_python: Path) -> list[RawFinding]:
    status = result.get("status")
    limited = process_limit_findings(
        result, "while the tests ran", "make the tests start fewer processes and threads at once"
    )
    if status == "timeout":
        return [
            *limited,
            RawFinding(
                "tests.timeout",
                "block",
                None,
                "the repository's tests did not finish in time",
                "make the tests faster or mark slow ones to skip",
            ),
        ]
    if status != "ok":
        return [
            *limited,
            RawFinding(
                "tests.error",
                "block",
                None,
                f"the tests could not run: {result.get('message')}",
                "run pytest locally in Airflow's environment to see why",
            ),
        ]
    if result.get("pytest_missing"):
        return [
            RawFinding(
                "tests.pytest-missing",
                "warn",
                None,
                "pytest is not available to Airflow's interpreter",
                f"{airflow_python} -m pip install pytest",
            )
        ]
    code = int(result.get("exit_code", 0))
    failed = result.get("failed", [])
    findings = limited + [
        RawFinding(
            "tests.failed",
            "block",
            None,
            f"{item['test']} failed: {_summary(str(item.get('message', '')))}",
            "fix the test or the DAG it tests",
        )
        for item in failed
    ]
    if code not in (0, 5) and not failed:
        findings.append(
            RawFinding(
                "tests.failed",
                "block",
                None,
                f"pytest exited with code {code}",
                "run pytest in Airflow's environment to see the collection errors",
            )
        )
    if code == 5:
        findings.append(
            RawFinding("tests.none", "info", None, "tests/ holds no tests", "add tests for your DAGs")
        )
    elif not findings:
        findings.append(
            RawFinding("tests.passed", "info", None, f"{result.get('passed', 0)} tests passed", "")
        )
    return findings


def pytest_shim(folder: Path) -> Path | None:
    """A folder exposing this environment's pytest to Airflow's interpreter when it has none.

    Only links pytest and its small pure-Python dependencies; appended last to ``sys.path``.
    """
    import importlib.util

    names = ["pytest", "_pytest", "pluggy", "iniconfig", "py"]
    folder.mkdir(parents=True, exist_ok=True)
    linked = False
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        target = origin.parent if origin.name == "__init__.py" else origin
        link = folder / target.name
        if not link.exists():
            link.symlink_to(target)
        linked = linked or name == "pytest"
    return folder if linked else None
