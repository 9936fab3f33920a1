from __future__ import annotations

import numpy as np

from assistant.retrieval.keyword import KeywordIndex, tokens


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
