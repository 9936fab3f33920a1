"""A description's text → its steps, in execution order (no kinds yet, only words).

Quoted text, URLs and parenthesised asides are protected first; then the text is split on commas,
semicolons, sentences, arrows, list markers, "then", "after that" and "and" (when a verb follows
and the halves are different work); "A after B" is turned round into B, A; a bare "otherwise," or
"if not," introduces the step after it as the other arm of a branch.
"""

from __future__ import annotations

import re

from assistant.generation.kinds import classify

_VERB_TEXT = """deploy back backup upload download copy move sync send post notify alert email mail message run execute
    call fetch get pull push load extract transform clean validate check wait sleep pause train score build
    compile test refresh rebuild update insert delete purge archive compress export import query ping trigger
    start stop restart generate create compute aggregate process publish write read parse scrape crawl index
    vacuum analyze analyse report summarize summarise merge join dedupe deduplicate migrate backfill snapshot
    scan monitor poll launch spin submit invoke hit tell kick rotate reindex optimize optimise materialize
    sense watch store save dump truncate drop warm flush resize convert encrypt decrypt zip unzip slack page
    then finally also mirror replicate enrich score retrain evaluate predict upsert append rollup roll apply
    transfer stage ingest land collect gather prune expire cleanup let inform recompute reload classify
    detect promote demote geocode transcode transcribe decode encode score"""
VERBS = frozenset(_VERB_TEXT.split())


def is_verb(word: str) -> bool:
    """A verb of a step, also in the third person ("pulls", "pushes") of "a dag that pulls ..."."""
    word = word.lower()
    return (
        word in VERBS
        or (word.endswith("s") and word[:-1] in VERBS)
        or (word.endswith("es") and word[:-2] in VERBS)
        or (word.endswith("ed") and (word[:-2] in VERBS or word[:-1] in VERBS))  # "... and stored in x"
        or (word.endswith("ied") and word[:-3] + "y" in VERBS)
    )


