"""Text handling shared by the router and the slot rules: tokens, spans and typo correction.

No model runs here (only the model's word list is read, for typos): what makes
"TRIGERR Nightly_Backup" route like "trigger x".

Names say nothing about what the user wants ("run growth_metrics" asks what "run payroll_daily"
asks), so in the text the model sees an identifier-shaped name becomes the placeholder ``x``;
CamelCase words are split instead ("BranchPythonOperator" -> "branch python operator"), because
they are Airflow's own class names and carry meaning.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

URL_RE = re.compile(
    r"(?:(?:https?|ssh|git|file)://[^\s,;'\"<>]+|[\w.-]+@[\w.-]+:[\w./~-]+)",
    re.IGNORECASE,
)
PATH_RE = re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w./-]*[\w/]|(?<![\w/.-])[\w-]+(?:/[\w.-]+)*\.py\b")
WORD_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.'’-]*[A-Za-z0-9_])?")
IDENTIFIER_CHARS_RE = re.compile(r"[_\d]|[a-z][A-Z]|\w[-.]\w")
NAME_SHAPE_RE = re.compile(r"_|[A-Za-z][-.][A-Za-z]|\d[-.]\d")
CAMEL_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
NAME_TOKEN = "x"

TYPO_MIN_LENGTH = 4
TYPO_CUTOFF = 0.8
TWO_EDITS_MIN_LENGTH = 7  # "trigerr" -> "trigger"; but "rollup" is no typo of "roll"


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


def is_camel_case(word: str) -> bool:
    return "_" not in word and word.isalnum() and bool(re.search(r"[a-z][A-Z]", word))


def split_camel_case(word: str) -> str:
    return " ".join(part.lower() for part in CAMEL_RE.findall(word))


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


@cache
def dictionary_words() -> frozenset[str]:
    """The whole words of the embedding model's vocabulary: real English words, never typos."""
    from assistant.errors import RetrievalError
    from assistant.retrieval.embedder import source_model_dir

    try:
        text = (source_model_dir() / "vocab.txt").read_text(encoding="utf-8")
    except (RetrievalError, OSError):
        return frozenset()
    return frozenset(word for word in text.split() if word.isalpha())


class TypoCorrector:
    """Maps a misspelt plain word to the closest known word ("trigerr" -> "trigger").

    ``vocabulary`` maps each known word to how often the examples use it: among equally close
    words the more frequent one wins ("seach" -> "search", not "beach"). A real word the router
    does not know is left alone ("able" is not a typo of "table"): ``dictionary`` gives those,
    by default the whole words of the embedding model's vocabulary, read on first need.
    """

    def __init__(
        self, vocabulary: Mapping[str, int], dictionary: Callable[[], frozenset[str]] = dictionary_words
    ) -> None:
        self._vocabulary = vocabulary
        self._dictionary = dictionary
        self._candidates = sorted(w for w in vocabulary if len(w) >= TYPO_MIN_LENGTH - 1)
        self.correct = lru_cache(maxsize=4096)(self._correct)

    def knows(self, word: str) -> bool:
        return word.lower() in self._vocabulary

    def _most_frequent(self, words: set[str]) -> str | None:
        known = [w for w in words if w in self._vocabulary]
        return max(known, key=lambda w: (self._vocabulary[w], w)) if known else None

    def _correct(self, word: str) -> str | None:
        """The known word ``word`` is a typo of, or None when it is known or not a typo."""
        lowered = word.lower()
        if lowered in self._vocabulary or not lowered.isalpha() or len(lowered) < TYPO_MIN_LENGTH - 1:
            return None
        if len(lowered) < TYPO_MIN_LENGTH:  # "wil" -> "will", "rnu" -> "run", "rin" -> "run"; no deletions
            return self._most_frequent(_insertions(lowered) | _swaps(lowered) | _slips(lowered))
        if lowered in self._dictionary():
            return None
        one_edit = self._most_frequent(_one_edit(lowered)) or self._most_frequent(_replacements(lowered))
        if one_edit:
            return one_edit
        if len(lowered) < TWO_EDITS_MIN_LENGTH:
            return None
        close = difflib.get_close_matches(lowered, self._candidates, n=5, cutoff=TYPO_CUTOFF)
        close = [w for w in close if edit_distance(lowered, w) <= 2]
        if not close:
            return None
        return min(close, key=lambda w: (edit_distance(lowered, w), -self._vocabulary[w], w))

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
            if is_camel_case(word):
                return split_camel_case(word)
            if NAME_SHAPE_RE.search(word) and word.lower() not in self._vocabulary:
                return NAME_TOKEN
            return self.correct(word) or word.lower()

        return WORD_RE.sub(replace, chunk)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """The keys around each letter on a QWERTY keyboard (same row and the rows above/below)."""
    position = {c: (r, i) for r, row in enumerate(_KEYBOARD_ROWS) for i, c in enumerate(row)}
    return {
        c: "".join(d for d, (r2, i2) in position.items() if d != c and abs(r - r2) <= 1 and abs(i - i2) <= 1)
        for c, (r, i) in position.items()
    }


_NEIGHBOURS = _keyboard_neighbours()


def _insertions(word: str) -> set[str]:
    return {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in _LETTERS}


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, replacements and swaps of neighbours turning ``a`` into ``b``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _swaps(word: str) -> set[str]:
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}


def _one_edit(word: str) -> set[str]:
    """Every word one deletion, swap of neighbours, insertion or slip of a finger away.

    A wrong letter here is a neighbouring key ("lpgs" -> "logs"); other wrong letters ("synk") are
    tried only when nothing else fits, so "staus" is "status" with a letter left out, not "stars"
    with a u for the r.
    """
    deletes = {word[:i] + word[i + 1 :] for i in range(len(word))}
    return deletes | _swaps(word) | _slips(word) | _insertions(word)


def _replacements(word: str) -> set[str]:
    return {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in _LETTERS}


def _slips(word: str) -> set[str]:
    """Every word with one letter replaced by a neighbouring key."""
    return {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in _NEIGHBOURS.get(word[i], "")}


def _tag_of(special: str) -> str:
    if special.startswith("{"):
        return " json "
    if URL_RE.fullmatch(special):
        return " url "
    return " file "
