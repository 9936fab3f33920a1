"""One ingestion pass over finished runs: listed once, each log fetched once, fed to learning and the index."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.airflow.models import DagInfo, DagRunInfo, TaskInstanceInfo
from assistant.compose import Components
from assistant.config import load_config
from assistant.errors import AirflowUnavailable
from assistant.learning import ingest as learning
from assistant.learning import store
from assistant.learning.templates import cause_line
from assistant.retrieval.ingest import compact_log, log_excerpt
from assistant.state import open_state
from assistant.tools.ingest import IngestSummary, ingest

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
CAUSE = "PermissionError: ExpiredToken: the AWS credentials have expired"
FAILED_LOG = (
    "[2025-03-01T08:00:01Z] INFO task - uploading to s3://reports\n"
    "[2025-03-01T08:00:02Z] ERROR task - Task failed with exception\n"
    "Traceback (most recent call last):\n"
    '  File "/dags/sales.py", line 12, in upload\n'
    f"{CAUSE}\n"
)
OK_LOG = "[2025-03-01T08:00:01Z] INFO task - done\n"


def _run(dag_id: str, run_id: str, state: str, minutes: int) -> DagRunInfo:
    start = T0 + timedelta(minutes=minutes)
    end = start + timedelta(seconds=30) if state in ("success", "failed") else None
    return DagRunInfo(dag_id, run_id, state, start_date=start, end_date=end, run_after=start)


class FakeAirflow:
    """The adapter's calls that ingestion makes, counted; runs whose id ends in ``bad`` fail ``upload``
    on its second try (the first try failed too)."""

    url = "http://airflow.invalid"

    def __init__(self, dag_file: Path, runs: list[DagRunInfo]) -> None:
        self.dag_file, self.runs = dag_file, runs
        self.listed: list[str | None] = []
        self.logs: Counter[tuple[str, str, str, int]] = Counter()
        self.down_after_logs: int | None = None

    def list_dags(self, *, include_stale: bool = False) -> list[DagInfo]:
        return [self.get_dag(d) for d in sorted({r.dag_id for r in self.runs})]

    def get_dag(self, dag_id: str) -> DagInfo:
        return DagInfo(dag_id, False, fileloc=str(self.dag_file))

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
        self.listed.append(dag_id)
        runs = [r for r in self.runs if dag_id in (None, r.dag_id)]
        return sorted(runs, key=lambda r: r.run_after or T0, reverse=True)[:limit]

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        bad = run_id.endswith("bad")
        return [
            TaskInstanceInfo(dag_id, run_id, "extract", "success", 1, duration_s=2.0),
            TaskInstanceInfo(
                dag_id, run_id, "upload", "failed" if bad else "success", 2 if bad else 1, duration_s=3.0
            ),
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        if self.down_after_logs is not None and sum(self.logs.values()) >= self.down_after_logs:
            raise AirflowUnavailable("Airflow is down", "start it")
        self.logs[(dag_id, run_id, task_id, try_number)] += 1
        return FAILED_LOG if run_id.endswith("bad") and task_id == "upload" else OK_LOG


class FakeKnowledge:
    """``add_passages`` as the real index does it: passages replaced per group, never duplicated."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, list[tuple[str, Any]]]] = {"task_logs": {}, "outcomes": {}}
        self.calls = 0

    def add_passages(self, collection: str, passages: list[tuple[str, str, Any]], group_key: str) -> int:
        self.calls += 1
        fresh: dict[str, list[tuple[str, Any]]] = {}
        for group, text, meta in passages:
            fresh.setdefault(group, []).append((text, meta))
        self.groups[collection].update(fresh)
        return len(passages)

    def texts(self, collection: str) -> list[str]:
        return [text for passages in self.groups[collection].values() for text, _ in passages]


@pytest.fixture
def dag_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.py"
    path.write_text("from airflow.sdk import DAG\n")
    return path


def _components(tmp_path: Path, airflow: FakeAirflow, knowledge: Any = None) -> Components:
    return Components(
        load_config(),
        airflow=airflow,
        db=open_state(tmp_path / "state.db"),
        knowledge=knowledge if knowledge is not None else FakeKnowledge(),
    )


