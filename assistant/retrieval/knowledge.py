"""The knowledge base: indexing and search over the collections, as one object for the service.

It needs the embedder for everything, but opens the vector store of record (Chroma) only when it
writes: a one-shot search reads the mirror alone. The product's own documentation (``knowledge/``
at the root of the checkout) is indexed into ``docs`` the first time anything is searched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.retrieval.indexing import Indexer, IndexReport, Progress, discover, file_hash
from assistant.retrieval.mirror import Mirror, rebuild_from_store
from assistant.retrieval.search import Hit, Searcher
from assistant.retrieval.store import COLLECTIONS

if TYPE_CHECKING:
    from assistant.retrieval.embedder import Embedder
    from assistant.retrieval.store import Metadata, VectorStore

BUILTIN_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


class KnowledgeBase:
    def __init__(
        self,
        embedder: Callable[[], Embedder],
        store: Callable[[], VectorStore],
        mirror_dir: Path,
        builtin_knowledge: Path | None = BUILTIN_KNOWLEDGE,
    ) -> None:
        self._embedder_factory = embedder
        self._store_factory = store
        self.mirror = Mirror(mirror_dir)
        self.builtin_knowledge = builtin_knowledge

    @cached_property
    def embedder(self) -> Embedder:
        return self._embedder_factory()

    @cached_property
    def store(self) -> VectorStore:
        return self._store_factory()

    @cached_property
    def _indexer(self) -> Indexer:
        return Indexer(self.embedder, self.store, self.mirror)

    @cached_property
    def _searcher(self) -> Searcher:
        return Searcher(self.embedder, self.mirror)

    def index(
        self, paths: Sequence[Path], collection: str = "docs", progress: Progress | None = None
    ) -> IndexReport:
        return self._indexer.index_paths(paths, collection, progress)

    def add_passages(self, collection: str, passages: list[tuple[str, str, Metadata]], group_key: str) -> int:
        return self._indexer.index_passages(collection, passages, group_key)

    def remove_groups(self, collection: str, groups: Sequence[str]) -> None:
        self._indexer.remove_groups(collection, groups)

    def indexed_groups(self, collection: str) -> list[str]:
        """The paths (or passage groups) indexed in ``collection``."""
        return list(self.mirror.file_hashes(collection))

    def ensure_builtin_knowledge(self) -> IndexReport | None:
        """Index ``knowledge/`` into ``docs`` when it is new or changed (first use, upgrades)."""
        folder = self.builtin_knowledge
        if folder is None or not folder.is_dir():
            return None
        if not self.mirror.exists("docs") and self.store.count("docs") > 0:
            # The store has documents but the mirror is gone: rebuild it instead of re-embedding.
            rebuild_from_store(self.mirror, self.store, "docs")
        if self._builtin_is_current(folder):
            return None
        return self.index([folder], "docs")

    def _builtin_is_current(self, folder: Path) -> bool:
        """Whether every file of ``folder`` is indexed with its current content (and no other)."""
        root = str(folder.resolve())
        indexed = {p: h for p, h in self.mirror.file_hashes("docs").items() if p.startswith(root + "/")}
        present = {str(f): file_hash(f.read_bytes()) for _, f, _ in discover([folder])}
        return present == indexed

    def search(
        self,
        query: str,
        k: int = 5,
        collections: Sequence[str] = ("docs",),
        where: dict[str, str] | None = None,
    ) -> list[Hit]:
        if "docs" in collections:
            self.ensure_builtin_knowledge()
        for collection in collections:
            if collection != "docs" and not self.mirror.exists(collection) and collection in COLLECTIONS:
                self._rebuild_if_stored(collection)
        return self._searcher.search(query, k, collections, where)

    def _rebuild_if_stored(self, collection: str) -> None:
        if self.store.count(collection) > 0:
            rebuild_from_store(self.mirror, self.store, collection)
