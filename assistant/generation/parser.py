"""The deterministic description parser: words → :class:`DagSpec`, without an LLM.

1. The schedule phrase is taken out (:mod:`assistant.generation.schedules`).
2. The rest is split into steps (:mod:`assistant.generation.steps`).
3. Each step gets a kind and parameters (:mod:`assistant.generation.kinds`) and a task id made of
   its significant words. A step starting with "otherwise"/"else" is the other arm of the branch
   before it. Everything else is a straight chain in the order the description gives.
"""

from __future__ import annotations

import keyword
import re

from assistant.errors import UsageError
from assistant.generation.kinds import classify, params_for, quoted
from assistant.generation.phrasing import plain_description
from assistant.generation.schedules import extract_schedule
from assistant.generation.spec import DagSpec, TaskSpec, check_spec
from assistant.generation.steps import OTHERWISE, split_steps
from assistant.generation.words import STOP_WORDS, VERBS, is_verb

# The most a description may hold: a workflow fits in far fewer words, and refusing more keeps a
# pasted log or document from tying the parser up.
MAX_DESCRIPTION_CHARS = 20_000

# The DAG id the description gives: "called nightly_backup", "name: sales_sync", "dag_id=x" (group 1);
# "DAG: `orders_etl`" starting a sentence or line (group 2); "# orders_etl" on a line of its own (3).
_NAME = re.compile(
    r"\b(?:called|named|call\s+it|name\s*:|dag\s+id|dag_id)\s*[:=]?\s*[`'\"]?([A-Za-z][\w-]{2,62})[`'\"]?"
    r"|(?:^|(?<=[.\n]\s)|(?<=\n)|(?<=:\s))dag\s*:?\s+[`'\"]([A-Za-z][\w-]{2,62})[`'\"]"
    r"|^[^\S\n]*#+\s*([A-Za-z][\w-]{2,62})\s*$",
    re.I | re.M,
)
# Names the generated code uses itself, so no task may have them.
RESERVED_NAMES = frozenset(
    {
        "dag",
        "task",
        "chain",
        "datetime",
        "timedelta",
        "timezone",
        "json",
        "urllib",
        "logging",
        "log",
        "airflow",
    }
)
# "has finished", "completes", "is done": said of what a sensor waits for, no part of its name.
_DONE_WORDS = re.compile(
    r"\b(?:finishes|finished|is\s+done|completes|completed|succeeds|has\s+run|is\s+finished|ends)\b", re.I
)
# "arrives", "lands", "shows up": likewise.
_SENSOR_WORDS = re.compile(r"\b(?:arrives?|lands?|appears?|exists?|shows?\s+up|is\s+present)\b", re.I)
# 'text in quotes', `code`: no words of a task id.
_QUOTED_TEXT = re.compile(r"[`'\"].*?[`'\"]")
# Links, e-mail addresses and paths: no words of a task id either. An address is read from its
# start, never from inside it.
_NOT_NAME_WORDS = re.compile(r"https?://\S+|s3://\S+|gs://\S+|(?<![\w.+-])[\w.+-]+@[\w.-]+|/[\w./*-]+")
# Words a task id does not end with: "copy_to" -> "copy".
_TRAILING = frozenset(
    {"to", "on", "with", "for", "from", "into", "in", "at", "by", "of", "via", "using", "as"}
)
# The kind of each task → its tag.
_KIND_TAGS = {
    "s3_copy": "s3",
    "gcs_copy": "gcs",
    "kubernetes": "kubernetes",
    "slack": "slack",
    "email": "email",
    "sql": "sql",
    "http": "http",
}
# Parts of a URL that name nothing: "https://api.example.com/v1/orders.json" -> "orders".
_GENERIC_PARTS = frozenset(
    {"api", "www", "v1", "v2", "v3", "com", "org", "net", "io", "json", "https", "http"}
)


def check_description_size(description: str) -> None:
    """UsageError when the description is longer than :data:`MAX_DESCRIPTION_CHARS`."""
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise UsageError(
            f"the description is {len(description):,} characters long; at most {MAX_DESCRIPTION_CHARS:,} are read",
            "describe the schedule and the steps in a few sentences; put long SQL or scripts in files "
            "and name them in the steps",
        )


