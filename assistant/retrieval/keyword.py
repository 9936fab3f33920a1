"""Keyword retrieval: Okapi BM25 over a compact inverted index that loads without re-tokenising.

The index is three numpy arrays (postings in CSR form: ``term_ptr``, ``doc_ids``, ``term_freqs``)
plus document lengths and a vocabulary, so a one-shot query process reads it from disk in
milliseconds instead of tokenising every passage again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy

_WORD = re.compile(r"[a-z0-9_]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "use",
        "used",
        "using",
        "was",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "my",
        "me",
        "we",
        "our",
        "not",
        "no",
        "should",
        "would",
        "could",
    ]
)
K1 = 1.5
B = 0.75


def _stem(word: str) -> str:
    """A light suffix strip so plurals and -ing forms meet their stem (``retries`` -> ``retri``)."""
    for suffix in ("ies", "ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("i" if suffix == "ies" else "")
    return word


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        out.append(_stem(word))
        if "_" in word:
            out.extend(_stem(part) for part in word.split("_") if len(part) > 1 and part not in STOPWORDS)
    return out


@dataclass
class KeywordIndex:
    vocabulary: dict[str, int]
    term_ptr: numpy.ndarray  # int64, len(vocabulary) + 1
    doc_ids: numpy.ndarray  # int32
    term_freqs: numpy.ndarray  # float32
    doc_lengths: numpy.ndarray  # float32, one per document

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        import numpy as np

        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = np.zeros(len(texts), dtype=np.float32)
        for doc, text in enumerate(texts):
            counts = Counter(tokens(text))
            lengths[doc] = sum(counts.values())
            for term, count in counts.items():
                postings.setdefault(term, []).append((doc, count))
        vocabulary = {term: i for i, term in enumerate(sorted(postings))}
        ptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        for term, index in vocabulary.items():
            ptr[index + 1] = len(postings[term])
        ptr = np.cumsum(ptr)
        doc_ids = np.zeros(int(ptr[-1]), dtype=np.int32)
        freqs = np.zeros(int(ptr[-1]), dtype=np.float32)
        for term, index in vocabulary.items():
            start = int(ptr[index])
            pairs = postings[term]
            doc_ids[start : start + len(pairs)] = [d for d, _ in pairs]
            freqs[start : start + len(pairs)] = [c for _, c in pairs]
        return cls(vocabulary, ptr, doc_ids, freqs, lengths)

    def scores(self, query: str) -> numpy.ndarray:
        """BM25 score of every document for ``query`` (zeros where no query term occurs)."""
        import numpy as np

        count = len(self.doc_lengths)
        result = np.zeros(count, dtype=np.float32)
        if count == 0:
            return result
        average = float(self.doc_lengths.mean()) or 1.0
        for term in set(tokens(query)):
            index = self.vocabulary.get(term)
            if index is None:
                continue
            start, end = int(self.term_ptr[index]), int(self.term_ptr[index + 1])
            docs = self.doc_ids[start:end]
            tf = self.term_freqs[start:end]
            df = end - start
            idf = np.log(1.0 + (count - df + 0.5) / (df + 0.5))
            norm = tf + K1 * (1.0 - B + B * self.doc_lengths[docs] / average)
            result[docs] += idf * tf * (K1 + 1.0) / norm
        return result
