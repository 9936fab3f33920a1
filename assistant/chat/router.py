"""The intent router: a chat message -> (intent, slots, confidence), offline and deterministic.

How it decides:

1. The message is normalised for the model (lower case, typos corrected towards the router's
   vocabulary, URLs/JSON/paths reduced to a tag): "TRIGERR aws_deploy" -> "trigger aws_deploy".
2. It is embedded (all-MiniLM-L6-v2) and compared with every example utterance of every intent
   (``assistant/chat/intents/*.txt``); an intent scores the mean of its ``k`` best similarities,
   plus a naive Bayes keyword probability (:mod:`assistant.chat.router_lexical`) and a bonus for
   hand-written domain cues (:mod:`assistant.chat.router_cues`).
3. ``unknown`` wins when the out-of-scope examples are closest, the best score is below a
   threshold, or the two best intents are within a margin; ``k``, threshold and margin are fitted
   on a held-out split of the examples (:mod:`assistant.chat.router_fit`).
4. Slots are read from the message as written by the rules of :mod:`assistant.chat.slots`.

The example matrix and the fitted decision are cached on disk, keyed by the examples and the
model, so a warm process only embeds the message itself.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chat.router_cues import cue_matrix
from assistant.chat.router_data import (
    INTENT_SLOTS,
    UNKNOWN,
    Example,
    examples_digest,
    load_examples,
    vocabulary,
)
from assistant.chat.router_fit import (
    Decision,
    decide,
    fit_decision,
    fuse,
    intent_scores,
    misspell,
    split_held_out,
)
from assistant.chat.router_lexical import KeywordModel
from assistant.chat.router_text import TypoCorrector
from assistant.chat.slots import extract_slots, mention_of
from assistant.errors import RetrievalError

if TYPE_CHECKING:
    import numpy

    from assistant.retrieval.embedder import Embedder

INTENTS: tuple[str, ...] = tuple(INTENT_SLOTS)
CACHE_VERSION = "4"
KEYWORD_TEMPERATURE = 0.25
PROBE_TEXT = "trigger the nightly backup workflow"


@dataclass(frozen=True)
class Route:
    """Where a message goes. ``mention`` is a description of a thing the message did not name
    ("my deployment workflow" -> "deployment"), for the dialog to resolve against reality."""

    intent: str
    slots: dict[str, object]
    confidence: float
    mention: str | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The public shape printed by `assistant route`."""
        return {"intent": self.intent, "slots": dict(self.slots), "confidence": self.confidence}


@dataclass(frozen=True)
class RouterModel:
    """The example matrix, its labels and the fitted decision rule."""

    vectors: numpy.ndarray
    labels: numpy.ndarray
    decision: Decision
    keywords: KeywordModel


