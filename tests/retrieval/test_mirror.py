"""The mirror file: incremental writes, segment merging, compaction, readers and the earlier layout."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval import segments
from assistant.retrieval.keyword import KeywordIndex
from assistant.retrieval.mirror import Mirror, Records

WORDS = [
    "scheduler",
    "retries",
    "xcom",
    "pool",
    "sensor",
    "deferrable",
    "trigger",
    "backfill",
    "connection",
    "variable",
    "timeout",
    "queue",
]


def passages(group: str, count: int, seed: int) -> Records:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [" ".join(rng.choice(WORDS, size=6)) + f" {group} part{i}" for i in range(count)]
    metas = [{"path": group, "position": i, "dag_id": group.split("/")[0]} for i in range(count)]
    return Records([f"{group}:{i}" for i in range(count)], vectors, texts, metas)


def concat(parts: list[Records]) -> Records:
    return Records(
        [i for p in parts for i in p.ids],
        np.concatenate([p.vectors for p in parts]),
        [t for p in parts for t in p.texts],
        [m for p in parts for m in p.metadatas],
    )


def table(mirror: Mirror, sql: str) -> list[tuple]:
    with sqlite3.connect(mirror.path("task_logs")) as conn:
        return conn.execute(sql).fetchall()


def assert_mirror_holds(mirror: Mirror, expected: dict[str, Records]) -> None:
    """The mirror holds exactly ``expected`` (group -> passages), searchable as if built from scratch."""
    loaded = mirror.load("task_logs")
    want = concat(list(expected.values()))
    assert sorted(loaded.ids) == sorted(want.ids)
    by_id = dict(zip(want.ids, range(len(want.ids)), strict=True))
    order = [by_id[i] for i in loaded.ids]
    assert np.array_equal(loaded.vectors, want.vectors[order])
    assert loaded.texts == [want.texts[i] for i in order]
    assert set(mirror.file_hashes("task_logs")) == set(expected)

    data = mirror.search_data("task_logs")
    assert data is not None
    live = np.array(sorted(r[0] for r in table(mirror, "SELECT row FROM chunks")))
    reference = KeywordIndex.build([loaded.texts[i] for i in range(len(loaded.ids))])
    for query in ("retries xcom", "pool timeout sensor", "part3"):
        scores = data.keyword.scores(query)
        assert np.allclose(scores[live], reference.scores(query), rtol=1e-5)
        dead = np.setdiff1d(np.arange(len(scores)), live)
        assert not scores[dead].any()
    assert np.array_equal(data.vectors[live], loaded.vectors)


def test_writes_append_and_replace_rows_in_place(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path)
    expected: dict[str, Records] = {}
    for n, group in enumerate(["etl/run1", "etl/run2", "report/run1"]):
        expected[group] = passages(group, 5 + n, seed=n)
        mirror.apply("task_logs", expected[group], [group], {group: ("h", len(expected[group].ids))})
    inode = mirror.path("task_logs").stat().st_ino
    assert_mirror_holds(mirror, expected)

    expected["etl/run2"] = passages("etl/run2", 3, seed=10)  # re-ingested: replaces its passages
    mirror.apply("task_logs", expected["etl/run2"], ["etl/run2"], {"etl/run2": ("h2", 3)})
    del expected["etl/run1"]
    mirror.apply("task_logs", Records.empty(), ["etl/run1"], {})
    assert_mirror_holds(mirror, expected)
    assert mirror.path("task_logs").stat().st_ino == inode  # updated in place, not rewritten
    assert mirror.file_hashes("task_logs")["etl/run2"] == "h2"


def test_small_segments_merge_and_holes_are_compacted(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path)
    expected: dict[str, Records] = {}
    for n in range(40):
        group = f"etl/run{n}"
        expected[group] = passages(group, 4, seed=n)
        mirror.apply("task_logs", expected[group], [group], {group: ("h", 4)})
    sizes = [r[0] for r in table(mirror, "SELECT rows FROM segments ORDER BY first_row")]
    assert sum(sizes) == 160 and len(sizes) <= 8  # a binary counter: logarithmically many
    assert_mirror_holds(mirror, expected)

    removed = [f"etl/run{n}" for n in range(0, 40, 2)]
    mirror.apply("task_logs", Records.empty(), removed, {})
    for group in removed:
        del expected[group]
    # Half the rows were holes: everything is compacted into one segment without holes.
    assert table(mirror, "SELECT first_row, rows FROM segments") == [(0, 80)]
    assert table(mirror, "SELECT count(*), min(row), max(row) FROM chunks") == [(80, 0, 79)]
    assert table(mirror, "SELECT count(*) FROM deleted") == [(0,)]
    assert_mirror_holds(mirror, expected)


def test_a_reader_notices_every_write_and_never_mixes_two_versions(tmp_path: Path) -> None:
    writer, reader = Mirror(tmp_path), Mirror(tmp_path)
    writer.apply("task_logs", passages("etl/run1", 3, seed=1), ["etl/run1"], {"etl/run1": ("h", 3)})
    before = reader.search_data("task_logs")
    assert before is not None
    assert reader.rows("task_logs", [0], before.generation) is not None

    writer.apply("task_logs", passages("etl/run2", 2, seed=2), ["etl/run2"], {"etl/run2": ("h", 2)})
    assert reader.rows("task_logs", [0], before.generation) is None  # stale: the caller searches again
    after = reader.search_data("task_logs")
    assert after is not None and after.generation != before.generation
    assert len(after.vectors) == 5
    filtered = reader.search_data("task_logs", {"dag_id": "etl"})
    assert filtered is not None and filtered.allowed is not None and len(filtered.allowed) == 5


def test_a_file_of_the_earlier_layout_is_read_then_converted_on_write(tmp_path: Path) -> None:
    old = passages("etl/run1", 4, seed=3)
    keyword = KeywordIndex.build(old.texts)
    path = tmp_path / "task_logs.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, "
            "text TEXT NOT NULL, meta_json TEXT NOT NULL);"
            "CREATE TABLE files (path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, chunks INTEGER NOT NULL);"
            "CREATE TABLE blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);"
        )
        conn.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(i, old.ids[i], "etl/run1", old.texts[i], json.dumps(old.metadatas[i])) for i in range(4)],
        )
        conn.execute("INSERT INTO files VALUES ('etl/run1', 'h', 4)")
        blobs = {
            "vectors": old.vectors.tobytes(),
            "vocabulary": json.dumps(keyword.vocabulary).encode(),
            "term_ptr": keyword.term_ptr.tobytes(),
            "doc_ids": keyword.doc_ids.tobytes(),
            "term_freqs": keyword.term_freqs.tobytes(),
            "doc_lengths": keyword.doc_lengths.tobytes(),
        }
        conn.executemany("INSERT INTO blobs VALUES (?, ?)", blobs.items())
    mirror = Mirror(tmp_path)
    data = mirror.search_data("task_logs")
    assert data is not None and np.array_equal(data.vectors, old.vectors)
    assert np.array_equal(data.keyword.scores("retries pool"), keyword.scores("retries pool"))

    new = passages("etl/run2", 2, seed=4)
    mirror.apply("task_logs", new, ["etl/run2"], {"etl/run2": ("h", 2)})
    assert table(mirror, "SELECT name FROM sqlite_master WHERE name = 'segments'") == [("segments",)]
    assert_mirror_holds(mirror, {"etl/run1": old, "etl/run2": new})


def test_a_full_save_then_incremental_writes_agree_with_a_fresh_build(tmp_path: Path) -> None:
    first, second = passages("etl/run1", 6, seed=5), passages("etl/run2", 6, seed=6)
    incremental = Mirror(tmp_path / "a")
    incremental.save("task_logs", concat([first, second]), {"etl/run1": ("h", 6), "etl/run2": ("h", 6)})
    third = passages("etl/run1", 2, seed=7)
    incremental.apply("task_logs", third, ["etl/run1"], {"etl/run1": ("h3", 2)})
    fresh = Mirror(tmp_path / "b")
    fresh.save("task_logs", concat([second, third]), {})
    a, b = incremental.search_data("task_logs"), fresh.search_data("task_logs")
    assert a is not None and b is not None
    live = np.array(sorted(r[0] for r in table(incremental, "SELECT row FROM chunks")))
    for query in ("xcom backfill", "connection variable queue"):
        assert np.allclose(a.keyword.scores(query)[live], b.keyword.scores(query), rtol=1e-5)


@pytest.mark.parametrize("deleted_rows", [[], [1, 2], [0, 1, 2, 3, 4]])
def test_merging_segments_keeps_rows_in_order(tmp_path: Path, deleted_rows: list[int]) -> None:
    mirror = Mirror(tmp_path)
    mirror.save("task_logs", passages("a/1", 5, seed=8), {})
    with sqlite3.connect(mirror.path("task_logs")) as conn:
        segments.append_rows(conn, 5, passages("b/1", 3, seed=9))
        conn.executemany("INSERT INTO deleted VALUES (?)", [(r,) for r in deleted_rows])
        conn.execute(f"DELETE FROM chunks WHERE row IN ({','.join(map(str, deleted_rows)) or '-1'})")
        texts_before = [r[0] for r in conn.execute("SELECT text FROM chunks ORDER BY row")]
        segments.merge_from(conn, 0, np.array(deleted_rows, dtype=np.int64))
        texts_after = [r[0] for r in conn.execute("SELECT text FROM chunks ORDER BY row")]
        rows = [r[0] for r in conn.execute("SELECT row FROM chunks ORDER BY row")]
    assert texts_after == texts_before and rows == list(range(8 - len(deleted_rows)))
    assert table(mirror, "SELECT first_row, rows FROM segments") == [(0, 8 - len(deleted_rows))]


def test_a_writer_that_died_mid_transaction_is_rolled_back_by_the_next_reader(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path)
    kept = passages("etl/run1", 50, seed=11)
    mirror.apply("task_logs", kept, ["etl/run1"], {"etl/run1": ("h", 50)})
    crash = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1]); conn.isolation_level = None\n"
        "conn.execute('PRAGMA cache_size = 1')\n"  # changed pages spill into the file before commit
        "conn.execute('BEGIN IMMEDIATE')\n"
        "conn.execute('UPDATE chunks SET text = hex(randomblob(4000))')\n"
        "os._exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", crash, str(mirror.path("task_logs"))], check=False)
    assert Path(f"{mirror.path('task_logs')}-journal").exists()
    assert_mirror_holds(Mirror(tmp_path), {"etl/run1": kept})
