from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.learning import store
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.state import open_state


def test_save_and_load_round_trip_keeps_errors_and_code_version(tmp_path: Path) -> None:
    db = open_state(tmp_path / "state.db")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i, port in enumerate((5432, 6543)):
        err = f"psycopg2.OperationalError: could not connect to server at 10.0.0.{i}:{port}"
        run = RunRecord(
            "d",
            f"r{i}",
            "failed",
            start + timedelta(hours=i),
            start + timedelta(hours=i, minutes=1),
            60.0,
            None,
            (TaskOutcome("load", "failed", 1, 3.0, None, err),),
        )
        store.save_run(db, run, run.start, f"sha256:{i}")
    # another writer recording the same run without error text must not erase it
    store.save_run(
        db,
        RunRecord("d", "r0", "failed", start, None, 60.0, None, (TaskOutcome("load", "failed", 1, 3.0),)),
        start,
        "sha256:0",
    )
    runs = store.load_history(db, "d")["d"]
    assert [r.run_id for r in runs] == ["r0", "r1"]
    assert [r.code_version for r in runs] == ["sha256:0", "sha256:1"]
    assert runs[0].cause == runs[1].cause  # one template for the same cause
    assert runs[0].cause is not None and "<IP>" in runs[0].cause
    assert store.recorded_run_ids(db, "d") == {"r0", "r1"}
