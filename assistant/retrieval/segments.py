"""The storage of a mirror file: rows, segments of vectors and BM25 postings, deletions, merging.

See :mod:`assistant.retrieval.mirror` for the layout. Every function here works inside a
transaction the caller holds on an open SQLite connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.retrieval.keyword import KeywordIndex

if TYPE_CHECKING:
    import numpy

    from assistant.retrieval.mirror import Records

DIM = 384
# A write compacts the whole file once this share of its rows are deleted.
COMPACT_DELETED = 0.3
SCHEMA = """
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
                     meta_json TEXT NOT NULL);
CREATE INDEX chunks_by_path ON chunks(path);
CREATE TABLE files (path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, chunks INTEGER NOT NULL);
CREATE TABLE segments (first_row INTEGER PRIMARY KEY, rows INTEGER NOT NULL, vectors BLOB NOT NULL,
                       vocabulary BLOB NOT NULL, term_ptr BLOB NOT NULL, doc_ids BLOB NOT NULL,
                       term_freqs BLOB NOT NULL, doc_lengths BLOB NOT NULL, file_numbers BLOB NOT NULL);
CREATE TABLE deleted (row INTEGER PRIMARY KEY);
CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
SEGMENT_COLUMNS = (
    "first_row, rows, vectors, vocabulary, term_ptr, doc_ids, term_freqs, doc_lengths, file_numbers"
)


@dataclass
class Segment:
    first: int
    vectors: numpy.ndarray
    keyword: KeywordIndex
    file_numbers: numpy.ndarray


def append_rows(conn: sqlite3.Connection, first: int, records: Records) -> None:
    """Insert ``records`` as rows ``first...`` and one new segment over them."""
    if not records.ids:
        return
    conn.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
        (
            (first + i, records.ids[i], str(meta.get("path", "")), records.texts[i], json.dumps(meta))
            for i, meta in enumerate(records.metadatas)
        ),
    )
    paths = [str(m.get("path", "")) for m in records.metadatas]
    write_segment(conn, first, records.vectors, KeywordIndex.build(records.texts), number_files(paths))


def write_segment(
    conn: sqlite3.Connection,
    first: int,
    vectors: numpy.ndarray,
    keyword: KeywordIndex,
    file_numbers: numpy.ndarray,
) -> None:
    import numpy as np

    conn.execute(
        f"INSERT INTO segments ({SEGMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            first,
            len(vectors),
            np.ascontiguousarray(vectors, dtype=np.float32).tobytes(),
            "\n".join(sorted(keyword.vocabulary, key=keyword.vocabulary.__getitem__)).encode(),
            keyword.term_ptr.astype(np.int64).tobytes(),
            keyword.doc_ids.astype(np.int32).tobytes(),
            keyword.term_freqs.astype(np.float32).tobytes(),
            keyword.doc_lengths.astype(np.float32).tobytes(),
            file_numbers.astype(np.int32).tobytes(),
        ),
    )


def read_segments(conn: sqlite3.Connection, from_row: int = 0) -> list[Segment]:
    import numpy as np

    if is_legacy(conn):
        blobs = dict(conn.execute("SELECT name, data FROM blobs").fetchall())
        vectors = np.frombuffer(blobs["vectors"], dtype=np.float32).reshape(-1, DIM)
        keyword = KeywordIndex(
            json.loads(blobs["vocabulary"]),
            np.frombuffer(blobs["term_ptr"], dtype=np.int64),
            np.frombuffer(blobs["doc_ids"], dtype=np.int32),
            np.frombuffer(blobs["term_freqs"], dtype=np.float32),
            np.frombuffer(blobs["doc_lengths"], dtype=np.float32),
        )
        if "file_numbers" in blobs:
            numbers = np.frombuffer(blobs["file_numbers"], dtype=np.int32)
        else:  # written by an even earlier version: every row stands alone
            numbers = np.arange(len(vectors), dtype=np.int32)
        return [Segment(0, vectors, keyword, numbers)]
    segments = []
    query = f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE first_row >= ? ORDER BY first_row"
    for first, _rows, vectors, vocabulary, ptr, doc_ids, freqs, lengths, numbers in conn.execute(
        query, (from_row,)
    ):
        terms = vocabulary.decode().split("\n") if vocabulary else []
        keyword = KeywordIndex(
            dict(zip(terms, range(len(terms)), strict=True)),
            np.frombuffer(ptr, dtype=np.int64),
            np.frombuffer(doc_ids, dtype=np.int32),
            np.frombuffer(freqs, dtype=np.float32),
            np.frombuffer(lengths, dtype=np.float32),
        )
        matrix = np.frombuffer(vectors, dtype=np.float32).reshape(-1, DIM)
        segments.append(Segment(first, matrix, keyword, np.frombuffer(numbers, dtype=np.int32)))
    return segments


