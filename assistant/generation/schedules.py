"""Schedules in words ("every hour", "daily at 2am", "weekdays at 6pm", a cron string) → cron.

:func:`extract_schedule` finds the first schedule phrase in a description and returns the cron
expression (or Airflow preset) with the phrase removed from the text, so the step parser does not
mistake "every sunday" for a step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

DAYS = {
    "sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
    "sun": 0, "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6,
}  # fmt: skip
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "a": 1, "an": 1,
}  # fmt: skip
# "monday", "tue", "fridays"
_DAY = r"(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday|sun|mon|tues|tue|wed|thurs|thur|thu|fri|sat)s?\b"
# "15", "fifteen": how many units (group 1)
_NUM = r"(\d+|one|two|three|four|five|six|ten|twelve|fifteen|twenty|thirty)"
# "2am", "6:30 p.m.", "23:30", "noon", "midnight": groups hour, minute, am/pm, word
_TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?|(noon|midday|midnight)"
# " at 2am", "@ 14:00", or nothing: an optional time of day
_AT = rf"(?:\s*(?:at|@)\s*(?:{_TIME}))?"
# "run ", "runs ", "scheduled ", "schedule it ": said before the schedule, removed with it
_LEAD = r"(?:\b(?:run|runs|running|scheduled|schedule(?:d)?\s+it)\s+)?"
# "0 3 * * 1-5": five cron fields
_CRON_TEXT = r"[0-9*/,\-]+(?:\s+[0-9*/,\-]+){4}"

Build = Callable[[re.Match[str]], str | None]


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
    """(hour, minute) of the time whose four groups (see _TIME) start at group ``first``."""
    return _clock(*match.group(first, first + 1, first + 2, first + 3))


# The schedule of a rule's match, one function per rule (see RULES).
def _every_n(m: re.Match[str]) -> str:
    n, unit = _number(m.group(1)), m.group(2)
    if unit.startswith("min"):
        return "* * * * *" if n == 1 else f"*/{n} * * * *"
    if unit.startswith("h"):
        return "@hourly" if n == 1 else f"0 */{n} * * *"
    return "@daily" if n == 1 else f"0 0 */{n} * *"


def _every_unit(m: re.Match[str]) -> str:
    return {"minute": "* * * * *", "hour": "@hourly", "day": "@daily"}[m.group(1)]


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
    groups = (*m.groups(), None, None, None)  # the bare "hourly" rule has no groups
    if groups[1]:  # "at half past", "at a quarter to"
        minute = 30 if groups[1] == "half" else 15 if groups[2] == "past" else 45
        return f"{minute} * * * *"
    minute = int(groups[0]) if groups[0] else 0
    return "@hourly" if minute == 0 else f"{minute} * * * *"


def _weekly(m: re.Match[str]) -> str:
    return "@weekly"


def _monthly(m: re.Match[str]) -> str:
    if m.group(1):
        h, mi = _at(m, 2)
        day = 1 if m.group(1) == "first" else int(m.group(1))
        return f"{mi} {h} {day} * *"
    return "@monthly"


def _monthly_at(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} 1 * *"


def _weekly_at(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} * * 0"


def _at_only(m: re.Match[str]) -> str:
    h, mi = _at(m, 1)
    return f"{mi} {h} * * *"


def _every_morning(m: re.Match[str]) -> str:
    return _at_only(m) if m.group(1) or m.group(4) else "0 6 * * *"


def _twice_daily(m: re.Match[str]) -> str:
    return "0 0,12 * * *"


def _manual(m: re.Match[str]) -> str | None:
    return None


def _cron(m: re.Match[str]) -> str:
    return " ".join((m.group(1) or m.group(2)).split())


# Each rule: (pattern, function of the match returning the schedule). They are matched against
# the lowercased text; the earliest match wins (see _extract_one).
RULES: list[tuple[re.Pattern[str], Build]] = [
    # '0 3 * * 1-5' in quotes, "cron 0 3 * * *"
    (re.compile(rf"(?:\bcron\s*)?[\"'`]({_CRON_TEXT})[\"'`]|\bcron\s+({_CRON_TEXT})"), _cron),
    # "every 15 minutes", "each 2 hours", "every 3 days"
    (re.compile(rf"{_LEAD}\b(?:every|each)\s+{_NUM}\s*(min(?:ute)?s?|h(?:ou)?rs?|hours?|h|days?)\b"), _every_n),
    # "every minute", "each hour", "every day"
    (re.compile(rf"{_LEAD}\b(?:every|each)\s+(minute|hour|day)\b"), _every_unit),
    # "weekdays at 6pm", "every weekday", "on business days", "mon-fri"
    (re.compile(rf"{_LEAD}\b(?:every\s+|on\s+)?(?:weekdays?|week\s*days?|business\s+days?|mon(?:day)?\s*-\s*fri(?:day)?)"
                rf"{_AT}"), _weekdays),
    # "weekends at 10am", "every weekend"
    (re.compile(rf"{_LEAD}\b(?:every\s+|on\s+)?weekends?{_AT}"), _weekends),
    # "every monday at 7am", "on fridays"
    (re.compile(rf"{_LEAD}\b(?:every|each|on)\s+({_DAY}){_AT}"), _weekday_list),
    # "daily at 2am", "nightly", "every night at 23:30", "once a day"
    (re.compile(rf"{_LEAD}\b(?:daily|every\s+day|each\s+day|every\s+night|nightly|once\s+a\s+day){_AT}"), _daily),
    # "hourly at :15", "every hour at minute 5", "every hour at half past", "hourly at a quarter to"
    (re.compile(rf"{_LEAD}\b(?:hourly|every\s+hour)(?:\s+at\s+(?:minute\s+)?:?(\d{{1,2}})\b"
                r"|\s+at\s+(half|(?:a\s+)?quarter)\s+(past|to))"), _hourly_at),
    # "hourly"
    (re.compile(rf"{_LEAD}\bhourly\b"), _hourly_at),
    # "twice a day"
    (re.compile(rf"{_LEAD}\btwice\s+a\s+day\b"), _twice_daily),
    # "weekly", "every week", "once a week"
    (re.compile(rf"{_LEAD}\b(?:weekly|every\s+week|once\s+a\s+week)\b"), _weekly),
    # "on the 2nd of each month at 4am", "the first day of every month", "monthly"
    (re.compile(rf"{_LEAD}\b(?:(?:on\s+)?(?:the\s+)?(\d{{1,2}}|first)(?:st|nd|rd|th)?\s+(?:day\s+)?of\s+(?:each|every|the)\s+month{_AT}"
                r"|monthly|every\s+month|once\s+a\s+month)\b"), _monthly),
    # "monthly at 6am"
    (re.compile(rf"{_LEAD}\b(?:monthly|every\s+month|once\s+a\s+month)\s*(?:at|@)\s*(?:{_TIME})"), _monthly_at),
    # "weekly at 9am"
    (re.compile(rf"{_LEAD}\b(?:weekly|every\s+week|once\s+a\s+week)\s*(?:at|@)\s*(?:{_TIME})"), _weekly_at),
    # "manually", "on demand", "no schedule": runs only when triggered
    (re.compile(r"\b(?:manually|on\s+demand|when\s+triggered|no\s+schedule)\b"), _manual),
    # "every morning" (at 6), "each morning at 7:30"
    (re.compile(rf"{_LEAD}\b(?:every\s+morning|each\s+morning)(?:\s+at\s+(?:{_TIME}))?"), _every_morning),
    # "at 5pm", "@ 14:00", "at noon every day"
    (re.compile(rf"{_LEAD}(?:\bat\s+|(?<![\w@])@\s*)(?:{_TIME})(?:\s+every\s+day|\s+each\s+day)?"), _at_only),
    # "mondays at 9", "fridays"
    (re.compile(rf"{_LEAD}\b((?:sun|mon|tues|wednes|thurs|fri|satur)days){_AT}"), _weekday_list),
    # "monthly, on the 15th at 3am"
    (re.compile(rf"{_LEAD}\b(?:monthly|every\s+month|once\s+a\s+month)\s*,?\s*on\s+the\s+(\d{{1,2}}|first)"
                rf"(?:st|nd|rd|th)?{_AT}"), _monthly),
]  # fmt: skip

# URLs, commands, paths and names of things ("reporting.daily_sales", "weekly_kpis") hold no
# schedule. A URL is read from the start of its scheme, never from inside it.
_MASK = re.compile(
    r"(?<![a-z0-9])[a-z0-9]+://\S+|`[^`]*`|(?<![\w])/[\w./*-]+|\b\w*_\w*\b|\b[a-z]\w+\.[a-z][\w.]*"
)
# "the ", "our " right before "daily": the schedule word names a thing ("the daily report").
_ATTRIBUTIVE = re.compile(r"\b(?:the|a|an|our|my|their|its|this|that)\s+$")
# "if today is a ", "whether " right before a schedule word: a condition of a branch.
_CONDITION = re.compile(
    r"\b(?:if|whether|unless)\b[^,.;]{0,40}\b(?:is|isn't|not)\s+(?:a\s+|an\s+|on\s+a\s+)?$|\b(?:whether|if|unless)\s+$"
)
# How far before a schedule word _ATTRIBUTIVE and _CONDITION look: their words take under 60
# characters once whitespace is collapsed, as the parser does before looking for a schedule.
_CONTEXT_CHARS = 200
# " totals" after "daily": a noun, so "daily" names a thing ("compute daily totals").
_NOUN_AFTER = re.compile(
    r"\s+(?!(?:and|then|at|on|in|from|to|with|please|starting|except|but|or|via|using|for|by|if|so|until|is|are"
    r"|would|should|works|will|ok|okay|fine|too)\b|\w+ly\b)[a-z]"
)
# "daily", "nightly" alone: the weakest evidence of a schedule.
_BARE_ADJECTIVE = re.compile(r"^(?:daily|hourly|weekly|monthly|nightly)$")
# "every friday 4:30pm", "weekdays (9:00)": a time after a day without "at" (groups 1 and 3).
_BARE_TIME = re.compile(
    rf"(?i)\b((?:every\s+|on\s+)?(?:day|night|nightly|daily|weekdays?|weekends?|{_DAY}))\s+(\()?"
    r"(\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2})(?!\w|:\d)(?(2)\))"
)
_CRON_OF_PRESET = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
# "runs ", "running " opening a schedule phrase.
_RUN_WORD = re.compile(r"(?i)runs?\s+|running\s+")
# "nightly " before "run": the word before "run" is part of a noun phrase ("the nightly run"), not
# a pause between steps.
_NOUN_BEFORE = re.compile(
    r"(?i)\b(?!(?:and|then|it|please|to|also|should|must|will|can|just)\b)[a-z][\w-]*\s*$"
)


def extract_schedule(text: str) -> tuple[str | None, str, str | None]:
    """(schedule, text without the phrase, the phrase) for the first schedule found.

    A time and a day said apart ("at 8:45 on weekdays", "monthly ... at 6am") make one schedule.
    With no schedule phrase: (None, text, None) — the DAG runs when triggered.
    """
    text = _BARE_TIME.sub(r"\1 at \3", text)  # "every friday 4:30pm" -> "every friday at 4:30pm"
    schedule, rest, phrase = _extract_one(text)
    if schedule is None:
        return schedule, rest, phrase
    other, rest_of_rest, other_phrase = _extract_one(rest)
    combined = _combine(schedule, other) if other else None
    if combined is None:
        return schedule, rest, phrase
    return combined, rest_of_rest, f"{phrase} {other_phrase}"


def _combine(first: str, second: str) -> str | None:
    """One schedule from a time of day and a choice of days, said in either order; else None.

    Every schedule the rules make is a preset of _CRON_OF_PRESET or five cron fields."""
    a = _CRON_OF_PRESET.get(first, first).split()
    b = _CRON_OF_PRESET.get(second, second).split()
    if a[2:] == b[2:] and ["0", "0"] in (a[:2], b[:2]):
        return " ".join(b if a[:2] == ["0", "0"] else a)  # "every weekday ... weekdays at 8:00"
    for time, days in ((a, b), (b, a)):
        explicit_time = (
            time[2:] == ["*", "*", "*"] and time[:2] != ["0", "0"] and "/" not in " ".join(time[:2])
        )
        if explicit_time and time[0].isdigit() and time[1].isdigit() and days[:2] == ["0", "0"]:
            return " ".join([*time[:2], *days[2:]])
    return None


def _says_when(match: re.Match[str], lowered: str) -> bool:
    """Is this match a schedule, rather than a word of a step that looks like one?"""
    start, end = match.span()
    context = max(0, start - _CONTEXT_CHARS)
    if _CONDITION.search(lowered, context, start):
        return False  # "if today is a business day": a condition of a branch, not a schedule
    if not _BARE_ADJECTIVE.match(match.group(0).strip()):
        return True
    # "run the nightly batch", "compute hourly averages": the name of a thing, not when to run
    words_before = bool(lowered[:start].strip())
    return not _ATTRIBUTIVE.search(lowered, context, start) and not (
        words_before and _NOUN_AFTER.match(lowered, end)
    )


def _extract_one(text: str) -> tuple[str | None, str, str | None]:
    # URLs, paths and quoted text are masked (same length) so "gs://drop/daily" is no schedule.
    lowered = _MASK.sub(lambda m: "x" * len(m.group(0)), text.lower())
    best: tuple[tuple[int, int, int], re.Match[str], Build] | None = None
    for pattern, build in RULES:
        match = next((m for m in pattern.finditer(lowered) if _says_when(m, lowered)), None)
        if match is None:
            continue
        # A bare adjective ("the weekly report") is the weakest evidence: any explicit phrase wins.
        rank = 1 if _BARE_ADJECTIVE.match(match.group(0).strip()) else 0
        # The earliest phrase wins; at the same place, the longest ("every day at 2pm" over "every day").
        if best is None or (rank, match.start(), -len(match.group(0))) < best[0]:
            best = ((rank, match.start(), -len(match.group(0))), match, build)
    if best is None:
        return None, text, None
    _, match, build = best
    try:
        schedule = build(match)
    except (ValueError, KeyError):
        return None, text, None
    start = match.start()
    lead = _RUN_WORD.match(match.group(0))
    if lead and _NOUN_BEFORE.search(text[:start]):
        start += lead.end()  # "the attribution run at 8:45": "run" names the job, it stays
    remaining = (text[:start] + " " + text[match.end() :]).strip()
    remaining = re.sub(r"\s{2,}", " ", remaining)
    remaining = re.sub(r"^\s*[,;:]\s*|\s*[,;:]\s*$", "", remaining)
    remaining = re.sub(r"\s+([,;.:])", r"\1", remaining)
    remaining = re.sub(r"([,;:])(?:\s*[,;])+", r"\1", remaining)  # "name:, GET" -> "name: GET"
    return schedule, remaining, text[start : match.end()].strip()
