"""Scoring of intents from the message's signals, and the fitting of the decision rule.

An intent's score mixes, with fitted weights:

* the embedding: ``(1 - alpha)`` times the mean of its ``k`` best cosine similarities to the
  intent's examples plus ``alpha`` times the linear read-out (:mod:`assistant.chat.router_linear`);
* ``beta`` times the keyword model's probability (:mod:`assistant.chat.router_lexical`);
* ``gamma`` for a matching hand-written cue (:mod:`assistant.chat.router_cues`);
* ``delta`` for every in-scope intent when the message names something of the domain
  (:mod:`assistant.chat.router_domain`).

The message is ``unknown`` when the out-of-scope intent scores best, when the best in-scope score
is below a threshold, or when the two best in-scope intents are closer than a margin.

Some intents can be ruled out for a message whatever their score: an explanation question naming
nothing to act on, "how do I roll back a repository?", is never an action
(:mod:`assistant.chat.router_form`). Whether such a message is in scope is still decided on all
the scores (it scored as a rollback: it is about this assistant); which intent it gets, among the
ones not ruled out.

The weights, ``k``, the threshold and the margin are fitted by k-fold cross-validation over the
router's own examples (never the labelled benchmark set): each fold is scored by a router built
from the other folds only (its examples, linear and keyword models and typo vocabulary), once as
written and once with a typo, and the rule is chosen on all those out-of-fold scores together.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy

N_FOLDS = 5
K_CHOICES = (1, 2, 3, 4)
ALPHA_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
BETA_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
GAMMA_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
DELTA_GRID = (0.0, 0.05, 0.1, 0.15, 0.2)
THRESHOLD_GRID = tuple(round(0.20 + 0.01 * i, 2) for i in range(61))
MARGIN_GRID = (0.0, 0.01, 0.02, 0.03)
# Out-of-scope rejection the fit must reach on the out-of-fold examples (the target; the
# out-of-scope examples include requests that borrow the assistant's verbs, "trigger the alarm",
# harder than most out-of-scope messages).
REJECTION_TARGET = 0.9
# Beyond the target, the fit maximises in-scope accuracy + this weight times rejection: 1.0 is
# balanced accuracy, each kind of message counting as much as the other.
REJECTION_WEIGHT = 1.0
SOFTMAX_TEMPERATURE = 0.05
# A larger k must beat a smaller one by more than this (about one held-out message): with k = 1 a
# message equal to an example gets the example's intent, which cross-validation cannot value.
K_TIE = 0.0025


@dataclass(frozen=True)
class Decision:
    k: int
    threshold: float
    margin: float
    alpha: float = 0.0
    beta: float = 0.0
    gamma: float = 0.0
    delta: float = 0.0
    temperature: float = 0.25
    held_out_accuracy: float = 0.0  # cross-validated: in-scope examples routed to their intent
    held_out_rejection: float = 0.0  # cross-validated: out-of-scope examples rejected

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Signals:
    """What is known of some messages, each a (messages, intents) array."""

    neighbours: numpy.ndarray  # mean of the k best similarities to each intent's examples
    linear: numpy.ndarray  # the linear read-out of the embedding
    keywords: numpy.ndarray  # keyword model probabilities
    cues: numpy.ndarray  # 1 where a hand-written cue matches
    evidence: numpy.ndarray  # 1 in the in-scope columns where the message names a domain thing
    blocked: numpy.ndarray | None = None  # 1 where the intent is ruled out (router_form)


@dataclass(frozen=True)
class OutOfFold:
    """Signals of every example (and its misspelt copy) from routers that never saw it.

    ``neighbours`` maps each ``k`` of K_CHOICES to its (rows, intents) array.
    """

    neighbours: Mapping[int, numpy.ndarray]
    linear: numpy.ndarray
    keywords: numpy.ndarray
    cues: numpy.ndarray
    evidence: numpy.ndarray
    labels: numpy.ndarray
    blocked: numpy.ndarray | None = None

    def signals(self, k: int) -> Signals:
        return Signals(self.neighbours[k], self.linear, self.keywords, self.cues, self.evidence, self.blocked)


def intent_scores(sims: numpy.ndarray, labels: numpy.ndarray, n_intents: int, k: int) -> numpy.ndarray:
    """(queries, intents): mean of the ``k`` highest similarities to each intent's examples."""
    import numpy as np

    order = np.argsort(labels, kind="stable")
    grouped, sorted_labels = sims[:, order], labels[order]
    bounds = np.searchsorted(sorted_labels, np.arange(n_intents + 1))
    scores = np.full((sims.shape[0], n_intents), -1.0, dtype=np.float32)
    for intent in range(n_intents):
        columns = grouped[:, bounds[intent] : bounds[intent + 1]]
        if columns.shape[1] == 0:
            continue
        take = min(k, columns.shape[1])
        if take == 1:
            scores[:, intent] = columns.max(axis=1)
        else:
            scores[:, intent] = (-np.partition(-columns, take - 1, axis=1)[:, :take]).mean(axis=1)
    return scores


def fuse(signals: Signals, d: Decision) -> numpy.ndarray:
    return (
        (1.0 - d.alpha) * signals.neighbours
        + d.alpha * signals.linear
        + d.beta * signals.keywords
        + d.gamma * signals.cues
        + d.delta * signals.evidence
    )


