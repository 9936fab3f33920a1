"""Schedules in words ("every hour", "daily at 2am", "weekdays at 6pm", a cron string) → cron.

:func:`extract_schedule` finds the first schedule phrase in a description and returns the cron
expression (or Airflow preset) with the phrase removed from the text, so the step parser does not
mistake "every sunday" for a step.
"""

from __future__ import annotations

import re

DAYS = {
    "sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
    "sun": 0, "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6,
}  # fmt: skip
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "a": 1, "an": 1,
}  # fmt: skip
_DAY = r"(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday|sun|mon|tues|tue|wed|thurs|thur|thu|fri|sat)s?\b"
_NUM = r"(\d+|one|two|three|four|five|six|ten|twelve|fifteen|twenty|thirty)"
_TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?|(noon|midday|midnight)"
_AT = rf"(?:\s*(?:at|@)\s*(?:{_TIME}))?"
_LEAD = r"(?:\b(?:run|runs|running|scheduled|schedule(?:d)?\s+it)\s+)?"


def _clock(hour: str | None, minute: str | None, meridiem: str | None, word: str | None) -> tuple[int, int]:
    if word:
        return (0, 0) if word == "midnight" else (12, 0)
    if hour is None:
        return 0, 0
    h, m = int(hour), int(minute or 0)
    suffix = (meridiem or "").replace(".", "")
    if suffix == "pm" and h < 12:
        h += 12
    if suffix == "am" and h == 12:
        h = 0
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("time out of range")
    return h, m


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBERS[text]


def _day_number(word: str) -> int:
    word = word.lower().rstrip("s") if word.lower().endswith("days") else word.lower()
    return DAYS[word] if word in DAYS else DAYS[word[:3]]


def _at(match: re.Match[str], first: int) -> tuple[int, int]:
    return _clock(*match.group(first, first + 1, first + 2, first + 3))


# Each rule: (pattern, function of the match returning the schedule).
def _every_n(m: re.Match[str]) -> str:
    n, unit = _number(m.group(1)), m.group(2)
    if unit.startswith("min"):
        return "* * * * *" if n == 1 else f"*/{n} * * * *"
    if unit.startswith("h"):
        return "@hourly" if n == 1 else f"0 */{n} * * *"
    return "@daily" if n == 1 else f"0 0 */{n} * *"


def _daily(m: re.Match[str]) -> str:
    if m.group(1) is None and m.group(4) is None:
        return "@daily"
    h, mi = _at(m, 1)
    return f"{mi} {h} * * *"


def _weekday_list(m: re.Match[str]) -> str:
    h, mi = _at(m, 2)
    return f"{mi} {h} * * {_day_number(m.group(1))}"


def _weekdays(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} * * 1-5"


def _weekends(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} * * 0,6"


def _hourly_at(m: re.Match[str]) -> str:
    minute = int(m.group(1)) if m.group(1) else 0
    return "@hourly" if minute == 0 else f"{minute} * * * *"


def _weekly(m: re.Match[str]) -> str:
    return "@weekly"


def _monthly(m: re.Match[str]) -> str:
    if m.group(1):
        h, mi = _at(m, 2)
        return f"{mi} {h} {int(m.group(1))} * *"
    return "@monthly"


def _at_only(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} * * *"


def _twice_daily(m: re.Match[str]) -> str:
    return "0 0,12 * * *"


def _manual(m: re.Match[str]) -> str | None:
    return None


def _cron(m: re.Match[str]) -> str:
    return " ".join((m.group(1) or m.group(2)).split())


