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
from collections.abc import Mapping, Sequence
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
    """Per intent, the smoothed log-likelihood of every feature seen in the examples.

    Stored densely: ``features`` (the known features, in order) and ``table`` (features, intents)
    log-likelihoods; :meth:`arrays` and :meth:`from_arrays` let the router cache it with the
    example matrix. Features no example had are ignored.
    """

    def __init__(self, features: Sequence[str], table: numpy.ndarray) -> None:
        self.features = list(features)
        self.table = table
        self._index = {feature: row for row, feature in enumerate(self.features)}

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[int], n_intents: int) -> KeywordModel:
        import numpy as np

        counts = [Counter[str]() for _ in range(n_intents)]
        for text, label in zip(texts, labels, strict=True):
            counts[label].update(set(features(text)))
        vocabulary = sorted(set().union(*counts))
        table = np.zeros((len(vocabulary), n_intents), dtype=np.float32)
        for intent, intent_counts in enumerate(counts):
            denominator = sum(intent_counts.values()) + SMOOTHING * len(vocabulary)
            table[:, intent] = [math.log((intent_counts[f] + SMOOTHING) / denominator) for f in vocabulary]
        return cls(vocabulary, table)

    def arrays(self) -> dict[str, numpy.ndarray]:
        import numpy as np

        return {"kw_features": np.array(self.features), "kw_table": self.table}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, numpy.ndarray]) -> KeywordModel:
        return cls(arrays["kw_features"].tolist(), arrays["kw_table"])

    def scores(self, routing_texts: Sequence[str], temperature: float) -> numpy.ndarray:
        """(texts, intents) probabilities from the mean log-likelihood of the known features."""
        import numpy as np

        n_intents = self.table.shape[1]
        result = np.full((len(routing_texts), n_intents), 1.0 / n_intents, dtype=np.float32)
        for row, text in enumerate(routing_texts):
            known = [self._index[f] for f in features(text) if f in self._index]
            if not known:
                continue
            log_scores = self.table[known].mean(axis=0)
            weights = np.exp((log_scores - log_scores.max()) / temperature)
            result[row] = weights / weights.sum()
        return result
