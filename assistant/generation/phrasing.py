"""What a description says besides its workflow: list markers, greetings, requests, pleasantries.

:func:`plain_description` turns "hey can you set up a dag that pulls X, then loads it? thx" into
"pulls X, then loads it." — one line whose sentences and list items are the steps to read.

A pattern that may start in whitespace starts only where the whitespace starts (``(?<!\\s)``),
so a long run of spaces or blank lines is not scanned again from each of its positions.
"""

from __future__ import annotations

import re

from assistant.generation.schedules import extract_schedule

# "- pull the data", "* train", "1. wait", "2) load" at the start of a line: one step each.
_LINE_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*•]|\(?\d{1,2}[.)])[ \t]+")
# "Hi Jorge,", "hey team!", "Hello", "ok": a greeting opening the message.
_GREETING = re.compile(
    r"(?i)^\s*(?:(?:hey|hi|hello|dear)(?:\s+(?:(?-i:[A-Z][a-z]+)|team|all|everyone|folks|guys)(?=\s*[,!]))?|yo|ok|okay)"
    r"\b[\s,!.]*"
)
# "JIRA BILL-482:", "OPS-17 -", "[ENG-2291]": a ticket key before the text.
_TICKET = re.compile(
    r"^\s*(?:jira\s+)?(?:\[(?-i:[A-Z][A-Z0-9]+-\d+)\]|(?-i:[A-Z][A-Z0-9]+-\d+)\s*[:\-–])\s*", re.I
)
# "As a payroll admin, I want overtime computed, so that payslips are right.": why and for whom.
_USER_STORY = re.compile(
    r"(?i)(?:^|(?<=[.!?]\s))(?:(?:user\s+)?story\s*:\s*)?as\s+(?:a|an|the)\s+[^,.]{1,60}?,?\s+(?:i|we)\s+"
    r"(?:want|need|would\s+like)\b(?:[^.!?]|\.(?=\S))*[.!?]\s+(?=\S)"
)
# "— Ann" ending the message: a signature.
_DASH_SIGNATURE = re.compile(r"(?:(?<!\s)\s+)?[—–]\s*[A-Z][a-z]+\s*$")
# "Thanks,\nMarcus", "Cheers!", "Best regards, Ann" ending the message, after a full stop or a line
# break. Group `indent` is the whitespace before that line break on the same line: it stays. What
# follows the word is read without backtracking (`*+`), so a long run of spaces costs nothing.
_SIGN_OFF = re.compile(
    r"(?i)(?:^|[.!?]\s*|(?<!\s)(?P<indent>[^\S\n]*)\n\s*)"
    r"(?:thanks|thank\s+you|cheers|best|regards|best\s+regards|kind\s+regards)"
    r"[\s,!.]*+(?:[A-Z][\w-]*+)?[\s.!]*+$"
)
# "## Steps", "Steps:", "Acceptance criteria:" on a line of their own.
_HEADING_LINE = re.compile(
    r"(?im)^[^\S\n]*(?:#+\s*[^\n]*|(?:steps|tasks|flow|the\s+flow|details|notes?|acceptance\s+criteria|ac)\s*:\s*)$"
)
# "Steps: ...", "Runbook: ..." at the start of a sentence: a label, not a step.
_STEPS_LABEL = re.compile(
    r"(?i)(?:^|(?<=[.!?;:]\s))(?:steps|tasks|the\s+flow|flow|acceptance\s+criteria|ac|runbook|procedure)\s*:\s*"
)
# "(context: the vendor is slow)", "(fyi: ...)": a note for the reader.
_CONTEXT_NOTE = re.compile(r"(?i)\(\s*(?:context|note|fyi|background|for\s+context)\s*:[^()]*\)")
# "To make sure the data is complete, first wait ...": why a step is there, not a step.
_WHY_CLAUSE = re.compile(
    r"(?i)(?:^|(?<=[.;!]\s))(?:to|in\s+order\s+to)\s+(?:make\s+sure|ensure|guarantee|avoid|keep|be\s+sure)\b[^,.;]*,\s*"
)
# "weekly sunday backup - pg_dump ...": a name before a dash.
_DASH_TITLE = re.compile(r"^([\w\s]{3,40}?)\s+[-–—]\s+(?=\w)")
# A dash title with one of these words is a step ("wait 10 min - then load"), not a name.
_VERB_HINTS = frozenset({"wait", "run", "copy", "load", "send", "call", "fetch", "email", "post", "upload"})

