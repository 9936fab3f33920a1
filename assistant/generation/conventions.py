"""Conventions a generated DAG follows, what the code of similar DAGs says, and their precedence.

A :class:`Conventions` is what one source says about owner, retries, execution timeout, tags and
the connection id per service, and where it comes from (its ``origin``). The sources are the
description's own words (:mod:`.stated`), the team's conventions page in the docs
(:mod:`.doc_conventions`) and the code of the most similar deployed DAGs (:func:`learn_conventions`,
here). :func:`apply_layers` fills the spec from them, highest precedence first, and records which
source gave each value; defaults learned from run history come after them (:mod:`.run_defaults`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.generation.kinds import DEFAULT_CONN
from assistant.generation.spec import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_MINUTES,
    IDENTIFIER,
    MAX_OWNER_LENGTH,
    RETRIES_RANGE,
    TIMEOUT_RANGE,
    DagSpec,
    TaskSpec,
)

DEFAULT_OWNERS = frozenset({"airflow", "data-team", ""})
MAX_TAGS_FROM_CONVENTIONS = 10  # a spec stops taking tags from conventions at this many
SIMILAR_DAGS = "similar deployed DAGs"
DESCRIPTION = "the description"
_OWNER = re.compile(
    r"""["']owner["']\s*:\s*["']([\w.@ -]{1,60})["']|\bowner\s*=\s*["']([\w.@ -]{1,60})["']"""
)
_RETRIES = re.compile(r"""["']?\bretries["']?\s*[:=]\s*(\d{1,2})\b""")
_TIMEOUT = re.compile(
    r"""\bexecution_timeout["']?\s*[:=]\s*timedelta\(\s*(hours|minutes|seconds)\s*=\s*(\d+)\s*\)"""
)
_TAGS = re.compile(r"\btags\s*=\s*\[([^\]]*)\]")
_STRING = re.compile(r"""["']([\w.:/ -]{1,60})["']""")
_CONN = re.compile(r"""\b(\w*conn_id)\s*=\s*["']([\w.-]{1,100})["']""")
_DAG_ID = re.compile(r"""\bdag_id\s*=\s*["']([\w.-]{1,200})["']""")
_OPERATOR_CALL = re.compile(
    r"""\b([A-Z]\w*(?:Operator|Sensor))\((?:[^()]|\([^()]*\))*?\btask_id\s*=\s*["']([\w.-]{1,250})["']"""
)
_TASKFLOW = re.compile(r"@task(?:\.(\w+))?(?:\(([^)]*)\))?\s*\n\s*(?:async\s+)?def\s+(\w+)")
_TASK_ID_ARG = re.compile(r"""\btask_id\s*=\s*["']([\w.-]{1,250})["']""")
# The keyword an operator takes its connection by -> the connection key(s) it tells us about.
CONN_KEYWORDS: dict[str, tuple[str, ...]] = {
    "http_conn_id": ("http",),
    "aws_conn_id": ("s3_copy",),
    "gcp_conn_id": ("gcs_copy",),
    "google_cloud_storage_conn_id": ("gcs_copy",),
    "slack_webhook_conn_id": ("slack",),
    "slack_conn_id": ("slack",),
    "fs_conn_id": ("file_sensor",),
    "postgres_conn_id": ("sql:postgres", "sql"),
    "mysql_conn_id": ("sql:mysql", "sql"),
    "snowflake_conn_id": ("sql:snowflake", "sql"),
    "conn_id": ("sql",),
}
SQL_FLAVORS = ("postgres", "mysql", "snowflake", "redshift", "sqlite", "mssql")
# Operator class names -> the task kind (first match wins).
OPERATOR_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"ExternalTask", "dag_sensor"),
        (r"FileSensor", "file_sensor"),
        (r"Wait|TimeDelta", "wait"),
        (r"Branch", "branch"),
        (r"Slack", "slack"),
        (r"Email|Smtp", "email"),
        (r"Kubernetes|Pod", "kubernetes"),
        (r"^S3|Aws|Amazon|Redshift", "s3_copy"),
        (r"GCS|Gcs|Google", "gcs_copy"),
        (r"Http", "http"),
        (r"SQL|Sql|Postgres|MySql|Snowflake|Query", "sql"),
        (r"Bash", "bash"),
        (r"Python", "python"),
    )
)
_TASKFLOW_KINDS = {"bash": "bash", "branch": "branch", "kubernetes": "kubernetes", None: "python"}


class SimilarHit(Protocol):
    source: str
    text: str
    metadata: Mapping[str, Any]


