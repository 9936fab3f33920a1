"""The conf of a run said in a chat message: a JSON object, ``key=value`` pairs, or pairs in words
after "with"/"passing" ("run etl_daily with date 2024-01-01 and limit 500")."""

from __future__ import annotations

import json
import re
from typing import Protocol

from assistant.chat.router_text import Span, find_json_objects, looks_like_identifier, outside, word_spans


class Message(Protocol):
    """What these readers need of a chat message (:class:`assistant.chat.slots.Message`)."""

    text: str
    specials: list[Span]


KEY_VALUE_RE = re.compile(r"\b([A-Za-z_][\w.-]*)=(\"[^\"]*\"|'[^']*'|[^\s,;]+)")
# conf in words: "with date 2024-01-01", "with mode set to full and limit 500", "passing env=prod"
CONF_LEAD_RE = re.compile(r"\b(?:with|passing|setting)\s+", re.IGNORECASE)
CONF_PAIR_RE = re.compile(
    r"(?:the\s+)?(?P<key>[A-Za-z_][\w.-]*?)"
    r"(?:\s*(?P<assign>=|:|\bset to\b|\bequal to\b|\bequals\b)\s*|\s+)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]*[^\s,;.!?])",
    re.IGNORECASE,
)
CONF_SEPARATOR_RE = re.compile(r"\s*(?:,\s*and\b|,|;|\band\b)\s*", re.IGNORECASE)


# words that are not a conf key: "with the latest code", "with conf {...}", "with it"
NOT_CONF_KEYS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "your",
        "this",
        "that",
        "these",
        "those",
        "it",
        "them",
        "its",
        "conf",
        "config",
        "configuration",
        "parameters",
        "params",
        "parameter",
        "param",
        "settings",
        "options",
        "values",
        "value",
        "arguments",
        "args",
        "no",
        "some",
        "any",
        "all",
        "every",
        "more",
        "less",
    ]
)


def run_conf(message: Message) -> dict[str, object] | None:
    """A JSON object, else the ``key=value`` pairs and the pairs in words after "with"/"passing"."""
    for span in find_json_objects(message.text):
        try:
            value = json.loads(span.text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    pairs: dict[str, object] = {}
    for _start, key, raw in _conf_pairs(message):
        pairs.setdefault(key, _scalar(raw))
    return pairs or None


def _conf_pairs(message: Message) -> list[tuple[int, str, str]]:
    """``(position, key, value)`` of every conf pair of the message, in the message's order."""
    found = {
        match.start(): (match.group(1), match.group(2))
        for match in KEY_VALUE_RE.finditer(message.text)
        if outside(message.specials, match.start())
    }
    for start, key, raw in _worded_pairs(message):
        found.setdefault(start, (key, raw))
    return [(start, key, raw) for start, (key, raw) in sorted(found.items())]


def _worded_pairs(message: Message) -> list[tuple[int, str, str]]:
    """``(position, key, value)`` after "with", "passing"...: "with date 2024-01-01 and limit 500".

    A key and its value joined by "=", ":", "set to" or "equals" whatever the value; side by side
    only when the value looks like a value (a number, a date, a quoted string, an identifier) or
    the key like an identifier: "with region eu" and "with full refresh" read alike, and only the
    first is a setting.
    """
    text = message.text
    found: list[tuple[int, str, str]] = []
    for lead in CONF_LEAD_RE.finditer(text):
        position = lead.end()
        while (pair := CONF_PAIR_RE.match(text, position)) is not None:
            key, raw = pair.group("key"), pair.group("value")
            if not outside(message.specials, pair.start("value")) or key.lower() in NOT_CONF_KEYS:
                break
            if not (pair.group("assign") or _value_shaped(raw) or looks_like_identifier(key)):
                break
            found.append((pair.start("key"), key, raw))
            separator = CONF_SEPARATOR_RE.match(text, pair.end())
            if separator is None:
                break
            position = separator.end()
    return found


def _value_shaped(raw: str) -> bool:
    return raw[:1] in {'"', "'"} or raw.lower() in {"true", "false", "null"} or looks_like_identifier(raw)


def conf_words(message: Message) -> set[str]:
    """The words of the conf pairs in the message (never a DAG id)."""
    words = set()
    for _start, key, raw in _conf_pairs(message):
        words.add(key)
        words.update(w.text for w in word_spans(raw))
    return words


def _scalar(raw: str) -> object:
    if raw[:1] in {'"', "'"}:
        return raw[1:-1]
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