def _count(components: Components, table: str) -> int:
    return int(components.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_one_pass_fetches_each_log_once_and_feeds_learning_and_the_index(
    tmp_path: Path, dag_file: Path
) -> None:
    runs = [
        _run("sales", "r1-bad", "failed", 0),
        _run("sales", "r2", "success", 10),
        _run("sales", "r3", "running", 20),
        _run("billing", "b1", "success", 5),
    ]
    airflow = FakeAirflow(dag_file, runs)
    components = _components(tmp_path, airflow)

    assert ingest(components) == IngestSummary(recorded=3, indexed=3)
    assert sorted(airflow.listed, key=str) == ["billing", "sales"]  # each DAG's runs listed once
    # every try of every task of the finished runs, each fetched exactly once (the failed one included)
    assert airflow.logs[("sales", "r1-bad", "upload", 2)] == 1
    assert set(airflow.logs.values()) == {1} and len(airflow.logs) == 7
    assert not any(run_id == "r3" for _, run_id, _, _ in airflow.logs)  # still running: not ingested

    # learning: the run is recorded with its cause line and template
    history = store.load_history(components.db)
    failed = next(r for r in history["sales"] if r.run_id == "r1-bad")
    assert failed.cause is not None and "ExpiredToken" in failed.cause
    assert store.recorded_run_ids(components.db, "sales") == {"r1-bad", "r2"}
    # the index: every try's log and the outcome, whose summary quotes several lines of the log
    knowledge = components.knowledge
    assert {"sales/r1-bad/upload/-1/1", "sales/r1-bad/upload/-1/2", "billing/b1/extract/-1/1"} <= set(
        knowledge.groups["task_logs"]
    )
    outcome = knowledge.groups["outcomes"]["sales/r1-bad/upload/-1"][0][0]
    assert log_excerpt(compact_log(FAILED_LOG)) in outcome and "Traceback" in outcome
    ingested = components.db.execute("SELECT run_id FROM runs WHERE ingested_at IS NOT NULL").fetchall()
    assert {row["run_id"] for row in ingested} == {"r1-bad", "r2", "b1"}


def test_the_error_excerpt_column_holds_the_cause_line(tmp_path: Path, dag_file: Path) -> None:
    airflow = FakeAirflow(dag_file, [_run("sales", "r1-bad", "failed", 0)])
    components = _components(tmp_path, airflow)
    ingest(components, dag_id="sales")
    rows = components.db.execute(
        "SELECT task_id, error_excerpt, error_template FROM task_outcomes WHERE error_excerpt IS NOT NULL"
    ).fetchall()
    assert [(row["task_id"], row["error_excerpt"]) for row in rows] == [("upload", CAUSE)]
    assert cause_line(FAILED_LOG) == CAUSE and rows[0]["error_template"]


def test_reingesting_the_same_runs_fetches_and_adds_nothing(tmp_path: Path, dag_file: Path) -> None:
    airflow = FakeAirflow(
        dag_file, [_run("sales", "r1-bad", "failed", 0), _run("sales", "r2", "success", 10)]
    )
    components = _components(tmp_path, airflow)
    assert ingest(components, dag_id="sales") == IngestSummary(2, 2)
    fetched, calls = sum(airflow.logs.values()), components.knowledge.calls
    tables = {t: _count(components, t) for t in ("runs", "task_outcomes", "run_code_versions")}
    passages = {c: sorted(components.knowledge.texts(c)) for c in ("task_logs", "outcomes")}

    assert ingest(components, dag_id="sales") == IngestSummary(0, 0)
    assert ingest(components) == IngestSummary(0, 0)
    assert sum(airflow.logs.values()) == fetched and components.knowledge.calls == calls
    assert {t: _count(components, t) for t in tables} == tables
    assert {c: sorted(components.knowledge.texts(c)) for c in passages} == passages


def test_a_run_recorded_before_is_only_indexed_and_keeps_its_cause_line(
    tmp_path: Path, dag_file: Path
) -> None:
    """`predict` records runs on its own; the pass then indexes them without recording them again."""
    airflow = FakeAirflow(dag_file, [_run("sales", "r1-bad", "failed", 0)])
    components = _components(tmp_path, airflow)
    assert learning.record_finished_runs(airflow, components.db, "sales") == 1  # type: ignore[arg-type]
    assert sum(airflow.logs.values()) == 1  # learning alone reads only the failed try's log

    assert ingest(components, dag_id="sales") == IngestSummary(recorded=0, indexed=1)
    excerpt = components.db.execute(
        "SELECT error_excerpt FROM task_outcomes WHERE task_id = 'upload'"
    ).fetchone()
    assert excerpt[0] == CAUSE
    assert "sales/r1-bad/upload/-1/2" in components.knowledge.groups["task_logs"]


def test_the_index_takes_the_newest_limit_runs_and_learning_its_whole_window(
    tmp_path: Path, dag_file: Path
) -> None:
    airflow = FakeAirflow(dag_file, [_run("sales", f"r{i}", "success", i) for i in range(4)])
    components = _components(tmp_path, airflow)
    assert ingest(components, dag_id="sales", limit=1) == IngestSummary(recorded=4, indexed=1)
    assert airflow.listed == ["sales"]
    assert set(components.knowledge.groups["outcomes"]) >= {"sales/r3"}
    assert not any(group.startswith("sales/r0") for group in components.knowledge.groups["outcomes"])
    # the other runs' logs were not needed (successful, already recorded): nothing more is fetched
    assert {run_id for _, run_id, _, _ in airflow.logs} == {"r3"}
    assert ingest(components, dag_id="sales", limit=4) == IngestSummary(recorded=0, indexed=3)


def test_airflow_going_down_midway_keeps_what_was_fetched(tmp_path: Path, dag_file: Path) -> None:
    airflow = FakeAirflow(
        dag_file, [_run("sales", "r1-bad", "failed", 0), _run("sales", "r2", "success", 10)]
    )
    airflow.down_after_logs = 3  # r1-bad's three logs, then Airflow is gone
    components = _components(tmp_path, airflow)
    assert ingest(components, dag_id="sales") == IngestSummary(1, 1)
    airflow.down_after_logs = None
    assert ingest(components, dag_id="sales") == IngestSummary(1, 1)  # the rest, next time
    assert set(airflow.logs.values()) == {1}


def test_airflow_unreachable_ingests_nothing(tmp_path: Path, dag_file: Path) -> None:
    class Down(FakeAirflow):
        def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
            raise AirflowUnavailable("Airflow is down", "start it")

    assert ingest(_components(tmp_path, Down(dag_file, []))) == IngestSummary(0, 0)


def test_an_interrupted_pass_redone_replaces_passages_in_the_real_index(
    tmp_path: Path, dag_file: Path
) -> None:
    """The index keys passages by run/task/try: indexing a run again replaces, never duplicates."""
    from assistant.compose import build_assistant

    knowledge = build_assistant().components.knowledge
    airflow = FakeAirflow(dag_file, [_run("sales", "r1-bad", "failed", 0)])
    components = _components(tmp_path, airflow, knowledge)
    assert ingest(components, dag_id="sales") == IngestSummary(1, 1)
    counts = {c: knowledge.store.count(c) for c in ("task_logs", "outcomes")}
    assert counts["task_logs"] >= 2 and counts["outcomes"] >= 2

    components.db.execute("UPDATE runs SET ingested_at = NULL")  # as if the pass stopped before the mark
    components.db.commit()
    assert ingest(components, dag_id="sales") == IngestSummary(recorded=0, indexed=1)
    assert {c: knowledge.store.count(c) for c in counts} == counts
    hits = knowledge.search(
        "AWS credentials expired", k=3, collections=("outcomes",), where={"dag_id": "sales"}
    )
    assert hits and "ExpiredToken" in hits[0].text


def test_the_index_never_writes_a_tasks_error_text(tmp_path: Path, dag_file: Path) -> None:
    """Learning is the one writer of ``error_excerpt``: indexing alone leaves it empty."""
    from assistant.retrieval.ingest import index_runs

    airflow = FakeAirflow(dag_file, [_run("sales", "r1-bad", "failed", 0)])
    components = _components(tmp_path, airflow)
    run = airflow.runs[0]
    tasks = airflow.task_instances("sales", run.run_id)
    logs = {(t.task_id, t.map_index, n): FAILED_LOG for t in tasks for n in range(1, t.try_number + 1)}
    assert index_runs(components, [(run, tasks, logs)]) == 1
    rows = components.db.execute("SELECT error_excerpt, error_template FROM task_outcomes").fetchall()
    assert rows and all(row[0] is None and row[1] is None for row in rows)
