"""Building the router's model from its examples: the example matrix and the fitted decision.

The decision is fitted by k-fold cross-validation (:mod:`assistant.chat.router_fit`): for each
fold, a router made of the other folds only (their vectors, a keyword model trained on them and a
typo vocabulary taken from them) scores the fold's examples as written and with a typo. Every text
is embedded once, however many folds use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.chat.router_cues import cue_matrix
from assistant.chat.router_data import INTENT_SLOTS, UNKNOWN, Example, vocabulary
from assistant.chat.router_domain import evidence_matrix
from assistant.chat.router_fit import (
    K_CHOICES,
    N_FOLDS,
    Decision,
    OutOfFold,
    Signals,
    fit_decision,
    fold_assignment,
    intent_scores,
    misspell,
)
from assistant.chat.router_form import blocked_matrix
from assistant.chat.router_lexical import KeywordModel
from assistant.chat.router_linear import fit_linear, linear_scores
from assistant.chat.router_text import TypoCorrector

if TYPE_CHECKING:
    import numpy

INTENTS: tuple[str, ...] = tuple(INTENT_SLOTS)
KEYWORD_TEMPERATURE = 0.25
FEW_MESSAGES = 16

Embed = Callable[[Sequence[str]], "numpy.ndarray"]


@dataclass(frozen=True)
class RouterModel:
    """The example matrix, its labels, the linear read-out, the keyword model and the decision."""

    vectors: numpy.ndarray
    labels: numpy.ndarray
    linear: numpy.ndarray
    decision: Decision
    keywords: KeywordModel

    def signals(self, routing_texts: Sequence[str], vectors: numpy.ndarray, texts: Sequence[str]) -> Signals:
        """The signals of messages (as written, as routed, embedded) under this model."""
        import numpy as np

        if len(vectors) <= FEW_MESSAGES:
            # no BLAS for a few rows: its thread pool fights onnxruntime's (10 ms instead of 0.1)
            sims = np.einsum("ij,kj->ik", vectors, self.vectors)
        else:
            sims = vectors @ self.vectors.T
        return Signals(
            intent_scores(sims, self.labels, len(INTENTS), self.decision.k),
            linear_scores(vectors, self.linear),
            self.keywords.scores(routing_texts, self.decision.temperature),
            cue_matrix(routing_texts, INTENTS, texts),
            evidence_matrix(texts, INTENTS),
            blocked_matrix(texts, routing_texts, INTENTS),
        )


class VectorCache:
    """Embeds each distinct text once, in as few batches as possible."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._vectors: dict[str, numpy.ndarray] = {}

    def add(self, texts: Sequence[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self._embed(missing), strict=True):
                self._vectors[text] = vector

    def matrix(self, texts: Sequence[str]) -> numpy.ndarray:
        import numpy as np

        self.add(texts)
        return np.stack([self._vectors[t] for t in texts])


def out_of_fold_scores(
    examples: Sequence[Example],
    routing_texts: Sequence[str],
    cache: VectorCache,
    n_folds: int = N_FOLDS,
) -> OutOfFold:
    """Scores of each example and of a misspelt copy by a router built without its fold."""
    import numpy as np

    labels = np.array([INTENTS.index(e.intent) for e in examples], dtype=np.int64)
    folds = np.array(fold_assignment(labels.tolist(), n_folds))
    plans = []
    for fold in range(n_folds):
        train = np.flatnonzero(folds != fold)
        held = np.flatnonzero(folds == fold)
        corrector = TypoCorrector(vocabulary(tuple(examples[i] for i in train)))
        originals = [examples[i].text for i in held] + [misspell(examples[i].text) for i in held]
        plans.append((train, held, originals, [corrector.routing_text(t) for t in originals]))
    cache.add(list(routing_texts) + [t for plan in plans for t in plan[3]])
    train_matrix = cache.matrix(routing_texts)
    neighbours: dict[int, list[numpy.ndarray]] = {k: [] for k in K_CHOICES}
    linear, keywords, cues, evidence, blocked, held_labels = [], [], [], [], [], []
    for train, held, originals, held_texts in plans:
        held_matrix = cache.matrix(held_texts)
        sims = held_matrix @ train_matrix[train].T
        for k in K_CHOICES:
            neighbours[k].append(intent_scores(sims, labels[train], len(INTENTS), k))
        linear.append(
            linear_scores(held_matrix, fit_linear(train_matrix[train], labels[train], len(INTENTS)))
        )
        model = KeywordModel.train([routing_texts[i] for i in train], labels[train].tolist(), len(INTENTS))
        keywords.append(model.scores(held_texts, KEYWORD_TEMPERATURE))
        cues.append(cue_matrix(held_texts, INTENTS, originals))
        evidence.append(evidence_matrix(originals, INTENTS))
        blocked.append(blocked_matrix(originals, held_texts, INTENTS))
        held_labels.append(np.concatenate([labels[held], labels[held]]))
    return OutOfFold(
        {k: np.concatenate(parts) for k, parts in neighbours.items()},
        np.concatenate(linear),
        np.concatenate(keywords),
        np.concatenate(cues),
        np.concatenate(evidence),
        np.concatenate(held_labels),
        np.concatenate(blocked),
    )


def build_model(
    examples: Sequence[Example],
    corrector: TypoCorrector,
    embed: Embed,
    progress: Callable[[str], None] | None = None,
) -> RouterModel:
    """Embed every example and fit the decision by cross-validation over them."""
    import numpy as np

    cache = VectorCache(embed)
    routing_texts = [corrector.routing_text(e.text) for e in examples]
    oof = out_of_fold_scores(examples, routing_texts, cache)
    decision = fit_decision(oof, INTENTS.index(UNKNOWN), KEYWORD_TEMPERATURE, progress)
    labels = np.array([INTENTS.index(e.intent) for e in examples], dtype=np.int64)
    vectors = cache.matrix(routing_texts).astype(np.float32)
    linear = fit_linear(vectors, labels, len(INTENTS))
    keywords = KeywordModel.train(routing_texts, labels.tolist(), len(INTENTS))
    return RouterModel(vectors, labels, linear, decision, keywords)


def save_model(path: Path, model: RouterModel) -> None:
    """Write the model to ``path`` (.npz) through a temporary file and a rename."""
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
            linear=model.linear,
            d_keys=np.array(list(fields)),
            d_values=np.array([float(v) for v in fields.values()]),
            **model.keywords.arrays(),
        )
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def load_model(path: Path) -> RouterModel:
    """The model saved by :func:`save_model`; OSError, ValueError or KeyError when unreadable."""
    import numpy as np

    with np.load(path) as data:
        fitted = {str(k): float(v) for k, v in zip(data["d_keys"], data["d_values"], strict=True)}
        decision = Decision(**{**fitted, "k": int(fitted["k"])})
        keywords = KeywordModel.from_arrays(data)
        return RouterModel(data["vectors"], data["labels"], data["linear"], decision, keywords)