_STOP_TEXT = """a an the it its them this that these those our my your their his her we us i then finally first next
    also afterwards please and of some all any every each just"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_LEADING = re.compile(
    r"^(?:and\s+)?(?:then|finally|first(?:ly)?|next|afterwards|after\s+that|also|lastly|once\s+done|that|which|subsequently|so|basically|just|fourth|fifth|sixth|after(?=\s+if\b)|"
    r"when\s+done|and|last(?:ly)?|second(?:ly)?|third(?:ly)?|step\s+\d+:?)\b[\s,:]*",
    re.IGNORECASE,
)
_SPLIT = re.compile(
    r"\s*(?:[;,]|\.\s+|\.$|->|=>|→|>>|:\s)\s*(?:and\s+)?(?:then\s+)?"
    r"|(?<!\bis)(?<!\bare)(?<!\bbe)(?<!\bgets)\s+(?:and\s+)?then\s+"  # not "the file is then uploaded"
    r"|\s+(?=otherwise\b|else\b)|\s+and\s+(?=if\b)|\s+and\s+(?=the\s+\w+(?:\s+\w+)?\s+(?:is|are)\s+\w+ed\b)|\s+after\s+that\s+|\s+afterwards\s+|\s+followed\s+by\s+|\s+subsequently\s+"
    r"|\s+before\s+(?!anything\b|everything\b)(?=\w+ing\b|\w+\s)",
    re.IGNORECASE,
)
# "1) wait ... 2) load ...", "1. wait ... 2. load ...": item markers, once a list has a first and a second.
_LIST_MARKER = re.compile(r"(?:^|\s)\(?(\d{1,2})[.)]\s+")
# "Nightly feature pipeline: wait for ...": a title before a colon, when it has no verb of its own.
_TITLE = re.compile(r"^((?:[^:\"/()]|\([^()]*\)){1,60}):\s+(?=\S)")
_AND = re.compile(r"\s+(?:and|&)\s+(?:also\s+)?(?=(\w+))", re.IGNORECASE)
_AFTER = re.compile(r"^(.+?)\s+(?:after|once|when|as\s+soon\s+as)\s+(.+)$", re.IGNORECASE)
_LEAD_CONDITION = re.compile(
    r"^(?:after|once|when|as\s+soon\s+as|(?:up)?on\s+completion\s+of|after\s+completion\s+of)\s+(.+)$",
    re.IGNORECASE,
)
# "otherwise,", "if not,", "if there aren't,": the step after it is the other arm of the branch.
_BARE_OTHERWISE = re.compile(
    r"^(?:otherwise|else|or\s+else|if\s+(?:not|no|none|false)"
    r"|if\s+(?:there|it|they|that|this|so)\s+(?:aren't|are\s+not|isn't|is\s+not|don't|do\s+not|doesn't|does\s+not"
    r"|fails?|failed|wasn't|weren't)(?:\s+any)?|if\s+(?:it\s+)?(?:fails|failed))$",
    re.IGNORECASE,
)
# "when it's loaded", "once that's done": only "after the step before", which the chain says already.
_TRIVIAL_CONDITION = re.compile(
    r"(?i)^(?:(?:it|that|this|they|everything|all\s+that"
    r"|(?:the\s+)?(?!\S*(?:dag|pipeline|workflow|file|feed)\b)\w+(?:\s+(?!(?:dag|pipeline|workflow|file|feed)\b)\w+)?)"
    r"(?:'s|\s+is|\s+are|\s+has|\s+have)?\s+(?:been\s+)?)?"
    r"(?:done|loaded|finished|finishes|finish|completes?|completed|ready|over|succeeded|succeeds|through|uploaded"
    r"|shows\s+up|arrives|lands|appears|exists)$"
)
_TRIVIAL_LEAD = re.compile(
    r"(?i)^(?:after|once|when|as\s+soon\s+as)\s+(?:(?:it|that|this|they|everything"
    r"|(?:the\s+)?(?!\S*(?:dag|pipeline|workflow|file|feed)\b)\w+(?:\s+(?!(?:dag|pipeline|workflow|file|feed)\b)\w+)?)"
    r"(?:'s|\s+is|\s+has|\s+are|\s+have)?\s+(?:been\s+)?)?"
    r"(?:done|loaded|finished|finishes|complete[ds]?|ready|over|through|uploaded|written|succeeded|succeeds|ends"
    r"|shows\s+up|arrives|lands|appears|exists)\b[\s,]*(?=\S)"
)
# "push it to S3 and when done message #infra": "when done" is "then", whatever comes before it.
_WHEN_DONE = re.compile(
    r"(?i)[\s,]*\b(?:and\s+)?(?:when|once|after)\s+(?:that'?s?\s+|it'?s?\s+|this\s+is\s+|that\s+is\s+)?"
    r"(?:done|finished|complete[d]?)\b,?\s*(?=\S)"
)
# "copy the files from s3://x/ parse them load ...": a verb right after a link or "them"/"it" starts a step.
_RUN_ON = re.compile(
    r"(\x00\d+\x00|\b(?:them|it))\s+(?=(?:parse|load|send|email|upload|copy|transform|clean|validate|post|notify"
    r"|run|compute|write|insert|push|pull|call|trigger|archive)\b)",
    re.IGNORECASE,
)
# "sleep 2 minutes and after restart the service": "after" meaning "afterwards".
_AND_AFTER = re.compile(
    r"(?i)\s*\band\s+after(?:wards)?\s+(?:is\s+|we\s+)?(?=[a-z]+\b)(?!the\b|that\b|it\b|this\b)"
)
_FIRST_LAST = re.compile(r"(?i)\s+(?:first|beforehand|before\s+anything\s+else)$")
_BEFORE_LEAD = re.compile(r"(?i)^(?:before|prior\s+to)\s+(?=\w+ing\b)")
OTHERWISE = re.compile(r"^(?:otherwise|else|if\s+not)\b[\s,]*", re.IGNORECASE)


def _protect(text: str) -> tuple[str, list[str]]:
    """Replace quoted segments by placeholders so their commas and "then"s do not split steps."""
    saved: list[str] = []

    def keep(match: re.Match[str]) -> str:
        saved.append(match.group(0))
        return f"\x00{len(saved) - 1}\x00"

    # Parentheses are asides ("clean them (drop nulls and dedupe)"), not steps of their own.
    pattern = r"`[^`]*`|\"[^\"]*\"|(?<!\w)'[^']{3,}'(?!\w)|\([^()]*\)|\b[a-z][a-z0-9+.-]*://[^\s;]*[^\s;.,]"
    return re.sub(pattern, keep, text), saved


def _restore(text: str, saved: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: saved[int(m.group(1))], text)


def _split_and(segment: str, saved: list[str]) -> list[str]:
    """Split on "and" only where the next word is a verb: "load and clean" stays one step.

    Two halves stay one step when the first is a bare verb sharing the object of the second
    ("build and push the image"), or when they are the same kind of work and the first is no
    more than a few words ("gzip the folder and move it with a shell command").
    """
    parts: list[str] = []
    start = 0
    for match in _AND.finditer(segment):
        if is_verb(match.group(1)):
            parts.append(segment[start : match.start()])
            start = match.end()
    parts.append(segment[start:])
    merged = [parts[0]]
    for part in parts[1:]:
        if _one_step(_restore(merged[-1], saved), _restore(part, saved)):
            merged[-1] = f"{merged[-1]} and {part}"
        else:
            merged.append(part)
    return merged


def _one_step(first: str, second: str) -> bool:
    words = _LEADING.sub("", first.strip()).split()
    if len(words) <= 1:
        return True
    # "gzip the folder and move it to /archive with a shell command": the tool named at the end
    # is the only cue to the kind of both halves, so they are one step done with that tool.
    instrument = _INSTRUMENT.search(second)
    if instrument is None:
        # "query the swipes and aggregate them into attendance.hourly": one SQL statement
        return classify(first) == "sql" and classify(second) == "sql"
    if classify(second[: instrument.start()]) != "python":
        return False
    return classify(first) in ("python", classify(second))


_INSTRUMENT = re.compile(
    r"(?i)\s+(?:with|using|via|through|in)\s+(?:a\s+|an\s+|the\s+|our\s+)?(?:[\w-]+\s+)?"
    r"(?:shell|bash|python|script|command|cli|tool|docker|spark)\b[\w -]{0,20}$"
)


def _unnumbered(text: str) -> str:
    """List item markers turned into step separators, when the text is a numbered list."""
    numbers = [int(m.group(1)) for m in _LIST_MARKER.finditer(text)]
    if len(numbers) < 2 or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return text  # "2) ... 3) ...": a list (its "1)" may have opened a line); "at 5. then": not
    return _LIST_MARKER.sub("; ", text).lstrip("; ")


def _without_title(text: str) -> str:
    match = _TITLE.match(text)
    if not match:
        return text
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", match.group(1))]
    if any(w in _CONDITION_WORDS for w in words):
        return text  # "once the ingest dag is done: ...", "if it fails: ..." are steps, not titles
    rest = text[match.end() :]
    named = bool(words) and words[-1] in _WORKFLOW_NOUNS  # "kick off the attribution run: ..."
    # A heading names no service, or sums up the several steps after it ("rotate db creds: call
    # vault, wait 2 min, run the check").
    if named or classify(match.group(1)) == "python" or _SPLIT.search(_protect(rest)[0]):
        return rest
    return text


_WORKFLOW_NOUNS = frozenset(
    {"run", "job", "pipeline", "workflow", "dag", "etl", "process", "flow", "routine", "procedure", "runbook"}
)


_CONDITION_WORDS = frozenset(
    {"once", "when", "after", "if", "unless", "whether", "until", "before", "whenever"}
)


def _split_condition(part: str) -> list[str] | None:
    """["if it is raining", "send an email"] for "if it is raining send an email", else None."""
    words = part.split()
    if len(words) < 4 or words[0].lower() not in {"if", "unless"}:
        return None
    # "if yes run X", "if so, email Y": the arm's action starts right after its one-word condition.
    first = 2 if words[1].lower().strip(",") in {"yes", "so", "true", "no", "not"} else 3
    for index in range(first, len(words)):
        word = words[index].lower()
        if word == "then" and index + 1 < len(words):
            return [" ".join(words[:index]), " ".join(words[index + 1 :])]
        after = words[index + 1].lower() if index + 1 < len(words) else ""
        if (word in VERBS and (word != "back" or after == "up")) or (
            word in _VERBS_BEFORE_AN_OBJECT and after in {"a", "an", "the"}
        ):
            return [" ".join(words[:index]), " ".join(words[index:])]
    return None


_VERBS_BEFORE_AN_OBJECT = frozenset({"open", "close", "file", "raise", "page", "log", "create"})


def split_steps(text: str) -> list[str]:
    """The steps of a description (schedule already removed), in execution order."""
    text = _AND_AFTER.sub(", then ", _WHEN_DONE.sub(", then ", text))
    protected, saved = _protect(_unnumbered(_without_title(text.strip())))
    protected = _RUN_ON.sub(r"\1, ", protected)
    steps: list[str] = []
    firsts: list[str] = []  # "... so wait for it first": before everything else
    held: str | None = None  # "before loading X, validate Y": X waits for the step after it
    prefix = ""  # a bare "otherwise," / "if not," waiting for the step it introduces
    for segment in _SPLIT.split(protected):
        for part in _split_and(segment or "", saved):
            part = _LEADING.sub("", part.strip()).strip(" .,;:")
            part = _LEADING.sub("", part).strip(" .,;:")
            if not part:
                continue
            if _BARE_OTHERWISE.match(part):
                prefix = "otherwise "
                continue
            part, prefix = _TRIVIAL_LEAD.sub("", prefix + part), ""
            if _FIRST_LAST.search(part):
                firsts.append(_FIRST_LAST.sub("", part))
                continue
            if _BEFORE_LEAD.match(part):
                held = _HELD + _BEFORE_LEAD.sub("", part)
                continue
            read = _read_part(part)
            steps.extend(read)
            if held is not None and read:
                steps.append(held)
                held = None
    if held is not None:
        steps.append(held)
    restored = [_restore(s, saved).strip() for s in firsts + steps]
    return [
        s.removeprefix(_HELD)
        for i, s in enumerate(restored)
        if _meaningful(s) and not (s.startswith(_HELD) and _said_again(s, restored[i + 1 :]))
    ]


_HELD = "\x01"  # marks a step said with "before ..." until it is placed


def _said_again(step: str, later: list[str]) -> bool:
    """ "Prior to refreshing the pricing table, fetch ... Lastly the pricing table is refreshed":
    the same work named twice (two significant words in common) is one step, the later one."""
    stems = _stems(step)
    return any(len(stems & _stems(other)) >= 2 for other in later)


def _stems(text: str) -> set[str]:
    plain = re.sub(r"\S*://\S*|`[^`]*`|/\S+|\S+@\S+", " ", text.lower())
    return {w[:5] for w in re.findall(r"[a-z]{4,}", plain) if w not in STOP_WORDS}


def _read_part(part: str) -> list[str]:
    """One part between separators → its steps: a condition and its action, "A after B" → B, A."""
    otherwise = OTHERWISE.match(part)
    condition = None if otherwise else _split_condition(part)
    if condition:
        return condition  # "if it is raining send an email": the branch, then its action
    lead = _LEAD_CONDITION.match(part)
    if lead and re.match(r"(?i)(?:up)?on\s+completion|after\s+completion", part):
        return [f"wait for {lead.group(1)}"]  # "upon completion of the X workflow": a sensor on it
    if lead:
        # "once it shows up,", "once reindexing completes,": after the step before, no step of its own
        return [] if _TRIVIAL_CONDITION.match(lead.group(1).strip(" .?!")) else [lead.group(1)]
    after = _AFTER.match(part)
    if after and not otherwise:
        if _TRIVIAL_CONDITION.match(after.group(2).strip(" .?!")):
            return [after.group(1)]  # "email ops when it's loaded": after the step before
        return [after.group(2), after.group(1)]  # "email the team after the load finishes"
    return [part]


def _meaningful(step: str) -> bool:
    words = [w for w in re.findall(r"[a-z0-9]+", step.lower()) if w not in STOP_WORDS]
    filler = {
        "done",
        "it",
        "so",
        "on",
        "to",
        "do",
        "nothing",
        "otherwise",
        "else",
        "skip",
        "run",
        "runs",
        "execute",
        "should",
        "happens",
        "happen",
        "manually",
        "manual",
        "triggered",
        "scheduled",
        "schedule",
        "anything",
        "everything",
        "start",
        "check",
        "trigger",
        "by",
        "hand",
        "needed",
        "only",
        "no",
        "ll",
        "will",
        "usually",
        "around",
        "again",
        "please",
        "if",
        "not",
        "more",
        "local",
        "locally",
        "obviously",
        "fine",
        "is",
        "for",
        "now",
        "need",
    }
    return bool(words) and not all(w in filler for w in words)
