"""Explanation questions: messages that ask how a capability works, not for it to be used.

"how do I roll back a repository to an earlier commit?" uses the words of ``rollback`` but asks
for an explanation; "roll back etl to 3f9c2ab" asks for the action. What tells them apart is the
form of the sentence and whether it names a concrete thing to act on:

* the form (:func:`explanation_form`): "how do I / can we / how to …", "how does … work",
  "how is … stored", "what does … check / do / mean", "what happens when …", "why does/would …",
  "can I / should I …", "is it possible to / is there a way to …", "explain …", "show me how …";
* a concrete target (:func:`names_a_target`): an identifier (``etl_daily``, ``v1.4.0``, a date),
  a URL, a path, a JSON object, a commit id, a named repository or DAG ("the etl repo"), a
  particular run ("the last run") or moment ("now"); or a pronoun right after the question's verb,
  pointing at the conversation ("how do I roll it back").

A message of that form naming no target is a ``question`` (or ``help``) whatever its verbs: the
router never gives it an action intent (:func:`blocked_matrix`), and when it speaks of the
assistant's own features ("suppress a security finding", "a github webhook") it is a cue for
``question`` (:func:`about_the_assistant`, used by router_cues). "is ./dags/etl.py safe?" and
"will aws_deploy fail" are not of that form, and "how do I roll back etl_daily?" names its target:
they keep their intent.

The other way round, a request in the imperative with one of the assistant's action verbs
("trigger the backup dag with mode set to full") is never a ``question``, however close its words
are to the questions' ("how is a dag triggered") (:func:`imperative`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.chat.router_domain import DOMAIN_WORDS, GLOSSARY
from assistant.chat.router_text import NAME_TOKEN, special_spans, words_of

if TYPE_CHECKING:
    import numpy

# Intents that never answer an explanation question: everything but question, help and unknown.
NOT_ACTIONS = frozenset({"question", "help", "unknown"})

_LEAD_IN = r"^(?:(?:so|ok|okay|hey|hi|hello|also|btw|quick question|question|one more thing|and)[,:!]?\s+)*"
_FORMS = (
    # how to do something: "how do I", "how can we", "how would one", "how to"
    r"how (?:do|does|can|could|should|would|will|might|must) (?:i|we|one|you|people|users|teams)\b",
    r"how to\b",
    # how something works: "how does rollback work", "how do webhooks trigger a sync"
    r"how (?:does|do) (?!i\b|we\b|you\b|it\b)",
    # how something is done: "how are credentials stored", "how is a dag validated"
    r"how (?:is|are) (?:\S+ ){1,5}?\w+(?:ed|en)\b",
    # what something does: "what does the security scan check", "what do suppressions mean"
    r"what (?:does|do) (?:\S+ ){1,6}?(?:do|mean|check|checks|look|cover|catch|detect|flag|scan|test|verify"
    r"|support|need|require|involve|include|change|stand|happen|cost|count)\b",
    r"what happens (?:when|if|after|before|to)\b",
    r"what(?:'s| is| are) the (?:difference|differences|point|purpose|meaning)\b",
    r"what(?:'s| is| are) the (?:best|right|recommended|proper|correct|usual) (?:ways?|practices?)\b",
    # why something is so (not why a run failed: that is a question for the logs)
    r"why (?:do|does|would|should|is|are|must|will|can|can't|won't|doesn't|don't|isn't|aren't)\b"
    r"(?!.*\b(?:fail\w*|crash\w*|broke|broken|break\w*|error\w*|red)\b)",
    # whether something can be done
    # (not a polite request: "can I see the logs", "could we get the status")
    r"(?:can|could|may|should|shall) (?:i|we|one)\b"
    r"(?! (?:please )?(?:see|get|have|view|look|read|list|know)\b)",
    r"is (?:it|there) (?:possible|a way|any way|an option|a setting|a command)\b",
    r"are there (?:ways|options|settings|commands)\b",
    r"(?:(?:can|could|would) you (?:please )?)?(?:explain|describe)\b",
    r"(?:(?:can|could|would) you (?:please )?)?(?:tell|show|teach) me (?:how|why)\b",
    r"i(?: want| need| would like|'d like) to (?:know|understand|learn) (?:how|what|why|whether|if)\b",
    r"(?:do you know|any idea) (?:how|what|why|whether|if)\b",
    r"i (?:don't|do not) (?:understand|get|know) (?:how|what|why|whether|if)\b",
)
FORM_RE = re.compile(_LEAD_IN + "(?:" + "|".join(_FORMS) + ")")

SHA_RE = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b", re.IGNORECASE)
THING_RE = re.compile(
    r"\b(?:the|my|our|this|that|your) (\w+) (?:repo|repository|dag|workflow|pipeline|job)s?\b"
)
CALLED_RE = re.compile(r"\b(?:repo|repository|dag|workflow|pipeline|job) (?:named|called) \w")
# A request in the imperative with a verb only the assistant's actions take: running, syncing,
# rolling back and validating DAGs. Verbs that may ask for knowledge or for something the assistant
# does not do ("show", "explain", "connect airflow to snowflake", "install a provider") are not here.
IMPERATIVE_RE = re.compile(
    r"^(?:(?:please|pls|now|ok|okay|so|just|go ahead and|can you|could you|would you|will you)[,]?\s+)*"
    r"(?:trigger|run|rerun|re-run|kick off|launch|execute|sync|resync|re-sync|redeploy|untrack|validate"
    r"|scan|lint|roll back|rollback|revert|downgrade)\b"
    # nouns, not verbs: "trigger rules", "run history", "sync frequency"
    r"(?! (?:rules?|dates?|history|ids?|types?|times?|order|logic|conditions?|modes?|policy|policies"
    r"|frequency|intervals?|status)\b)"
)

# "can I run etl now?": a request about the present moment, not about how things work
NOW_RE = re.compile(r"\b(?:now|right away|immediately|again|today|tonight|this morning|yet)\b")
# "roll it back", "run that one": a thing of the conversation, right after the question's verb
POINTER_RE = re.compile(r"^(?:\S+ ){0,2}(?:it|them|this one|that one|its)\b")
# a particular run or release: "undo the last deployment"
PARTICULAR_RE = re.compile(
    r"\b(?:the|my|our|this|that) (?:last|latest|previous|current|failed|failing|new|next) "
    r"(?:run|runs|deploy|deployment|release|commit|version|sync)\b"
)


# Words that describe a kind of repository or DAG rather than name one: "a private repo",
# "my github repository", "the company dags".
def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


GENERIC_WORDS = (
    DOMAIN_WORDS
    | GLOSSARY
    | _words(
        """
    company community personal private public own new old other existing shared same first next
    whole main default local remote git python airflow dags dag assistant every any each which
    """
    )
)
# The assistant's own features: an explanation question using one is a question to the
# assistant, not an everyday one ("how do I configure a github webhook" vs "how do I cook pasta").
ASSISTANT_TERMS = _words(
    """
    webhook webhooks suppress suppressed suppressing suppression suppressions finding findings
    namespace namespaces credential credentials rollback rollbacks redeploy redeploys validation
    validations validator validators linter lint linting marketplace deploy deployed deploying deployment
    deployments release releases commit commits branch branches sync syncing synced resync repo repos
    repository repositories dag dags workflow workflows pipeline pipelines airflow
    """
)
ASSISTANT_PHRASES = re.compile(
    r"\b(?:security|safety) (?:scan|scans|scanner|check|checks|finding|findings|issues?|rules?|stages?)\b"
    r"|\bfailure (?:warning|warnings|prediction|predictions|check|checks|risk)\b"
    r"|\b(?:roll back|rolling back|roll it back)\b"
    r".*\b(?:repo|repository|dag|commit|version|release|deploy\w*)\b"
    r"|\bgenerat\w+ (?:a |the )?(?:dag|dags|workflow|pipeline)s?\b"
    r"|\b(?:deploy|ssh) keys?\b|\baccess tokens?\b|\bpersonal access\b"
)


def explanation_form(routing_text: str) -> bool:
    """Is the message (routing text: lower case, typos fixed) shaped as a how/what/why question?"""
    return bool(FORM_RE.match(routing_text))


def names_a_target(text: str, routing_text: str) -> bool:
    """Does the message name a concrete thing, run or moment to act on (see the module docstring)?

    ``text`` is the message as written, ``routing_text`` its routing text, where identifiers
    not known as words read ``x``. Pronouns are left to :func:`explains`.
    """
    if any(not span.text.startswith("{{") for span in special_spans(text)) or SHA_RE.search(text):
        return True
    if NAME_TOKEN in words_of(routing_text):
        return True
    if CALLED_RE.search(routing_text):
        return True
    if any(m.group(1) not in GENERIC_WORDS for m in THING_RE.finditer(routing_text)):
        return True
    return bool(PARTICULAR_RE.search(routing_text) or NOW_RE.search(routing_text))


def explains(text: str, routing_text: str) -> bool:
    """An explanation question naming no target: never an action.

    A pronoun counts as a target only right after the question's verb: "how do I roll it back"
    points at the conversation, "how do I clear a task to rerun it" at its own task.
    """
    form = FORM_RE.match(routing_text)
    if form is None or names_a_target(text, routing_text):
        return False
    return not POINTER_RE.match(routing_text[form.end() :].strip())


def imperative(routing_text: str) -> bool:
    """Is the message a request in the imperative ("trigger the backup dag")?"""
    return bool(IMPERATIVE_RE.match(routing_text))


def about_the_assistant(routing_text: str) -> bool:
    """Does the message speak of the assistant's features or of DAGs and repositories?"""
    return bool(ASSISTANT_PHRASES.search(routing_text)) or any(
        w in ASSISTANT_TERMS for w in words_of(routing_text)
    )


def blocked_matrix(
    texts: Sequence[str], routing_texts: Sequence[str], intents: Sequence[str]
) -> numpy.ndarray:
    """(texts, intents): 1.0 for the intents a message's form rules out.

    The actions for an explanation question naming no target; ``question`` for a request in the
    imperative.
    """
    import numpy as np

    actions = np.array([intent not in NOT_ACTIONS for intent in intents], dtype=np.float32)
    questions = np.array([intent == "question" for intent in intents], dtype=np.float32)
    result = np.zeros((len(texts), len(intents)), dtype=np.float32)
    for row, (text, routing_text) in enumerate(zip(texts, routing_texts, strict=True)):
        if explains(text, routing_text):
            result[row] = actions
        elif imperative(routing_text):
            result[row] = questions
    return result
