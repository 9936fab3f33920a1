"""A description's text → its steps, in execution order (no kinds yet, only words).

Quoted text, URLs and parenthesised asides are protected first; then the text is split on commas,
semicolons, sentences, arrows, list markers, "then", "after that" and "and" (when a verb follows
and the halves are different work); "A after B" is turned round into B, A; a bare "otherwise," or
"if not," introduces the step after it as the other arm of a branch.

A pattern that starts with whitespace is written ``(?<!\\s)\\s+`` (or ``(?:(?<!\\s)\\s+)?`` for
``\\s*``): it may start where a run of whitespace starts, never inside one. Starting inside could
only find what starting at the run's beginning found already, and a long run would otherwise be
scanned again from each of its positions.
"""

from __future__ import annotations

import re

from assistant.generation.kinds import classify
from assistant.generation.words import FILLER_WORDS, STOP_WORDS, VERBS, is_verb

# Words that order the steps rather than say one, at the start of a part: "and then", "finally,",
# "secondly", "step 2:", "once done".
_ORDER_WORDS = (
    r"then|finally|first(?:ly)?|next|afterwards|after\s+that|also|once\s+done|that|which|subsequently|so"
    r"|basically|just|fourth|fifth|sixth|after(?=\s+if\b)|when\s+done|and|last(?:ly)?|second(?:ly)?"
    r"|third(?:ly)?|step\s+\d+:?|go\s+ahead(?:\s+and)?"
)
_LEADING = re.compile(rf"^(?:and\s+)?(?:{_ORDER_WORDS})\b[\s,:]*", re.IGNORECASE)

