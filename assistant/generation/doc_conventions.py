"""The team's DAG conventions as written in the indexed docs (a "conventions" page).

A page counts when its file name, title or section heading says conventions, standards or
guidelines. Its statements are read one line at a time, forgivingly: list items, ``key: value``
lines, two-column table rows, ``Use X for SERVICE``. Recognised keys: owner, tags, retries,
execution timeout, and a connection id per service (S3/AWS, GCS, Postgres or the warehouse and
other databases, Slack, HTTP APIs, SMTP/e-mail, the file system). Fenced code blocks are skipped
(so examples of the format are not mistaken for the team's rules), and the first statement of
each key wins, in the order of the passages (best hit first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, Protocol

from assistant.generation.conventions import Conventions

CONVENTIONS_QUERY = (
    "our DAG conventions: owner, tags, default retries, execution timeout, "
    "connection ids to use for S3, Postgres, the warehouse, Slack, HTTP APIs and e-mail"
)
MAX_TAGS = 6
_PAGE_WORDS = re.compile(r"convention|\bstandards?\b|guidelines?|house\s+rules", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_SEPARATOR = re.compile(r"^(?P<key>[^:=]{1,60}?)\s*(?:[:=]|->|→)\s*(?P<value>.+)$")
_VERB = re.compile(r"^(?P<key>.{1,60}?)\s+(?:is|are|should\s+be|must\s+be)\s+(?P<value>.+)$", re.I)
_USE_FOR = re.compile(
    r"^use\s+(?:the\s+)?[`'\"]?(?P<value>[\w.-]{1,100})[`'\"]?\s+(?:connection\s+)?for\s+(?P<key>.+)$", re.I
)
_KEY_FILLER = re.compile(r"\b(?:the|our|all|default|dags?'?s?|airflow|every|each|new|generated)\b", re.I)
_CONN_WORDS = re.compile(
    r"\bconn(?:ection)?s?(?:[ _]?ids?)?\b|\bconn_id\b|\bfor\b|\bto\s+use\b|\bwith\b", re.I
)
_RETRIES_KEY = re.compile(r"^(?:number\s+of\s+|task\s+)?retr(?:y|ies)(?:\s+count)?$")
_TIMEOUT_KEY = re.compile(r"^(?:task\s+)?(?:execution[ _]?)?time[ -]?outs?$")
_OWNER_KEY = re.compile(r"^(?:dag\s+)?owners?(?:\s+team)?$|^team$")
_ID = re.compile(r"[\w.@-]{1,100}")
_NUMBER_WORDS = {"none": 0, "no": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*-?\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])", re.I
)
_BARE_MINUTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
_PART_JOINER = re.compile(r"^\s*(?:and\s+)?$", re.I)  # "1h30m", "1 hour 30 minutes", "1 hour and 30 minutes"
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_TIMEDELTA_PART = re.compile(r"\b(hours|minutes|seconds)\s*=\s*(\d+(?:\.\d+)?)")
# Words naming a service -> the connection key (see conventions.connection_keys); first match wins.
SERVICES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), key)
    for pattern, key in (
        (r"\bpostgres(?:ql)?\b|\bpg\b", "sql:postgres"),
        (r"\bmysql\b", "sql:mysql"),
        (r"\bsnowflake\b", "sql:snowflake"),
        (r"\bredshift\b", "sql:redshift"),
        (r"\bmssql\b|\bsql\s+server\b", "sql:mssql"),
        (r"\bwarehouse\b|\bdwh\b|\bdatabases?\b|\bdb\b|\bsql\b", "sql"),
        (r"\bs3\b|\baws\b|\bamazon\b", "s3_copy"),
        (r"\bgcs\b|\bgcp\b|\bgoogle\b", "gcs_copy"),
        (r"\bslack\b", "slack"),
        (r"\bsmtp\b|\be-?mails?\b|\bmail\b", "email"),
        (r"\bhttps?\b|\bapis?\b|\brest\b|\bweb\s*services?\b", "http"),
        (r"\bfile\s*system\b|\bfilesystem\b|\bfiles?\b|\bfs\b", "file_sensor"),
    )
)


class DocPassage(Protocol):
    source: str
    section: str
    text: str
    metadata: Mapping[str, Any]


# (query, k) -> passages of the docs' conventions pages, best first
DocsSearch = Callable[[str, int], Sequence[DocPassage]]


def connection_key_of(words: str) -> str | None:
    """The connection key a service's name stands for ("S3" -> s3_copy), or None."""
    return next((key for pattern, key in SERVICES if pattern.search(words)), None)


def parse_minutes(value: str) -> int | None:
    """Whole minutes (rounded up) of the first duration in "45 minutes", "1h30m", "2 hours",
    "timedelta(hours=1)"; a value that is only a number is minutes; None when there is no duration.
    Separate figures are not added up: "30 minutes, sometimes 2 hours" is 30, "30-45 minutes" 45."""
    parts = [(float(n), unit) for unit, n in _TIMEDELTA_PART.findall(value)]
    bare = _BARE_MINUTES.match(value)
    if not parts and bare:
        parts = [(float(bare.group(1)), "minutes")]
    if not parts:
        parts = _first_duration(value)
    seconds = sum(n * _UNIT_SECONDS[unit[0].lower()] for n, unit in parts)
    return math.ceil(seconds / 60) if seconds > 0 else None


