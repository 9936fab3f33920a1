"""Defaults learned from run history, read from a real temporary learning store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.generation import task_history
from assistant.generation.conventions import Resolution, learn_conventions
from assistant.generation.run_defaults import (
    RUN_HISTORY,
    TaskRun,
    alike_ids,
    apply_run_defaults,
    learn_run_defaults,
    p95,
    round_timeout,
)
from assistant.generation.spec import DagSpec, TaskSpec
from assistant.learning import store
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.state import open_state
from tests.generation.hits import Hit

CODE = """
with DAG(dag_id="orders_dwh", default_args={"owner": "finance-data"}):
    wait = FileSensor(task_id="wait_for_export", filepath="/data/orders.csv")
    fetch = HttpOperator(task_id="fetch_orders", http_conn_id="orders_api", endpoint="/orders")
    load = SQLExecuteQueryOperator(task_id="load_orders", conn_id="dwh", sql="select 1")
"""


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    return open_state(tmp_path / "state.db")


def record(db: sqlite3.Connection, dag_id: str, tasks_per_run: list[list[TaskOutcome]]) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for i, tasks in enumerate(tasks_per_run):
        failed = any(t.state == "failed" for t in tasks)
        run = RunRecord(
            dag_id, f"run_{i}", "failed" if failed else "success", start + timedelta(days=i),
            start + timedelta(days=i, hours=1), 3600.0, None, tuple(tasks),
        )  # fmt: skip
        store.save_run(db, run, run.start, "sha256:1")


def orders_history(db: sqlite3.Connection, runs: int = 42) -> None:
    """load_orders: 5 min usually, 10 min twice; every 4th run succeeded on its 3rd try.
    fetch_orders: 20 s. The file sensor waited for hours (no evidence about work)."""
    history = []
    for i in range(runs):
        history.append(
            [
                TaskOutcome("wait_for_export", "success", 1, 5 * 3600.0),
                TaskOutcome("fetch_orders", "success", 1, 20.0),
                TaskOutcome("load_orders", "success", 3 if i % 4 == 0 else 1, 600.0 if i < 2 else 300.0),
            ]
        )
    history.append(
        [TaskOutcome("load_orders", "failed", 3, 7200.0, None, "Timeout")]
    )  # not a duration of work
    record(db, "orders_dwh", history)


def spec_of(*tasks: tuple[str, str]) -> DagSpec:
    return DagSpec("new_dag", "", [TaskSpec(task_id, kind) for task_id, kind in tasks])


def learned_from(db: sqlite3.Connection, spec: DagSpec) -> tuple[Resolution, list[str]]:
    conventions = learn_conventions([Hit("company/flows/orders.py", CODE, metadata={"dag_id": "orders_dwh"})])
    runs = task_history(lambda: db)(conventions.similar)
    defaults = learn_run_defaults(spec, runs, conventions.task_kinds)
    resolution = Resolution()
    notes = apply_run_defaults(spec, defaults, resolution)
    return resolution, notes


def test_timeout_and_retries_come_from_comparable_tasks_of_the_similar_dags(db: sqlite3.Connection) -> None:
    orders_history(db)
    spec = spec_of(
        ("load_orders_into_warehouse", "sql"), ("call_partner_api", "http"), ("wait_file", "file_sensor")
    )
    resolution, notes = learned_from(db, spec)
    load, call, wait = spec.tasks
    # The DAG default: every working task of orders_dwh (the sensor's waiting is no evidence).
    assert spec.timeout_minutes == 15
    # load: same kind and a similar name; p95 of 42 successes is 5 min -> 3x = 15 min.
    assert load.timeout_minutes is None  # the same as the DAG default: not repeated
    assert load.retries == 3  # 11 of 42 succeeded only on their 3rd try
    # call: the only other http task says 20 s -> the 10-minute floor.
    assert (call.timeout_minutes, call.retries) == (10, None)
    assert (wait.timeout_minutes, wait.retries) == (None, None)
    assert notes == []
    assert resolution.settled == {"timeout": RUN_HISTORY}
    words = [a.what for a in resolution.applied]
    assert "execution_timeout 15 min from 84 runs of the tasks of orders_dwh (p95 5 min)" in words
    assert (
        "execution_timeout 10 min for call_partner_api from 42 runs of fetch_orders in orders_dwh (p95 20 s)"
        in words
    )
    assert (
        "retries 3 for load_orders_into_warehouse as 11 of 42 successful runs of load_orders in orders_dwh "
        "needed a retry (up to try 3)"
    ) in words


def test_fewer_than_five_runs_teach_nothing(db: sqlite3.Connection) -> None:
    orders_history(db, runs=4)
    spec = spec_of(("load_orders", "sql"))
    resolution, notes = learned_from(db, spec)
    assert (spec.timeout_minutes, spec.retries, spec.tasks[0].timeout_minutes) == (60, 2, None)
    assert resolution.applied == [] and notes == []


def test_an_empty_store_means_no_defaults_from_runs(db: sqlite3.Connection) -> None:
    spec = spec_of(("load_orders", "sql"))
    resolution, _ = learned_from(db, spec)
    assert resolution.applied == [] and spec.timeout_minutes == 60


def test_values_settled_higher_up_are_kept_and_a_longer_need_is_said(db: sqlite3.Connection) -> None:
    record(db, "orders_dwh", [[TaskOutcome("load_orders", "success", 1, 1500.0)] for _ in range(6)])
    spec = spec_of(("load_orders", "sql"))
    spec.timeout_minutes = 30
    conventions = learn_conventions([Hit("orders.py", CODE, metadata={"dag_id": "orders_dwh"})])
    defaults = learn_run_defaults(spec, task_history(lambda: db)(["orders_dwh"]), conventions.task_kinds)
    resolution = Resolution(settled={"timeout": "the docs (conventions.md)"})
    notes = apply_run_defaults(spec, defaults, resolution)
    assert (spec.timeout_minutes, spec.tasks[0].timeout_minutes) == (30, None)
    assert notes == [
        "Run history suggests execution_timeout 90 min for load_orders (6 runs of load_orders in orders_dwh (p95 25 min)); "
        "kept 30 min from the docs (conventions.md)."
    ]


def test_similar_task_ids_are_used_when_the_kind_is_unknown() -> None:
    runs = [TaskRun("etl", f"r{i}", "score_customers", "success", 1, 40 * 60.0) for i in range(5)]
    runs += [TaskRun("etl", f"r{i}", "send_report", "success", 1, 1.0) for i in range(100)]
    spec = spec_of(("score_customers_model", "python"))
    defaults = learn_run_defaults(spec, runs, {})
    assert defaults.task_timeouts["score_customers_model"].value == 120  # 3 x 40 min
    assert defaults.timeout is not None and defaults.timeout.value == 10  # p95 of all its tasks: 1 s


@pytest.mark.parametrize(
    ("p95_s", "minutes"),
    [(1, 10), (200, 10), (201, 15), (360, 20), (1200, 60), (5 * 3600, 1080), (10 * 3600, 1440)],
)
def test_timeouts_are_round_figures_of_three_times_the_p95_with_a_floor(p95_s: float, minutes: int) -> None:
    assert round_timeout(p95_s) == minutes


def test_p95_and_alike_ids() -> None:
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([7.0]) == 7.0
    assert alike_ids("load_orders", "load_orders_into_warehouse")
    assert alike_ids("upload_to_s3", "upload_s3")
    assert not alike_ids("load_orders", "load_users")
    assert not alike_ids("clean_orders", "load_orders")


def test_tasks_whose_ids_say_waiting_are_no_evidence_when_their_kind_is_unknown() -> None:
    """The indexed passage of a similar DAG may not show all its code: a sensor's hours of waiting
    must not become everybody's execution_timeout."""
    runs = [TaskRun("etl", f"r{i}", "wait_for_partner_file", "success", 1, 6 * 3600.0) for i in range(10)]
    runs += [TaskRun("etl", f"r{i}", "transform_orders", "success", 1, 60.0) for i in range(10)]
    defaults = learn_run_defaults(spec_of(("clean_orders", "python")), runs, {})
    assert defaults.timeout is not None and defaults.timeout.value == 10  # from transform_orders alone
