"""The structured spec of a DAG to generate, and the one schema check every spec goes through.

A spec comes either from the deterministic parser or from an LLM's JSON; both pass through
:func:`spec_from_dict` / :func:`check_spec`, so the renderer only ever sees a spec that is
well formed: identifiers are Python/Airflow safe, kinds are known, dependencies point at earlier
tasks and form no cycle, numbers are in range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import UsageError

KINDS: tuple[str, ...] = (
    "bash",
    "python",
    "http",
    "file_sensor",
    "dag_sensor",
    "sql",
    "s3_copy",
    "gcs_copy",
    "kubernetes",
    "email",
    "slack",
    "wait",
    "branch",
)
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Cron (5 fields), an Airflow preset, or None for manual runs.
_CRON_FIELD = r"[0-9*/,\-A-Za-z?]+"
CRON = re.compile(rf"^{_CRON_FIELD}(?:\s+{_CRON_FIELD}){{4}}$")
PRESETS = frozenset({"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"})
# Ranges every spec is checked against (whoever filled the value in: parser, LLM or conventions).
RETRIES_RANGE = (0, 10)
RETRY_DELAY_RANGE = (1, 240)  # minutes
TIMEOUT_RANGE = (1, 24 * 60)  # minutes
MAX_TAGS = 20
MAX_OWNER_LENGTH = 60
# The built-in defaults a spec starts with; conventions replace them (see conventions.py).
DEFAULT_OWNER = "data-team"
DEFAULT_RETRIES = 2
DEFAULT_TIMEOUT_MINUTES = 60
# Parameters a task of each kind may carry (all values are strings, or lists of strings for `to`).
PARAMS: dict[str, frozenset[str]] = {
    "bash": frozenset({"command"}),
    "python": frozenset({"purpose"}),
    "http": frozenset({"method", "url", "conn_id", "endpoint"}),
    "file_sensor": frozenset({"path", "conn_id"}),
    "dag_sensor": frozenset({"external_dag_id", "external_task_id"}),
    "sql": frozenset({"conn_id", "sql"}),
    "s3_copy": frozenset({"source", "dest", "conn_id"}),
    "gcs_copy": frozenset({"source", "dest", "conn_id"}),
    "kubernetes": frozenset({"image", "namespace", "command"}),
    "email": frozenset({"to", "subject", "body", "conn_id"}),
    "slack": frozenset({"message", "conn_id", "channel"}),
    "wait": frozenset({"minutes"}),
    "branch": frozenset({"condition"}),
}


@dataclass
class TaskSpec:
    task_id: str
    kind: str
    summary: str = ""  # the words of the description this task comes from
    params: dict[str, Any] = field(default_factory=dict)
    upstream: list[str] = field(default_factory=list)
    retries: int | None = None
    timeout_minutes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": self.task_id,
            "kind": self.kind,
            "summary": self.summary,
            "params": dict(self.params),
            "upstream": list(self.upstream),
        }
        if self.retries is not None:
            data["retries"] = self.retries
        if self.timeout_minutes is not None:
            data["timeout_minutes"] = self.timeout_minutes
        return data


@dataclass
class DagSpec:
    dag_id: str
    description: str
    tasks: list[TaskSpec]
    schedule: str | None = None
    owner: str = DEFAULT_OWNER
    tags: list[str] = field(default_factory=list)
    retries: int = DEFAULT_RETRIES
    retry_delay_minutes: int = 5
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
    # Where conventions came from (similar deployed DAGs), for the answer.
    similar: list[str] = field(default_factory=list)

    def task(self, task_id: str) -> TaskSpec:
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        raise KeyError(task_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "description": self.description,
            "schedule": self.schedule,
            "owner": self.owner,
            "tags": list(self.tags),
            "retries": self.retries,
            "retry_delay_minutes": self.retry_delay_minutes,
            "timeout_minutes": self.timeout_minutes,
            "tasks": [t.to_dict() for t in self.tasks],
        }


def _fail(message: str) -> UsageError:
    return UsageError(f"invalid DAG spec: {message}", "describe the workflow again, one step per clause")


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise _fail(f"{name} must be a whole number")
    if not low <= int(value) <= high:
        raise _fail(f"{name} must be between {low} and {high}")
    return int(value)


def _text(value: Any, name: str, limit: int = 2000) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a string")
    if len(value) > limit or "\x00" in value:
        raise _fail(f"{name} is too long or contains NUL")
    return value


def _params(kind: str, raw: Any, task_id: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(f"params of {task_id} must be an object")
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in PARAMS[kind]:
            continue  # LLMs add fields; unknown ones are dropped rather than rendered
        if key == "to" and isinstance(value, list):
            params[key] = [_text(v, f"{task_id}.to", 200) for v in value]
        elif key == "minutes":
            params[key] = _int(value, f"{task_id}.minutes", 1, 24 * 60)
        elif value is not None:
            params[key] = _text(value, f"{task_id}.{key}")
    return params


def check_schedule(schedule: Any) -> str | None:
    if schedule is None or schedule == "":
        return None
    text = _text(schedule, "schedule", 100).strip()
    if text in PRESETS or CRON.match(text):
        return text
    raise _fail(f"schedule {text!r} is neither a cron expression nor a preset like @daily")


def spec_from_dict(data: Any) -> DagSpec:
    """Build and check a spec from plain JSON data (the LLM's answer or a saved spec)."""
    if not isinstance(data, dict):
        raise _fail("the spec must be a JSON object")
    raw_tasks = data.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise _fail("tasks must be a non-empty list")
    tasks = []
    for index, raw in enumerate(raw_tasks):
        if not isinstance(raw, dict):
            raise _fail(f"task {index} must be an object")
        task_id = _text(raw.get("task_id"), f"task {index} task_id", 100)
        kind = raw.get("kind")
        if kind not in KINDS:
            raise _fail(f"task {task_id} has unknown kind {kind!r} (known: {', '.join(KINDS)})")
        upstream = raw.get("upstream") or []
        if not isinstance(upstream, list) or not all(isinstance(u, str) for u in upstream):
            raise _fail(f"upstream of {task_id} must be a list of task ids")
        tasks.append(
            TaskSpec(
                task_id=task_id,
                kind=kind,
                summary=_text(raw.get("summary", ""), f"{task_id}.summary", 500),
                params=_params(kind, raw.get("params"), task_id),
                upstream=list(upstream),
                retries=None
                if raw.get("retries") is None
                else _int(raw["retries"], "retries", *RETRIES_RANGE),
                timeout_minutes=None
                if raw.get("timeout_minutes") is None
                else _int(raw["timeout_minutes"], "timeout_minutes", *TIMEOUT_RANGE),
            )
        )
    tags = data.get("tags") or []
    if not isinstance(tags, list):
        raise _fail("tags must be a list of strings")
    spec = DagSpec(
        dag_id=_text(data.get("dag_id"), "dag_id", 100),
        description=_text(data.get("description", ""), "description"),
        tasks=tasks,
        schedule=check_schedule(data.get("schedule")),
        owner=_text(data.get("owner") or DEFAULT_OWNER, "owner", MAX_OWNER_LENGTH),
        tags=[_text(t, "tag", 60) for t in tags],
        retries=_int(data.get("retries", DEFAULT_RETRIES), "retries", *RETRIES_RANGE),
        retry_delay_minutes=_int(
            data.get("retry_delay_minutes", 5), "retry_delay_minutes", *RETRY_DELAY_RANGE
        ),
        timeout_minutes=_int(
            data.get("timeout_minutes", DEFAULT_TIMEOUT_MINUTES), "timeout_minutes", *TIMEOUT_RANGE
        ),
    )
    spec.tasks = _dependency_order(spec.tasks)
    check_spec(spec)
    return spec


def _dependency_order(tasks: list[TaskSpec]) -> list[TaskSpec]:
    """The tasks reordered so each comes after its upstream ones (stable; cycles are errors)."""
    by_id = {t.task_id: t for t in tasks}
    for task in tasks:
        missing = [u for u in task.upstream if u not in by_id]
        if missing:
            raise _fail(f"task {task.task_id} depends on unknown task(s) {', '.join(missing)}")
    ordered: list[TaskSpec] = []
    placed: set[str] = set()
    remaining = list(tasks)
    while remaining:
        ready = [t for t in remaining if all(u in placed for u in t.upstream)]
        if not ready:
            raise _fail("the dependencies form a cycle: " + ", ".join(t.task_id for t in remaining))
        ordered.append(ready[0])
        placed.add(ready[0].task_id)
        remaining.remove(ready[0])
    return ordered


def check_spec(spec: DagSpec) -> DagSpec:
    """Raise UsageError unless ``spec`` can be rendered into a loadable DAG."""
    if not IDENTIFIER.match(spec.dag_id):
        raise _fail(f"dag_id {spec.dag_id!r} must be lower_snake_case, at most 63 characters")
    if not spec.tasks:
        raise _fail("a DAG needs at least one task")
    check_schedule(spec.schedule)
    _check_defaults(spec)
    seen: set[str] = set()
    for task in spec.tasks:
        _check_task_overrides(task)
        if not IDENTIFIER.match(task.task_id):
            raise _fail(f"task_id {task.task_id!r} must be lower_snake_case, at most 63 characters")
        if task.task_id in seen:
            raise _fail(f"task_id {task.task_id!r} is used twice")
        if task.kind not in KINDS:
            raise _fail(f"task {task.task_id} has unknown kind {task.kind!r}")
        unknown = [u for u in task.upstream if u not in seen]
        if unknown:
            # Tasks are listed in dependency order, which also rules out cycles.
            raise _fail(f"task {task.task_id} depends on {', '.join(unknown)}, which is not an earlier task")
        seen.add(task.task_id)
    return spec


def _check_defaults(spec: DagSpec) -> None:
    """The DAG-level values (default_args, tags) are in range, whatever filled them in."""
    _int(spec.retries, "retries", *RETRIES_RANGE)
    _int(spec.retry_delay_minutes, "retry_delay_minutes", *RETRY_DELAY_RANGE)
    _int(spec.timeout_minutes, "timeout_minutes", *TIMEOUT_RANGE)
    if not _text(spec.owner, "owner", MAX_OWNER_LENGTH).strip() or "\n" in spec.owner:
        raise _fail("owner must be a non-empty single line")
    if not isinstance(spec.tags, list) or len(spec.tags) > MAX_TAGS:
        raise _fail(f"tags must be a list of at most {MAX_TAGS} strings")
    for tag in spec.tags:
        _text(tag, "tag", 60)


def _check_task_overrides(task: TaskSpec) -> None:
    if task.retries is not None:
        _int(task.retries, f"{task.task_id}.retries", *RETRIES_RANGE)
    if task.timeout_minutes is not None:
        _int(task.timeout_minutes, f"{task.task_id}.timeout_minutes", *TIMEOUT_RANGE)