class IntentRouter:
    def __init__(
        self,
        embedder: Embedder,
        cache_dir: Path | None = None,
        examples: tuple[Example, ...] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._examples = examples if examples is not None else load_examples()
        self._corrector = TypoCorrector(vocabulary(self._examples))
        self._progress = progress
        self._model: RouterModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> RouterModel:
        with self._lock:
            if self._model is None:
                self._model = self._load_or_build()
            return self._model

    @property
    def decision(self) -> Decision:
        return self.model.decision

    def routing_text(self, text: str) -> str:
        return self._corrector.routing_text(text)

    def route(self, text: str) -> Route:
        return self.route_many([text])[0]

    def route_many(self, texts: Sequence[str]) -> list[Route]:
        routes: list[Route | None] = [None] * len(texts)
        pending = [i for i, text in enumerate(texts) if text.strip()]
        for index, text in enumerate(texts):
            if not text.strip():
                routes[index] = Route(UNKNOWN, {}, 0.0)
        if pending:
            model = self.model
            routing_texts = [self.routing_text(texts[i]) for i in pending]
            vectors = self._embed(routing_texts)
            decision = model.decision
            scores = fuse(
                intent_scores(vectors @ model.vectors.T, model.labels, len(INTENTS), decision.k),
                model.keywords.scores(routing_texts, decision.temperature),
                cue_matrix(routing_texts, INTENTS),
                decision,
            )
            unknown = INTENTS.index(UNKNOWN)
            for row, index in enumerate(pending):
                chosen, confidence = decide(scores[row], unknown, model.decision)
                intent = INTENTS[chosen]
                text = texts[index]
                routes[index] = Route(
                    intent,
                    extract_slots(intent, text, self._corrector),
                    round(confidence, 3),
                    mention_of(text, self._corrector) if intent != UNKNOWN else None,
                )
        return [r for r in routes if r is not None]

    # -- the example matrix -------------------------------------------------------------------

    def _embed(self, texts: Sequence[str]) -> numpy.ndarray:
        try:
            return self._embedder.embed(list(texts))
        except RetrievalError:
            raise
        except Exception as exc:  # onnxruntime/tokenizers raise untyped errors
            raise RetrievalError(
                f"the embedding model failed while routing: {exc}",
                "run `assistant doctor`; delete the models directory to re-export the model",
            ) from exc

    def _cache_file(self) -> Path | None:
        if self._cache_dir is None:
            return None
        probe = self._embed([PROBE_TEXT])
        model_key = hashlib.sha256(probe.round(4).tobytes()).hexdigest()[:12]
        name = f"router-v{CACHE_VERSION}-{examples_digest(self._examples)}-{model_key}.npz"
        return self._cache_dir / "router" / name

    def _load_or_build(self) -> RouterModel:
        import numpy as np

        path = self._cache_file()
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    fitted = {str(k): float(v) for k, v in zip(data["d_keys"], data["d_values"], strict=True)}
                    decision = Decision(**{**fitted, "k": int(fitted["k"])})
                    vectors, labels = data["vectors"], data["labels"]
                return RouterModel(vectors, labels, decision, self._keyword_model(labels))
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # a corrupt cache is rebuilt below
        model = self._build()
        if path is not None:
            _save_atomically(path, model)
        return model

    def _build(self) -> RouterModel:
        import numpy as np

        labels = np.array([INTENTS.index(e.intent) for e in self._examples], dtype=np.int64)
        train, held = split_held_out(labels.tolist())
        train_examples = tuple(self._examples[i] for i in train)
        train_corrector = TypoCorrector(vocabulary(train_examples))
        texts = [self.routing_text(e.text) for e in self._examples]
        misspelt = [train_corrector.routing_text(misspell(self._examples[i].text)) for i in held]
        vectors = self._embed(texts + misspelt)
        example_vectors, misspelt_vectors = vectors[: len(texts)], vectors[len(texts) :]
        held_texts = [texts[i] for i in held] + misspelt
        held_vectors = np.concatenate([example_vectors[held], misspelt_vectors])
        train_keywords = KeywordModel([texts[i] for i in train], labels[train].tolist(), len(INTENTS))
        decision = fit_decision(
            held_vectors @ example_vectors[train].T,
            labels[train],
            train_keywords.scores(held_texts, KEYWORD_TEMPERATURE),
            cue_matrix(held_texts, INTENTS),
            np.concatenate([labels[held], labels[held]]),
            INTENTS.index(UNKNOWN),
            KEYWORD_TEMPERATURE,
            self._progress,
        )
        return RouterModel(example_vectors.astype(np.float32), labels, decision, self._keyword_model(labels))

    def _keyword_model(self, labels: numpy.ndarray) -> KeywordModel:
        texts = [self.routing_text(e.text) for e in self._examples]
        return KeywordModel(texts, labels.tolist(), len(INTENTS))


def _save_atomically(path: Path, model: RouterModel) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fields = model.decision.as_dict()
    handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.npz", dir=path.parent)
    os.close(handle)
    try:
        np.savez(
            temp_name,
            vectors=model.vectors,
            labels=model.labels,
            d_keys=np.array(list(fields)),
            d_values=np.array([float(v) for v in fields.values()]),
        )
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
