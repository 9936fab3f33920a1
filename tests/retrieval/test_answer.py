from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.compose import build_assistant
from assistant.config import load_config
from assistant.retrieval.answer import NOTHING_FOUND, Answer, answer, split_units
from assistant.retrieval.embedder import Embedder
from assistant.retrieval.search import Hit


def test_units_keep_code_blocks_whole_and_split_sentences() -> None:
    text = "Set retries on the task. It is tried again later.\n\n    retries=3\n\n    retry_delay=5\n\nDone."
    units = split_units(text)
    assert units[:2] == ["Set retries on the task.", "It is tried again later."]
    assert units[2:] == ["    retries=3\n\n    retry_delay=5", "Done."]  # adjacent code paragraphs: one unit
    listed = split_units("The scan blocks:\n- shells at parse time\n- raw sockets")
    assert listed == ["The scan blocks:", "- shells at parse time", "- raw sockets"]


def test_answer_quotes_the_best_passage_and_cites_it(embedder: Embedder) -> None:
    hits = [
        Hit(
            "kb/retries.md",
            "Retries",
            1.0,
            "Unrelated intro. Set retries=3 so a failed task runs again.",
            "docs",
        ),
        Hit("kb/pools.md", "Pools", 0.8, "Pools limit concurrency on shared resources.", "docs"),
    ]
    result = answer("how do I make a failed task run again?", lambda q, k: hits[:k], embedder)
    assert result.found
    assert "Set retries=3 so a failed task runs again. [1]" in result.text
    assert str(result.citations[0]) == "kb/retries.md — Retries"


def test_nothing_found_says_so_and_cites_nothing(embedder: Embedder) -> None:
    result = answer("anything", lambda q, k: [], embedder)
    assert result == Answer(NOTHING_FOUND, [], found=False)


class RecordingWriter:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.seen: list[tuple[str, list[int]]] = []

    def write(self, question: str, passages: Sequence[tuple[int, Hit]]) -> str:
        self.seen.append((question, [n for n, _ in passages]))
        return self.reply


def test_a_writer_gets_numbered_passages_and_empty_reply_falls_back(embedder: Embedder) -> None:
    hits = [
        Hit("a.md", "A", 1.0, "Alpha is the first letter.", "docs"),
        Hit("a.md", "A", 0.9, "More.", "docs"),
    ]
    writer = RecordingWriter("Alpha comes first [1].")
    written = answer("which letter is first?", lambda q, k: hits, embedder, writer)
    assert written.text == "Alpha comes first [1]." and writer.seen == [("which letter is first?", [1, 1])]
    fallback = answer("which letter is first?", lambda q, k: hits, embedder, RecordingWriter(""))
    assert "Alpha is the first letter." in fallback.text


def test_service_answers_from_the_builtin_knowledge(assistant_home: Path) -> None:
    assistant = build_assistant(load_config())
    result = assistant.answer("how do I roll back a repository to an earlier commit?")
    assert result.found
    assert any(c.source == "knowledge/rollback-and-history.md" for c in result.citations)
    assert "rollback" in result.text.lower()
    off_topic = assistant.answer("what is the best chocolate cake recipe?")
    assert not off_topic.found and off_topic.citations == []
