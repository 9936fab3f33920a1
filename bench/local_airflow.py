"""Shared by the benchmarks: the ASSISTANT_* settings of the project-local Airflow.

The scripts run as `.venv/bin/python bench/NAME`, so this folder is on sys.path.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def airflow_settings() -> dict[str, str]:
    """What `scripts/airflow.sh env` exports (URL, credentials, DAGs folder, interpreter)."""
    out = subprocess.run(
        [str(ROOT / "scripts" / "airflow.sh"), "env"], capture_output=True, text=True, check=True
    ).stdout
    settings = {}
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        settings[key] = value
    return settings
