"""Keyword retrieval: Okapi BM25 over a compact inverted index that loads without re-tokenising.

The index is three numpy arrays (postings in CSR form: ``term_ptr``, ``doc_ids``, ``term_freqs``)
plus document lengths and a vocabulary, so a one-shot query process reads it from disk in
milliseconds instead of tokenising every passage again. A mirror file holds one index per segment:
:class:`SegmentedKeywordIndex` scores them together exactly as one index over the live documents,
and :meth:`KeywordIndex.merge` joins them without tokenising anything again.
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
        return SegmentedKeywordIndex([(0, self)], len(self.doc_lengths)).scores(query)

    @classmethod
    def merge(cls, parts: Sequence[tuple[KeywordIndex, numpy.ndarray]]) -> KeywordIndex:
        """One index over the kept documents of ``parts``, in order; ``keep`` is a boolean mask per part.

        The postings are merged in numpy (no text is tokenised again): documents are renumbered
        in order, and terms that only occurred in dropped documents leave the vocabulary.
        """
        import numpy as np

        terms = sorted(set().union(*(index.vocabulary for index, _ in parts)))
        global_id = {term: i for i, term in enumerate(terms)}
        term_of, docs, freqs, lengths = [], [], [], []
        offset = 0
        for index, keep in parts:
            mapping = np.zeros(len(index.vocabulary), dtype=np.int64)
            for term, local in index.vocabulary.items():
                mapping[local] = global_id[term]
            renumbered = np.cumsum(keep, dtype=np.int64) - 1 + offset
            kept = keep[index.doc_ids]
            term_of.append(np.repeat(mapping, np.diff(index.term_ptr))[kept])
            docs.append(renumbered[index.doc_ids[kept]])
            freqs.append(index.term_freqs[kept])
            lengths.append(index.doc_lengths[keep])
            offset += int(keep.sum())
        all_terms = np.concatenate(term_of) if term_of else np.zeros(0, dtype=np.int64)
        # Each part lists a term's documents in ascending order and parts follow each other, so a
        # stable sort by term alone leaves every posting list sorted by document.
        order = np.argsort(all_terms, kind="stable")
        counts = np.bincount(all_terms, minlength=len(terms))
        used = np.flatnonzero(counts)
        ptr = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(counts[used], out=ptr[1:])
        return cls(
            {terms[i]: n for n, i in enumerate(used)},
            ptr,
            (np.concatenate(docs)[order] if docs else np.zeros(0, dtype=np.int64)).astype(np.int32),
            (np.concatenate(freqs)[order] if freqs else np.zeros(0)).astype(np.float32),
            (np.concatenate(lengths) if lengths else np.zeros(0)).astype(np.float32),
        )


class SegmentedKeywordIndex:
    """BM25 over several indexes laid end to end, some of whose documents may be deleted.

    ``parts`` are ``(first document number, index)`` covering ``0..size`` contiguously; ``deleted``
    marks documents that no longer exist. Scores are exactly those of one index built from the
    remaining documents: deleted ones count neither in the document frequencies nor in the
    average length.
    """

    def __init__(
        self,
        parts: Sequence[tuple[int, KeywordIndex]],
        size: int,
        deleted: numpy.ndarray | None = None,
    ) -> None:
        import numpy as np

        self.parts = list(parts)
        self.size = size
        self.deleted = deleted if deleted is not None and deleted.any() else None
        if len(self.parts) == 1:
            self.doc_lengths = self.parts[0][1].doc_lengths
        else:
            self.doc_lengths = np.zeros(size, dtype=np.float32)
            for first, index in self.parts:
                self.doc_lengths[first : first + len(index.doc_lengths)] = index.doc_lengths
        live = self.doc_lengths if self.deleted is None else self.doc_lengths[~self.deleted]
        self.documents = len(live)
        self.average = float(live.mean()) if len(live) else 1.0
        self.average = self.average or 1.0

    def scores(self, query: str) -> numpy.ndarray:
        import numpy as np

        result = np.zeros(self.size, dtype=np.float32)
        if self.documents == 0:
            return result
        for term in set(tokens(query)):
            docs_parts, tf_parts = [], []
            for first, index in self.parts:
                local = index.vocabulary.get(term)
                if local is None:
                    continue
                start, end = int(index.term_ptr[local]), int(index.term_ptr[local + 1])
                docs_parts.append(index.doc_ids[start:end] + first if first else index.doc_ids[start:end])
                tf_parts.append(index.term_freqs[start:end])
            if not docs_parts:
                continue
            docs = docs_parts[0] if len(docs_parts) == 1 else np.concatenate(docs_parts)
            tf = tf_parts[0] if len(tf_parts) == 1 else np.concatenate(tf_parts)
            if self.deleted is not None:
                alive = ~self.deleted[docs]
                docs, tf = docs[alive], tf[alive]
            df = len(docs)
            if df == 0:
                continue
            idf = np.log(1.0 + (self.documents - df + 0.5) / (df + 0.5))
            norm = tf + K1 * (1.0 - B + B * self.doc_lengths[docs] / self.average)
            result[docs] += idf * tf * (K1 + 1.0) / norm
        return result
