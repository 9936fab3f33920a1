"""The router's data: the intents and their slots, and the example utterances per intent.

The examples live as package data in ``assistant/chat/intents/<intent>.txt`` (one utterance per
line, ``#`` starts a comment line). They are the router's only training material; the labelled
benchmark in ``bench/data`` is kept apart from them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

INTENTS_DIR = Path(__file__).resolve().parent / "intents"
COMMON_WORDS_FILE = Path(__file__).resolve().parent / "slots_words.txt"

UNKNOWN = "unknown"

# intent -> the slots it can carry, in the order of the table.
INTENT_SLOTS: dict[str, tuple[str, ...]] = {
    "add_repo": ("url", "namespace", "branch", "name"),
    "remove_repo": ("name",),
    "list_repos": (),
    "sync_repo": ("name",),
    "list_dags": ("namespace",),
    "run_dag": ("dag_id", "conf"),
    "dag_status": ("dag_id",),
    "dag_logs": ("dag_id", "task_id"),
    "generate_dag": ("description",),
    "validate": ("target",),
    "rollback": ("target", "version"),
    "repo_settings": ("name", "branch", "tag", "commit", "path", "namespace", "url"),
    "predict_failure": ("dag_id",),
    "marketplace_search": ("query",),
    "marketplace_install": ("name",),
    "marketplace_rate": ("name", "stars"),
    "question": (),
    "help": (),
    UNKNOWN: (),
}

NAMESPACES = ("company", "community", "personal")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str


def _read_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


@cache
def load_examples(directory: Path = INTENTS_DIR) -> tuple[Example, ...]:
    """Every example utterance, grouped by intent in file order; one file per known intent."""
    examples: list[Example] = []
    for intent in INTENT_SLOTS:
        path = directory / f"{intent}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"no example utterances for intent {intent!r} at {path}")
        examples.extend(Example(intent, line) for line in _read_lines(path))
    return tuple(examples)


def examples_digest(examples: tuple[Example, ...]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.intent}\t{example.text}\n".encode())
    return digest.hexdigest()[:16]


@cache
def common_words() -> frozenset[str]:
    """Words that are never a name on their own (see slots_words.txt)."""
    words: set[str] = set()
    for line in _read_lines(COMMON_WORDS_FILE):
        words.update(line.lower().split())
    # The first word of an example is its verb ("disconnect", "estimate"), never a name.
    for example in load_examples():
        head = example.text.split(maxsplit=1)[0].lower()
        if head.isalpha():
            words.add(head)
    return frozenset(words)


@cache
def vocabulary(examples: tuple[Example, ...] | None = None) -> Mapping[str, int]:
    """Every plain word the router knows, with how often the examples use it.

    The words of the examples, the common words and the Airflow glossary. Typos are corrected
    towards these words before routing ("trigerr" -> "trigger"), the more frequent word winning
    between equally close ones.
    """
    from assistant.chat.router_domain import GLOSSARY
    from assistant.chat.router_text import words_of

    counts: Counter[str] = Counter(dict.fromkeys(common_words() | GLOSSARY, 1))
    for example in load_examples() if examples is None else examples:
        counts.update(w for w in words_of(example.text.lower()) if w.isalpha())
    return MappingProxyType(dict(counts))
