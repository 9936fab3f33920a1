"""What a description says besides its workflow: list markers, greetings, requests, pleasantries.

:func:`plain_description` turns "hey can you set up a dag that pulls X, then loads it? thx" into
"pulls X, then loads it." — one line whose sentences and list items are the steps to read.
"""

from __future__ import annotations

import re

# "- pull the data", "* train", "1. wait", "2) load" at the start of a line: one step each.
_LINE_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*•]|\(?\d{1,2}[.)])[ \t]+")
_GREETING = re.compile(
    r"(?i)^\s*(?:(?:hey|hi|hello|dear)(?:\s+(?:(?-i:[A-Z][a-z]+)|team|all|everyone|folks|guys)(?=\s*[,!]))?|yo|ok|okay)"
    r"\b[\s,!.]*"
)
# "JIRA BILL-482:", "OPS-17 -": a ticket key before the text.
_TICKET = re.compile(
    r"^\s*(?:jira\s+)?(?:\[(?-i:[A-Z][A-Z0-9]+-\d+)\]|(?-i:[A-Z][A-Z0-9]+-\d+)\s*[:\-–])\s*", re.I
)
# "As a payroll admin, I want overtime computed, so that payslips are right.": why and for whom.
_USER_STORY = re.compile(
    r"(?i)(?:^|(?<=[.!?]\s))(?:(?:user\s+)?story\s*:\s*)?as\s+(?:a|an|the)\s+[^,.]{1,60}?,?\s+(?:i|we)\s+"
    r"(?:want|need|would\s+like)\b(?:[^.!?]|\.(?=\S))*[.!?]\s+(?=\S)"
)
_DASH_SIGNATURE = re.compile(r"\s*[—–]\s*(?-i:[A-Z][a-z]+)\s*$")
# "Thanks,\nMarcus", "Cheers!", "Best regards, Ann" at the end of a message.
_SIGN_OFF = re.compile(
    r"(?i)(?:^|[.!?\n]\s*)(?:thanks|thank\s+you|cheers|best|regards|best\s+regards|kind\s+regards)"
    r"[\s,!.]*(?:\n?\s*[A-Z][\w-]*)?[\s.!]*$"
)
# Markdown headings, "Steps:" and other labels on a line of their own, "(context: ...)" notes.
_HEADING_LINE = re.compile(
    r"(?im)^\s*(?:#+\s*[^\n]*|(?:steps|tasks|flow|the\s+flow|details|notes?|acceptance\s+criteria|ac)\s*:\s*)$"
)
_STEPS_LABEL = re.compile(
    r"(?i)(?:^|(?<=[.!?;:]\s))(?:steps|tasks|the\s+flow|flow|acceptance\s+criteria|ac|runbook|procedure)\s*:\s*"
)
_CONTEXT_NOTE = re.compile(r"(?i)\(\s*(?:context|note|fyi|background|for\s+context)\s*:[^()]*\)")
# "To make sure the data is complete, first wait ...": why a step is there, not a step.
_WHY_CLAUSE = re.compile(
    r"(?i)(?:^|(?<=[.;!]\s))(?:to|in\s+order\s+to)\s+(?:make\s+sure|ensure|guarantee|avoid|keep|be\s+sure)\b[^,.;]*,\s*"
)
# "weekly sunday backup - pg_dump ...": a name before a dash.
_DASH_TITLE = re.compile(r"^([\w\s]{3,40}?)\s+[-–—]\s+(?=\w)")
_REQUEST = re.compile(
    r"(?i)^\s*(?:as\s+(?:a|an|the)\s+[\w\s-]{1,40}?,?\s+(?=i\b|we\b))?(?:for\s+[^,.:;]{1,60}?,?\s+(?=i\b|we\b))?"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|pls\s+)?|please\s+|pls\s+"
    r"|(?:i|we)(?:\s+(?:need|want|would\s+like)|\s*'d\s+like)\s+(?:you\s+to\s+|the\s+(?:pipeline|dag|job|workflow)\s+to\s+)?"
    r"|let's\s+"
    r"|i'?m\s+looking\s+for\s+|(?:can|could)\s+we\s+(?:get|have)\s+)"
    r"(?:(?:set\s+up|setup|make|create|build|write|generate|add|give\s+me)\s+)?(?:me\s+|us\s+)?"
    r"(?:a\s+|an\s+|one\s+)?(?:new\s+)?(?P<when>(?:nightly|daily|hourly|weekly|monthly)\s+)?(?:airflow\s+)?"
    r"(?:dag|pipeline|workflow|job|something|thing)?\s*(?:\([^()]*\)\s*)?(?:that|which|to|:)?\s*,?\s*"
)
_REQUEST_SENTENCE = re.compile(
    r"(?i)^(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?(?:build|make|create|set\s+up|write|add)\s+"
    r"(?:me\s+|us\s+)?(?:a|an)\s+(?:new\s+)?(?:dag|pipeline|workflow|job)\b[^.?!]*\?\s+(?=\S)"
)
_PLEASANTRIES = re.compile(
    r"(?i)\b(?:would\s+be\s+(?:great|nice|awesome|perfect|ideal)|if\s+possible|if\s+you\s+can|thanks|thank\s+you"
    r"|thx|ty|cheers|pls|please)\b[.!]*"
)
# "We want to compute X", "The pipeline should first wait for Y": the step is what follows.
_INTENT = re.compile(
    r"(?i)(?:^|(?<=[.;:!]\s))(?:(?:i\s+think|i\s+guess|maybe|so)\s+)?(?:we|i)\s+(?:want|need|would\s+like|'d\s+like)\s+"
    r"(?:(?:it|the\s+(?:pipeline|dag|job|workflow))\s+)?to\s+"
    r"|(?:^|(?<=[.;:!]\s))is\s+need\s+to\s+"
    r"|(?:^|(?<=[.;:!]\s))(?:the|this|our)\s+(?:pipeline|dag|workflow|job)\s+(?:should|must|needs\s+to|has\s+to|will)\s+"
    r"|(?:^|(?<=[.;:!]\s))it\s+(?:should|must|needs\s+to)\s+(?=\w+\s)"
)
# "Goal: catch late trucks early." says why, not what to do.
_PURPOSE = re.compile(
    r"(?i)(?:^|(?<=[.;!]\s))(?:goal|purpose|context|why|background|motivation)\s*:[^.;!]*[.;!]\s*"
)
# "The process is triggered manually by the ML team.": no schedule, and no step.
_MANUAL_SENTENCE = re.compile(
    r"(?i)(?:^|(?<=[.!?]\s))[^.!?]*\b(?:triggered\s+(?:manually|by\s+hand)|manual(?:ly)?\s+trigger\w*"
    r"|trigger\s+it\s+(?:manually|by\s+hand))\b[^.!?]*(?:[.!?]|$)\s*"
)
_STARTING = re.compile(r"(?i)\bstarting\s+(?:tmrw|tomorrow|today|tonight|now|next\s+\w+|on\s+\w+)\b")
# Typos of the words the parser reads (schedules, kinds, order): fixed, the rest is left as typed.
_TYPOS = {
    "evry": "every", "evey": "every", "eveyr": "every", "dialy": "daily", "hourley": "hourly", "teh": "the",
    "hte": "the", "finsh": "finish", "finsihes": "finishes", "wiat": "wait", "adn": "and", "taht": "that",
    "udpate": "update", "uplaod": "upload", "emial": "email", "slakc": "slack", "sned": "send", "thne": "then",
    "pyhton": "python", "tabel": "table", "qeury": "query", "querry": "query",
}  # fmt: skip
_TYPO = re.compile(rf"(?i)\b(?:{'|'.join(_TYPOS)})\b")


