"""After a publish: make Airflow parse the changed files now, wait for the new versions, report.

New files are found by the dag-processor's folder listing (every second with the foundation's
settings); files that changed under an existing path are queued with the re-parse API. A DAG
counts as its new version once Airflow parsed it after the publish instant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from assistant.airflow.models import DagInfo
from assistant.airflow.port import AirflowPort
from assistant.airflow.visibility import wait_for_dags
from assistant.errors import AirflowError
from assistant.gitops.models import DagStatus

log = logging.getLogger("assistant.gitops")


def pick_up(
    airflow: AirflowPort,
    dag_files: dict[str, str],
    changed_files: set[str],
    link_prefix: str,
    published_at: datetime,
    *,
    unpause: Iterable[str] = (),
    timeout_s: float = 60.0,
) -> list[DagStatus]:
    """``dag_files``: dag_id -> file relative to the release; ``link_prefix``: '<namespace>/<repo>'."""
    if not dag_files:
        return []
    changed_dags = {d for d, f in dag_files.items() if f in changed_files}
    try:
        _reparse_changed(airflow, changed_dags)
        threshold = published_at - timedelta(seconds=0.5)

        def accept(dag: DagInfo) -> bool:
            if dag.dag_id not in changed_dags:
                return True
            parsed = dag.last_parsed_time
            return parsed is not None and _aware(parsed) >= threshold

        files = sorted({f"{link_prefix}/{f}" for f in dag_files.values()})
        seen = wait_for_dags(airflow, dag_files, timeout_s=timeout_s, files=files, accept=accept)
        for dag_id in unpause:
            if dag_id in seen.visible:
                seen.visible[dag_id] = airflow.set_paused(dag_id, False)
    except AirflowError as exc:
        return [DagStatus(d, f, "unknown", f"Airflow: {exc.message}") for d, f in sorted(dag_files.items())]
    errors = {e.filename: e for e in seen.import_errors}
    statuses = []
    for dag_id, file in sorted(dag_files.items()):
        error = next((e for name, e in errors.items() if name.endswith(f"{link_prefix}/{file}")), None)
        if dag_id in seen.visible:
            dag = seen.visible[dag_id]
            statuses.append(DagStatus(dag_id, file, "paused" if dag.is_paused else "active"))
        elif error is not None:
            last = error.stacktrace.strip().splitlines()[-1:] or [""]
            statuses.append(DagStatus(dag_id, file, "import error", last[0][:200]))
        else:
            statuses.append(DagStatus(dag_id, file, "not visible yet", f"not parsed within {timeout_s:g}s"))
    return statuses


def _reparse_changed(airflow: AirflowPort, changed_dags: set[str]) -> None:
    if not changed_dags:
        return
    tokens = {d.file_token for d in airflow.list_dags() if d.dag_id in changed_dags and d.file_token}
    for token in tokens:
        try:
            airflow.reparse(token)
        except AirflowError as exc:  # the folder listing will still pick it up
            log.info("re-parse request refused: %s", exc.message)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)
