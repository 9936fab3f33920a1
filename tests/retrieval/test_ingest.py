"""Ingestion of finished runs from the real Airflow: logs, outcomes, SQLite, idempotence, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.airflow.visibility import wait_for_dags
from assistant.compose import build_assistant
from assistant.config import load_config
from assistant.retrieval.ingest import log_excerpt
from assistant.tools import runs
from tests.airflow_helpers import drop_dag

SECRET = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0Pabcdefgh"


def test_log_excerpt_prefers_error_lines() -> None:
    log = (
        "starting\nloading rows\nTraceback (most recent call last):\nKeyError: 'customer_id'\ncleanup done\n"
    )
    assert log_excerpt(log, lines=2) == "Traceback (most recent call last):\nKeyError: 'customer_id'"
    assert log_excerpt("all good\nfinished", lines=1) == "finished"


@pytest.mark.integration
@pytest.mark.slow
def test_finished_runs_are_ingested_once_with_secrets_redacted(
    live_airflow: dict[str, str], dag_dir: Path, assistant_home: Path
) -> None:
    dag_id, path = drop_dag(dag_dir, "failing_dag", prefix="ingest")
    # the failing task also prints a token, which must never reach the index
    path.write_text(
        path.read_text().replace(
            "raise PermissionError", f"print('token {SECRET}')\n        raise PermissionError"
        )
    )
    assistant = build_assistant(load_config())
    airflow = assistant.components.airflow
    assert dag_id in wait_for_dags(airflow, [dag_id], timeout_s=120).visible
    report = runs.wait(airflow, runs.trigger(airflow, dag_id), timeout_s=180)
    assert report.run.state == "failed"

    first = assistant.ingest_runs(dag_id=dag_id)
    assert (first.recorded, first.indexed) == (1, 1)
    again = assistant.ingest_runs(dag_id=dag_id)
    assert (again.recorded, again.indexed) == (0, 0)  # idempotent: a run is ingested once

    hits = assistant.search("AWS credentials expired", k=5, collections=["task_logs"], dag_id=dag_id)
    assert hits and all(h.metadata["dag_id"] == dag_id for h in hits)
    assert hits[0].metadata["task_id"] == "upload_to_s3" and hits[0].metadata["run_id"] == report.run.run_id
    assert hits[0].metadata["state"] == "failed" and hits[0].metadata["try"] == 1
    outcome = assistant.search("why did the upload fail", k=3, collections=["outcomes"], dag_id=dag_id)
    assert any("ExpiredToken" in h.text for h in outcome)

    db = assistant.components.db
    row = db.execute("SELECT state, ingested_at FROM runs WHERE dag_id = ?", (dag_id,)).fetchone()
    assert row["state"] == "failed" and row["ingested_at"]
    task = db.execute("SELECT state, error_excerpt FROM task_outcomes WHERE dag_id = ?", (dag_id,)).fetchone()
    # the column holds the cause line (what templates group), not the several lines of the outcome
    assert task["state"] == "failed"
    assert task["error_excerpt"] == "PermissionError: ExpiredToken: the AWS credentials have expired"

    written = [p for p in assistant_home.rglob("*") if p.is_file()]
    assert written and not any(SECRET.encode() in p.read_bytes() for p in written)


def test_compact_log_drops_timestamps_and_library_frames() -> None:
    from assistant.retrieval.ingest import compact_log

    log = (
        "[2026-01-01T10:00:00.123Z] INFO task - starting\n"
        "Traceback (most recent call last):\n"
        '  File "/venv/lib/airflow/task_runner.py", line 10, in run\n'
        '  File "/dags/etl.py", line 5, in load\n'
        "KeyError: 'customer_id'\n"
    )
    assert compact_log(log).splitlines() == [
        "INFO task - starting",
        "Traceback (most recent call last):",
        '  File "/dags/etl.py", line 5, in load (+1 frames)',
        "KeyError: 'customer_id'",
    ]