def delete_paths(conn: sqlite3.Connection, paths: list[str]) -> None:
    for start in range(0, len(paths), 500):
        batch = paths[start : start + 500]
        marks = ",".join("?" * len(batch))
        conn.execute(f"INSERT OR IGNORE INTO deleted SELECT row FROM chunks WHERE path IN ({marks})", batch)
        conn.execute(f"DELETE FROM chunks WHERE path IN ({marks})", batch)
        conn.execute(f"DELETE FROM files WHERE path IN ({marks})", batch)


def merge_segments(conn: sqlite3.Connection) -> None:
    """Merge trailing segments of similar size; compact everything when many rows are deleted."""
    import numpy as np

    spans = conn.execute("SELECT first_row, rows FROM segments ORDER BY first_row").fetchall()
    if not spans:
        return
    deleted = np.array([r[0] for r in conn.execute("SELECT row FROM deleted ORDER BY row")], dtype=np.int64)
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    ends = starts + np.array([s[1] for s in spans], dtype=np.int64)
    live = (ends - starts) - (np.searchsorted(deleted, ends) - np.searchsorted(deleted, starts))
    if len(deleted) and len(deleted) >= COMPACT_DELETED * int(ends[-1]):
        start = 0
    else:
        start, size = len(spans) - 1, int(live[-1])
        while start > 0 and size * 2 >= live[start - 1]:
            start -= 1
            size += int(live[start])
        if start == len(spans) - 1:
            return
    merge_from(conn, int(starts[start]), deleted[deleted >= starts[start]])


def merge_from(conn: sqlite3.Connection, first: int, deleted: numpy.ndarray) -> None:
    """Replace the segments from row ``first`` on by one, without their deleted rows."""
    import numpy as np

    segments = read_segments(conn, first)
    parts, vectors = [], []
    for segment in segments:
        keep = np.ones(len(segment.vectors), dtype=bool)
        inside = deleted[(deleted >= segment.first) & (deleted < segment.first + len(keep))]
        keep[inside - segment.first] = False
        parts.append((segment.keyword, keep))
        vectors.append(segment.vectors[keep])
    old_rows = [r[0] for r in conn.execute("SELECT row FROM chunks WHERE row >= ? ORDER BY row", (first,))]
    # Rows move down in ascending order, so each target number is already free when it is taken.
    conn.executemany(
        "UPDATE chunks SET row = ? WHERE row = ?",
        ((first + i, old) for i, old in enumerate(old_rows) if first + i != old),
    )
    paths = [r[0] for r in conn.execute("SELECT path FROM chunks WHERE row >= ? ORDER BY row", (first,))]
    conn.execute("DELETE FROM deleted WHERE row >= ?", (first,))
    conn.execute("DELETE FROM segments WHERE first_row >= ?", (first,))
    if old_rows:
        merged = np.concatenate(vectors)
        write_segment(conn, first, merged, KeywordIndex.merge(parts), number_files(paths))


def is_legacy(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'").fetchone()
    return found is None


def new_generation(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO state VALUES ('generation', ?)", (int.from_bytes(os.urandom(8), "big") >> 2,)
    )


def concat(arrays: list[Any], empty: numpy.ndarray) -> numpy.ndarray:
    import numpy as np

    if not arrays:
        return empty
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def number_files(paths: Sequence[str]) -> numpy.ndarray:
    import numpy as np

    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(p, len(numbers)) for p in paths], dtype=np.int32)
