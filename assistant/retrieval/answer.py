"""Answers built from retrieved passages, with citations; never invented.

Without an LLM the answer is extractive: the sentences of the best passages that are closest to
the question (by embedding similarity), kept in their original order and trimmed, each passage
cited. With Ollama configured, the model writes the answer from those passages only; if Ollama
cannot be reached the extractive answer is given instead. When retrieval finds nothing relevant,
the answer says so and suggests where to look.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistant.retrieval.embedder import Embedder
    from assistant.retrieval.search import Hit

PASSAGES = 4
SENTENCES_PER_PASSAGE = 2
MAX_ANSWER_CHARS = 900
NOTHING_FOUND = (
    "I found nothing about that in the indexed documentation, so I will not guess. "
    "Try `assistant search` with other words, index your own docs with `assistant index PATH`, "
    "or look in the Apache Airflow documentation (https://airflow.apache.org/docs/)."
)
_LIST_ITEM = re.compile(r"\n(?=\s*(?:[-*+]|\d+\.)\s)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\"'])")


@dataclass(frozen=True)
class Citation:
    source: str
    section: str

    def __str__(self) -> str:
        return f"{self.source} — {self.section}" if self.section else self.source


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    found: bool = True


class AnswerWriter(Protocol):
    def write(self, question: str, passages: Sequence[tuple[int, Hit]]) -> str: ...


def answer(
    question: str,
    search: Callable[[str, int], list[Hit]],
    embedder: Embedder,
    writer: AnswerWriter | None = None,
) -> Answer:
    hits = search(question, PASSAGES)
    if not hits:
        return Answer(NOTHING_FOUND, [], found=False)
    citations: list[Citation] = []
    numbered: list[tuple[int, Hit]] = []
    for hit in hits:
        citation = Citation(hit.source, hit.section)
        if citation not in citations:
            citations.append(citation)
        numbered.append((citations.index(citation) + 1, hit))
    if writer is not None:
        written = writer.write(question, numbered)
        if written.strip():
            return Answer(written.strip(), citations, found=True)
    text = extractive_text(question, numbered, embedder)
    used = [c for n, c in enumerate(citations, 1) if f"[{n}]" in text]
    renumbered = text
    for new, (old, _) in enumerate(((n, c) for n, c in enumerate(citations, 1) if c in used), 1):
        renumbered = renumbered.replace(f"[{old}]", f"[#{new}]")
    return Answer(renumbered.replace("[#", "["), used, found=True)


def split_units(text: str) -> list[str]:
    """Sentences of prose; a code block (fenced, indented or an RST directive) stays one unit."""
    units: list[str] = []
    for block, is_code in _paragraphs(text):
        if is_code:
            units.append(block)
            continue
        for item in _LIST_ITEM.split(block.strip()):
            flat = " ".join(line.strip() for line in item.strip().splitlines())
            units.extend(s.strip() for s in _SENTENCE_END.split(flat) if s.strip())
    return units


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """Blank-line separated paragraphs, with fences honoured and adjacent code paragraphs merged."""
    raw: list[list[str]] = [[]]
    in_fence = False
    for line in text.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            raw.append([])
        else:
            raw[-1].append(line)
    merged: list[tuple[str, bool]] = []
    for lines in raw:
        if not lines:
            continue
        block = "\n".join(lines).rstrip()
        is_code = _looks_like_code(lines)
        if is_code and merged and merged[-1][1]:
            merged[-1] = (merged[-1][0] + "\n\n" + block, True)
        else:
            merged.append((block, is_code))
    return merged


def _looks_like_code(lines: list[str]) -> bool:
    if lines[0].lstrip().startswith(("```", "~~~", ".. code", ">>>")):
        return True
    return all(line.startswith(("    ", "\t")) for line in lines)


def extractive_text(question: str, numbered: Sequence[tuple[int, Hit]], embedder: Embedder) -> str:
    units: list[tuple[int, int, int, str]] = []  # (hit index, position, citation number, text)
    for hit_index, (number, hit) in enumerate(numbered):
        for position, unit in enumerate(split_units(hit.text)):
            units.append((hit_index, position, number, unit))
    if not units:
        return ""
    vectors = embedder.embed([question] + [u[3][:1000] for u in units])
    similarity = vectors[1:] @ vectors[0]
    chosen: list[int] = []
    for hit_index in range(len(numbered)):
        own = [i for i, u in enumerate(units) if u[0] == hit_index]
        best = sorted(own, key=lambda i: -float(similarity[i]))[:SENTENCES_PER_PASSAGE]
        # The best passage always contributes; later ones only with a sentence that is on topic.
        for i in best:
            if hit_index == 0 or float(similarity[i]) >= 0.35:
                chosen.append(i)
                # A sentence that announces a list or an example brings what follows it.
                follow = i + 1
                while (
                    units[follow - 1][3].endswith(":")
                    and follow < len(units)
                    and units[follow][0] == hit_index
                ):
                    chosen.extend(range(follow, min(follow + 4, len(units))))
                    follow += 4
    chosen = sorted(set(chosen))
    bodies: dict[int, list[str]] = {}  # citation number -> quoted units, in passage order
    size = 0
    for hit_index in range(len(numbered)):
        picked = [i for i in chosen if units[i][0] == hit_index]
        if not picked:
            continue
        body = " ".join(units[i][3] if "\n" not in units[i][3] else "\n" + units[i][3] + "\n" for i in picked)
        if bodies and size + len(body) > MAX_ANSWER_CHARS:
            break
        bodies.setdefault(units[picked[0]][2], []).append(body.strip())
        size += len(body)
    return "\n\n".join(f"{' '.join(texts)} [{number}]" for number, texts in bodies.items())


class OllamaWriter:
    """Asks a local Ollama model to answer from the numbered passages only."""

    PROMPT = (
        "Answer the question using only the numbered passages below. Cite passages as [n]. "
        "If the passages do not contain the answer, say that you do not know. Be concise.\n\n"
        "{passages}\n\nQuestion: {question}\nAnswer:"
    )

    def __init__(self, host: str, model: str) -> None:
        self.host = host
        self.model = model

    def write(self, question: str, passages: Sequence[tuple[int, Hit]]) -> str:
        import ollama

        context = "\n\n".join(f"[{n}] ({hit.source} — {hit.section})\n{hit.text}" for n, hit in passages)
        try:
            response = ollama.Client(host=self.host, timeout=120).generate(
                model=self.model, prompt=self.PROMPT.format(passages=context, question=question)
            )
        except Exception:  # unreachable server, missing model: fall back to the extractive answer
            return ""
        return str(getattr(response, "response", "") or "")
