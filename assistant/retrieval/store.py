"""The vector store of record: one collection per kind of knowledge, behind a small interface.

:class:`ChromaStore` is the implementation: an embedded ``PersistentClient`` in the assistant's
home, or a Chroma server (``HttpClient``) when ``chroma_host`` is configured. Collections are
created with no embedding function (Chroma's default would try to download a model) and cosine
space; the assistant always passes its own vectors. chromadb is imported only when a store is
actually opened, and its exceptions become :class:`RetrievalError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.errors import RetrievalError

if TYPE_CHECKING:
    import numpy

COLLECTIONS = ("docs", "task_logs", "outcomes", "dags")
Metadata = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class StoredRecords:
    ids: list[str]
    vectors: numpy.ndarray
    texts: list[str]
    metadatas: list[Metadata]


class VectorStore(Protocol):
    def upsert(
        self,
        collection: str,
        ids: Sequence[str],
        vectors: numpy.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None: ...

    def delete_where(self, collection: str, key: str, values: Sequence[str]) -> None: ...

    def count(self, collection: str) -> int: ...

    def records(self, collection: str) -> StoredRecords: ...

    def nearest(self, collection: str, vector: numpy.ndarray, k: int) -> list[tuple[str, float]]: ...


def check_collection(name: str) -> str:
    if name not in COLLECTIONS:
        from assistant.errors import UsageError

        raise UsageError(f"unknown collection {name!r}", "use one of: " + ", ".join(COLLECTIONS))
    return name


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except RetrievalError:
        raise
    except Exception as exc:  # chromadb raises many unrelated types (ValueError, its own, HTTP)
        raise RetrievalError(
            f"the vector store failed while {action}: {exc}",
            "check the Chroma server (assistant config) or move the chroma directory aside and re-index",
        ) from exc


class ChromaStore:
    """Chroma, embedded on disk or as a client of a Chroma server."""

    BATCH = 2000

    def __init__(self, path: Path | None = None, host: str | None = None, port: int = 8000) -> None:
        with _translated("opening the store"):
            import chromadb
            from chromadb.config import Settings

            settings = Settings(anonymized_telemetry=False)
            if host:
                self._client = chromadb.HttpClient(host=host, port=port, settings=settings)
            else:
                if path is None:
                    raise RetrievalError("no location for the vector store", "set ASSISTANT_HOME")
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        self._collections: dict[str, Any] = {}

    def _collection(self, name: str) -> Any:
        check_collection(name)
        if name not in self._collections:
            with _translated(f"opening collection {name}"):
                self._collections[name] = self._client.get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
        return self._collections[name]

    def upsert(
        self,
        collection: str,
        ids: Sequence[str],
        vectors: numpy.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        target = self._collection(collection)
        with _translated(f"writing to {collection}"):
            for start in range(0, len(ids), self.BATCH):
                end = start + self.BATCH
                target.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    documents=list(texts[start:end]),
                    metadatas=[dict(m) for m in metadatas[start:end]],
                )

    def delete_where(self, collection: str, key: str, values: Sequence[str]) -> None:
        target = self._collection(collection)
        with _translated(f"deleting from {collection}"):
            for start in range(0, len(values), 500):
                target.delete(where={key: {"$in": list(values[start : start + 500])}})

    def count(self, collection: str) -> int:
        with _translated(f"counting {collection}"):
            return int(self._collection(collection).count())

    def records(self, collection: str) -> StoredRecords:
        import numpy as np

        target = self._collection(collection)
        ids: list[str] = []
        vectors: list[Any] = []
        texts: list[str] = []
        metadatas: list[Metadata] = []
        with _translated(f"reading {collection}"):
            total = target.count()
            for offset in range(0, total, self.BATCH):
                page = target.get(
                    include=["embeddings", "documents", "metadatas"], limit=self.BATCH, offset=offset
                )
                ids.extend(page["ids"])
                vectors.append(np.asarray(page["embeddings"], dtype=np.float32).reshape(-1, 384))
                texts.extend(page["documents"])
                metadatas.extend(dict(m or {}) for m in page["metadatas"])
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
        return StoredRecords(ids, matrix, texts, metadatas)

    def nearest(self, collection: str, vector: numpy.ndarray, k: int) -> list[tuple[str, float]]:
        target = self._collection(collection)
        with _translated(f"querying {collection}"):
            result = target.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]
