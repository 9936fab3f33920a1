"""The intent router: a chat message -> (intent, slots, confidence), offline and deterministic.

How it decides:

1. The message is normalised for the model (lower case, typos corrected towards the router's
   vocabulary, names such as ``aws_deploy`` replaced by a placeholder, URLs/JSON/paths reduced to
   a tag): "TRIGERR aws_deploy" -> "trigger x" (:mod:`assistant.chat.router_text`).
2. It is embedded (all-MiniLM-L6-v2). Each intent gets a score mixing the similarity to its
   example utterances (``assistant/chat/intents/*.txt``; mean of the ``k`` best), a linear
   read-out of the embedding (:mod:`assistant.chat.router_linear`), a naive Bayes keyword
   probability (:mod:`assistant.chat.router_lexical`), hand-written domain cues
   (:mod:`assistant.chat.router_cues`) and a lift for messages that name a thing of the domain
   (:mod:`assistant.chat.router_domain`). An explanation question that names nothing to act
   on ("how do I roll back a repository?") is never given an action intent
   (:mod:`assistant.chat.router_form`).
3. ``unknown`` wins when the out-of-scope examples score best, the best score is below a
   threshold, or the two best intents are within a margin. The weights, ``k``, threshold and
   margin are fitted by k-fold cross-validation over the examples, never on the labelled
   benchmark (:mod:`assistant.chat.router_fit`, :mod:`assistant.chat.router_build`).
4. Slots are read from the message as written by the rules of :mod:`assistant.chat.slots`.

The fitted model is cached on disk, keyed by the examples, the code it depends on and the
embedding model, so a warm process only embeds the message itself.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chat.router_build import INTENTS, RouterModel, build_model, load_model, save_model
from assistant.chat.router_data import UNKNOWN, Example, examples_digest, load_examples, vocabulary
from assistant.chat.router_fit import Decision, decide, fuse
from assistant.chat.router_text import TypoCorrector
from assistant.chat.slots import extract_slots, mention_of
from assistant.errors import RetrievalError

if TYPE_CHECKING:
    import numpy

    from assistant.retrieval.embedder import Embedder

__all__ = ["INTENTS", "IntentRouter", "Route", "RouterModel"]

CACHE_VERSION = "5"
PROBE_TEXT = "trigger the nightly backup workflow"
STALE_CACHE_SECONDS = 7 * 24 * 3600
# The code and word lists the fitted model depends on: editing them refits it.
FITTED_SOURCES = (
    "router_build.py",
    "router_cues.py",
    "router_data.py",
    "router_domain.py",
    "router_fit.py",
    "router_form.py",
    "router_lexical.py",
    "router_linear.py",
    "router_text.py",
    "slots_words.txt",
)


def _code_digest() -> str:
    digest = hashlib.sha256()
    for name in FITTED_SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


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
            originals = [texts[i] for i in pending]
            signals = model.signals(routing_texts, vectors, originals)
            scores = fuse(signals, model.decision)
            unknown = INTENTS.index(UNKNOWN)
            for row, index in enumerate(pending):
                blocked = signals.blocked[row] if signals.blocked is not None else None
                chosen, confidence = decide(scores[row], unknown, model.decision, blocked)
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
        content = hashlib.sha256(f"{examples_digest(self._examples)}:{_code_digest()}".encode()).hexdigest()
        name = f"router-v{CACHE_VERSION}-{content[:16]}-{model_key}.npz"
        return self._cache_dir / "router" / name

    def _load_or_build(self) -> RouterModel:
        path = self._cache_file()
        if path is not None and path.exists():
            try:
                model = load_model(path)
                os.utime(path)  # in use: see _prune_stale_caches
                return model
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # a corrupt cache is rebuilt below
        model = build_model(self._examples, self._corrector, self._embed, self._progress)
        if path is not None:
            save_model(path, model)
            _prune_stale_caches(path)
        return model


def _prune_stale_caches(current: Path) -> None:
    """Delete the caches of other examples or code that no process has loaded for a while."""
    cutoff = time.time() - STALE_CACHE_SECONDS
    for other in current.parent.glob("router-v*.npz"):
        try:
            if other != current and other.stat().st_mtime < cutoff:
                other.unlink()
        except OSError:
            pass  # another process got there first
