"""Hand-written keyword cues: domain words that point at one intent whatever the phrasing.

They run on the routing text (lower case, typos already corrected). A cue adds a fixed bonus to
its intent's score; the bonus is fitted with the other decision parameters on the held-out
examples. Cues encode knowledge of the domain, not of any test set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy

_NAME = r"[a-z0-9]+(?:[_.-][a-z0-9]+)+"  # an identifier-shaped word: etl_daily, data-pipelines

CUES: dict[str, tuple[str, ...]] = {
    "add_repo": (
        r"\burl\b",
        r"\b(add|connect|register|track|link|hook up|onboard|plug in|subscribe to)\b.*\b(repo|repository|"
        r"repositories|repos|git)\b",
    ),
    "remove_repo": (
        r"\b(remove|delete|disconnect|unregister|untrack|unlink|detach|forget|drop|get rid of)\b.*\b(repo|"
        r"repository|repos)\b",
        r"\bstop (tracking|following|watching|syncing)\b",
        r"\b(don't|do not|no longer) (want to )?(track|follow|watch)\b",
    ),
    "list_repos": (
        r"\b(list|show|which|what|display|how many)\b.*\b(repos|repositories)\b",
        r"^(repos|repositories)$",
    ),
    "sync_repo": (
        r"\b(sync|resync|re-sync|redeploy|refresh|pull|fetch|pushed|committed|update)\b.*\b(repo|repository|"
        r"repos|repositories|git|remote|everything|changes)\b",
        r"\b(i|we) (just )?(pushed|committed|merged)\b",
        r"^(re-?)?sync\b",
    ),
    "list_dags": (r"\b(list|show|which|what|display|enumerate|how many)\b.*\b(dags|workflows|pipelines)\b",),
    "run_dag": (
        r"\b(trigger|execute|kick off|launch|fire off|rerun|re-run)\b",
        rf"^(please )?(run|start) (the |my |dag |workflow |a )?({_NAME}|it)\b",
    ),
    "dag_status": (
        r"\b(status|succeed|succeeded|successful|finished|completed|done|still running|state of)\b",
        r"\bhow (did|is|are)\b",
    ),
    "dag_logs": (
        r"\b(logs?|traceback|error|errors|output|went wrong|crash|crashed|stack trace)\b",
        r"\bwhy (did|does|is|was)\b.*\b(fail|break|broke|crash|error)",
    ),
    "generate_dag": (
        r"\b(create|generate|write|make|build|scaffold|draft|author)\b.*\b(dag|workflow|pipeline)\b",
        r"\bi need (a|an|something|to)\b",
        r"\b(dag|workflow|pipeline) (that|which|to) ",
    ),
    "validate": (
        r"\b(validate|validation|scan|lint|audit|verify|vulnerabilit\w*|security)\b",
        r"\b(is|are) (my|the|this)\b.*\b(safe|valid|correct)\b",
        r"\bcheck\b.*\b(file|repo|repository|for)\b",
    ),
    "rollback": (r"\b(revert|rollback|roll back|roll it back|undo|restore|downgrade|go back|put .* back)\b",),
    "predict_failure": (
        r"\b(predict|forecast|risk|risky|chances?|likely|probability|expect)\b",
        r"\bwill\b.*\b(fail|break|succeed)\b",
        r"\bsafe to (run|trigger)\b",
    ),
    "marketplace_search": (
        r"\b(marketplace|catalog|shared|community|published|reusable|template)\b.*\b(dag|dags|workflow|"
        r"workflows)\b",
        r"\b(search|browse|look for|look up|find)\b",
    ),
    "marketplace_install": (r"\binstall\b", r"\b(from|in) the (marketplace|catalog)\b"),
    "marketplace_rate": (
        r"\b(stars?|out of 5|thumbs up|thumbs down)\b",
        r"\b[1-5]\s*/\s*5\b",
        r"\b(rate|rating)\b(?! of (the )?[a-z]+$)(?!.*\b(exchange|interest|heart|success|failure)\b)",
    ),
    "question": (
        r"^(how|what|why|when|where|can|should|explain|what's)\b.*\b(airflow|dag|task|xcom|sensor)",
    ),
    "help": (r"\b(help|what can you do|capabilities|commands)\b", r"^(hi|hello|hey|menu|options|usage)$"),
    "unknown": (),
}

_COMPILED = {intent: tuple(re.compile(p) for p in patterns) for intent, patterns in CUES.items()}


def cue_matrix(routing_texts: Sequence[str], intents: Sequence[str]) -> numpy.ndarray:
    """(texts, intents): 1.0 where one of the intent's cues matches the text, else 0."""
    import numpy as np

    result = np.zeros((len(routing_texts), len(intents)), dtype=np.float32)
    for row, text in enumerate(routing_texts):
        for column, intent in enumerate(intents):
            if any(p.search(text) for p in _COMPILED.get(intent, ())):
                result[row, column] = 1.0
    return result