def decide(
    scores: numpy.ndarray, unknown: int, decision: Decision, blocked: numpy.ndarray | None = None
) -> tuple[int, float]:
    """The chosen intent index and a confidence in [0, 1] for one row of intent scores.

    ``blocked`` (1 for an intent ruled out) does not change whether the message is rejected, only
    which in-scope intent it gets: the best one not ruled out, with the confidence of the best one.
    """
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
    if blocked is not None and blocked[best]:
        allowed = np.where(blocked > 0, -np.inf, in_scope)
        return int(np.argmax(allowed)), float(probabilities[best])
    return best, float(probabilities[best])


def chosen_intents(scores: numpy.ndarray, unknown: int, blocked: numpy.ndarray | None) -> numpy.ndarray:
    """(rows,): the best in-scope intent of each row of scores among those not ruled out."""
    import numpy as np

    in_scope = scores.copy()
    in_scope[:, unknown] = -np.inf
    if blocked is not None:
        in_scope = np.where(blocked > 0, -np.inf, in_scope)
    return np.argmax(in_scope, axis=1)


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


def fold_assignment(labels: Sequence[int], n_folds: int = N_FOLDS) -> list[int]:
    """The fold of each example: each intent's examples cut into ``n_folds`` contiguous blocks.

    Blocks rather than every n-th example, because neighbouring lines of an intent file are often
    variations of one phrasing; a fold then has to generalise to phrasings it never saw.
    """
    counts: dict[int, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    seen: dict[int, int] = {}
    folds = []
    for label in labels:
        position = seen.get(label, 0)
        seen[label] = position + 1
        folds.append(position * n_folds // counts[label])
    return folds


def fit_decision(
    oof: OutOfFold,
    unknown: int,
    temperature: float,
    progress: Callable[[str], None] | None = None,
) -> Decision:
    """Grid-search the decision on out-of-fold scores.

    Among the rules rejecting at least REJECTION_TARGET of the out-of-scope rows, the one with the
    best in-scope accuracy plus REJECTION_WEIGHT times rejection; when none reaches the target,
    the best accuracy + rejection. Ties go to the simplest rule: low threshold, margin and weights;
    and the smallest ``k`` within K_TIE of the best.
    """
    import numpy as np

    labels = oof.labels
    in_scope_rows = labels != unknown
    n_in, n_out = int(in_scope_rows.sum()), int((~in_scope_rows).sum())
    thresholds = np.array(THRESHOLD_GRID)
    best_by_k: dict[int, tuple[float, float, float, Decision]] = {}
    grid = itertools.product(K_CHOICES, ALPHA_GRID, BETA_GRID, GAMMA_GRID, DELTA_GRID, MARGIN_GRID)
    scored: tuple[tuple[int, float, float, float, float], Any] | None = None
    for k, alpha, beta, gamma, delta, margin in grid:
        if alpha == 1.0 and k != K_CHOICES[0]:
            continue  # the neighbours play no part: every k is the same rule
        weights = (k, alpha, beta, gamma, delta)
        if scored is None or scored[0] != weights:
            scores = fuse(oof.signals(k), Decision(k, 0.0, 0.0, alpha, beta, gamma, delta))
            in_scope = scores.copy()
            in_scope[:, unknown] = -np.inf
            rows = np.arange(len(scores))[:, None]
            order = np.argpartition(-in_scope, 1, axis=1)[:, :2]  # the two best, either way round
            order = np.take_along_axis(order, np.argsort(-in_scope[rows, order], axis=1), axis=1)
            s1, s2 = in_scope[rows[:, 0], order[:, 0]], in_scope[rows[:, 0], order[:, 1]]
            right = chosen_intents(scores, unknown, oof.blocked) == labels
            scored = (weights, (s1, s2, scores[:, unknown] >= s1, right))
        s1, s2, closest_is_unknown, right = scored[1]
        kept = ~closest_is_unknown & ((s1 - s2) >= margin)
        # every threshold at once: in-scope rows kept and right, out-of-scope rows let in
        accepted_right = np.sort(s1[kept & right & in_scope_rows])
        let_in = np.sort(s1[kept & ~in_scope_rows])
        accuracy = (len(accepted_right) - np.searchsorted(accepted_right, thresholds, "left")) / max(n_in, 1)
        rejection = 1.0 - (len(let_in) - np.searchsorted(let_in, thresholds, "left")) / max(n_out, 1)
        feasible = rejection >= REJECTION_TARGET
        value = np.where(feasible, accuracy + REJECTION_WEIGHT * rejection, accuracy + rejection)
        simplicity = -thresholds - margin - alpha - beta - gamma - delta
        index = int(np.lexsort((simplicity, value, feasible))[-1])
        key = (float(feasible[index]), float(value[index]), float(simplicity[index]))
        best = best_by_k.get(k)
        if best is None or key > best[:3]:
            fitted = Decision(
                k,
                float(thresholds[index]),
                margin,
                alpha,
                beta,
                gamma,
                delta,
                temperature,
                round(float(accuracy[index]), 4),
                round(float(rejection[index]), 4),
            )
            best_by_k[k] = (*key, fitted)
    top = max(best_by_k.values(), key=lambda b: b[:3])
    chosen = min(
        (b for b in best_by_k.values() if b[0] == top[0] and b[1] >= top[1] - K_TIE), key=lambda b: b[3].k
    )
    if progress:
        progress(f"fitted router decision {chosen[3].as_dict()}")
    return chosen[3]
