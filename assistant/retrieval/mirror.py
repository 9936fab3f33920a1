"""A read-optimised copy of each collection for one-shot queries.

Chroma stays the store of record, but importing and opening it costs about a second, more than
a one-shot ``assistant search`` may spend. Beside it, every collection is mirrored into one
SQLite file (``index/<collection>.db``): the passages with their metadata (table ``chunks``), the
indexed files (``files``), and the vectors and BM25 postings as numpy blobs, in *segments*.

Writes are incremental: a write appends one segment for its new passages and marks the rows of
replaced files as deleted, inside one SQLite transaction, so its cost follows the size of the
change, not of the collection. Row numbers are positions in the segments laid end to end; a
deleted row leaves a hole. Small trailing segments are merged as they accumulate (like a binary
counter), and the whole file is compacted once a third of its rows are holes; merging works on
the stored arrays, it never tokenises or embeds again. Every write stores a new random
``generation``; a reader checks it in the same transaction as the rows it reads, so it never mixes
two versions. A new file is written whole into a temporary file and moved into place. Files of
the earlier layout (one ``blobs`` table) are read as one segment and converted on the next write.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import RetrievalError
from assistant.retrieval import segments as seg
from assistant.retrieval.keyword import SegmentedKeywordIndex

if TYPE_CHECKING:
    import numpy

    from assistant.retrieval.store import Metadata, VectorStore


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

        return cls([], np.zeros((0, seg.DIM), dtype=np.float32), [], [])


@dataclass
class SearchData:
    collection: str
    vectors: numpy.ndarray  # one row per position, deleted rows included
    keyword: SegmentedKeywordIndex
    allowed: numpy.ndarray | None  # row numbers passing the metadata filter, or None for all
    file_numbers: numpy.ndarray  # per row, a number identifying the file (path) it comes from
    deleted: numpy.ndarray | None = None  # boolean per row: True where the row was deleted
    generation: object = None


class Mirror:
    """The mirror files of all collections, in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # collection -> (generation, unfiltered data, {filter: allowed rows})
        self._cache: dict[str, tuple[object, SearchData, dict[tuple, numpy.ndarray]]] = {}

    def path(self, collection: str) -> Path:
        return self.directory / f"{collection}.db"

    def exists(self, collection: str) -> bool:
        return self.path(collection).exists()

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def _reading(self, collection: str) -> Iterator[sqlite3.Connection]:
        """A read-only connection holding one read transaction (a consistent snapshot)."""
        conn = self._snapshot(collection)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise _unreadable(self.path(collection), exc) from exc
        finally:
            conn.close()

    def _snapshot(self, collection: str) -> sqlite3.Connection:
        path = self.path(collection)
        for attempt in range(2):
            conn = None
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
                conn.isolation_level = None
                conn.execute("BEGIN")
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # takes the read lock now
                return conn
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                if attempt or not Path(f"{path}-journal").exists():
                    raise _unreadable(path, exc) from exc
                # A writer died inside a transaction: a read-write connection rolls its journal back.
                with closing(sqlite3.connect(path, timeout=30)) as recover:
                    recover.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        raise AssertionError("unreachable")

    def _generation(self, conn: sqlite3.Connection, collection: str) -> object:
        try:
            return conn.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0]
        except sqlite3.OperationalError:  # the earlier layout, which had no generation
            stat = self.path(collection).stat()
            return ("legacy", stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def file_hashes(self, collection: str) -> dict[str, str]:
        if not self.exists(collection):
            return {}
        with self._reading(collection) as conn:
            return dict(conn.execute("SELECT path, content_hash FROM files").fetchall())

    def load(self, collection: str) -> Records:
        """The live passages of ``collection`` with their vectors, in row order."""
        import numpy as np

        if not self.exists(collection):
            return Records.empty()
        with self._reading(collection) as conn:
            rows = conn.execute("SELECT row, id, text, meta_json FROM chunks ORDER BY row").fetchall()
            segments = seg.read_segments(conn)
        vectors = seg.concat([s.vectors for s in segments], np.zeros((0, seg.DIM), dtype=np.float32))
        positions = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return Records(
            [r[1] for r in rows],
            vectors[positions].copy(),
            [r[2] for r in rows],
            [json.loads(r[3]) for r in rows],
        )

    def search_data(self, collection: str, where: dict[str, str] | None = None) -> SearchData | None:
        """Vectors, keyword index and (optionally filtered) candidate rows, for one query.

        Kept in memory while the file's generation is unchanged, so a long-lived process (chat,
        serve, JSON Lines search) reads each mirror once and notices every write.
        """
        if not self.exists(collection):
            return None
        with self._reading(collection) as conn:
            generation = self._generation(conn, collection)
            cached = self._cache.get(collection)
            if cached is None or cached[0] != generation:
                cached = (generation, _search_data(conn, collection, generation), {})
                self._cache[collection] = cached
            _, base, filtered = cached
            if not where:
                return base
            key = tuple(sorted(where.items()))
            if key not in filtered:
                if len(filtered) > 256:
                    filtered.clear()
                filtered[key] = _allowed_rows(conn, where)
        return replace(base, allowed=filtered[key])

    def rows(
        self, collection: str, row_numbers: Sequence[int], generation: object = None
    ) -> dict[int, tuple[str, str, Metadata]] | None:
        """(id, text, metadata) of the given rows; None when the file is no longer at ``generation``."""
        if not row_numbers:
            return {}
        with self._reading(collection) as conn:
            if generation is not None and self._generation(conn, collection) != generation:
                return None
            marks = ",".join("?" * len(row_numbers))
            found = conn.execute(
                f"SELECT row, id, text, meta_json FROM chunks WHERE row IN ({marks})", list(row_numbers)
            ).fetchall()
        return {r[0]: (r[1], r[2], json.loads(r[3])) for r in found}

    # -- writing -------------------------------------------------------------------------------

    def save(self, collection: str, records: Records, files: dict[str, tuple[str, int]]) -> None:
        """Write ``records`` and the per-file hashes as the whole new mirror of ``collection``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cache.pop(collection, None)
        handle, temp = tempfile.mkstemp(prefix=f".{collection}.", suffix=".db", dir=self.directory)
        os.close(handle)
        try:
            conn = sqlite3.connect(temp)
            with conn:
                conn.executescript(seg.SCHEMA)
                seg.append_rows(conn, 0, records)
                conn.executemany(
                    "INSERT INTO files VALUES (?, ?, ?)", ((p, h, n) for p, (h, n) in files.items())
                )
                seg.new_generation(conn)
            conn.close()
            os.replace(temp, self.path(collection))
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def apply(
        self,
        collection: str,
        added: Records,
        replaced_paths: Sequence[str],
        files: dict[str, tuple[str, int]],
    ) -> None:
        """Drop every row of ``replaced_paths``, then append ``added`` and record ``files``.

        One transaction: readers see the mirror before or after the change, never half of it.
        """
        self._create(collection)
        with self._reading(collection) as conn:
            legacy = seg.is_legacy(conn)
        if legacy:
            self._convert(collection)
        conn = sqlite3.connect(self.path(collection), timeout=60)
        try:
            conn.isolation_level = None
            conn.execute("BEGIN IMMEDIATE")
            try:
                seg.delete_paths(conn, list(replaced_paths))
                conn.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                    ((p, h, n) for p, (h, n) in files.items()),
                )
                first = conn.execute("SELECT COALESCE(MAX(first_row + rows), 0) FROM segments").fetchone()[0]
                seg.append_rows(conn, first, added)
                seg.merge_segments(conn)
                seg.new_generation(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise RetrievalError(
                f"cannot update the search index of {collection}: {exc}",
                f"delete {self.path(collection)} and run `assistant index` again (it is rebuilt from the store)",
            ) from exc
        finally:
            conn.close()

    def _create(self, collection: str) -> None:
        """An empty mirror file, unless one exists (linked into place: a racing creator loses)."""
        if self.exists(collection):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{collection}.", suffix=".db", dir=self.directory)
        os.close(handle)
        try:
            conn = sqlite3.connect(temp)
            with conn:
                conn.executescript(seg.SCHEMA)
                seg.new_generation(conn)
            conn.close()
            os.link(temp, self.path(collection))
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            if not self.exists(collection):
                os.replace(temp, self.path(collection))
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def _convert(self, collection: str) -> None:
        """Rewrite a file of the earlier layout in the current one."""
        with self._reading(collection) as conn:
            files = {p: (h, n) for p, h, n in conn.execute("SELECT path, content_hash, chunks FROM files")}
        self.save(collection, self.load(collection), files)


def _search_data(conn: sqlite3.Connection, collection: str, generation: object) -> SearchData:
    import numpy as np

    segments = seg.read_segments(conn)
    size = sum(len(s.vectors) for s in segments)
    deleted = None
    if not seg.is_legacy(conn):
        rows = [r[0] for r in conn.execute("SELECT row FROM deleted")]
        if rows:
            deleted = np.zeros(size, dtype=bool)
            deleted[rows] = True
    # A row's file number is made unique across segments by adding the segment's first row.
    numbers = seg.concat([s.file_numbers + s.first for s in segments], np.zeros(0, dtype=np.int32))
    return SearchData(
        collection,
        seg.concat([s.vectors for s in segments], np.zeros((0, seg.DIM), dtype=np.float32)),
        SegmentedKeywordIndex([(s.first, s.keyword) for s in segments], size, deleted),
        None,
        numbers,
        deleted,
        generation,
    )


def _allowed_rows(conn: sqlite3.Connection, where: dict[str, str]) -> numpy.ndarray:
    import numpy as np

    clauses = " AND ".join(f"json_extract(meta_json, '$.{key}') = ?" for key in where)
    rows = conn.execute(f"SELECT row FROM chunks WHERE {clauses} ORDER BY row", list(where.values()))
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def _unreadable(path: Path, exc: Exception) -> RetrievalError:
    return RetrievalError(
        f"the search index {path.name} is unreadable: {exc}",
        f"delete {path} and run `assistant index` again (it is rebuilt from the store)",
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
