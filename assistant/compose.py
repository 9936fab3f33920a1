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
    from assistant.chat.router import IntentRouter
    from assistant.generation.pipeline import Generator
    from assistant.gitops.deployer import Deployer
    from assistant.gitops.store import RepoStore
    from assistant.gitops.validator import Validator
    from assistant.notify import Notifier
    from assistant.retrieval.embedder import Embedder
    from assistant.retrieval.knowledge import KnowledgeBase
    from assistant.retrieval.store import VectorStore
    from assistant.secrets import CredentialStore
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

    @cached_property
    def router(self) -> IntentRouter:
        from assistant.chat.router import IntentRouter

        return IntentRouter(self.embedder, self.config.models_dir)

    @cached_property
    def vector_store(self) -> VectorStore:
        from assistant.retrieval.store import ChromaStore

        return ChromaStore(self.config.chroma_dir, self.config.chroma_host, self.config.chroma_port)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        from assistant.retrieval.knowledge import KnowledgeBase

        return KnowledgeBase(lambda: self.embedder, lambda: self.vector_store, self.config.home / "index")

    @cached_property
    def credentials(self) -> CredentialStore:
        from assistant.secrets import CredentialStore

        return CredentialStore(self.config.home, self.config.secret_key)

    @cached_property
    def notifier(self) -> Notifier:
        from assistant.notify import Notifier

        return Notifier(self.db, self.config.slack_webhook_url)

    @cached_property
    def validator(self) -> Validator:
        from assistant.gitops.validator import PipelineValidator

        return PipelineValidator(self.config)

    @cached_property
    def repo_store(self) -> RepoStore:
        from assistant.gitops.store import RepoStore

        return RepoStore(self.db)

    @cached_property
    def deployer(self) -> Deployer:
        from assistant.gitops.deployer import Deployer
        from assistant.tools.dag_index import index_release

        return Deployer(
            self.config,
            self.repo_store,
            self.credentials,
            self.validator,
            lambda: self.airflow,
            self.notifier,
            on_published=lambda spec, release_dir, dag_files: index_release(
                self.knowledge, spec, release_dir, dag_files
            ),
        )

    @cached_property
    def generator(self) -> Generator:
        from assistant.generation import build_generator

        return build_generator(
            self.config, lambda: self.knowledge, lambda: self.repo_store, db=lambda: self.db
        )


def build_assistant(config: Config | None = None, **overrides: Any) -> Assistant:
    from assistant.service import Assistant

    config = config or load_config()
    return Assistant(Components(config, **overrides))