def _words(text: str) -> list[str]:
    cleaned = _NOT_NAME_WORDS.sub(" ", _QUOTED_TEXT.sub(" ", text.lower()))
    return [w for w in re.findall(r"[a-z][a-z0-9]*|\d+", cleaned) if w not in STOP_WORDS]


def identifier(text: str, *, limit: int = 40, max_words: int = 4, fallback: str = "step") -> str:
    """A task id of the first significant words of text: "pulls the orders with curl" -> pull_orders."""
    words = _words(re.split(r"\s+(?:with|using|via)\s+", text, maxsplit=1)[0])
    if words and words[0] not in VERBS and is_verb(words[0]):  # "pulls the orders" -> pull_orders
        words[0] = words[0][:-2] if words[0][:-2] in VERBS else words[0][:-1]
    picked: list[str] = []
    for word in words:
        if len(picked) == max_words or len("_".join([*picked, word])) > limit:
            break
        picked.append(word)
    while picked and picked[-1] in _TRAILING:
        picked.pop()
    name = "_".join(picked) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


class _TaskIds:
    """The task ids handed out so far: a name given again gets the next free number ("load_2")."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.next_number: dict[str, int] = {}  # numbers below it are taken already

    def unique(self, name: str) -> str:
        if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED_NAMES:
            name = f"{name}_step"
        candidate, number = name, self.next_number.get(name, 2)
        while candidate in self.taken:
            candidate = f"{name}_{number}"
            number += 1
        self.next_number[name] = number
        self.taken.add(candidate)
        return candidate


def _dag_id(description: str, tasks: list[TaskSpec]) -> str:
    """The name the description gives, else one made of the first work and the last step."""
    named = _NAME.search(description)
    if named:
        return re.sub(r"[^a-z0-9_]", "_", next(g for g in named.groups() if g).lower()).strip("_")[:63]
    if not tasks:
        return "generated"
    skip = {"wait", "for", "if", "is", "step"}
    # Named after its first real work (not a sensor, a pause or a decision) and where it ends.
    work = [t for t in tasks if t.kind not in {"wait", "file_sensor", "dag_sensor", "branch"}] or tasks
    first = [w for w in work[0].task_id.split("_") if w not in skip and not w.isdigit()][:3]
    last_words = tasks[-1].task_id.split("_") if len(tasks) > 1 else []
    last = [w for w in last_words if w not in VERBS and w not in skip and w not in _TRAILING][:2]
    words: list[str] = []
    for word in [*first, *last]:
        if word not in words:
            words.append(word)
    while words and words[-1] in _TRAILING:
        words.pop()
    name = "_".join(words)[:50].strip("_") or "generated"
    return name if name[0].isalpha() else f"dag_{name}"


def _task_name(step: str, kind: str, params: dict[str, object]) -> str:
    if kind == "dag_sensor" and params.get("external_dag_id"):
        return identifier(f"wait for {str(params['external_dag_id']).replace('.', '_')}", max_words=8)
    if kind == "file_sensor" and params.get("path"):
        stem = re.sub(r"[^a-z0-9]+", " ", str(params["path"]).lower().rsplit("/", 1)[-1])
        return identifier(f"wait for {stem}", max_words=5)
    text = _DONE_WORDS.sub("", step) if kind in ("dag_sensor", "file_sensor") else step
    if kind in ("dag_sensor", "file_sensor") and not re.match(r"(?i)\s*(wait|watch|sense|poll)", text):
        text = "wait for " + _SENSOR_WORDS.sub("", text)
    name = identifier(text, fallback=kind)
    if "_" not in name:
        # "run `bash /opt/clean.sh`", "fetch https://api.example.com/orders": name it after its object.
        detail = _detail(step)
        if detail:
            name = identifier(f"{name} {detail}", fallback=kind)
    return name


def _detail(step: str) -> str:
    """Words naming the object of a step that the task id would otherwise lose (URLs, quotes, ...)."""
    literal = quoted(step)
    if literal:
        return re.sub(r"[^a-z0-9]+", " ", literal.lower().split()[-1].rsplit("/", 1)[-1])
    url = re.search(r"(?:https?|s3|gs)://([^\s/]+)(/[^\s]*)?", step)
    if url:
        path_parts = [p for p in re.split(r"[^a-z0-9]+", (url.group(2) or "").lower()) if p]
        host_parts = url.group(1).lower().split(".")
        parts = [p for p in path_parts if p not in _GENERIC_PARTS][-1:]
        parts = parts or [p for p in host_parts if p not in _GENERIC_PARTS][:1]
        return parts[0] if parts else ""
    email = re.search(r"(?<![\w.+-])([\w.+-]+)@[\w-]+\.", step)
    if email:
        return re.sub(r"[^a-z0-9]+", " ", email.group(1).lower())
    path = re.search(r"/[\w.\-/]+", step)
    return re.sub(r"[^a-z0-9]+", " ", path.group(0).lower().rsplit("/", 1)[-1]) if path else ""


def parse_description(description: str) -> DagSpec:
    """The spec of the DAG the description asks for; UsageError when it names no step."""
    check_description_size(description)
    text = plain_description(description)
    if not text:
        raise UsageError(
            "the description is empty", 'describe the workflow, e.g. "every hour fetch X, then load Y"'
        )
    schedule, rest, _phrase = extract_schedule(text)
    rest = re.sub(r"\(\s*\)", " ", _NAME.sub(" ", rest))
    steps = split_steps(rest)
    if not steps:
        raise UsageError(
            f"no steps found in {description!r}",
            'describe what to do, e.g. "daily at 2am export the orders table, then upload it to S3"',
        )
    tasks = _tasks(steps, description)  # check_spec refuses a DAG whose steps all named no work
    spec = DagSpec(
        dag_id=_dag_id(description, tasks),
        description=" ".join(description.split()),
        tasks=tasks,
        schedule=schedule,
        tags=_tags(tasks),
    )
    return check_spec(spec)


def _tasks(steps: list[str], description: str) -> list[TaskSpec]:
    """The tasks of the steps, chained in order; "otherwise ..." is the other arm of a branch."""
    tasks: list[TaskSpec] = []
    task_ids = _TaskIds()
    previous: list[str] = []
    open_branch: TaskSpec | None = None  # a branch whose first arm is the last task
    for step in steps:
        otherwise = OTHERWISE.match(step)
        body = OTHERWISE.sub("", step).strip() if otherwise else step
        kind = _in_context(classify(body), body, description)
        if kind == "python" and len(body.split()) == 1 and not is_verb(body.strip(" .,").lower()):
            continue  # "anomalies -> slack #alerts": the object passed along, not a step
        if kind == "branch" and open_branch is not None and tasks[-1] is open_branch and _names_an_arm(body):
            continue  # "branch on whether X: if it is, ...": names the arm, not a new decision
        params = params_for(kind, body)
        task = TaskSpec(
            task_id=task_ids.unique(_task_name(body, kind, params)), kind=kind, summary=body, params=params
        )
        if otherwise and open_branch is not None:
            # The other arm of the branch: runs instead of the first arm, joins with it afterwards.
            task.upstream = [open_branch.task_id]
            previous = [*previous, task.task_id]
            open_branch = None
        else:
            task.upstream = list(previous)
            previous = [task.task_id]
            if kind == "branch":
                open_branch = task
            elif open_branch is not None and open_branch.task_id not in task.upstream:
                open_branch = None  # a branch stays open only for the step right after it
        tasks.append(task)
    return tasks


def _in_context(kind: str, step: str, description: str) -> str:
    """ "pull the latest hour down from that bucket": the bucket the description named elsewhere."""
    if kind != "python" or not re.search(r"(?i)\bbuckets?\b", step):
        return kind
    if re.search(r"(?i)s3://|\bs3\b", description):
        return "s3_copy"
    return "gcs_copy" if re.search(r"(?i)gs://|\bgcs\b", description) else kind


def _names_an_arm(step: str) -> bool:
    """ "if it is", "if so", "if there are any": which arm follows, no decision of its own."""
    words = step.lower().split()
    return len(words) <= 4 and not any(w in VERBS for w in words[1:])


def _tags(tasks: list[TaskSpec]) -> list[str]:
    tags = ["generated"]
    for task in tasks:
        tag = _KIND_TAGS.get(task.kind)
        if tag and tag not in tags:
            tags.append(tag)
    return tags