_VERB_HINTS = frozenset({"wait", "run", "copy", "load", "send", "call", "fetch", "email", "post", "upload"})


def _without_request(text: str) -> str:
    """ "Can you build a DAG that runs X": X. A schedule adjective ("a nightly DAG") and an aside
    naming it ("(call it policy_sync)") stay."""
    request = _REQUEST.match(text)
    if not request or not request.group(0).strip():
        return text
    when = request.group("when") or ""
    aside = re.search(r"\([^()]*\)", request.group(0))
    return when + (aside.group(0) + " " if aside else "") + text[request.end() :]


def _titled_list(text: str) -> str:
    """ "monthly ledger close" on the line above a list is its title: it gets the colon of one."""
    lines = text.splitlines()
    if len(lines) < 3:
        return text
    titled = lines[0].rstrip().endswith((":", ".")) or bool(_LINE_ITEM.match(lines[0] + " "))
    if len(lines) > 2 and _LINE_ITEM.match(lines[1] + " ") and not titled and len(lines[0].split()) <= 8:
        lines[0] = lines[0].rstrip() + ":"
    return "\n".join(lines)


def _dash_title_dropped(text: str) -> str:
    """ "weekly sunday backup - pg_dump ...": the title goes, a schedule in it stays."""
    from assistant.generation.schedules import extract_schedule

    match = _DASH_TITLE.match(text)
    assert match is not None
    schedule, _rest, phrase = extract_schedule(match.group(1))
    return (f"{phrase}: " if schedule and phrase else "") + text[match.end() :]