# Where one step ends and the next begins, tried in this order at each place:
_PUNCTUATION_BREAK = (  # ", ", "; and then ", ". ", " -> ", ": "
    r"(?:(?<!\s)\s+)?(?:[;,]|\.\s+|\.$|->|=>|→|>>|:\s)\s*(?:and\s+)?(?:then\s+)?"
)
_THEN_BREAK = (  # " then ", " and then ", but not "the file is then uploaded"
    r"(?<!\bis)(?<!\bare)(?<!\bbe)(?<!\bgets)(?<!\s)\s+(?:and\s+)?then\s+"
)
_OTHERWISE_BREAK = r"(?<!\s)\s+(?=otherwise\b|else\b)"  # " otherwise email ops"
_AND_IF_BREAK = r"(?<!\s)\s+and\s+(?=if\b)"  # " and if there are errors ..."
_AND_PASSIVE_BREAK = (  # " and the report is emailed"
    r"(?<!\s)\s+and\s+(?=the\s+\w+(?:\s+\w+)?\s+(?:is|are)\s+\w+ed\b)"
)
_AFTERWARDS_BREAK = (  # " after that ", " afterwards ", " followed by ", " subsequently "
    r"(?<!\s)\s+(?:after\s+that|afterwards|followed\s+by|subsequently)\s+"
)
_BEFORE_BREAK = (  # " before loading it", " before we load it" (not "before anything else")
    r"(?<!\s)\s+before\s+(?!anything\b|everything\b)(?=\w+ing\b|\w+\s)"
)
_SPLIT = re.compile(
    "|".join(
        (
            _PUNCTUATION_BREAK,
            _THEN_BREAK,
            _OTHERWISE_BREAK,
            _AND_IF_BREAK,
            _AND_PASSIVE_BREAK,
            _AFTERWARDS_BREAK,
            _BEFORE_BREAK,
        )
    ),
    re.IGNORECASE,
)
# "1) wait ... 2) load ...", "1. wait ... 2. load ...": item markers, once a list has a first and a second.
_LIST_MARKER = re.compile(r"(?:^|\s)\(?(\d{1,2})[.)]\s+")
# "Nightly feature pipeline: wait for ...": a title before a colon, when it has no verb of its own.
_TITLE = re.compile(r"^((?:[^:\"/()]|\([^()]*\)){1,60}):\s+(?=\S)")
# " and ", " & also ": where two steps may meet; group 1 is the word after it (a verb, if they do).
_AND = re.compile(r"(?<!\s)\s+(?:and|&)\s+(?:also\s+)?(?=(\w+))", re.IGNORECASE)
# "email the team after the load finishes": the work (group 1), then what it waits for (group 2).
_AFTER = re.compile(r"^(.+?)(?<!\s)\s+(?:after|once|when|as\s+soon\s+as)\s+(.+)$", re.IGNORECASE)
# "once the export is done", "upon completion of the X workflow" starting a part.
_LEAD_CONDITION = re.compile(
    r"^(?:after|once|when|as\s+soon\s+as|(?:up)?on\s+completion\s+of|after\s+completion\s+of)\s+(.+)$",
    re.IGNORECASE,
)
# "otherwise,", "if not,", "if there aren't,": the step after it is the other arm of the branch.
_BARE_OTHERWISE = re.compile(
    r"^(?:otherwise|else|or\s+else|if\s+(?:not|no|none|false)"
    r"|if\s+(?:there|it|they|that|this|so)\s+(?:aren't|are\s+not|isn't|is\s+not|don't|do\s+not|doesn't|does\s+not"
    r"|fails?|failed|wasn't|weren't|didn'?t|did\s+not|hasn'?t|has\s+not|isnt|doesnt|wasnt)(?:\s+any)?"
    r"|if\s+(?:it\s+)?(?:fails|failed))$",
    re.IGNORECASE,
)
# What has finished, in "when it's loaded", "once the export is done": "it", "that", or a thing
# named in one or two words that is no DAG, file or feed (waiting for those is a step: a sensor).
_WAITED_FOR = r"(?:dag|pipeline|workflow|file|feed)\b"
_FINISHED_THING = rf"(?:the\s+)?(?!\S*{_WAITED_FOR})\w+(?:\s+(?!{_WAITED_FOR})\w+)?"
_HAS_BEEN = r"(?:'s|\s+is|\s+are|\s+has|\s+have)?\s+(?:been\s+)?"
# "when it's loaded", "once that's done": only "after the step before", which the chain says already.
_TRIVIAL_CONDITION = re.compile(
    rf"(?i)^(?:(?:it|that|this|they|everything|all\s+that|{_FINISHED_THING}){_HAS_BEEN})?"
    r"(?:done|loaded|finished|finishes|finish|completes?|completed|ready|over|succeeded|succeeds|through|uploaded"
    r"|shows\s+up|arrives|lands|appears|exists)$"
)
# "once it's written, ..." starting a part: said only to chain it after the step before; dropped.
_TRIVIAL_LEAD = re.compile(
    rf"(?i)^(?:after|once|when|as\s+soon\s+as)\s+(?:(?:it|that|this|they|everything|{_FINISHED_THING}){_HAS_BEEN})?"
    r"(?:done|loaded|finished|finishes|complete[ds]?|ready|over|through|uploaded|written|succeeded|succeeds|ends"
    r"|shows\s+up|arrives|lands|appears|exists)\b[\s,]*(?=\S)"
)
# "push it to S3 and when done message #infra": "when done" is "then", whatever comes before it.
_WHEN_DONE = re.compile(
    r"(?i)(?:(?<![\s,])[\s,]+)?\b(?:and\s+)?(?:when|once|after)\s+(?:that'?s?\s+|it'?s?\s+|this\s+is\s+|that\s+is\s+)?"
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
    r"(?i)(?:(?<!\s)\s+)?\band\s+after(?:wards)?\s+(?:is\s+|we\s+)?(?=[a-z]+\b)(?!the\b|that\b|it\b|this\b)"
)
# "... so wait for it first", "check the schema beforehand": this step goes before all the others.
_FIRST_LAST = re.compile(r"(?i)(?<!\s)\s+(?:first|beforehand|before\s+anything\s+else)$")
# "before loading X, validate Y": X is held back until the step after it is placed.
_BEFORE_LEAD = re.compile(r"(?i)^(?:before|prior\s+to)\s+(?=\w+ing\b)")
# "otherwise email ops", "else skip it", "if not, page on-call": the other arm of the branch before it.
OTHERWISE = re.compile(r"^(?:otherwise|else|if\s+not)\b[\s,]*", re.IGNORECASE)
# What the splitter must not cut into: `code`, "quotes", 'quotes' of 3 characters or more (never the
# apostrophe of "it's"), (asides: "clean them (drop nulls and dedupe)") and links (s3://a/b.csv).
_PROTECTED = re.compile(
    r"`[^`]*`|\"[^\"]*\"|(?<!\w)'[^']{3,}'(?!\w)|\([^()]*\)|\b[a-z][a-z0-9+.-]*://[^\s;]*[^\s;.,]"
)
# "\x003\x00": the placeholder of the fourth protected segment.
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
# "... with a shell command", "using our python tool": the tool a step is done with, at its end.
_INSTRUMENT = re.compile(
    r"(?i)(?<!\s)\s+(?:with|using|via|through|in)\s+(?:a\s+|an\s+|the\s+|our\s+)?(?:[\w-]+\s+)?"
    r"(?:shell|bash|python|script|command|cli|tool|docker|spark)\b[\w -]{0,20}$"
)
# Links, `code`, paths and addresses, left out when comparing the words of two steps. A link or an
# address is read from the start of its word (or right after `code`), never from inside it.
_NOT_WORDS = re.compile(r"(?<![^\s`])\S*://\S*|`[^`]*`|/\S+|(?<![^\s`])\S+@\S+")