# A request for a DAG opening a sentence, in parts:
_ROLE = r"(?:as\s+(?:a|an|the)\s+[\w\s-]{1,40}?,?\s+(?=i\b|we\b))?"  # "As the data team, we ..."
_FOR_WHAT = r"(?:for\s+[^,.:;]{1,60}?,?\s+(?=i\b|we\b))?"  # "For the month-end close, I ..."
_ASKING = (  # "can you please", "pls", "we'd like you to", "let's", "I'm looking for", "could we get"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|pls\s+)?|please\s+|pls\s+"
    r"|(?:i|we)(?:\s+(?:need|want|would\s+like)|\s*'d\s+like)\s+(?:you\s+to\s+|the\s+(?:pipeline|dag|job|workflow)\s+to\s+)?"
    r"|let's\s+"
    r"|i'?m\s+looking\s+for\s+|(?:can|could)\s+we\s+(?:get|have)\s+)"
)
_ASKED_FOR = (  # "set up a new nightly airflow DAG (call it x) that": group `when` is kept
    r"(?:(?:set\s+up|setup|make|create|build|write|generate|add|give\s+me)\s+)?(?:me\s+|us\s+)?"
    r"(?:a\s+|an\s+|one\s+)?(?:new\s+)?(?P<when>(?:nightly|daily|hourly|weekly|monthly)\s+)?(?:airflow\s+)?"
    r"(?:dag|pipeline|workflow|job|something|thing)?\s*(?:\([^()]*\)\s*)?(?:that|which|to|:)?\s*,?\s*"
)
_REQUEST = re.compile(rf"(?i)^\s*{_ROLE}{_FOR_WHAT}{_ASKING}{_ASKED_FOR}")
# "Can you build me a DAG for the vendor feed? It should ...": the asking sentence goes.
_REQUEST_SENTENCE = re.compile(
    r"(?i)^(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?(?:build|make|create|set\s+up|write|add)\s+"
    r"(?:me\s+|us\s+)?(?:a|an)\s+(?:new\s+)?(?:dag|pipeline|workflow|job)\b[^.?!]*\?\s+(?=\S)"
)
# "thanks", "if possible", "would be great", "pls": politeness, wherever it is.
_PLEASANTRIES = re.compile(
    r"(?i)\b(?:would\s+be\s+(?:great|nice|awesome|perfect|ideal)|if\s+possible|if\s+you\s+can|thanks|thank\s+you"
    r"|thx|ty|cheers|pls|please)\b[.!]*"
)
# "We want to compute X", "The pipeline should first wait for Y": the step is what follows.
_SENTENCE_START = r"(?:^|(?<=[.;:!]\s))"
_INTENT = re.compile(
    rf"(?i){_SENTENCE_START}(?:(?:i\s+think|i\s+guess|maybe|so)\s+)?(?:we|i)\s+(?:want|need|would\s+like|'d\s+like)\s+"
    r"(?:(?:it|the\s+(?:pipeline|dag|job|workflow))\s+)?to\s+"
    rf"|{_SENTENCE_START}is\s+need\s+to\s+"
    rf"|{_SENTENCE_START}(?:the|this|our)\s+(?:pipeline|dag|workflow|job)\s+(?:should|must|needs\s+to|has\s+to|will)\s+"
    rf"|{_SENTENCE_START}it\s+(?:should|must|needs\s+to)\s+(?=\w+\s)"
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
# "starting tomorrow", "starting next week": when it begins, which a schedule does not say.
_STARTING = re.compile(r"(?i)\bstarting\s+(?:tmrw|tomorrow|today|tonight|now|next\s+\w+|on\s+\w+)\b")
# Typos of the words the parser reads (schedules, kinds, order): fixed, the rest is left as typed.
_TYPOS = {
    "evry": "every", "evey": "every", "eveyr": "every", "dialy": "daily", "hourley": "hourly", "teh": "the",
    "hte": "the", "finsh": "finish", "finsihes": "finishes", "wiat": "wait", "adn": "and", "taht": "that",
    "udpate": "update", "uplaod": "upload", "emial": "email", "slakc": "slack", "sned": "send", "thne": "then",
    "pyhton": "python", "tabel": "table", "qeury": "query", "querry": "query",
}  # fmt: skip
_TYPO = re.compile(rf"(?i)\b(?:{'|'.join(_TYPOS)})\b")

# A first sentence that sums the workflow up, when sentences with the steps follow, in parts:
_REST_OF_SENTENCE = r"(?:[^.!?]|\.(?=\S))*"  # to its full stop ("v1.2" and "s3://a.b" go on)
_INTRODUCTION = (  # "Here's what I need.", "This DAG feeds the BI dashboards."
    r"(?:here's|here\s+is|this\s+is|this\s+(?:dag|pipeline|workflow|job)\s+(?!should\b|must\b)\w+)\b"
    + _REST_OF_SENTENCE
)
_WE_DO = r"we\s+(?!want\b|need\b|would\b|'d\b)[a-z]+\b" + _REST_OF_SENTENCE  # "We retrain the model weekly."
_WORKFLOW_NAME = (  # "Claims pipeline.", "Nightly inventory sync (v2, owned by ops)."
    r"(?:[a-z][\w-]*\s+){0,3}(?:pipeline|pipline|workflow|dag|job|process|flow|scan|sync|report|backup|cleanup|rollup"
    r"|run|refresh|etl|checker|export|import|load|ingest)"
    r"(?:\s*[,(][^.!?]*)?"
)
_SUMMARY = re.compile(rf"(?i)^(?:{_INTRODUCTION}|{_WE_DO}|{_WORKFLOW_NAME})[.!]\s+(?=\S)")


def _kept_schedule(dropped: str, separator: str) -> str:
    """The schedule phrase of text that is dropped ("Goal: a report every morning."), to keep."""
    schedule, _rest, phrase = extract_schedule(dropped)
    return f"{phrase}{separator}" if schedule and phrase else ""


def _sentence_kept_for_its_schedule(sentence: re.Match[str]) -> str:
    """A sentence that is dropped ("Goal: catch late trucks early.") keeps the schedule it states."""
    return _kept_schedule(sentence.group(0), ". ")


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
    if _LINE_ITEM.match(lines[1] + " ") and not titled and len(lines[0].split()) <= 8:
        lines[0] = lines[0].rstrip() + ":"
    return "\n".join(lines)


def _without_dash_title(text: str) -> str:
    """ "weekly sunday backup - pg_dump ...": the title goes, a schedule in it stays."""
    title = _DASH_TITLE.match(text)
    if title is None or any(w in _VERB_HINTS for w in title.group(1).lower().split()):
        return text
    return _kept_schedule(title.group(1), ": ") + text[title.end() :]


def _without_summary_sentence(text: str) -> str:
    """ "We retrain the churn model every Sunday. Pull ...": the summary goes, its schedule stays."""
    summary = _SUMMARY.match(text)
    if summary is None:
        return text
    return _kept_schedule(summary.group(0), ". ") + text[summary.end() :]


def plain_description(description: str) -> str:
    """The description as one line of steps, without what only a person reading it needs."""
    description = _HEADING_LINE.sub("", description.strip())
    description = _SIGN_OFF.sub(lambda m: m.group("indent") or "", description)
    description = _titled_list(_DASH_SIGNATURE.sub("", description))
    # Items on lines of their own; on one line, "1) ... 2) ..." is left to the step splitter.
    text = _LINE_ITEM.sub("; ", description) if "\n" in description.strip() else description
    text = re.sub(r"^\s*[-*•]\s+", "", text)  # a single item
    text = " ".join(text.split()).lstrip("; ")
    text = _GREETING.sub("", text)
    text = _REQUEST_SENTENCE.sub("", _TICKET.sub("", text))
    text = _USER_STORY.sub(_sentence_kept_for_its_schedule, text)
    text = " ".join(_without_request(sentence) for sentence in re.split(r"(?<=[.!?])\s+", text))
    text = _STEPS_LABEL.sub("", _TICKET.sub("", text))
    text = _CONTEXT_NOTE.sub("", text)
    text = _WHY_CLAUSE.sub("", text)
    text = _without_dash_title(text)
    text = _MANUAL_SENTENCE.sub("", text)
    text = _STARTING.sub("", text)
    text = _PLEASANTRIES.sub("", text)
    text = _TYPO.sub(lambda m: _TYPOS[m.group(0).lower()], text)
    text = _PURPOSE.sub(_sentence_kept_for_its_schedule, text)
    text = _without_summary_sentence(text)
    text = _INTENT.sub("", text)
    text = re.sub(r"(?<!\?)\?+(?=\s|$)", ".", text)  # a question is a sentence like any other
    text = re.sub(r"([.;,:])(?:\s*[,;])+", r"\1", text)  # what a removed phrase left between two marks
    text = re.sub(r"(?<!\s)\s+([;,])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,;")
