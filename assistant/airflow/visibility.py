"""Wait until Airflow shows DAGs (or an import error for their file)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from assistant.airflow.models import DagInfo, ImportErrorInfo
from assistant.airflow.port import AirflowPort


@dataclass
class Visibility:
    visible: dict[str, DagInfo] = field(default_factory=dict)
    import_errors: list[ImportErrorInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def wait_for_dags(
    airflow: AirflowPort,
    dag_ids: Iterable[str],
    *,
    timeout_s: float = 60.0,
    poll_s: float = 0.5,
    files: Iterable[str] = (),
    accept: Callable[[DagInfo], bool] = lambda dag: True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Visibility:
    """Poll until every id is listed and ``accept``-ed, or an import error names one of ``files``.

    ``accept`` lets a caller wait for a *new version* (e.g. a newer ``last_parsed_time``).
    """
    wanted = set(dag_ids)
    watched = [f for f in files if f]
    deadline = clock() + timeout_s
    result = Visibility()
    while True:
        listed = {d.dag_id: d for d in airflow.list_dags() if d.dag_id in wanted}
        result.visible = {k: v for k, v in listed.items() if accept(v)}
        if watched:
            result.import_errors = [
                e
                for e in airflow.import_errors()
                if any(e.filename.endswith(f) or f.endswith(e.filename) for f in watched)
            ]
        result.missing = sorted(wanted - set(result.visible))
        if not result.missing or result.import_errors or clock() >= deadline:
            return result
        sleep(poll_s)
