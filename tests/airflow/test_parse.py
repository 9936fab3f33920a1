from __future__ import annotations

from assistant.airflow import parse


def test_durations_from_the_api_become_seconds() -> None:
    assert parse.seconds({"__type": "TimeDelta", "days": 1, "seconds": 30, "microseconds": 500000}) == 86430.5
    assert parse.seconds(12) == 12.0
    assert parse.seconds(None) is None


def test_run_json_maps_to_dataclass() -> None:
    run = parse.run(
        {
            "dag_id": "etl",
            "dag_run_id": "manual__1",
            "state": "success",
            "start_date": "2026-01-01T00:00:00Z",
            "end_date": "2026-01-01T00:00:03.5Z",
            "conf": {"a": 1},
        }
    )
    assert run.finished and run.duration_s == 3.5 and run.conf == {"a": 1}
