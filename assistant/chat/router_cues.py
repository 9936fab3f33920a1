"""Hand-written keyword cues: domain words that point at one intent whatever the phrasing.

They run on the routing text (lower case, typos already corrected). A cue adds a fixed bonus to
its intent's score; the bonus is fitted with the other decision parameters on the held-out
examples. Cues encode knowledge of the domain, not of any test set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.chat.router_domain import asks_about_airflow
from assistant.chat.router_form import about_the_assistant, explains
from assistant.chat.router_text import NAME_TOKEN

if TYPE_CHECKING:
    import numpy

_NAME = rf"(?:{NAME_TOKEN}|it)"  # a name: identifiers read "x" in the routing text (router_text)
_NOT_NEGATED = r"(?!.*\b(don't|do not|no longer|not|never|stop|stopped)\b)"  # "I no longer want to track"

CUES: dict[str, tuple[str, ...]] = {
    "add_repo": (
        # not a new URL for a registered repository: "point etl at https://...", "the url of etl"
        r"^(?!.*\b(point|points|pointed|change|switch|moved|lives|(url|remote) of)\b).*\burl\b",
        rf"^{_NOT_NEGATED}.*\b(add|connect|register|track|link|hook up|onboard|plug in|subscribe to)\b.*\b(repo|"
        r"repository|repositories|repos|git)\b",
        r"\bstart (tracking|following|watching)\b",  # the other side of remove_repo's "stop tracking"
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
    "repo_settings": (
        r"^(?!.*\b(add|connect|register|onboard|hook up|subscribe|clone)\b)"
        r".*\b(switch|change|set|move|point|pin|freeze|edit|modify|reconfigure|transfer)\b"
        r".*\b(branch|tag|namespace|folder|directory|path|url|remote|settings|configuration|commit)\b",
        r"^(?!.*\b(add|connect|register|onboard|hook up|subscribe|clone)\b)"
        r".*\b(use|make|have|let)\b.*\b(branch|tag|namespace|folder|directory|remote)\b",
        r"\b(branch|tag|namespace|folder|directory|path|url|remote|settings|configuration) (of|for) (?!url)",
        # not a rollback to an earlier release: "go back to tag v1.2.0 on etl"
        r"^(?!.*\b(add|connect|register|onboard|hook up|subscribe|clone|url|go back|revert|roll ?back|undo"
        r"|restore|downgrade)\b)"
        r".*\b(from|to|onto) ((the )?[\w./-]+ (branch|tag)|(branch|tag) [\w./-]+)\b",
        r"\bmove\b.*\b(to|into|under) (the )?(company|community|personal)\b",
        r"\b(reconfigure|pin|pinned|freeze)\b",
    ),
    "list_dags": (
        r"\b(list|show|which|what|display|enumerate|how many)\b.*\b(dags|workflows|pipelines)\b",
        r"\bwhat('s| is| have we got| do we have| have i got)? (deployed|running in airflow)\b",
    ),
    "run_dag": (
        r"\b(trigger(?! rules?\b)|execute|kick off|launch|fire off|rerun|re-run)\b",
        rf"^(please )?(run|start) (the |my |dag |workflow |a )?{_NAME}\b",
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
        r"^(?!.*\b(marketplace|catalog|shared|community|search|find|look for|look up|browse|is there|are there)\b)"
        r".*\b(dag|workflow|pipeline) (that|which|to) ",
    ),
    "validate": (
        r"\b(validate|validation|scan|lint|audit|verify|vulnerabilit\w*|security)\b",
        r"\b(is|are) (my|the|this)\b.*\b(safe|valid|correct)\b",
        r"\bcheck\b.*\b(file|repo|repository|for)\b",
    ),
    "rollback": (r"\b(revert|rollback|roll back|roll it back|undo|restore|downgrade|go back|put .* back)\b",),
    "predict_failure": (
        r"\b(predict|forecast|risk|risky|chances?|likely|probability|expect)\b",
        r"\b(will|would|going to|could)\b.*\b(fail|break|succeed|work)\b",
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
    # questions are cued in cue_matrix: about Airflow (router_domain) or the assistant (router_form)
    "question": (),
    "help": (
        r"\b(help|capabilities|capable of|commands|features)\b",
        r"\bwhat (else )?(can|could|do|does|should) (you|i|this|the (bot|assistant|tool))\b"
        r"(?!.*\b(dag|dags|repo|repos|workflow|pipeline)\b)",
        r"\b(are you able to|you able to) (do|help)\b",
        r"\bhow (do|can|should) i (use|start|begin|talk to|work with) (you|this)\b",
        r"^(hi|hello|hey|yo|howdy|greetings|good (morning|afternoon|evening)|menu|options|usage|\?+)"
        r"( there| assistant)?[!.]*$",
    ),
    "unknown": (),
}

_COMPILED = {intent: tuple(re.compile(p) for p in patterns) for intent, patterns in CUES.items()}


def cue_matrix(
    routing_texts: Sequence[str], intents: Sequence[str], texts: Sequence[str] | None = None
) -> numpy.ndarray:
    """(texts, intents): 1.0 where one of the intent's cues matches the text, else 0.

    ``texts`` are the messages as written (default: the routing texts). Besides the patterns,
    ``question`` is cued by a question about Airflow's concepts and by an explanation question
    about the assistant's features that names nothing to act on (router_form) unless it asks
    for help.
    """
    import numpy as np

    result = np.zeros((len(routing_texts), len(intents)), dtype=np.float32)
    question = intents.index("question") if "question" in intents else -1
    help_column = intents.index("help") if "help" in intents else -1
    originals = routing_texts if texts is None else texts
    for row, (text, original) in enumerate(zip(routing_texts, originals, strict=True)):
        for column, intent in enumerate(intents):
            if any(p.search(text) for p in _COMPILED.get(intent, ())):
                result[row, column] = 1.0
        if question < 0:
            continue
        asks_for_help = help_column >= 0 and bool(result[row, help_column])
        if asks_about_airflow(text) or (
            not asks_for_help and explains(original, text) and about_the_assistant(text)
        ):
            result[row, question] = 1.0
    return result
