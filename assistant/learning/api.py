"""What the service calls: record fresh outcomes from Airflow, then run the pure core on them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.errors import AirflowError, AirflowUnavailable
from assistant.learning import advisor, ingest, pages, predictor, preflight, reporter, store
from assistant.learning.history import extract
from assistant.learning.peers import LOOKBACK, PeerIndex

if TYPE_CHECKING:
    from pathlib import Path

    from assistant.compose import Components


@dataclass(frozen=True)
class LearnResult:
    proposals: list[pages.PageProposal]
    written: list[Path] = field(default_factory=list)
    indexed: bool = False


def learned_pages_dir(components: Components) -> Path:
    """The checkout's knowledge/failure-causes/ when running from source, else the home's
    (``[learning] docs_dir`` / ASSISTANT_LEARNED_DOCS_DIR decides)."""
    return components.config.learned_docs


def refresh(components: Components, dag_id: str | None = None) -> int:
    """Record finished runs Airflow has that the state does not; 0 when Airflow is unreachable."""
    airflow, db = components.airflow, components.db
    try:
        dag_ids = [dag_id] if dag_id else [d.dag_id for d in airflow.list_dags()]
        return sum(ingest.record_finished_runs(airflow, db, d) for d in dag_ids)
    except AirflowUnavailable:
        return 0


def predict(
    components: Components, dag_id: str, now: datetime | None = None, *, test_connections: bool = True
) -> predictor.Prediction:
    """The warning for the next run of ``dag_id``: its own history, the other DAGs' recent failures
    (a shared connection or upstream), its tasks' durations against their execution_timeout, and
    (``test_connections``) Airflow's test of each connection its tasks use, run just now."""
    now = now or datetime.now(UTC)
    airflow, db = components.airflow, components.db
    dag = airflow.get_dag(dag_id)  # also a clear DagNotFound for an unknown DAG
    with contextlib.suppress(AirflowUnavailable):
        ingest.record_finished_runs(airflow, db, dag_id, dag=dag)
    with contextlib.suppress(AirflowError):  # the other DAGs' runs recorded so far still count
        ingest.record_recent_runs(airflow, db)
    runs = store.load_history(db, dag_id).get(dag_id, [])
    index = PeerIndex.from_histories(store.load_history(db, since=now - LOOKBACK))
    connections = {dag_id: ingest.connections_of(dag)}
    for episode in index.open_episodes(dag_id):
        connections[episode.dag_id] = _connections(components, episode.dag_id)
    features = extract(
        runs,
        ingest.code_version(dag),
        now=now,
        peers=index,
        timeouts=ingest.task_timeouts(airflow, dag_id),
        connections=connections,
    )
    own = connections[dag_id]
    checks = (
        preflight.preflight(components.airflow.test_connection, {c for ids in own.values() for c in ids})
        if test_connections
        else None
    )
    return predictor.predict(dag_id, features, now, preflight=checks)


def _connections(components: Components, dag_id: str) -> dict[str, frozenset[str]]:
    try:
        return ingest.connections_of(components.airflow.get_dag(dag_id))
    except AirflowError:
        return {}


def risk_warning(components: Components, dag_id: str) -> str | None:
    prediction = predict(components, dag_id)
    if not prediction.warns:
        return None
    return (
        f"Warning: {dag_id} is likely to fail ({prediction.probability:.0%}, {prediction.confidence} confidence): "
        f"{prediction.reason}. {prediction.recommendation[:1].upper()}{prediction.recommendation[1:]}."
    )


def advise(components: Components, dag_id: str | None = None) -> list[advisor.Advice]:
    refresh(components, dag_id)
    history = store.load_history(components.db, dag_id)
    return [item for dag, runs in sorted(history.items()) for item in advisor.advise(dag, runs)]


def report(components: Components, since: str = "7d", notify: bool = True) -> list[reporter.DagReport]:
    period = reporter.parse_since(since)
    refresh(components)
    history = store.load_history(components.db, since=datetime.now(UTC) - period)
    minimum = components.config.min_success_rate
    rows = reporter.report(history, minimum)
    if notify:
        for row in rows:
            if row.below_threshold:
                components.notifier.notify(
                    "warning",
                    f"success rate {row.dag_id}",
                    f"{row.dag_id} succeeded in {row.success_rate:.0%} of {row.runs} runs over {since} "
                    f"(below {minimum:.0%})",
                )
    return rows


def learn(components: Components, apply: bool) -> LearnResult:
    refresh(components)
    proposals = pages.propose(learned_pages_dir(components), store.load_history(components.db))
    if not apply or not proposals:
        return LearnResult(proposals)
    written = pages.write(proposals)
    components.knowledge.index(written, "docs")
    return LearnResult(proposals, written, True)
