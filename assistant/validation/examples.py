"""Where the example DAGs shipped with the installed Airflow live (the benchmark corpus, and a
corpus that must come out with nothing blocked)."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import ConfigError


def example_folders(airflow_python: Path | None) -> list[Path]:
    """airflow/example_dags and the standard provider's example_dags of Airflow's environment."""
    if airflow_python is None:
        raise ConfigError("Airflow's interpreter is not configured", "set ASSISTANT_AIRFLOW_PYTHON")
    venv = Path(airflow_python).parent.parent
    folders: list[Path] = []
    for site in sorted(venv.glob("lib/python*/site-packages")):
        for relative in ("airflow/example_dags", "airflow/providers/standard/example_dags"):
            if (site / relative).is_dir():
                folders.append(site / relative)
    if not folders:
        raise ConfigError(f"no example DAGs found under {venv}", "install apache-airflow in that environment")
    return folders