SimilarSearch = Callable[[str, int], Sequence[SimilarHit]]


@dataclass
class Conventions:
    origin: str = SIMILAR_DAGS  # where these come from, in words ("the description", "the docs (x.md)")
    similar: list[str] = field(default_factory=list)  # dag ids (or files) the conventions come from
    owner: str | None = None
    retries: int | None = None
    timeout_minutes: int | None = None  # execution_timeout
    tags: list[str] = field(default_factory=list)
    connections: dict[str, str] = field(default_factory=dict)  # connection key (see connection_keys) -> id
    task_kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (dag id, task id) -> kind
    conflicts: list[str] = field(default_factory=list)  # later, different statements ("owner x")

    def is_empty(self) -> bool:
        return not (
            self.owner or self.retries is not None or self.timeout_minutes or self.tags or self.connections
        )


@dataclass(frozen=True)
class Applied:
    origin: str
    what: str  # "owner data-platform", "upload uses connection aws_prod"


@dataclass
class Resolution:
    applied: list[Applied] = field(default_factory=list)
    settled: dict[str, str] = field(default_factory=dict)  # "owner" / "retries" / "timeout" -> origin
    ignored: list[str] = field(default_factory=list)  # values out of range, in words with the fix

    def add(self, origin: str, what: str) -> None:
        self.applied.append(Applied(origin, what))

    def ignore(self, origin: str, what: str, allowed: str) -> None:
        self.ignored.append(f"Ignored {what} from {origin}: {allowed}.")


def _most_common(values: list[Any]) -> Any:
    return Counter(values).most_common(1)[0][0] if values else None


