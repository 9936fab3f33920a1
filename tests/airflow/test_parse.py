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


def test_the_adapter_does_not_load_the_generated_client(live_airflow: dict[str, str]) -> None:
    """One-shot commands must not pay for ~700 pydantic models (a subprocess: a clean import state)."""
    import subprocess
    import sys

    code = (
        "import sys; from assistant.compose import build_assistant; "
        "build_assistant().components.airflow.list_runs(None, 1); "
        "print(sum(m.startswith('airflow_client.client.models.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out.strip()) < 10
