"""Which Airflow provider packages are installed next to the Airflow the DAGs will run in.

The answer comes from Airflow's own interpreter (``config.airflow_python``), asked once per
:class:`ProviderCatalog` through ``importlib.metadata`` (no Airflow import, so it is quick).
Without a known interpreter, only the standard provider is assumed.
"""

from __future__ import annotations

import json
import subprocess
from functools import cached_property
from pathlib import Path

# Task kind -> the provider distribution its operator lives in.
PROVIDER_FOR_KIND: dict[str, str] = {
    "http": "apache-airflow-providers-http",
    "s3_copy": "apache-airflow-providers-amazon",
    "gcs_copy": "apache-airflow-providers-google",
    "kubernetes": "apache-airflow-providers-cncf-kubernetes",
    "slack": "apache-airflow-providers-slack",
    "sql": "apache-airflow-providers-common-sql",
    "email": "apache-airflow-providers-smtp",
    "bash": "apache-airflow-providers-standard",
    "file_sensor": "apache-airflow-providers-standard",
    "dag_sensor": "apache-airflow-providers-standard",
    "wait": "apache-airflow-providers-standard",
}
STANDARD = "apache-airflow-providers-standard"
_PROBE = (
    "import importlib.metadata as m, json\n"
    "names = {(d.metadata['Name'] or '').lower() for d in m.distributions()}\n"
    "print(json.dumps(sorted(n for n in names if n.startswith('apache-airflow-providers-'))))\n"
)


class ProviderCatalog:
    """The provider distributions installed in one Airflow interpreter."""

    def __init__(self, airflow_python: Path | None, *, timeout_s: float = 30.0) -> None:
        self._python = airflow_python
        self._timeout_s = timeout_s

    @cached_property
    def installed(self) -> frozenset[str]:
        if self._python is None or not Path(self._python).exists():
            return frozenset({STANDARD})
        try:
            done = subprocess.run(
                [str(self._python), "-I", "-c", _PROBE],
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=True,
            )
            return frozenset(json.loads(done.stdout.strip().splitlines()[-1]))
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return frozenset({STANDARD})

    def has_provider_for(self, kind: str) -> bool:
        package = PROVIDER_FOR_KIND.get(kind)
        return package is None or package in self.installed

    def missing_for(self, kind: str) -> str | None:
        """The provider package a task of ``kind`` needs and lacks, or None."""
        return None if self.has_provider_for(kind) else PROVIDER_FOR_KIND[kind]
