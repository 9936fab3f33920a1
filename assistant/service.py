"""The one service every front end (CLI, REPL, web) adapts: ``Assistant``.

It holds the lazily built components and exposes each capability as a method. It knows nothing
of terminals or HTTP: methods take plain arguments and return plain data or raise
:class:`assistant.errors.AssistantError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.tools import doctor, runs

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from assistant.airflow.models import DagInfo, DagRunInfo
    from assistant.chat.engine import Conversation
    from assistant.chat.router import Route
    from assistant.compose import Components
    from assistant.config import Config
    from assistant.generation.pipeline import GenerationResult
    from assistant.gitops.daemon import GitOpsDaemon
    from assistant.gitops.models import Deployment, Repo, SettingsOutcome, SyncOutcome
    from assistant.learning.advisor import Advice
    from assistant.learning.api import LearnResult
    from assistant.learning.predictor import Prediction
    from assistant.learning.reporter import DagReport
    from assistant.retrieval.answer import Answer
    from assistant.retrieval.indexing import IndexReport, Progress
    from assistant.retrieval.search import Hit
    from assistant.tools.ingest import IngestSummary
    from assistant.tools.setup import Step
    from assistant.validation.report import ValidationReport


class Assistant:
    def __init__(self, components: Components) -> None:
        self.components = components

    @property
    def config(self) -> Config:
        return self.components.config

    # -- DAGs and runs ------------------------------------------------------------------------

    def dags(self, namespace: str | None = None) -> list[DagInfo]:
        return runs.list_dags(self.components.airflow, namespace)

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        return runs.trigger(self.components.airflow, dag_id, conf)

    def wait(self, run: DagRunInfo, timeout_s: float = 300.0) -> runs.RunReport:
        return runs.wait(self.components.airflow, run, timeout_s)

    def status(self, dag_id: str | None = None, limit: int = 10) -> list[DagRunInfo]:
        return runs.status(self.components.airflow, dag_id, limit)

    def logs(
        self, dag_id: str, run_id: str | None = None, task_id: str | None = None
    ) -> tuple[DagRunInfo, list[runs.TaskLog]]:
        return runs.logs(self.components.airflow, dag_id, run_id, task_id)

    # -- conversation -------------------------------------------------------------------------

    def route(self, text: str) -> Route:
        """Where a chat message goes: intent, slots and confidence (nothing is executed)."""
        return self.components.router.route(text)

    def route_many(self, texts: Sequence[str]) -> list[Route]:
        return self.components.router.route_many(texts)

    def conversation(self, *, assume_yes: bool = False, wait_timeout_s: float = 600.0) -> Conversation:
        """A new chat session: the engine behind the REPL, `ask` and scripted chats."""
        from assistant.chat.engine import Conversation
        from assistant.chat.handlers import HANDLERS, Context
        from assistant.chat.handlers_ops import OPS_HANDLERS

        return Conversation(
            self,
            {**HANDLERS, **OPS_HANDLERS},
            assume_yes=assume_yes,
            context=Context(wait_timeout_s=wait_timeout_s),
        )

    # -- knowledge and retrieval --------------------------------------------------------------

    def index(
        self, paths: Sequence[Path], collection: str = "docs", progress: Progress | None = None
    ) -> IndexReport:
        return self.components.knowledge.index(paths, collection, progress)

    def search(
        self, query: str, k: int = 5, collections: Sequence[str] = ("docs",), dag_id: str | None = None
    ) -> list[Hit]:
        where = {"dag_id": dag_id} if dag_id else None
        return self.components.knowledge.search(query, k, collections, where)

    def ingest_runs(self, limit: int = 50, dag_id: str | None = None) -> IngestSummary:
        """Record and index finished runs not seen yet (outcomes, error templates, logs)."""
        from assistant.tools.ingest import ingest

        return ingest(self.components, dag_id, limit)

    def answer(self, question: str) -> Answer:
        """An answer to ``question`` from the indexed documentation, with citations."""
        from assistant.retrieval.answer import OllamaWriter, answer

        writer = (
            OllamaWriter(self.config.ollama_host, self.config.ollama_model)
            if self.config.ollama_host
            else None
        )
        knowledge = self.components.knowledge
        return answer(question, lambda q, k: knowledge.search(q, k), knowledge.embedder, writer)

    # -- Git repositories (GitOps) and credentials ---------------------------------------------

    def repo_add(self, url: str, *, wait: bool = True, **options: Any) -> SyncOutcome:
        from assistant.gitops.spec import make_spec

        return self.components.deployer.add(make_spec(url, **options), wait=wait)

    def repos(self) -> list[Repo]:
        return self.components.repo_store.list()

    def repo_sync(
        self, name: str | None = None, *, wait: bool = True, force: bool = False
    ) -> list[SyncOutcome]:
        """Deploy the newest commit; ``force`` validates and publishes it again even when deployed."""
        names = [name] if name else [r.name for r in self.components.repo_store.list()]
        return [self.components.deployer.sync(n, wait=wait, force=force) for n in names]

    def repo_set(self, name: str, *, wait: bool = True, **options: Any) -> SettingsOutcome:
        """Change settings of a registered repo in place (options: see gitops.spec.make_changes).

        A new URL, ref or DAG path is deployed through validation like a push; a new namespace
        moves the DAGs atomically; other settings are stored without a deployment."""
        from assistant.gitops.settings import change_settings
        from assistant.gitops.spec import make_changes

        changes = make_changes(**options)
        outcome = change_settings(self.components.deployer, name, changes, wait=wait)
        if outcome.moved_from:
            from assistant.errors import AssistantError
            from assistant.tools.dag_index import forget_repo

            try:
                forget_repo(self.components.knowledge, outcome.moved_from, name)
            except AssistantError as exc:  # the move stands; only the index is behind
                outcome.message += f"\nits old place is still in the code index: {exc.message}"
        return outcome

    def repo_remove(self, name: str) -> Repo:
        repo = self.components.deployer.remove(name)
        from assistant.tools.dag_index import forget_repo

        forget_repo(self.components.knowledge, repo.namespace, repo.name)
        return repo

    def repo_history(self, name: str, limit: int = 50) -> list[Deployment]:
        self.components.repo_store.get(name)
        return self.components.repo_store.history(name, limit)

    def repo_rollback(self, name: str, to: str | None = None, *, wait: bool = True) -> SyncOutcome:
        return self.components.deployer.rollback(name, to, wait=wait)

    def gitops_daemon(self, *, poll_interval_s: float | None = None) -> GitOpsDaemon:
        """The webhook handler, sync queue and poller that `serve` runs."""
        from assistant.gitops.daemon import GitOpsDaemon

        interval = self.config.poll_interval_s if poll_interval_s is None else poll_interval_s
        return GitOpsDaemon(self.components.deployer, interval)

    def cred_set(self, name: str, kind: str, secret: str, username: str | None = None) -> None:
        from assistant.secrets import Credential

        self.components.credentials.set(Credential(name, kind, secret, username))  # type: ignore[arg-type]

    def creds(self) -> list[tuple[str, str]]:
        return self.components.credentials.names()

    def cred_remove(self, name: str) -> None:
        self.components.credentials.remove(name)

    # -- validation ---------------------------------------------------------------------------

    def validate(
        self,
        paths: Sequence[Path],
        *,
        policy_file: Path | None = None,
        known_dag_ids: dict[str, str] | None = None,
        base_dir: Path | None = None,
        run_tests: bool = True,
        run_dags: bool = False,
    ) -> ValidationReport:
        """Run the DAG validation pipeline over files and folders (see assistant.validation)."""
        from assistant.validation import load_policy, validate_paths

        policy = load_policy(policy_file) if policy_file is not None else None
        return validate_paths(
            paths,
            config=self.config,
            policy=policy,
            known_dag_ids=known_dag_ids,
            base_dir=base_dir,
            run_tests=run_tests,
            run_dags=run_dags,
        )

    # -- learning from runs ---------------------------------------------------------------------

    def predict(self, dag_id: str, *, test_connections: bool = True) -> Prediction:
        """How likely the next run of ``dag_id`` is to fail, why, and what to do; "no history" if unseen.
        ``test_connections``: Airflow tests the connections its tasks use first (a failing one warns)."""
        from assistant.learning import api

        return api.predict(self.components, dag_id, test_connections=test_connections)

    def risk_warning(self, dag_id: str) -> str | None:
        """A one-line warning when the next run is likely to fail (to confirm before running), else None."""
        from assistant.learning import api

        return api.risk_warning(self.components, dag_id)

    def advise(self, dag_id: str | None = None) -> list[Advice]:
        from assistant.learning import api

        return api.advise(self.components, dag_id)

    def report(self, since: str = "7d") -> list[DagReport]:
        from assistant.learning import api

        return api.report(self.components, since)

    def learn(self, apply: bool = False) -> LearnResult:
        """Propose "known failure causes" pages per DAG; write and index them only when ``apply``."""
        from assistant.learning import api

        return api.learn(self.components, apply)

    # -- DAG generation -----------------------------------------------------------------------

    def generate(
        self, description: str, *, repo: str | None = None, out: Path | None = None
    ) -> GenerationResult:
        """A DAG written from ``description``, validated (import in Airflow included) before it is
        written to ``out`` or committed and pushed into registered repository ``repo``."""
        from assistant.generation import repo_writer_for

        writer = (
            repo_writer_for(
                repo,
                self.components.repo_store,
                self.components.credentials,
                self.config.known_hosts,
            )
            if repo
            else None
        )
        return self.components.generator.generate(description, out=out, repo=writer)

    # -- health -------------------------------------------------------------------------------

    def doctor(self) -> list[doctor.Check]:
        return doctor.run_checks(self.components)

    def setup(self) -> list[Step]:
        """Prepare a fresh install: export the model, index the docs, fit the router, check health."""
        from assistant.tools.setup import run_setup

        return run_setup(self.components)