# The last word of a title that names the workflow: "kick off the attribution run: ...".
_WORKFLOW_NOUNS = frozenset(
    {"run", "job", "pipeline", "workflow", "dag", "etl", "process", "flow", "routine", "procedure", "runbook"}
)
# "once the ingest dag is done: ...", "if it fails: ...": a step, not a title.
_CONDITION_WORDS = frozenset(
    {"once", "when", "after", "if", "unless", "whether", "until", "before", "whenever"}
)
# "if the count is off open a ticket": verbs that start the action only before "a"/"an"/"the".
_VERBS_BEFORE_AN_OBJECT = frozenset({"open", "close", "file", "raise", "page", "log", "create", "test"})
_HELD = "\x01"  # marks a step said with "before ..." until it is placed


def _protect(text: str) -> tuple[str, list[str]]:
    """Replace quoted segments by placeholders so their commas and "then"s do not split steps."""
    saved: list[str] = []

    def keep(match: re.Match[str]) -> str:
        saved.append(match.group(0))
        return f"\x00{len(saved) - 1}\x00"

    return _PROTECTED.sub(keep, text), saved


def _restore(text: str, saved: list[str]) -> str:
    return _PLACEHOLDER.sub(lambda m: saved[int(m.group(1))], text)


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


_DETERMINERS = frozenset(
    {"the", "a", "an", "this", "that", "our", "my", "its", "their", "new", "latest", "a/b"}
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
        if words[index - 1].lower() in _DETERMINERS:
            continue  # "if the new build passed", "if the A/B test ...": a noun there, not the action
        if (word in VERBS and word not in _VERBS_BEFORE_AN_OBJECT and (word != "back" or after == "up")) or (
            word in _VERBS_BEFORE_AN_OBJECT and after in {"a", "an", "the"}
        ):
            return [" ".join(words[:index]), " ".join(words[index:])]
    return None


def split_steps(text: str) -> list[str]:
    """The steps of a description (schedule already removed), in execution order."""
    text = _AND_AFTER.sub(", then ", _WHEN_DONE.sub(", then ", text))
    text = re.sub(r"\.{2,}|…", " \u2026 ", text)  # "INSERT ... SELECT": an ellipsis ends no sentence
    text = re.sub(r"(?i)\bgo\s+ahead\s+and\s+", "", text)  # "otherwise go ahead and run X": run X
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


def _said_again(step: str, later: list[str]) -> bool:
    """ "Prior to refreshing the pricing table, fetch ... Lastly the pricing table is refreshed":
    the same work named twice (two significant words in common) is one step, the later one."""
    stems = _stems(step)
    return any(len(stems & _stems(other)) >= 2 for other in later)


def _stems(text: str) -> set[str]:
    plain = _NOT_WORDS.sub(" ", text.lower())
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
    """Does the step say some work, not only "run it manually" or "otherwise do nothing"?"""
    words = [w for w in re.findall(r"[a-z0-9]+", step.lower()) if w not in STOP_WORDS]
    return bool(words) and not all(w in FILLER_WORDS for w in words)