_CRON_TEXT = r"[0-9*/,\-]+(?:\s+[0-9*/,\-]+){4}"
RULES: list[tuple[re.Pattern[str], object]] = [
    (re.compile(rf"(?:\bcron\s*)?[\"'`]({_CRON_TEXT})[\"'`]|\bcron\s+({_CRON_TEXT})"), _cron),
    (re.compile(rf"{_LEAD}\bevery\s+{_NUM}\s+(min(?:ute)?s?|h(?:ou)?rs?|hours?|days?)\b"), _every_n),
    (re.compile(rf"{_LEAD}\bevery\s+(minute|hour|day)\b"), lambda m: _every_n_word(m.group(1))),
    (re.compile(rf"{_LEAD}\b(?:every\s+)?(?:weekdays?|week\s*days?|business\s+days?|mon(?:day)?\s*-\s*fri(?:day)?)"
                rf"{_AT}"), _weekdays),
    (re.compile(rf"{_LEAD}\b(?:every\s+|on\s+)?weekends?{_AT}"), _weekends),
    (re.compile(rf"{_LEAD}\b(?:every|each|on)\s+({_DAY}){_AT}"), _weekday_list),
    (re.compile(rf"{_LEAD}\b(?:daily|every\s+day|each\s+day|every\s+night|nightly|once\s+a\s+day){_AT}"), _daily),
    (re.compile(rf"{_LEAD}\bhourly(?:\s+at\s+(?:minute\s+)?:?(\d{{1,2}}))?\b"), _hourly_at),
    (re.compile(rf"{_LEAD}\btwice\s+a\s+day\b"), _twice_daily),
    (re.compile(rf"{_LEAD}\b(?:weekly|every\s+week|once\s+a\s+week)\b"), _weekly),
    (re.compile(rf"{_LEAD}\b(?:on\s+the\s+(\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+(?:each|every|the)\s+month{_AT}"
                r"|monthly|every\s+month|once\s+a\s+month)\b"), _monthly),
    (re.compile(r"\b(?:manually|on\s+demand|when\s+triggered|no\s+schedule)\b"), _manual),
    (re.compile(rf"{_LEAD}\b(?:every\s+morning|each\s+morning)(?:\s+at\s+(?:{_TIME}))?"),
     lambda m: _at_only(m) if m.group(1) or m.group(4) else "0 6 * * *"),
    (re.compile(rf"{_LEAD}\bat\s+(?:{_TIME})(?:\s+every\s+day|\s+each\s+day)?"), _at_only),
]  # fmt: skip


_MASK = re.compile(r"[a-z0-9]+://\S+|`[^`]*`|(?<![\w])/[\w./*-]+")
_ATTRIBUTIVE = re.compile(r"\b(?:the|a|an|our|my|their|its|this|that)\s+$")
_BARE_ADJECTIVE = re.compile(r"^(?:daily|hourly|weekly|monthly|nightly)$")


def _every_n_word(unit: str) -> str:
    return {"minute": "* * * * *", "hour": "@hourly", "day": "@daily"}[unit]


def extract_schedule(text: str) -> tuple[str | None, str, str | None]:
    """(schedule, text without the phrase, the phrase) for the first schedule found.

    With no schedule phrase: (None, text, None) — the DAG runs when triggered.
    """
    # URLs, paths and quoted text are masked (same length) so "gs://drop/daily" is no schedule.
    lowered = _MASK.sub(lambda m: "x" * len(m.group(0)), text.lower())
    best: tuple[tuple[int, int, int], re.Match[str], object] | None = None
    for pattern, build in RULES:
        match = pattern.search(lowered)
        # A bare adjective ("the weekly report") is the weakest evidence: any explicit phrase wins.
        rank = 1 if match and _BARE_ADJECTIVE.match(match.group(0).strip()) else 0
        if rank and _ATTRIBUTIVE.search(lowered[: match.start()]):
            continue  # "run the nightly batch": the name of a thing, not when to run
        # The earliest phrase wins; at the same place, the longest ("every day at 2pm" over "every day").
        if match and (best is None or (rank, match.start(), -len(match.group(0))) < best[0]):
            best = ((rank, match.start(), -len(match.group(0))), match, build)
    if best is None:
        return None, text, None
    _, match, build = best
    try:
        schedule = build(match)  # type: ignore[operator]
    except (ValueError, KeyError):
        return None, text, None
    remaining = (text[: match.start()] + " " + text[match.end() :]).strip()
    remaining = re.sub(r"\s{2,}", " ", remaining)
    remaining = re.sub(r"^\s*[,;:]\s*|\s*[,;:]\s*$", "", remaining)
    remaining = re.sub(r"\s+([,;.])", r"\1", remaining)
    return schedule, remaining, match.group(0).strip()
