"""Helpers for integration tests that put DAG files in front of the real Airflow."""

from __future__ import annotations

import uuid
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "dags"


def drop_dag(folder: Path, fixture: str, prefix: str = "t") -> tuple[str, Path]:
    """Copy fixture ``<fixture>.py`` into ``folder`` with a unique dag id; return (dag_id, path)."""
    dag_id = f"{prefix}_{fixture}_{uuid.uuid4().hex[:8]}"
    target = folder / f"{dag_id}.py"
    target.write_text((FIXTURES / f"{fixture}.py").read_text().replace("DAG_ID", dag_id))
    return dag_id, target
