"""Scoring of intents from example similarities, and the fitting of the `unknown` decision.

An intent's score is the mean of its ``k`` best cosine similarities to the message, plus ``beta``
times the keyword model's probability and ``gamma`` for each matching hand-written cue. The message
is ``unknown`` when the out-of-scope examples score best, when the best in-scope score is below a
threshold, or when the two best in-scope intents are closer than a margin. ``k``, ``beta``,
``gamma``, the threshold and the margin are fitted on a held-out split of the router's own examples
(every fourth example of each intent, plus a misspelt copy of it), never on the labelled benchmark
set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy

HELD_OUT_EVERY = 4
K_CHOICES = (1, 2, 3)
BETA_GRID = (0.0, 0.1, 0.2, 0.3)
GAMMA_GRID = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
THRESHOLD_GRID = tuple(round(0.20 + 0.01 * i, 2) for i in range(61))
REJECTION_TARGET = 0.9  # the target for out-of-scope rejection
MARGIN_GRID = tuple(round(0.005 * i, 3) for i in range(9))
SOFTMAX_TEMPERATURE = 0.05


@dataclass(frozen=True)
class Decision:
    k: int
    threshold: float
    margin: float
    beta: float = 0.0
    gamma: float = 0.0
    temperature: float = 0.25
    held_out_accuracy: float = 0.0
    held_out_rejection: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def intent_scores(sims: numpy.ndarray, labels: numpy.ndarray, n_intents: int, k: int) -> numpy.ndarray:
    """(queries, intents): mean of the ``k`` highest similarities to each intent's examples."""
    import numpy as np

    scores = np.full((sims.shape[0], n_intents), -1.0, dtype=np.float32)
    for intent in range(n_intents):
        columns = sims[:, labels == intent]
        if columns.shape[1] == 0:
            continue
        take = min(k, columns.shape[1])
        top = -np.partition(-columns, take - 1, axis=1)[:, :take]
        scores[:, intent] = top.mean(axis=1)
    return scores


def fuse(
    embedding: numpy.ndarray, keywords: numpy.ndarray, cues: numpy.ndarray, d: Decision
) -> numpy.ndarray:
    return embedding + d.beta * keywords + d.gamma * cues


def decide(scores: numpy.ndarray, unknown: int, decision: Decision) -> tuple[int, float]:
    """The chosen intent index and a confidence in [0, 1] for one row of intent scores."""
    import numpy as np

    in_scope = scores.copy()
    in_scope[unknown] = -np.inf
    order = np.argsort(-in_scope)
    best, second = int(order[0]), int(order[1])
    s1, s2 = float(scores[best]), float(scores[second])
    weights = np.exp((scores - scores.max()) / SOFTMAX_TEMPERATURE)
    probabilities = weights / weights.sum()
    rejected = scores[unknown] >= s1 or s1 < decision.threshold or (s1 - s2) < decision.margin
    if rejected:
        confidence = max(float(probabilities[unknown]), 1.0 - float(probabilities[best]))
        return unknown, confidence
    return best, float(probabilities[best])


def misspell(text: str) -> str:
    """A deterministic typo: two middle letters of the longest plain word swapped."""
    words = text.split()
    plain = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5]
    if not plain:
        return text
    index = max(plain, key=lambda i: (len(words[i]), -i))
    word = words[index]
    middle = len(word) // 2
    words[index] = word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]
    return " ".join(words)


def split_held_out(labels: Sequence[int]) -> tuple[list[int], list[int]]:
    """Indices of (train, held-out): every HELD_OUT_EVERY-th example of each intent is held out."""
    seen: dict[int, int] = {}
    train, held = [], []
    for index, label in enumerate(labels):
        position = seen.get(label, 0)
        seen[label] = position + 1
        (held if position % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append(index)
    return train, held


def fit_decision(
    sims: numpy.ndarray,
    train_labels: numpy.ndarray,
    keywords: numpy.ndarray,
    cues: numpy.ndarray,
    held_labels: numpy.ndarray,
    unknown: int,
    temperature: float,
    progress: Callable[[str], None] | None = None,
) -> Decision:
    """Grid-search the decision with the best held-out accuracy that still rejects at least
    REJECTION_TARGET of the held-out out-of-scope examples (else the best accuracy + rejection).

    ``sims`` are (held-out, train) similarities; ``keywords`` and ``cues`` are (held-out, intents).
    """
    import numpy as np

    n_intents = keywords.shape[1]
    in_scope_rows = held_labels != unknown
    best: tuple[float, float, float, Decision] | None = None
    for k in K_CHOICES:
        embedding = intent_scores(sims, train_labels, n_intents, k)
        for beta in BETA_GRID:
            for gamma in GAMMA_GRID:
                base = Decision(k, 0.0, 0.0, beta, gamma, temperature)
                scores = fuse(embedding, keywords, cues, base)
                in_scope = scores.copy()
                in_scope[:, unknown] = -np.inf
                order = np.argsort(-in_scope, axis=1)
                rows = np.arange(len(scores))
                s1, s2 = scores[rows, order[:, 0]], scores[rows, order[:, 1]]
                closest_is_unknown = scores[:, unknown] >= s1
                for threshold in THRESHOLD_GRID:
                    for margin in MARGIN_GRID:
                        rejected = closest_is_unknown | (s1 < threshold) | ((s1 - s2) < margin)
                        correct = np.where(rejected, unknown, order[:, 0]) == held_labels
                        accuracy = float(correct[in_scope_rows].mean()) if in_scope_rows.any() else 1.0
                        rejection = float(correct[~in_scope_rows].mean()) if (~in_scope_rows).any() else 1.0
                        # Best accuracy among the rules that reject enough out-of-scope messages;
                        # ties go to the simplest rule: low threshold, margin and cue weights.
                        feasible = rejection >= REJECTION_TARGET
                        key = (
                            float(feasible),
                            accuracy if feasible else accuracy + rejection,
                            -threshold - margin - beta - gamma,
                        )
                        if best is None or key > best[:3]:
                            fitted = Decision(
                                k,
                                threshold,
                                margin,
                                beta,
                                gamma,
                                temperature,
                                round(accuracy, 4),
                                round(rejection, 4),
                            )
                            best = (*key, fitted)
    assert best is not None
    if progress:
        progress(f"fitted router decision {best[3].as_dict()}")
    return best[3]
