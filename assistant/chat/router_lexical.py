"""The keyword side of the router: a naive Bayes model over the words of the example utterances.

Sentence embeddings see "redeploy the etl repo" and "remove the etl repo" as near twins; the verb
is what tells them apart. This model learns which words and word pairs go with which intent from
the same examples (names masked, words crudely stemmed) and gives a probability per intent that
the router adds to the embedding scores. Words it never saw carry no weight, so an out-of-scope
message gets a flat distribution and no boost.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.chat.router_text import looks_like_identifier, words_of

if TYPE_CHECKING:
    import numpy

SMOOTHING = 0.3
TAGS = frozenset({"url", "json", "file"})
SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def features(routing_text: str) -> list[str]:
    """Stemmed words (names masked as ``<name>``) and adjacent word pairs."""
    tokens = [
        "<name>" if looks_like_identifier(w) and w not in TAGS else stem(w.lower())
        for w in words_of(routing_text)
    ]
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class KeywordModel:
    def __init__(self, texts: Sequence[str], labels: Sequence[int], n_intents: int) -> None:
        counts = [Counter[str]() for _ in range(n_intents)]
        for text, label in zip(texts, labels, strict=True):
            counts[label].update(set(features(text)))
        self._vocabulary = set().union(*counts)
        size = len(self._vocabulary)
        self._log_likelihood: list[dict[str, float]] = []
        self._unseen: list[float] = []
        for intent_counts in counts:
            total = sum(intent_counts.values())
            denominator = total + SMOOTHING * size
            self._log_likelihood.append(
                {f: math.log((c + SMOOTHING) / denominator) for f, c in intent_counts.items()}
            )
            self._unseen.append(math.log(SMOOTHING / denominator))

    def scores(self, routing_texts: Sequence[str], temperature: float) -> numpy.ndarray:
        """(texts, intents) probabilities from the mean log-likelihood of the known features."""
        import numpy as np

        n_intents = len(self._log_likelihood)
        result = np.full((len(routing_texts), n_intents), 1.0 / n_intents, dtype=np.float32)
        for row, text in enumerate(routing_texts):
            known = [f for f in features(text) if f in self._vocabulary]
            if not known:
                continue
            log_scores = np.array(
                [
                    sum(table.get(f, unseen) for f in known) / len(known)
                    for table, unseen in zip(self._log_likelihood, self._unseen, strict=True)
                ]
            )
            weights = np.exp((log_scores - log_scores.max()) / temperature)
            result[row] = weights / weights.sum()
        return result
