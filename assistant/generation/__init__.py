"""DAG generation from a description (issue 7): spec, templates per task kind, render, validate.

The composition root calls :func:`build_generator`; the service calls ``Generator.generate`` and,
for ``--repo``, :func:`repo_writer_for`. Nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    from assistant.config import Config
    from assistant.generation.conventions import SimilarHit, SimilarSearch
    from assistant.generation.doc_conventions import DocPassage, DocsSearch
    from assistant.generation.pipeline import Generator, Report
    from assistant.generation.repo_writer import GitRepoWriter
    from assistant.generation.run_defaults import TaskHistory, TaskRun
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


CONVENTION_PAGES = 2  # the conventions pages read whole (up to PAGE_PASSAGES passages each)
PAGE_PASSAGES = 8
RECENT_RUNS = 100  # runs per similar DAG that defaults are learned from


def conventions_page_search(knowledge: Callable[[], KnowledgeBase]) -> DocsSearch:
    """The passages of the docs' conventions pages: the page with the best hit first, each page's
    passages in page order (so its first statement of a rule wins); a docs index that was never
    built means none (and loads no embedding model)."""

    def search(query: str, k: int) -> Sequence[DocPassage]:
        from assistant.generation.doc_conventions import is_conventions_passage

        base = knowledge()
        if not base.mirror.exists("docs"):
            return []
        hits = [hit for hit in base.search(query, k, ("docs",)) if is_conventions_passage(hit)]
        pages = list(dict.fromkeys(hit.source for hit in hits))
        passages = {(hit.source, hit.text): hit for hit in hits}
        for source in pages[:CONVENTION_PAGES]:
            for hit in base.search(query, PAGE_PASSAGES, ("docs",), where={"source": source}):
                passages.setdefault((hit.source, hit.text), hit)
        return sorted(passages.values(), key=lambda hit: (pages.index(hit.source), _position(hit)))

    return search


def _position(hit: DocPassage) -> int:
    position = hit.metadata.get("position")
    return position if isinstance(position, int) else 0


def task_history(db: Callable[[], sqlite3.Connection]) -> TaskHistory:
    """The last try of each task in the recent finished runs of the given DAGs (the learning store)."""

    def history(dag_ids: Sequence[str]) -> Sequence[TaskRun]:
        from assistant.generation.run_defaults import TaskRun
        from assistant.learning.store import load_history

        conn = db()
        found: list[TaskRun] = []
        for dag_id in dict.fromkeys(dag_ids):
            for run in load_history(conn, dag_id).get(dag_id, [])[-RECENT_RUNS:]:
                found += [
                    TaskRun(dag_id, run.run_id, t.task_id, t.state, t.try_number, t.duration_s)
                    for t in run.tasks
                ]
        return found

    return history


def build_generator(
    config: Config,
    knowledge: Callable[[], KnowledgeBase],
    repo_store: Callable[[], RepoStore],
    db: Callable[[], sqlite3.Connection] | None = None,
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
        docs=conventions_page_search(knowledge),
        history=task_history(db) if db is not None else None,
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
