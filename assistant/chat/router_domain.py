"""What marks a message as being about this assistant's world: Airflow terms, names, URLs.

Two uses:

* the glossary of Airflow's vocabulary joins the router's known words (so "xcom" is never
  "corrected" into something else, and "xcmo" is corrected into it) and feeds the `question` cue:
  "what are pools and priority weights" is a question about Airflow, "what is a linked list" is
  not, and only a glossary can tell a small embedding model so;
* :func:`domain_evidence` is 1 for a message that names something the way only in-scope messages
  do (an identifier such as ``etl_daily``, a git URL, a file path, a JSON conf, an Airflow term,
  a word such as "repo" or "workflow");
  the router lifts the in-scope scores of such messages by a weight fitted with the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.chat.router_text import NAME_TOKEN, is_camel_case, special_spans, words_of

if TYPE_CHECKING:
    import numpy


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Words only Airflow (and this assistant) uses: a message containing one is about Airflow.
AIRFLOW_TERMS: frozenset[str] = _words(
    """
    airflow dag dags dagrun dagruns xcom xcoms triggerer deferrable backfill backfills catchup taskflow
    taskgroup taskgroups
    """
)
# Airflow's concepts under words other software uses too ("operator", "pool", "callback"): in a
# question to this assistant they are about Airflow, but they are no evidence on their own.
AIRFLOW_CONCEPTS: frozenset[str] = _words(
    """
    operator operators sensor sensors executor executors scheduler scheduling schedule schedules
    provider providers callback callbacks macro macros jinja templated templating idempotent
    idempotency cron crontab sla slas dataset datasets asset assets bundle bundles upstream downstream
    retries retry pool pools celery kubernetes hook hooks connection connections variable variables
    plugin plugins zombie zombies heartbeat reschedule poke queued task tasks params conf
    """
)
# Airflow's concepts named by several common words.
AIRFLOW_PHRASES = re.compile(
    r"\b(trigger rules?|task instances?|dag runs?|task groups?|logical dates?|execution dates?|data intervals?|"
    r"dynamic tasks?|task mapping|priority weights?|top level code|time ?tables?|start dates?)\b"
)
# The known words the glossary adds to the router's vocabulary.
GLOSSARY: frozenset[str] = AIRFLOW_TERMS | AIRFLOW_CONCEPTS

# Words that make a message about DAGs and repositories even without an Airflow term.
DOMAIN_WORDS: frozenset[str] = AIRFLOW_TERMS | _words(
    """
    workflow workflows pipeline pipelines repo repos repository repositories git github gitlab
    bitbucket marketplace
    """
)
CLASS_SUFFIXES = ("operator", "sensor", "executor", "hook", "trigger")
EVIDENT_NAME_RE = re.compile(r"_|\d[-.]\d|[A-Za-z]\.py$")

QUESTION_START_RE = re.compile(
    r"^(?:how|what|what's|whats|why|when|where|which|who|can|could|should|is|are|does|do|did|"
    r"explain|describe|define|tell me (?:about|how|what|why)|i (?:don't|do not) understand)\b"
)


def asks_about_airflow(routing_text: str) -> bool:
    """A question ("how do I ...", "what is ...", "explain ...") about an Airflow concept.

    Not when it names a DAG or repository (the routing text's placeholder ``x``): "is etl_daily
    queued?" asks about a run, not about queues.
    """
    if not QUESTION_START_RE.match(routing_text):
        return False
    words = words_of(routing_text)
    if NAME_TOKEN in words:
        return False
    return any(w in GLOSSARY and w not in {"dag", "dags"} for w in words) or bool(
        AIRFLOW_PHRASES.search(routing_text)
    )


def domain_evidence(text: str) -> bool:
    """Does the message, as written, name a thing of this domain (see the module docstring)?"""
    if special_spans(text):
        return True
    for word in words_of(text):
        # not every name shape: "lo-fi" and "wi-fi" are English; "etl_daily" and "v1.2" are not
        if EVIDENT_NAME_RE.search(word) or word.lower() in DOMAIN_WORDS:
            return True
        if is_camel_case(word) and word.lower().endswith(CLASS_SUFFIXES):
            return True
    return False


def evidence_matrix(texts: Sequence[str], intents: Sequence[str]) -> numpy.ndarray:
    """(texts, intents): 1.0 in every in-scope column of the messages with domain evidence.

    It lifts all in-scope intents alike: their order is unchanged, but such a message is less
    easily rejected, by the threshold or by the out-of-scope examples.
    """
    import numpy as np

    in_scope = np.array([intent != "unknown" for intent in intents], dtype=np.float32)
    return np.array([in_scope if domain_evidence(t) else 0.0 * in_scope for t in texts]).reshape(
        len(texts), len(intents)
    )
