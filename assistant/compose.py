"""The composition root: everything the assistant uses is built here, from one Config.

Components are built on first use (``functools.cached_property``), so a one-shot command pays
only for what it touches: ``assistant --help`` builds nothing, ``assistant status`` builds the
Airflow adapter and the state database, and only commands that embed text load the model.
Tests pass their own parts through the constructor's ``overrides``.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assistant.config import Config, load_config

if TYPE_CHECKING:
    from assistant.airflow.port import AirflowPort
    from assistant.retrieval.embedder import Embedder
    from assistant.service import Assistant


class Components:
    """Lazily built dependencies of the service layer."""

    def __init__(self, config: Config, **overrides: Any) -> None:
        self.config = config
        for name, value in overrides.items():
            if name not in type(self).__dict__:
                raise TypeError(f"unknown component override {name!r}")
            self.__dict__[name] = value

    @cached_property
    def airflow(self) -> AirflowPort:
        from assistant.airflow.rest import RestAirflow

        return RestAirflow(
            self.config.airflow_url,
            self.config.airflow_username,
            self.config.airflow_password,
            timeout_s=self.config.airflow_timeout_s,
        )

    @cached_property
    def db(self) -> sqlite3.Connection:
        from assistant.state import open_state

        return open_state(self.config.state_db)

    @cached_property
    def embedder(self) -> Embedder:
        from assistant.retrieval.embedder import load_embedder

        return load_embedder(self.config.models_dir)


def build_assistant(config: Config | None = None, **overrides: Any) -> Assistant:
    from assistant.service import Assistant

    config = config or load_config()
    return Assistant(Components(config, **overrides))
