"""A read-optimised copy of each collection for one-shot queries.

Chroma stays the store of record, but importing and opening it costs about a second, more than
a one-shot ``assistant search`` may spend. Beside it, every collection is mirrored into one
SQLite file (``index/<collection>.db``): the passages with their metadata, the vector matrix and
the BM25 postings as blobs. A query reads two blobs and does its maths in numpy.

A mirror file is rewritten whole into a temporary file and renamed into place, so readers never
see a half-written one. It can be rebuilt from Chroma at any time (:func:`rebuild_from_store`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import RetrievalError
from assistant.retrieval.keyword import KeywordIndex

if TYPE_CHECKING:
    import numpy

    from assistant.retrieval.store import Metadata, VectorStore

_SCHEMA = """
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
                     meta_json TEXT NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, chunks INTEGER NOT NULL);
CREATE TABLE blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


@dataclass
class Records:
    """Everything a collection holds, in row order."""

    ids: list[str]
    vectors: numpy.ndarray
    texts: list[str]
    metadatas: list[Metadata]

    @classmethod
    def empty(cls) -> Records:
        import numpy as np

        return cls([], np.zeros((0, 384), dtype=np.float32), [], [])


class Mirror:
    """The mirror files of all collections, in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # collection -> (file version, unfiltered data, {filter: allowed rows})
        self._cache: dict[str, tuple[tuple[int, int], SearchData, dict[tuple, numpy.ndarray]]] = {}

    def path(self, collection: str) -> Path:
        return self.directory / f"{collection}.db"

    def exists(self, collection: str) -> bool:
        return self.path(collection).exists()

    def _connect(self, collection: str) -> sqlite3.Connection:
        try:
            return sqlite3.connect(f"file:{self.path(collection)}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise RetrievalError(
                f"cannot read the search index of {collection}: {exc}",
                f"re-index, or delete {self.path(collection)} so it is rebuilt",
            ) from exc

    def file_hashes(self, collection: str) -> dict[str, str]:
        if not self.exists(collection):
            return {}
        with self._connect(collection) as conn:
            return dict(conn.execute("SELECT path, content_hash FROM files").fetchall())

    def load(self, collection: str) -> Records:
        import numpy as np

        if not self.exists(collection):
            return Records.empty()
        conn = self._connect(collection)
        try:
            rows = conn.execute("SELECT id, text, meta_json FROM chunks ORDER BY row").fetchall()
            blob = conn.execute("SELECT data FROM blobs WHERE name = 'vectors'").fetchone()
        finally:
            conn.close()
        vectors = np.frombuffer(blob[0], dtype=np.float32).reshape(-1, 384) if blob else np.zeros((0, 384))
        return Records(
            [r[0] for r in rows], vectors.copy(), [r[1] for r in rows], [json.loads(r[2]) for r in rows]
        )

    def save(self, collection: str, records: Records, files: dict[str, tuple[str, int]]) -> None:
        """Write ``records`` and the per-file hashes as the new mirror of ``collection``."""
        import numpy as np

        self.directory.mkdir(parents=True, exist_ok=True)
        keyword = KeywordIndex.build(records.texts)
        handle, temp = tempfile.mkstemp(prefix=f".{collection}.", suffix=".db", dir=self.directory)
        os.close(handle)
        try:
            conn = sqlite3.connect(temp)
            with conn:
                conn.executescript(_SCHEMA)
                conn.executemany(
                    "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                    (
                        (
                            row,
                            records.ids[row],
                            str(meta.get("path", "")),
                            records.texts[row],
                            json.dumps(meta),
                        )
                        for row, meta in enumerate(records.metadatas)
                    ),
                )
                conn.executemany(
                    "INSERT INTO files VALUES (?, ?, ?)", ((p, h, n) for p, (h, n) in files.items())
                )
                blobs = {
                    "vectors": np.ascontiguousarray(records.vectors, dtype=np.float32).tobytes(),
                    "vocabulary": json.dumps(keyword.vocabulary).encode(),
                    "term_ptr": keyword.term_ptr.tobytes(),
                    "doc_ids": keyword.doc_ids.tobytes(),
                    "term_freqs": keyword.term_freqs.tobytes(),
                    "doc_lengths": keyword.doc_lengths.tobytes(),
                    "file_numbers": _file_numbers(records.metadatas).tobytes(),
                }
                conn.executemany("INSERT INTO blobs VALUES (?, ?)", blobs.items())
            conn.close()
            os.replace(temp, self.path(collection))
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def search_data(self, collection: str, where: dict[str, str] | None = None) -> SearchData | None:
        """Vectors, keyword index and (optionally filtered) candidate rows, for one query.

        Kept in memory while the mirror file is unchanged, so a long-lived process (chat, serve,
        JSON Lines search) reads each mirror once; a re-index replaces the file and is noticed.
        """
        try:
            stat = self.path(collection).stat()
        except FileNotFoundError:
            return None
        version = (stat.st_mtime_ns, stat.st_ino)
        cached = self._cache.get(collection)
        if cached is None or cached[0] != version:
            cached = (version, self._read_search_data(collection), {})
            self._cache[collection] = cached
        _, base, filtered = cached
        if not where:
            return base
        key = tuple(sorted(where.items()))
        if key not in filtered:
            if len(filtered) > 256:
                filtered.clear()
            filtered[key] = self._allowed_rows(collection, where)
        return replace(base, allowed=filtered[key])

    def _allowed_rows(self, collection: str, where: dict[str, str]) -> numpy.ndarray:
        import numpy as np

        clauses = " AND ".join(f"json_extract(meta_json, '$.{key}') = ?" for key in where)
        conn = self._connect(collection)
        try:
            rows = conn.execute(f"SELECT row FROM chunks WHERE {clauses}", list(where.values()))
            return np.fromiter((r[0] for r in rows), dtype=np.int64)
        except sqlite3.Error as exc:
            raise RetrievalError(
                f"the search index of {collection} is unreadable: {exc}",
                f"delete {self.path(collection)} and run `assistant index` again",
            ) from exc
        finally:
            conn.close()

    def _read_search_data(self, collection: str) -> SearchData:
        import numpy as np

        conn = self._connect(collection)
        try:
            blobs = dict(conn.execute("SELECT name, data FROM blobs").fetchall())
        except sqlite3.Error as exc:
            raise RetrievalError(
                f"the search index of {collection} is unreadable: {exc}",
                f"delete {self.path(collection)} and run `assistant index` again",
            ) from exc
        finally:
            conn.close()
        keyword = KeywordIndex(
            json.loads(blobs["vocabulary"]),
            np.frombuffer(blobs["term_ptr"], dtype=np.int64),
            np.frombuffer(blobs["doc_ids"], dtype=np.int32),
            np.frombuffer(blobs["term_freqs"], dtype=np.float32),
            np.frombuffer(blobs["doc_lengths"], dtype=np.float32),
        )
        vectors = np.frombuffer(blobs["vectors"], dtype=np.float32).reshape(-1, 384)
        if "file_numbers" in blobs:
            file_numbers = np.frombuffer(blobs["file_numbers"], dtype=np.int32)
        else:  # written by an earlier version: no per-file grouping, every row stands alone
            file_numbers = np.arange(len(vectors), dtype=np.int32)
        return SearchData(collection, vectors, keyword, None, file_numbers)

    def rows(self, collection: str, row_numbers: Sequence[int]) -> dict[int, tuple[str, str, Metadata]]:
        """(id, text, metadata) of the given rows."""
        if not row_numbers:
            return {}
        conn = self._connect(collection)
        try:
            marks = ",".join("?" * len(row_numbers))
            found = conn.execute(
                f"SELECT row, id, text, meta_json FROM chunks WHERE row IN ({marks})", list(row_numbers)
            ).fetchall()
        finally:
            conn.close()
        return {r[0]: (r[1], r[2], json.loads(r[3])) for r in found}


@dataclass
class SearchData:
    collection: str
    vectors: numpy.ndarray
    keyword: KeywordIndex
    allowed: numpy.ndarray | None  # row numbers passing the metadata filter, or None for all
    file_numbers: numpy.ndarray  # per row, a number identifying the file (path) it comes from


def _file_numbers(metadatas: Sequence[Metadata]) -> numpy.ndarray:
    import numpy as np

    numbers: dict[str, int] = {}
    return np.array(
        [numbers.setdefault(str(m.get("path", "")), len(numbers)) for m in metadatas], dtype=np.int32
    )


def rebuild_from_store(mirror: Mirror, store: VectorStore, collection: str) -> int:
    """Recreate ``collection``'s mirror from the store of record; returns the number of chunks."""
    stored = store.records(collection)
    files: dict[str, tuple[str, int]] = {}
    for meta in stored.metadatas:
        path = str(meta.get("path", ""))
        content_hash, count = files.get(path, (str(meta.get("content_hash", "")), 0))
        files[path] = (content_hash, count + 1)
    mirror.save(collection, Records(stored.ids, stored.vectors, stored.texts, stored.metadatas), files)
    return len(stored.ids)
