"""Text handling shared by the router and the slot rules: tokens, spans and typo correction.

Pure functions, no model: what makes "TRIGERR Nightly_Backup" route like "trigger nightly_backup".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

URL_RE = re.compile(
    r"(?:(?:https?|ssh|git|file)://[^\s,;'\"<>]+|[\w.-]+@[\w.-]+:[\w./~-]+)",
    re.IGNORECASE,
)
PATH_RE = re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w./-]*[\w/]|(?<![\w/.-])[\w-]+(?:/[\w.-]+)*\.py\b")
WORD_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.'’-]*[A-Za-z0-9_])?")
IDENTIFIER_CHARS_RE = re.compile(r"[_\d]|[a-z][A-Z]|\w[-.]\w")

TYPO_MIN_LENGTH = 4
TYPO_CUTOFF = 0.8


@dataclass(frozen=True)
class Span:
    """A piece of the message: where it is and what it says, as the user wrote it."""

    start: int
    end: int
    text: str


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text)


def word_spans(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text)]


def looks_like_identifier(word: str) -> bool:
    """Names with underscores, digits, inner dashes/dots or camelCase are never plain words."""
    return bool(IDENTIFIER_CHARS_RE.search(word))


def find_json_objects(text: str) -> list[Span]:
    """Balanced ``{...}`` substrings (quotes respected); the caller decides if they parse."""
    spans: list[Span] = []
    index = 0
    while (start := text.find("{", index)) != -1:
        depth, in_string, escaped, end = 0, False, False, -1
        for position in range(start, len(text)):
            char = text[position]
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    end = position + 1
                    break
        if end == -1:
            break
        spans.append(Span(start, end, text[start:end]))
        index = end
    return spans


def special_spans(text: str) -> list[Span]:
    """URLs, JSON objects and file paths: kept whole, never split into words or corrected."""
    found = [Span(m.start(), m.end(), m.group()) for m in URL_RE.finditer(text)]
    found += find_json_objects(text)
    for match in PATH_RE.finditer(text):
        if not any(s.start <= match.start() < s.end for s in found):
            found.append(Span(match.start(), match.end(), match.group()))
    return sorted(found, key=lambda s: s.start)


def outside(spans: list[Span], position: int) -> bool:
    return not any(s.start <= position < s.end for s in spans)


class TypoCorrector:
    """Maps a misspelt plain word to the closest known word ("trigerr" -> "trigger")."""

    def __init__(self, vocabulary: frozenset[str]) -> None:
        self._vocabulary = vocabulary
        self._candidates = sorted(w for w in vocabulary if len(w) >= TYPO_MIN_LENGTH - 1)
        self.correct = lru_cache(maxsize=4096)(self._correct)

    def knows(self, word: str) -> bool:
        return word.lower() in self._vocabulary

    def _correct(self, word: str) -> str | None:
        """The known word ``word`` is a typo of, or None when it is known or not a typo."""
        lowered = word.lower()
        if lowered in self._vocabulary or not lowered.isalpha() or len(lowered) < TYPO_MIN_LENGTH - 1:
            return None
        if len(lowered) < TYPO_MIN_LENGTH:  # "wil" -> "will": a three-letter word only gains a letter
            return next(iter(sorted(self._vocabulary.intersection(_insertions(lowered)))), None)
        one_edit = sorted(self._vocabulary.intersection(_one_edit(lowered)))
        if one_edit:
            return one_edit[0]
        close = difflib.get_close_matches(lowered, self._candidates, n=1, cutoff=TYPO_CUTOFF)
        return close[0] if close else None

    def routing_text(self, text: str) -> str:
        """The text the model sees: lower case, typos fixed, URLs/JSON/paths reduced to a tag."""
        specials = special_spans(text)
        pieces: list[str] = []
        cursor = 0
        for span in specials:
            pieces.append(self._fix_words(text[cursor : span.start]))
            pieces.append(_tag_of(span.text))
            cursor = span.end
        pieces.append(self._fix_words(text[cursor:]))
        return re.sub(r"\s+", " ", "".join(pieces)).strip()

    def _fix_words(self, chunk: str) -> str:
        def replace(match: re.Match[str]) -> str:
            word = match.group()
            return self.correct(word) or word.lower()

        return WORD_RE.sub(replace, chunk)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _insertions(word: str) -> set[str]:
    return {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in _LETTERS}


def _one_edit(word: str) -> set[str]:
    """Every word one deletion, swap of neighbours, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    return deletes | swaps | replaces | _insertions(word)


def _tag_of(special: str) -> str:
    if special.startswith("{"):
        return " json "
    if URL_RE.fullmatch(special):
        return " url "
    return " file "