def _first_duration(value: str) -> list[tuple[float, str]]:
    """The parts of the first duration: adjacent figures with ever smaller units ("1h30m")."""
    parts: list[tuple[float, str]] = []
    end = 0
    for match in _DURATION_PART.finditer(value):
        number, unit = float(match.group(1)), match.group(2)
        if parts:
            smaller = _UNIT_SECONDS[unit[0].lower()] < _UNIT_SECONDS[parts[-1][1][0].lower()]
            if not (smaller and _PART_JOINER.match(value[end : match.start()])):
                break
        parts.append((number, unit))
        end = match.end()
    return parts


def page_name(passage: DocPassage) -> str:
    return str(passage.metadata.get("title") or "") or PurePath(passage.source).name or passage.source


def is_conventions_passage(passage: DocPassage) -> bool:
    names = (PurePath(passage.source).name, str(passage.metadata.get("title") or ""), passage.section)
    return any(_PAGE_WORDS.search(name) for name in names if name)


def parse_conventions(passages: Sequence[DocPassage]) -> Conventions:
    """The conventions stated in the passages of conventions pages (other passages are ignored)."""
    found = Conventions(origin="the docs")
    pages: list[str] = []
    for passage in passages:
        if not is_conventions_passage(passage):
            continue
        about_connections = "connection" in passage.section.lower()
        read = sum(read_statement(line, found, about_connections) for line in statement_lines(passage.text))
        if read and page_name(passage) not in pages:
            pages.append(page_name(passage))
    if pages:
        found.origin = f"the docs ({', '.join(pages[:3])})"
    return found


def statement_lines(text: str) -> list[str]:
    """The lines of a passage that may state something: outside code blocks, list markers, table
    pipes and emphasis removed ("| S3 connection | aws_prod |" -> "S3 connection: aws_prod")."""
    lines, in_code = [], False
    for raw in text.splitlines():
        if _FENCE.match(raw):
            in_code = not in_code
            continue
        line = raw.strip()
        if in_code or not line or raw.startswith(("    ", "\t")):
            continue
        if line.startswith("|"):
            if _TABLE_SEPARATOR.match(line):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            line = f"{cells[0]}: {cells[1]}" if len(cells) >= 2 and cells[0] and cells[1] else ""
        line = _LIST_MARKER.sub("", line).replace("**", "").replace("__", "")
        if line:
            lines.append(line)
    return lines


def read_statement(line: str, found: Conventions, about_connections: bool = False) -> bool:
    """Record what ``line`` states into ``found`` (the first statement of a key wins); whether it
    stated anything."""
    match = _USE_FOR.match(line) or _SEPARATOR.match(line) or _VERB.match(line)
    if not match:
        return False
    raw_key, value = match.group("key"), _clean_value(match.group("value"))
    key = " ".join(_KEY_FILLER.sub(" ", raw_key.strip("`'\" ").lower()).split())
    if _OWNER_KEY.match(key):
        return _set(found, "owner", _first_id(value), "owner {}")
    if _RETRIES_KEY.match(key):
        return _set(found, "retries", _retries(value), "retries {}")
    if _TIMEOUT_KEY.match(key):
        return _set(found, "timeout_minutes", parse_minutes(value), "execution_timeout {} min")
    if key in ("tag", "tags"):
        return _set_tags(found, value)
    named = bool(_CONN_WORDS.search(key)) or match.re is _USE_FOR
    if named or (about_connections and match.re is not _VERB):
        service = connection_key_of(_CONN_WORDS.sub(" ", key))
        conn_id = _first_id(value)
        if service and conn_id:
            kept = found.connections.setdefault(service, conn_id)
            if kept != conn_id:
                found.conflicts.append(f"{service} connection {conn_id}")
            return True
    return False


def _clean_value(value: str) -> str:
    """The value without a trailing remark: "3 (5 for ingestion)" -> "3"."""
    value = re.split(r"\s+(?:\(|#\s|--|—|–)|;\s", value.strip(), maxsplit=1)[0]
    return value.strip().rstrip(".")


def _first_id(value: str) -> str | None:
    """The id a value names: "`aws_prod`, not aws_default" -> aws_prod; None for prose."""
    first = value.split(",", 1)[0].strip().strip("`'\"").rstrip(".")
    return first if _ID.fullmatch(first) else None


def _retries(value: str) -> int | None:
    match = re.search(
        r"\b(\d{1,2}|none|no|zero|one|two|three|four|five|six|seven|eight|nine|ten)\b", value, re.I
    )
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _set(found: Conventions, name: str, value: object, said: str) -> bool:
    """Keep the first value of ``name``; a different later one is a conflict (``said`` words it)."""
    if value is None or value == "":
        return False
    current = getattr(found, name)
    if current is None:
        setattr(found, name, value)
    elif current != value:
        found.conflicts.append(said.format(value))
    return True


def _set_tags(found: Conventions, value: str) -> bool:
    words = re.split(r"[,\s]+|\band\b", value.replace("`", " ").replace('"', " ").replace("'", " "))
    tags = [w.strip("#.") for w in words if re.fullmatch(r"#?[\w.:/-]{1,60}\.?", w.strip())]
    tags = list(dict.fromkeys(t for t in tags if t and t != "generated"))[:MAX_TAGS]
    if found.tags and tags and tags != found.tags:
        found.conflicts.append(f"tags {', '.join(tags)}")
    elif not found.tags:
        found.tags = tags
    return bool(tags)
