from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.embedder import (
    DIMENSION,
    PARALLEL_MIN,
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    mean_pool_normalise,
    onnx_path,
    source_model_dir,
)

SENTENCES = [
    "How do I pass parameters to a DAG run?",
    "Set retries and retry_delay in default_args so a flaky task is tried again.",
    "def extract():\n    return requests.get(URL, timeout=10).json()",
    "Ünïcödé and emoji 🚀 still embed",
    "a",
    "word " * 600,  # longer than the model's 256-token window: truncated the same way on both paths
]


def test_vectors_have_the_promised_shape(embedder: Embedder) -> None:
    vectors = embedder.embed(SENTENCES)
    assert vectors.shape == (len(SENTENCES), DIMENSION)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_batching_and_order_do_not_change_a_vector(embedder: Embedder) -> None:
    together = embedder.embed(SENTENCES)
    alone = np.vstack([embedder.embed([s]) for s in SENTENCES])
    assert np.allclose(together, alone, atol=1e-5)


def test_many_texts_embedded_in_parallel_batches_match_one_by_one(exported_model: Path) -> None:
    texts = [f"{s} (variant {i})" * (1 + i % 3) for i in range(14) for s in SENTENCES[:5]]
    parallel = OnnxEmbedder(exported_model, source_model_dir() / "tokenizer.json", threads=2)
    serial = OnnxEmbedder(exported_model, source_model_dir() / "tokenizer.json", threads=1)
    many = parallel.embed(texts)
    assert len(texts) >= PARALLEL_MIN and parallel._bulk_session is not None  # the parallel path ran
    assert np.allclose(many, serial.embed(texts), atol=1e-5)
    assert np.allclose(many[::7], np.vstack([serial.embed([t]) for t in texts[::7]]), atol=1e-5)


@pytest.mark.slow
def test_onnx_path_matches_sentence_transformers(embedder: Embedder) -> None:
    # Enough texts that the fast path also takes its parallel, small-batch route (as when indexing).
    texts = SENTENCES + [f"{s} (variant {i})" for i in range(PARALLEL_MIN // 5) for s in SENTENCES[:5]]
    reference = SentenceTransformerEmbedder(source_model_dir()).embed(texts)
    fast = embedder.embed(texts)
    cosines = (reference * fast).sum(axis=1)
    assert len(texts) >= PARALLEL_MIN and cosines.min() >= 0.999, cosines


def test_similar_meanings_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        ["retry a failed task", "how many times is a task retried", "bake a chocolate cake"]
    )
    assert a @ b > a @ c + 0.2


def test_mean_pooling_ignores_padding() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    pooled = mean_pool_normalise(hidden, mask)
    assert np.allclose(pooled, [[1.0, 0.0]])


def test_load_embedder_reuses_an_existing_export(tmp_path: Path, exported_model: Path) -> None:
    target = onnx_path(tmp_path, source_model_dir())
    target.write_bytes(exported_model.read_bytes())
    before = target.stat().st_mtime_ns
    loaded = load_embedder(tmp_path)
    assert isinstance(loaded, OnnxEmbedder)
    assert target.stat().st_mtime_ns == before


@pytest.mark.slow
def test_two_processes_racing_to_export_leave_one_complete_model(tmp_path: Path, embedder: Embedder) -> None:
    script = (
        "import sys; from pathlib import Path; from assistant.retrieval.embedder import load_embedder; "
        "print(load_embedder(Path(sys.argv[1])).embed(['race']).sum())"
    )
    models = tmp_path / "models"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(models)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    export = onnx_path(models, source_model_dir())
    # One complete export and its optimised copy; no temporary file left behind by the race.
    assert sorted(f.name for f in models.iterdir()) == sorted(
        [export.name, export.with_suffix(".opt.onnx").name]
    )
    expected = float(embedder.embed(["race"]).sum())
    assert all(abs(float(out.strip()) - expected) < 1e-4 for out in outputs)


def test_a_corrupt_export_is_reported_with_a_fix(tmp_path: Path) -> None:
    from assistant.errors import RetrievalError

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(RetrievalError) as caught:
        OnnxEmbedder(broken, source_model_dir() / "tokenizer.json")
    assert "delete" in caught.value.hint
