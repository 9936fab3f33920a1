"""Settings said in so many words in the description: owner, retries, timeout, tags, a connection.

"..., with 3 retries", "owner data-platform", "a 30 minute timeout", "tagged finance", "using the
S3 connection aws_prod". They are the highest-precedence conventions, and they are taken out of
the text before it is read into steps, so "with 3 retries" does not become a task.

Only phrases that stand on their own count: except "N retries", a setting starts the text or
follows a comma, a bracket, "with", "using", "via" or "and", and owners, tags and connection ids
end where the clause ends. So "email the owner bob@example.com", "update the owner table" or
"call the API with the requests timeout 10 seconds" stay steps.
"""

from __future__ import annotations

import re

from assistant.generation.conventions import DESCRIPTION, Conventions
from assistant.generation.doc_conventions import connection_key_of, parse_minutes

_WORDS = {"no": 0, "zero": 0, "one": 1, "once": 1, "two": 2, "twice": 2, "three": 3, "thrice": 3,
          "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_NUMBER = r"(\d{1,2}|no|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_JOINERS = r"(?:,|;|\band\b|\bwith\b|\busing\b|\buse\b|\bvia\b|\bset\b)"
# Anywhere ("N retries" needs no more); at the start of a clause (the other settings).
_LEAD = rf"(?:{_JOINERS}\s*){{0,3}}(?:\b(?:the|a|an)\s+)?"  # bounded: a run of commas stays linear
_START = rf"(?:^|(?<=\()|(?<=[.!?]\s)|(?<=\n)|{_JOINERS})(?:\s*{_JOINERS}){{0,3}}\s*(?:\b(?:the|a|an)\s+)?"
_END = r"(?=[ \t]*\n|\s*(?:[,;)]|[.:](?:\s|$)|$|\band\b|\bthen\b|\bwith\b))"
_UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|days?|d)(?![a-z])"
_DURATION = rf"(\d+(?:\.\d+)?[\s-]*{_UNIT}(?:\s*(?:and\s+)?\d+(?:\.\d+)?[\s-]*{_UNIT})*)"
_QUOTE = r"[`'\"]?"
_NAME = r"[\w@-](?:[\w.@-]{0,58}[\w@-])?"  # an owner, tag or id: no trailing full stop
_ID = r"[\w-](?:[\w.-]{0,98}[\w-])?"
_NOT_A_NAME = r"(?!(?:of|the|a|an|and|to|about|with|when|if|for|in|on|that|pool|string|details|then)\b)"
_NOT_A_JOINER = r"(?!(?:the|a|an|and|with|using|use|via)\b)"
_RETRIES = (
    re.compile(rf"{_LEAD}\b{_NUMBER}\s+retr(?:y|ies)\b", re.I),
    re.compile(rf"{_LEAD}\bretr(?:y|ies)\s*[:=]\s*{_NUMBER}\b", re.I),
    re.compile(
        rf"{_LEAD}\bretry\s+(?:it\s+)?(?:up\s+to\s+)?(\d{{1,2}}|one|two|three|four|five)\s+times?\b{_END}",
        re.I,
    ),
    re.compile(rf"{_LEAD}\bretry\s+(?:it\s+)?(once|twice|thrice){_END}", re.I),
    re.compile(
        rf"{_START}\bretr(?:y|ies)\s+(?:to\s+)?{_NUMBER}{_END}", re.I
    ),  # "retries 3", "set retries to 2"
)
_TIMEOUT = (
    re.compile(
        rf"{_START}\b(?:execution[ _])?time[ -]?out(?:\s+(?:of|after|is|at))?\s*[:=]?\s*{_DURATION}", re.I
    ),
    re.compile(rf"{_START}{_DURATION}[ -]?(?:long\s+)?(?:execution[ _])?time[ -]?out\b", re.I),
)
_OWNER = re.compile(
    rf"{_START}(?:(?:dag\s+)?owner(?:\s+is\s+|\s+to\s+|\s+should\s+be\s+|\s*[:=]\s*)|(?<!the\s)(?:dag\s+)?owner\s+|owned\s+by\s+)"
    rf"{_QUOTE}{_NOT_A_NAME}({_NAME}){_QUOTE}{_END}",
    re.I,
)
_TAG_NAME = rf"{_QUOTE}{_NOT_A_NAME}[\w:-](?:[\w.:-]{{0,58}}[\w:-])?{_QUOTE}"
_TAG = re.compile(
    rf"{_START}(?:tagged(?:\s+with|\s+as)?\s+|tags?\s*[:=]\s*|with\s+(?:the\s+)?tags?\s+)"
    rf"({_TAG_NAME}(?:(?:\s*,\s*|\s+and\s+){_TAG_NAME})*){_END}",
    re.I,
)
_CONNECTION = re.compile(
    rf"{_START}({_NOT_A_JOINER}[\w-]+(?:\s+{_NOT_A_JOINER}[\w-]+)?)\s+conn(?:ection)?(?:[ _]id)?\s*[:=]?\s+"
    rf"{_QUOTE}{_NOT_A_NAME}({_ID}){_QUOTE}{_END}",
    re.I,
)
# "upload the export to s3 using connection aws_prod": the service is the one the clause names.
_CLAUSE_CONNECTION = re.compile(
    rf"\s*\b(?:using|with|via)\s+(?:the\s+)?conn(?:ection)?(?:[ _]id)?\s*[:=]?\s+"
    rf"{_QUOTE}{_NOT_A_NAME}({_ID}){_QUOTE}{_END}",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;]|\bthen\b", re.I)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _WORDS[word.lower()]


def stated_settings(description: str) -> tuple[Conventions, str]:
    """(the settings the description states, the description without those phrases)."""
    found = Conventions(origin=DESCRIPTION)
    text = description
    for pattern in _RETRIES:
        text = pattern.sub(lambda m: _take(found, "retries", _number(m.group(1))), text)
    for pattern in _TIMEOUT:
        text = pattern.sub(lambda m: _take(found, "timeout_minutes", parse_minutes(m.group(1))), text)
    text = _OWNER.sub(lambda m: _take(found, "owner", m.group(1)), text)
    text = _TAG.sub(lambda m: _take_tags(found, m.group(1)), text)
    text = _CONNECTION.sub(lambda m: _take_connection(found, m, m.group(1), m.group(2)), text)
    text = _CLAUSE_CONNECTION.sub(lambda m: _take_connection(found, m, _clause_before(m), m.group(1)), text)
    return found, _tidy(text) if text != description else description


def _take(found: Conventions, name: str, value: object) -> str:
    if value is not None and getattr(found, name) in (None, ""):
        setattr(found, name, value)
    return " "


def _take_tags(found: Conventions, tags: str) -> str:
    for tag in re.split(r"\s*,\s*|\s+and\s+", tags):
        tag = tag.strip("`'\"")
        if tag and tag not in found.tags:
            found.tags.append(tag)
    return " "


def _take_connection(found: Conventions, match: re.Match[str], service: str, conn_id: str) -> str:
    key = connection_key_of(service)
    if key is None:
        return match.group(0)  # "a fresh connection pool" is not a setting
    found.connections.setdefault(key, conn_id)
    return " "


def _clause_before(match: re.Match[str]) -> str:
    """The clause the match ends: the text since the last comma, semicolon or "then"."""
    return _CLAUSE_BREAK.split(match.string[: match.start()])[-1]


def _tidy(text: str) -> str:
    """The description once settings phrases are cut out: no empty brackets or doubled commas."""
    text = re.sub(r"\(\s*[,;]?\s*\)", " ", text)
    text = re.sub(r"[ \t]*([,;])(?:[ \t]*[,;])+", r"\1", text)
    text = re.sub(r"[ \t]+([,;.])", r"\1", text)
    text = re.sub(r"(?:\s*(?:,|;|\band\b|\bwith\b|\bthen\b))+\s*$", "", text.strip())
    # Lines stay lines: a list of steps, one a line, is read as such by the parser.
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).lstrip(" ,;:").rstrip(" ,;") or text
