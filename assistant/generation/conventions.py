"""Conventions learned from similar DAGs already deployed (the ``dags`` collection).

The code of the closest deployed DAGs says which connection ids, owner, tags and retries the team
uses; :func:`apply_conventions` fills in what the description left at its default, and the spec
remembers which DAGs it learned from so the answer can name them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.generation.kinds import DEFAULT_CONN
from assistant.generation.spec import IDENTIFIER, DagSpec

DEFAULT_OWNERS = frozenset({"airflow", "data-team", ""})
_OWNER = re.compile(
    r"""["']owner["']\s*:\s*["']([\w.@ -]{1,60})["']|\bowner\s*=\s*["']([\w.@ -]{1,60})["']"""
)
_RETRIES = re.compile(r"""["']?\bretries["']?\s*[:=]\s*(\d{1,2})\b""")
_TAGS = re.compile(r"\btags\s*=\s*\[([^\]]*)\]")
_STRING = re.compile(r"""["']([\w.:/ -]{1,60})["']""")
_CONN = re.compile(r"""\b(\w*conn_id)\s*=\s*["']([\w.-]{1,100})["']""")
_DAG_ID = re.compile(r"""\bdag_id\s*=\s*["']([\w.-]{1,200})["']""")
# The keyword an operator takes its connection by -> the task kind it tells us about.
CONN_KEYWORDS: dict[str, str] = {
    "http_conn_id": "http",
    "aws_conn_id": "s3_copy",
    "gcp_conn_id": "gcs_copy",
    "google_cloud_storage_conn_id": "gcs_copy",
    "slack_webhook_conn_id": "slack",
    "slack_conn_id": "slack",
    "fs_conn_id": "file_sensor",
    "postgres_conn_id": "sql",
    "mysql_conn_id": "sql",
    "snowflake_conn_id": "sql",
    "conn_id": "sql",
}


class SimilarHit(Protocol):
    source: str
    text: str
    metadata: Mapping[str, Any]


SimilarSearch = Callable[[str, int], Sequence[SimilarHit]]


@dataclass
class Conventions:
    similar: list[str] = field(default_factory=list)  # dag ids (or files) the conventions come from
    owner: str | None = None
    retries: int | None = None
    tags: list[str] = field(default_factory=list)
    connections: dict[str, str] = field(default_factory=dict)  # task kind -> conn id


def _most_common(values: list[Any]) -> Any:
    return Counter(values).most_common(1)[0][0] if values else None


def learn_conventions(hits: Sequence[SimilarHit]) -> Conventions:
    """What the code of the similar DAGs has in common (the most frequent value of each)."""
    owners: list[str] = []
    retries: list[int] = []
    tags: list[str] = []
    connections: dict[str, list[str]] = {}
    similar: list[str] = []
    for hit in hits:
        text = hit.text
        name = str(hit.metadata.get("dag_id") or "") or next(iter(_DAG_ID.findall(text)), "") or hit.source
        if name and name not in similar:
            similar.append(name)
        owners += [a or b for a, b in _OWNER.findall(text) if (a or b) not in DEFAULT_OWNERS]
        retries += [int(r) for r in _RETRIES.findall(text) if int(r) <= 10]
        for group in _TAGS.findall(text):
            tags += [t for t in _STRING.findall(group) if t != "generated"]
        for keyword, conn_id in _CONN.findall(text):
            kind = CONN_KEYWORDS.get(keyword)
            if kind == "sql" and "smtp" in conn_id:
                kind = "email"
            if kind:
                connections.setdefault(kind, []).append(conn_id)
    return Conventions(
        similar=similar,
        owner=_most_common(owners),
        retries=_most_common(retries),
        tags=[t for t, _ in Counter(tags).most_common(3)],
        connections={kind: _most_common(ids) for kind, ids in connections.items()},
    )


def apply_conventions(spec: DagSpec, conventions: Conventions) -> list[str]:
    """Fill the spec's defaults from ``conventions``; returns what was changed, in words."""
    changes: list[str] = []
    if conventions.owner and spec.owner in DEFAULT_OWNERS:
        spec.owner = conventions.owner
        changes.append(f"owner {conventions.owner}")
    if (
        conventions.retries is not None
        and 1 <= conventions.retries <= 10
        and conventions.retries != spec.retries
    ):
        spec.retries = conventions.retries
        changes.append(f"retries {conventions.retries}")
    for tag in conventions.tags:
        if tag not in spec.tags and len(spec.tags) < 6:
            spec.tags.append(tag)
            changes.append(f"tag {tag}")
    for task in spec.tasks:
        conn_id = conventions.connections.get(task.kind)
        if conn_id and "conn_id" not in task.params and task.kind in DEFAULT_CONN:
            task.params["conn_id"] = conn_id
            changes.append(f"{task.task_id} uses connection {conn_id}")
    spec.similar = [s for s in conventions.similar if IDENTIFIER.match(s) or "/" in s][:5]
    return changes
