"""Slot rules: the values an intent needs, taken from the message as the user wrote them.

Pure logic over the text (no model). Names (DAG ids, task ids, repo names) are the words that are
not part of the router's vocabulary of function words and domain verbs; identifier-shaped words
(``etl_daily``, ``data-pipelines``, ``v1.4.0``) always count as names, dates never do. A run's
conf is a JSON object, ``key=value`` pairs, or pairs in words after "with" ("with date 2024-01-01",
"with mode set to full"); its words are never the DAG id. Absent slots are omitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.chat.router_data import NAMESPACES, common_words
from assistant.chat.router_text import (
    URL_RE,
    Span,
    TypoCorrector,
    looks_like_identifier,
    outside,
    special_spans,
    word_spans,
)
from assistant.chat.slots_conf import conf_words, run_conf

SHA_RE = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
SEMVER_RE = re.compile(r"\bv\d+(?:\.\d+)*\b", re.IGNORECASE)
VERSION_CUE_RE = re.compile(r"\b(?:commit|tag|version|release|revision)\s+([\w.-]+)", re.IGNORECASE)
BRANCH_RES = (
    re.compile(r"\b(?:branch|tag|ref)\s+([\w./-]*\w)", re.IGNORECASE),
    re.compile(r"\b(?:on|from|at|of)\s+(?:the\s+)?([\w./-]*\w)\s+(?:branch|tag)\b", re.IGNORECASE),
)
NAME_CUE_RE = re.compile(r"\b(?:as|named|called|name it|call it)\s+([\w.-]*\w)", re.IGNORECASE)
TASK_RES = (
    re.compile(r"\btasks?\s+([\w.-]*\w)", re.IGNORECASE),
    re.compile(r"\b([\w.-]*\w)\s+tasks?\b", re.IGNORECASE),
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?$")
STAR_RES = (
    re.compile(r"\b([0-9]+|one|two|three|four|five)\s*(?:stars?|\*)", re.IGNORECASE),
    re.compile(r"\b([0-9]+)\s*(?:/|out of)\s*5\b", re.IGNORECASE),
    re.compile(r"\b(?:rating of|rate it|give it|a)\s+([0-9]+)\b", re.IGNORECASE),
    re.compile(r"\b(?:rate|score)\s+[\w.-]+\s+(?:a\s+)?([0-9]+)\b", re.IGNORECASE),
)
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
NOT_NAMES = frozenset({*NUMBER_WORDS, "star", "stars", "all", "everything"})
THING_NOUNS = frozenset(
    {
        "dag",
        "workflow",
        "pipeline",
        "job",
        "repo",
        "repository",
        "named",
        "called",
        "of",
        "for",
        "task",
        "run",
    }
)
DETERMINERS = frozenset({"the", "my", "our", "this", "that", "your"})
POSSESSIVES = frozenset({"my", "our"})
# Common words that describe a DAG or repository rather than act on it: "the nightly backup",
# "my deployment workflow". Other common words (verbs, "last", "failed") end a description.
DESCRIBING = frozenset(
    {
        *("nightly", "hourly", "daily", "weekly", "monthly", "morning", "evening", "night"),
        *("deployment", "deploy", "data", "code", "security", "team", "release", "test"),
    }
)
SEARCH_LEAD_RE = re.compile(
    r"^.*?\b(?:dags?|workflows?|pipelines?|marketplace|catalog|templates?)\b\s*"
    r"(?:that|which|to|for|about|with|on|handling|:)?\s*[:,-]?\s*",
    re.IGNORECASE,
)


@dataclass
class Message:
    """A message cut into URLs/JSON/paths and words, with each word classified."""

    text: str
    corrector: TypoCorrector
    specials: list[Span] = field(default_factory=list)
    words: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.specials = special_spans(self.text)
        self.words = [w for w in word_spans(self.text) if outside(self.specials, w.start)]

    def is_name(self, word: str) -> bool:
        lowered = word.lower()
        if lowered in NOT_NAMES or lowered.isdigit() or namespace_of(word) or lowered in common_words():
            return False
        if DATE_RE.match(word):
            return False  # "2024-01-01" is when, never what
        if not looks_like_identifier(word) and common_words().intersection(_base_forms(lowered)):
            return False  # "updates", "fetched": a form of a common word
        if looks_like_identifier(word):
            return True
        corrected = self.corrector.correct(word)
        return corrected is None or corrected not in common_words()

    def name_groups(self) -> list[list[Span]]:
        """Runs of consecutive name words, each with the word before it as context."""
        groups: list[list[Span]] = []
        current: list[Span] = []
        previous_end = -1
        for word in self.words:
            if self.is_name(word.text):
                if current and _only_spaces(self.text[previous_end : word.start]):
                    current.append(word)
                else:
                    current = [word]
                    groups.append(current)
                previous_end = word.end
            else:
                current = []
        return groups

    def names(self, exclude: set[str] | None = None) -> list[str]:
        """Single names as written, best first: identifiers, then words next to a noun like "repo".

        Multi-word descriptions ("the nightly backup") and possessive ones ("my deployment") are
        mentions, not names.
        """
        exclude = exclude or set()
        described = {w.start for phrase in self.descriptions() for w in phrase}
        ranked: list[tuple[int, int, str]] = []
        for group in self.name_groups():
            identifiers = [w for w in group if looks_like_identifier(w.text)]
            if identifiers:
                ranked.extend((0, w.start, w.text) for w in identifiers)
            elif len(group) == 1 and not self._after_possessive(group[0]) and group[0].start not in described:
                rank = 1 if self._next_to_noun(group[0]) else 2
                ranked.append((rank, group[0].start, group[0].text))
        return [text for _rank, _start, text in sorted(ranked) if text not in exclude]

    def _next_to_noun(self, word: Span) -> bool:
        index = self.words.index(word)
        neighbours = self.words[max(index - 1, 0) : index] + self.words[index + 1 : index + 2]
        return any(n.text.lower() in THING_NOUNS for n in neighbours)

    def descriptions(self) -> list[list[Span]]:
        """Phrases that describe a thing after a determiner: "the nightly backup", "my deployment".

        The words after "the", "my", "our"... that are names or describing words (DESCRIBING),
        up to the first other word; a description when there are two of them, or one after "my"
        or "our". Identifiers end a phrase: "the etl_daily dag" names, it does not describe.
        """
        phrases: list[list[Span]] = []
        for index, word in enumerate(self.words):
            determiner = word.text.lower()
            if determiner not in DETERMINERS:
                continue
            phrase: list[Span] = []
            for following in self.words[index + 1 :]:
                text = following.text
                previous_end = (phrase[-1] if phrase else word).end
                if not _only_spaces(self.text[previous_end : following.start]) or looks_like_identifier(text):
                    break
                if text.lower() not in DESCRIBING and not self.is_name(text):
                    break
                phrase.append(following)
            if len(phrase) >= 2 or (phrase and determiner in POSSESSIVES):
                phrases.append(phrase)
        return phrases

    def mention(self) -> str | None:
        """Words describing a thing without naming it: "my deployment workflow" -> "deployment"."""
        phrases = self.descriptions()
        if phrases:
            return " ".join(w.text for w in phrases[0])
        for group in self.name_groups():
            descriptive = not any(looks_like_identifier(w.text) for w in group)
            if descriptive and (len(group) > 1 or self._after_possessive(group[0])):
                return " ".join(w.text for w in group)
        return None

    def _after_possessive(self, word: Span) -> bool:
        index = self.words.index(word)
        return index > 0 and self.words[index - 1].text.lower() in POSSESSIVES


def _base_forms(word: str) -> set[str]:
    """What ``word`` may be an inflection of: "updates" -> update, "syncing" -> sync."""
    forms = set()
    for suffix, replacements in (
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.update(word[: -len(suffix)] + r for r in replacements)
    return forms


def _only_spaces(between: str) -> bool:
    return between.strip() == ""


def namespace_of(word: str) -> str | None:
    import difflib

    lowered = word.lower()
    if lowered in NAMESPACES:
        return lowered
    if len(lowered) >= 6 and lowered.isalpha():
        close = difflib.get_close_matches(lowered, NAMESPACES, n=1, cutoff=0.85)
        return close[0] if close else None
    return None


def _namespace(message: Message) -> str | None:
    for word in message.words:
        found = namespace_of(word.text)
        if found:
            return found
    return None


def _url(message: Message) -> str | None:
    for span in message.specials:
        if URL_RE.fullmatch(span.text) or span.text.startswith(("/", "~/", "./", "../")):
            return span.text.rstrip(".")
    return None


def _branch(message: Message) -> str | None:
    for pattern in BRANCH_RES:
        for match in pattern.finditer(message.text):
            value = match.group(1)
            if outside(message.specials, match.start(1)) and value.lower() not in {
                "the",
                "a",
                "this",
                "that",
            }:
                return value
    return None


def _repo_name(message: Message) -> str | None:
    for match in NAME_CUE_RE.finditer(message.text):
        value = match.group(1)
        if outside(message.specials, match.start(1)) and not namespace_of(value):
            return value
    return None


def _task_id(message: Message) -> str | None:
    for pattern in TASK_RES:
        for match in pattern.finditer(message.text):
            value = match.group(1)
            if message.is_name(value):
                return value
    return None


def _stars(message: Message) -> int | None:
    for pattern in STAR_RES:
        match = pattern.search(message.text)
        if match:
            raw = match.group(1).lower()
            stars = NUMBER_WORDS.get(raw) or int(raw)
            return stars if 1 <= stars <= 5 else None
    if "★" in message.text:
        count = message.text.count("★")
        return count if count <= 5 else None
    return None


def standalone_commit(message: Message) -> str | None:
    """A commit id standing alone: not the hex end of a name such as ``workflows-bb49783b``."""
    text = message.text
    for match in SHA_RE.finditer(text):
        glued = text[match.start() - 1 : match.start()] in {"-", ".", "/"} or bool(
            _GLUED_AFTER_RE.match(text, match.end())
        )
        if outside(message.specials, match.start()) and not glued:
            return match.group(0)
    return None


_GLUED_AFTER_RE = re.compile(r"[-/]|\.\w")  # what glues a hex run to the word it ends ("a1b2c3d-x")


def _version(message: Message) -> str | None:
    commit = standalone_commit(message)
    if commit:
        return commit
    match = SEMVER_RE.search(message.text)
    if match:
        return match.group(0)
    for match in VERSION_CUE_RE.finditer(message.text):
        if looks_like_identifier(match.group(1)):
            return match.group(1)
    return None


def _path_or_name(message: Message) -> str | None:
    for span in message.specials:
        if not span.text.startswith("{"):
            return span.text
    names = message.names()
    return names[0] if names else None


def _search_query(message: Message) -> str | None:
    text = message.text.strip().rstrip("?.!")
    query = SEARCH_LEAD_RE.sub("", text, count=1).strip()
    return query or None


def first(values: list[str]) -> str | None:
    return values[0] if values else None


def extract_slots(intent: str, text: str, corrector: TypoCorrector) -> dict[str, object]:
    """The slots of ``intent`` found in ``text``; absent ones are left out."""
    message = Message(text, corrector)
    slots: dict[str, object | None] = {}
    if intent == "add_repo":
        slots = {
            "url": _url(message),
            "namespace": _namespace(message),
            "branch": _branch(message),
            "name": _repo_name(message),
        }
    elif intent in {"remove_repo", "sync_repo", "marketplace_install"}:
        slots = {"name": first(message.names())}
    elif intent == "list_dags":
        slots = {"namespace": _namespace(message)}
    elif intent == "run_dag":
        conf = run_conf(message)
        slots = {"dag_id": first(message.names(exclude=conf_words(message))), "conf": conf}
    elif intent in {"dag_status", "predict_failure"}:
        slots = {"dag_id": first(message.names())}
    elif intent == "dag_logs":
        task_id = _task_id(message)
        slots = {"dag_id": first(message.names(exclude={task_id} if task_id else None)), "task_id": task_id}
    elif intent == "generate_dag":
        slots = {"description": text.strip() or None}
    elif intent == "validate":
        slots = {"target": _path_or_name(message)}
    elif intent == "rollback":
        version = _version(message)
        slots = {"target": first(message.names(exclude={version} if version else None)), "version": version}
    elif intent == "repo_settings":
        from assistant.chat.slots_settings import settings_slots  # it builds on this module

        slots = dict(settings_slots(message))
    elif intent == "marketplace_search":
        slots = {"query": _search_query(message)}
    elif intent == "marketplace_rate":
        slots = {"name": first(message.names()), "stars": _stars(message)}
    return {name: value for name, value in slots.items() if value is not None}


def mention_of(text: str, corrector: TypoCorrector) -> str | None:
    return Message(text, corrector).mention()