def _when_of(purpose: re.Match[str]) -> str:
    """A purpose sentence is dropped, but the schedule it states is kept."""
    from assistant.generation.schedules import extract_schedule

    schedule, _rest, phrase = extract_schedule(purpose.group(0))
    return f"{phrase}. " if schedule and phrase else ""


# "We retrain the churn model every Sunday.", "Here's what I need.", "Claims pipeline.": a first
# sentence that sums the workflow up, when sentences with the steps follow.
_SUMMARY = re.compile(
    r"(?i)^(?:(?:here's|here\s+is|this\s+is|this\s+(?:dag|pipeline|workflow|job)\s+(?!should\b|must\b)\w+)\b(?:[^.!?]|\.(?=\S))*"
    r"|we\s+(?!want\b|need\b|would\b|'d\b)[a-z]+\b(?:[^.!?]|\.(?=\S))*"
    r"|(?:[a-z][\w-]*\s+){0,3}(?:pipeline|pipline|workflow|dag|job|process|flow|scan|sync|report|backup|cleanup|rollup"
    r"|run|refresh|etl|checker|export|import|load|ingest)"
    r"(?:\s*[,(][^.!?]*)?)[.!]\s+(?=\S)"
)


def _summary_sentence_dropped(text: str) -> str:
    from assistant.generation.schedules import extract_schedule

    match = _SUMMARY.match(text)
    if match is None:
        return text
    schedule, _rest, phrase = extract_schedule(match.group(0))
    kept = f"{phrase}. " if schedule and phrase else ""
    return kept + text[match.end() :]


def plain_description(description: str) -> str:
    """The description as one line of steps, without what only a person reading it needs."""
    # Items on lines of their own; on one line, "1) ... 2) ..." is left to the step splitter.
    description = _DASH_SIGNATURE.sub("", _SIGN_OFF.sub("", _HEADING_LINE.sub("", description.strip())))
    description = _titled_list(description)
    text = _LINE_ITEM.sub("; ", description) if "\n" in description.strip() else description
    text = re.sub(r"^\s*[-*•]\s+", "", text)  # a single item
    text = " ".join(text.split()).lstrip("; ")
    text = _GREETING.sub("", text)
    text = _USER_STORY.sub(_when_of, _REQUEST_SENTENCE.sub("", _TICKET.sub("", text)))
    text = " ".join(_without_request(sentence) for sentence in re.split(r"(?<=[.!?])\s+", text))
    text = _STEPS_LABEL.sub("", _TICKET.sub("", text))
    text = _CONTEXT_NOTE.sub("", text)
    text = _WHY_CLAUSE.sub("", text)
    if _DASH_TITLE.match(text) and not any(
        w in _VERB_HINTS for w in _DASH_TITLE.match(text).group(1).lower().split()
    ):
        text = _dash_title_dropped(text)
    text = _MANUAL_SENTENCE.sub("", text)
    text = _STARTING.sub("", text)
    text = _PLEASANTRIES.sub("", text)
    text = _TYPO.sub(lambda m: _TYPOS[m.group(0).lower()], text)
    text = _PURPOSE.sub(_when_of, text)
    text = _summary_sentence_dropped(text)
    text = _INTENT.sub("", text)
    text = re.sub(r"\?+(?=\s|$)", ".", text)  # a question is a sentence like any other
    text = re.sub(r"([.;,:])(?:\s*[,;])+", r"\1", text)  # what a removed phrase left between two marks
    text = re.sub(r"\s+([;,])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,;")