def _minutes(unit: str, amount: int) -> int:
    return {"hours": amount * 60, "minutes": amount, "seconds": max(1, -(-amount // 60))}[unit]


def learn_conventions(hits: Sequence[SimilarHit]) -> Conventions:
    """What the code of the similar DAGs has in common (the most frequent value of each)."""
    owners: list[str] = []
    retries: list[int] = []
    timeouts: list[int] = []
    tags: list[str] = []
    connections: dict[str, list[str]] = {}
    similar: list[str] = []
    kinds: dict[tuple[str, str], str] = {}
    for hit in hits:
        text = hit.text
        name = str(hit.metadata.get("dag_id") or "") or next(iter(_DAG_ID.findall(text)), "") or hit.source
        if name and name not in similar:
            similar.append(name)
        owners += [a or b for a, b in _OWNER.findall(text) if (a or b) not in DEFAULT_OWNERS]
        retries += [int(r) for r in _RETRIES.findall(text) if 1 <= int(r) <= RETRIES_RANGE[1]]
        timeouts += [_minutes(unit, int(n)) for unit, n in _TIMEOUT.findall(text) if int(n) > 0]
        for group in _TAGS.findall(text):
            tags += [t for t in _STRING.findall(group) if t != "generated"]
        for keyword, conn_id in _CONN.findall(text):
            keys = CONN_KEYWORDS.get(keyword, ())
            if keys == ("sql",) and "smtp" in conn_id:
                keys = ("email",)
            for key in keys:
                connections.setdefault(key, []).append(conn_id)
        kinds.update({(name, task_id): kind for task_id, kind in task_kinds_in_code(text).items()})
    timeout = _most_common(timeouts)
    return Conventions(
        similar=similar,
        owner=_most_common(owners),
        retries=_most_common(retries),
        timeout_minutes=timeout if timeout and TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1] else None,
        tags=[t for t, _ in Counter(tags).most_common(3)],
        connections={key: _most_common(ids) for key, ids in connections.items()},
        task_kinds=kinds,
    )


def operator_kind(class_name: str) -> str | None:
    return next((kind for pattern, kind in OPERATOR_KINDS if pattern.search(class_name)), None)


def task_kinds_in_code(text: str) -> dict[str, str]:
    """``{task_id: kind}`` of the operators and ``@task`` functions in a piece of DAG code."""
    found: dict[str, str] = {}
    for class_name, task_id in _OPERATOR_CALL.findall(text):
        kind = operator_kind(class_name)
        if kind:
            found[task_id] = kind
    for flavor, arguments, function in _TASKFLOW.findall(text):
        explicit = _TASK_ID_ARG.search(arguments or "")
        kind = _TASKFLOW_KINDS.get(flavor or None)
        if kind:
            found[explicit.group(1) if explicit else function] = kind
    return found


def connection_keys(task: TaskSpec) -> list[str]:
    """The keys a convention may give this task's connection under, most specific first; [] when
    the description named the connection itself (or the task needs none)."""
    if task.kind not in DEFAULT_CONN:
        return []
    conn_id = task.params.get("conn_id")
    if conn_id is None:
        # A warehouse without a name: the team's warehouse, else its Postgres.
        return ["sql", "sql:postgres"] if task.kind == "sql" else [task.kind]
    flavor = str(conn_id).removesuffix("_default")
    if task.kind == "sql" and flavor in SQL_FLAVORS and conn_id == f"{flavor}_default":
        return [f"sql:{flavor}"]  # the database the description named, at its default connection
    return []


def apply_conventions(spec: DagSpec, conventions: Conventions) -> list[str]:
    """Fill the spec's defaults from one source of ``conventions``; returns what changed, in words."""
    return [applied.what for applied in apply_layers(spec, [conventions]).applied]


def apply_layers(spec: DagSpec, layers: Sequence[Conventions]) -> Resolution:
    """Fill the spec from ``layers`` (highest precedence first): each value from the first layer
    that has one; values the spec already carries away from the built-in defaults are kept."""
    resolution = Resolution()
    _settle_explicit(spec, resolution)
    for layer in layers:
        _apply_owner(spec, layer, resolution)
        for setting in _BOUNDED:
            _apply_bounded(spec, layer, setting, resolution)
        for tag in layer.tags:
            if tag not in spec.tags and len(spec.tags) < MAX_TAGS_FROM_CONVENTIONS:
                spec.tags.append(tag)
                resolution.add(layer.origin, f"tag {tag}")
    for task in spec.tasks:
        _apply_connection(task, layers, resolution)
    similar = next((layer.similar for layer in layers if layer.similar), [])
    spec.similar = [s for s in similar if IDENTIFIER.match(s) or "/" in s][:5]
    return resolution


def _settle_explicit(spec: DagSpec, resolution: Resolution) -> None:
    """Values an LLM's reading already set away from the defaults count as the description's words."""
    if spec.owner not in DEFAULT_OWNERS:
        resolution.settled["owner"] = DESCRIPTION
    if spec.retries != DEFAULT_RETRIES:
        resolution.settled["retries"] = DESCRIPTION
    if spec.timeout_minutes != DEFAULT_TIMEOUT_MINUTES:
        resolution.settled["timeout"] = DESCRIPTION


def _apply_owner(spec: DagSpec, layer: Conventions, resolution: Resolution) -> None:
    if not layer.owner or "owner" in resolution.settled:
        return
    if len(layer.owner) > MAX_OWNER_LENGTH:
        resolution.ignore(
            layer.origin, f"owner {layer.owner[:20]}…", f"at most {MAX_OWNER_LENGTH} characters"
        )
        return
    spec.owner = layer.owner
    resolution.settled["owner"] = layer.origin
    resolution.add(layer.origin, f"owner {layer.owner}")


@dataclass(frozen=True)
class _Bounded:
    """A whole-number setting a layer may give the spec, when within its bounds."""

    key: str  # in Resolution.settled
    attr: str  # of Conventions and of DagSpec
    bounds: tuple[int, int]
    shown: str  # the setting in words, formatted with the value
    refusal: str  # why a value outside the bounds is ignored, formatted with them


_BOUNDED = (
    _Bounded("retries", "retries", RETRIES_RANGE, "retries {}", "retries are between {} and {}"),
    _Bounded(
        "timeout",
        "timeout_minutes",
        TIMEOUT_RANGE,
        "execution_timeout {} min",
        "it is between {} and {} minutes",
    ),
)


def _apply_bounded(spec: DagSpec, layer: Conventions, setting: _Bounded, resolution: Resolution) -> None:
    value = getattr(layer, setting.attr)
    if value is None or setting.key in resolution.settled:
        return
    low, high = setting.bounds
    if not low <= value <= high:
        resolution.ignore(layer.origin, setting.shown.format(value), setting.refusal.format(low, high))
        return
    setattr(spec, setting.attr, value)
    resolution.settled[setting.key] = layer.origin
    resolution.add(layer.origin, setting.shown.format(value))


def _apply_connection(task: TaskSpec, layers: Sequence[Conventions], resolution: Resolution) -> None:
    keys = connection_keys(task)
    for layer in layers:
        conn_id = next((layer.connections[k] for k in keys if layer.connections.get(k)), None)
        if conn_id:
            task.params["conn_id"] = conn_id
            resolution.add(layer.origin, f"{task.task_id} uses connection {conn_id}")
            return
