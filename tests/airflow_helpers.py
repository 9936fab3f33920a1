"""Helpers for integration tests that put DAG files in front of the real Airflow."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "dags"


def drop_dag(folder: Path, fixture: str, prefix: str = "t") -> tuple[str, Path]:
    """Copy fixture ``<fixture>.py`` into ``folder`` with a unique dag id; return (dag_id, path)."""
    dag_id = f"{prefix}_{fixture}_{uuid.uuid4().hex[:8]}"
    target = folder / f"{dag_id}.py"
    target.write_text((FIXTURES / f"{fixture}.py").read_text().replace("DAG_ID", dag_id))
    return dag_id, target


def put_fs_connection(airflow: object, conn_id: str, path: Path) -> None:
    """Create (or replace) a filesystem connection in the real Airflow, for tests only: the
    product never writes connections, so the adapter has no public method for it."""
    request = airflow._request  # type: ignore[attr-defined]
    delete_connection(airflow, conn_id)
    extra = json.dumps({"path": str(path)})
    request("POST", "/api/v2/connections", body={"connection_id": conn_id, "conn_type": "fs", "extra": extra})


def delete_connection(airflow: object, conn_id: str) -> None:
    import contextlib

    from assistant.errors import AirflowError

    with contextlib.suppress(AirflowError):
        airflow._request("DELETE", f"/api/v2/connections/{conn_id}")  # type: ignore[attr-defined]
