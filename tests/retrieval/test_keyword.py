from __future__ import annotations

import numpy as np

from assistant.retrieval.keyword import KeywordIndex, SegmentedKeywordIndex, tokens


def test_tokens_drop_stopwords_stem_and_split_identifiers() -> None:
    assert tokens("How do I set the retries of a task?") == ["set", "retri", "task"]
    assert "dag" in tokens("dag_id") and "dag_id" in tokens("dag_id")


def test_bm25_prefers_rarer_terms_and_shorter_documents() -> None:
    docs = [
        "the scheduler schedules tasks",
        "xcom lets tasks exchange small values",
        "tasks tasks tasks and more tasks about tasks in a very long document about the scheduler " * 3,
        "unrelated words entirely",
    ]
    index = KeywordIndex.build(docs)
    scores = index.scores("xcom tasks")
    assert int(np.argmax(scores)) == 1
    assert scores[3] == 0.0
    assert index.scores("nothingmatches").sum() == 0.0


def test_index_round_trips_through_bytes() -> None:
    index = KeywordIndex.build(["alpha beta", "beta gamma", "gamma delta delta"])
    copy = KeywordIndex(
        dict(index.vocabulary),
        np.frombuffer(index.term_ptr.tobytes(), dtype=np.int64),
        np.frombuffer(index.doc_ids.tobytes(), dtype=np.int32),
        np.frombuffer(index.term_freqs.tobytes(), dtype=np.float32),
        np.frombuffer(index.doc_lengths.tobytes(), dtype=np.float32),
    )
    assert np.allclose(copy.scores("delta beta"), index.scores("delta beta"))
    assert KeywordIndex.build([]).scores("x").shape == (0,)


def test_merged_indexes_equal_one_built_from_the_kept_documents() -> None:
    first = ["alpha beta", "beta gamma", "gamma delta delta"]
    second = ["delta epsilon", "alpha alpha zeta", "only_here"]
    keep_first, keep_second = np.array([True, False, True]), np.array([True, True, False])
    merged = KeywordIndex.merge(
        [(KeywordIndex.build(first), keep_first), (KeywordIndex.build(second), keep_second)]
    )
    kept = [t for t, k in zip(first + second, [*keep_first, *keep_second], strict=True) if k]
    built = KeywordIndex.build(kept)
    assert merged.vocabulary == built.vocabulary  # terms of dropped documents only are gone
    assert "only_here" not in merged.vocabulary
    for name in ("term_ptr", "doc_ids", "term_freqs", "doc_lengths"):
        assert np.array_equal(getattr(merged, name), getattr(built, name)), name


def test_segments_with_deleted_documents_score_like_a_fresh_index() -> None:
    texts = ["retries retries task", "pool slots", "retries pool", "sensor timeout", "pool pool pool"]
    deleted = np.array([False, True, False, False, True])
    segmented = SegmentedKeywordIndex(
        [(0, KeywordIndex.build(texts[:2])), (2, KeywordIndex.build(texts[2:]))], len(texts), deleted
    )
    fresh = KeywordIndex.build([t for t, d in zip(texts, deleted, strict=True) if not d])
    for query in ("retries pool", "pool", "sensor"):
        scores = segmented.scores(query)
        assert np.allclose(scores[~deleted], fresh.scores(query))
        assert not scores[deleted].any()
