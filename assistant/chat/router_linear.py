"""A linear read-out of the sentence embeddings: ridge regression onto one-hot intents.

Nearest neighbours judge a message by the few examples it happens to resemble; a linear model
weighs every direction of the embedding space by how well it separates the intents over all the
examples, which generalises better to phrasings no example has. Ridge regression has a closed
form (one 385x385 solve), so it is refitted in milliseconds for each cross-validation fold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy

RIDGE_LAMBDA = 1.0
# The read-out is turned into probabilities by a softmax at this temperature: scores near 1 for
# one intent and near 0 elsewhere become a confident distribution, mixed ones stay flat.
TEMPERATURE = 0.05


def fit_linear(
    vectors: numpy.ndarray, labels: numpy.ndarray, n_intents: int, lam: float = RIDGE_LAMBDA
) -> numpy.ndarray:
    """(dim + 1, intents) weights (the last row is the bias) minimising squared error + lam |W|^2."""
    import numpy as np

    x = np.hstack([vectors.astype(np.float64), np.ones((len(vectors), 1))])
    targets = np.zeros((len(vectors), n_intents))
    targets[np.arange(len(vectors)), labels] = 1.0
    penalty = lam * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    return np.linalg.solve(x.T @ x + penalty, x.T @ targets).astype(np.float32)


def linear_scores(vectors: numpy.ndarray, weights: numpy.ndarray) -> numpy.ndarray:
    """(texts, intents) probabilities of the intents for embedded texts."""
    import numpy as np

    raw = (vectors @ weights[:-1] + weights[-1]) / TEMPERATURE
    raw -= raw.max(axis=1, keepdims=True)
    exp = np.exp(raw)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
