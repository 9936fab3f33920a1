"""Resolve what a user calls a DAG ("my deployment workflow") to the DAGs Airflow has."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.airflow.models import DagInfo

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = {
    "my",
    "the",
    "a",
    "an",
    "our",
    "workflow",
    "workflows",
    "dag",
    "dags",
    "pipeline",
    "pipelines",
    "job",
    "run",
    "trigger",
    "start",
    "please",
    "now",
    "it",
    "that",
    "this",
    "for",
    "me",
    "of",
    "to",
    "and",
    "kick",
    "off",
    "launch",
    "execute",
    "again",
    "status",
    "logs",
    "log",
    "show",
    "did",
    "succeed",
}


@dataclass(frozen=True)
class Resolution:
    dag_id: str | None
    candidates: list[str]
    closest: list[str]
    vague: bool = False  # the phrase names nothing ("run a dag"): ask which

    @property
    def ambiguous(self) -> bool:
        return self.dag_id is None and len(self.candidates) > 1


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " ").replace("-", " "))


def _stem(word: str) -> str:
    for suffix in ("ments", "ment", "ing", "ies", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _similar(a: str, b: str) -> bool:
    if a == b or _stem(a) == _stem(b):
        return True
    if len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True
    return len(a) >= 5 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def resolve_dag(phrase: str, dags: Sequence[DagInfo]) -> Resolution:
    """Exact id (any case) wins; else DAGs scored by the words they share with the phrase."""
    ids = [d.dag_id for d in dags]
    wanted = phrase.strip().strip("'\"`")
    for dag_id in ids:
        if dag_id.lower() == wanted.lower():
            return Resolution(dag_id, [dag_id], [])
    by_lower = {dag_id.lower(): dag_id for dag_id in ids}
    typo = difflib.get_close_matches(wanted.lower(), list(by_lower), n=2, cutoff=0.85)
    if len(typo) == 1:
        return Resolution(by_lower[typo[0]], [by_lower[typo[0]]], [])
    words = [w for w in _tokens(wanted) if w not in _FILLER]
    closest = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.4)
    if not words:
        return Resolution(None, [], closest, vague=True)
    scores: dict[str, tuple[float, int]] = {}
    for dag in dags:
        id_words = _tokens(dag.dag_id)
        extra = _tokens(" ".join([dag.description or "", *dag.tags]))
        hits = 0.0
        for word in words:
            if any(_similar(word, t) for t in id_words):
                hits += 1.0
            elif any(_similar(word, t) for t in extra):
                hits += 0.5
        if hits:
            # All the user's words matter; among equals, the DAG with fewer other words is the closer name.
            scores[dag.dag_id] = (hits / len(words), -len(id_words))
    if not scores:
        return Resolution(None, [], closest)
    ranked = sorted(scores, key=lambda d: scores[d], reverse=True)
    best = scores[ranked[0]][0]
    if best < 0.5:
        return Resolution(None, [], ranked[:3])
    top = sorted(d for d in ranked if scores[d][0] >= best - 1e-9)
    if len(top) == 1:
        return Resolution(top[0], top, [])
    return Resolution(None, top, [])
