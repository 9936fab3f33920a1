"""Indexing and hybrid search over real files, the real embedder and a real embedded Chroma."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import UsageError
from assistant.retrieval.embedder import Embedder
from assistant.retrieval.knowledge import KnowledgeBase
from assistant.retrieval.mirror import rebuild_from_store
from assistant.retrieval.store import ChromaStore

DOCS = {
    "retries.md": "# Retries\n\nSet `retries=3` and `retry_delay` in default_args so a flaky task is tried again "
    "before the run fails.\n\n## Exponential backoff\n\nUse retry_exponential_backoff=True to wait longer "
    "between attempts.\n",
    "params.md": "# Run parameters\n\nPass a JSON object with `assistant run my_dag --conf '{\"day\": 1}'`; "
    "tasks read it from params or dag_run.conf.\n",
    "pools.rst": "Pools\n=====\n\nPools limit how many tasks run at once against a shared resource such as a "
    "database.\n",
}


def write_docs(folder: Path, docs: dict[str, str] = DOCS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def knowledge(tmp_path: Path, embedder: Embedder) -> KnowledgeBase:
    store = ChromaStore(tmp_path / "chroma")
    return KnowledgeBase(lambda: embedder, lambda: store, tmp_path / "index", builtin_knowledge=None)


def test_index_then_search_finds_the_right_file(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    report = knowledge.index([write_docs(tmp_path / "docs")])
    assert (report.files_added, report.chunks_total) == (3, report.chunks_embedded)
    hits = knowledge.search("how do I make a failing task try again?", k=3)
    assert hits[0].source == "docs/retries.md"
    assert hits[0].collection == "docs"
    assert hits == sorted(hits, key=lambda h: -h.score)
    pools = knowledge.search("limit concurrency on a shared database", k=1)
    assert pools[0].source == "docs/pools.rst" and pools[0].section == "Pools"


def test_keyword_ranker_finds_exact_identifiers(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    knowledge.index([write_docs(tmp_path / "docs")])
    hits = knowledge.search("retry_exponential_backoff", k=2)
    assert hits[0].section == "Exponential backoff"


def test_off_topic_query_finds_nothing(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    knowledge.index([write_docs(tmp_path / "docs")])
    assert knowledge.search("a recipe for chocolate cake with strawberries") == []


def test_reindex_embeds_only_changes_and_drops_deleted_files(
    knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    folder = write_docs(tmp_path / "docs")
    first = knowledge.index([folder])
    again = knowledge.index([folder])
    assert (again.files_unchanged, again.chunks_embedded, again.chunks_total) == (3, 0, first.chunks_total)

    (folder / "pools.rst").unlink()
    (folder / "params.md").write_text("# Run parameters\n\nParameters are validated with JSON Schema.\n")
    (folder / "new.txt").write_text("Sensors wait for something to happen, such as a file appearing.")
    changed = knowledge.index([folder])
    assert (changed.files_added, changed.files_changed, changed.files_removed) == (1, 1, 1)
    assert changed.chunks_embedded == 2
    assert knowledge.store.count("docs") == changed.chunks_total
    sources = {h.source for h in knowledge.search("limit tasks on a shared database pool", k=5)}
    assert "docs/pools.rst" not in sources
    assert knowledge.search("wait for a file to appear", k=1)[0].source == "docs/new.txt"


def test_mirror_is_rebuilt_from_the_store_of_record(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    knowledge.index([write_docs(tmp_path / "docs")])
    before = knowledge.search("pass a JSON conf when triggering", k=2)
    knowledge.mirror.path("docs").unlink()
    assert rebuild_from_store(knowledge.mirror, knowledge.store, "docs") == knowledge.store.count("docs")
    after = knowledge.search("pass a JSON conf when triggering", k=2)
    assert [(h.source, h.section, h.text) for h in after] == [(h.source, h.section, h.text) for h in before]
    assert knowledge.index([tmp_path / "docs"]).chunks_embedded == 0


def test_passages_are_filtered_by_dag(knowledge: KnowledgeBase) -> None:
    passages = [
        ("etl/run1/extract/1", "ERROR connection refused to postgres", {"dag_id": "etl", "state": "failed"}),
        ("report/run1/send/1", "ERROR connection refused to smtp", {"dag_id": "report", "state": "failed"}),
    ]
    assert knowledge.add_passages("task_logs", passages, "log_key") == 2
    hits = knowledge.search("connection refused", k=5, collections=["task_logs"], where={"dag_id": "report"})
    assert [h.metadata["dag_id"] for h in hits] == ["report"]
    # re-adding the same group replaces instead of duplicating
    knowledge.add_passages("task_logs", passages[:1], "log_key")
    assert knowledge.store.count("task_logs") == 2


def test_bad_input_is_a_usage_error(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        knowledge.index([tmp_path / "missing"])
    with pytest.raises(UsageError):
        knowledge.search("   ")
    with pytest.raises(UsageError):
        knowledge.search("x", collections=["nope"])
    with pytest.raises(UsageError):
        knowledge.search("x", where={"dag_id') OR 1=1 --": "x"})


def test_dag_code_is_tagged_with_its_dag_id(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    from assistant.retrieval.indexing import dag_id_in

    assert dag_id_in('with DAG(\n    "sales_load", schedule=None):') == "sales_load"
    assert dag_id_in('@dag(schedule="@daily")\ndef nightly_backup():\n    ...') == "nightly_backup"
    assert dag_id_in("print('no dag here')") is None
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "backup.py").write_text(
        '@dag(dag_id="nightly_backup", schedule="@daily")\ndef pipeline():\n    copy_to_s3()\n'
    )
    (repo / "other.py").write_text('@dag(dag_id="reports")\ndef pipeline():\n    copy_to_s3()\n')
    knowledge.index([repo], "dags")
    hits = knowledge.search("copy to s3", collections=["dags"], where={"dag_id": "nightly_backup"})
    assert [h.source for h in hits] == ["repo/backup.py"]


def test_builtin_knowledge_is_indexed_on_first_use_and_when_it_changes(
    tmp_path: Path, embedder: Embedder
) -> None:
    shipped = write_docs(tmp_path / "knowledge")
    store = ChromaStore(tmp_path / "chroma")
    knowledge = KnowledgeBase(lambda: embedder, lambda: store, tmp_path / "index", builtin_knowledge=shipped)
    first = knowledge.ensure_builtin_knowledge()
    assert first is not None and first.files_added == 3
    assert knowledge.ensure_builtin_knowledge() is None  # unchanged: nothing to do
    (shipped / "pools.rst").write_text("Pools\n=====\n\nPools now also cap deferred tasks.\n")
    upgraded = knowledge.ensure_builtin_knowledge()
    assert upgraded is not None and (upgraded.files_changed, upgraded.chunks_embedded) == (1, 1)
    assert "deferred" in knowledge.search("do pools cap deferred tasks", k=1)[0].text


def test_a_search_racing_a_write_reads_one_version_of_the_index(knowledge: KnowledgeBase) -> None:
    knowledge.add_passages(
        "task_logs",
        [
            ("etl/run1/extract/1", "ERROR disk full on the worker", {"dag_id": "etl"}),
            ("etl/run2/load/1", "ERROR connection refused to postgres", {"dag_id": "etl"}),
        ],
        "log_key",
    )
    mirror, real_rows = knowledge.mirror, knowledge.mirror.rows
    raced: list[object] = []

    def rows_after_a_write(collection: str, row_numbers: list[int], generation: object = None) -> object:
        if not raced:  # another process drops the first log between ranking and reading the rows:
            raced.append(generation)  # the file is compacted and the second log moves to row 0
            knowledge.remove_groups("task_logs", ["etl/run1/extract/1"])
        return real_rows(collection, row_numbers, generation)

    mirror.rows = rows_after_a_write  # type: ignore[method-assign]
    hits = knowledge.search("connection refused postgres", k=2, collections=["task_logs"])
    assert raced and [h.text for h in hits] == ["ERROR connection refused to postgres"]
