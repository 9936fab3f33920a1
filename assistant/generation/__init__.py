"""DAG generation from a description (issue 7): spec, templates per task kind, render, validate.

The composition root calls :func:`build_generator`; the service calls ``Generator.generate`` and,
for ``--repo``, :func:`repo_writer_for`. Nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Config
    from assistant.generation.conventions import SimilarHit, SimilarSearch
    from assistant.generation.pipeline import Generator, Report
    from assistant.generation.repo_writer import GitRepoWriter
    from assistant.gitops.store import RepoStore
    from assistant.retrieval.knowledge import KnowledgeBase
    from assistant.secrets import CredentialStore


def similar_dag_search(knowledge: Callable[[], KnowledgeBase]) -> SimilarSearch:
    """Search the ``dags`` collection; an index that was never built means no similar DAGs
    (and loads no embedding model)."""

    def search(query: str, k: int) -> Sequence[SimilarHit]:
        base = knowledge()
        if not base.mirror.exists("dags"):
            return []
        return base.search(query, k, ("dags",))

    return search


def build_generator(
    config: Config, knowledge: Callable[[], KnowledgeBase], repo_store: Callable[[], RepoStore]
) -> Generator:
    from assistant.generation.llm import OllamaSpecProposer
    from assistant.generation.pipeline import Generator
    from assistant.generation.providers import ProviderCatalog

    def validate(paths: Sequence[Path], base_dir: Path, known: Mapping[str, str]) -> Report:
        from assistant.validation import validate_paths

        return validate_paths(paths, config=config, known_dag_ids=known, base_dir=base_dir, run_tests=False)

    def known_dag_ids() -> Mapping[str, str]:
        return repo_store().deployed_dag_files(exclude_repo="")

    proposer = OllamaSpecProposer(config.ollama_host, config.ollama_model) if config.ollama_host else None
    return Generator(
        ProviderCatalog(config.airflow_python),
        validate,
        similar=similar_dag_search(knowledge),
        proposer=proposer,
        known_dag_ids=known_dag_ids,
    )


def repo_writer_for(
    name: str, repo_store: RepoStore, credentials: CredentialStore, known_hosts: Path | None = None
) -> GitRepoWriter:
    """The writer that commits into registered repository ``name`` (RepoNotFound if unknown)."""
    from assistant.generation.repo_writer import GitRepoWriter

    repo = repo_store.get(name)
    credential = credentials.get(repo.credential) if repo.credential else None
    return GitRepoWriter(repo, credential, known_hosts)
