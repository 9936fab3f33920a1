"""Dialog rules: which slots each intent needs, what to ask, what needs confirmation."""

from __future__ import annotations

import re

from assistant.chat.slots_settings import SETTING_SLOTS, settings_answer

REQUIRED_SLOTS: dict[str, tuple[str, ...]] = {
    "add_repo": ("url",),
    "remove_repo": ("name",),
    "run_dag": ("dag_id",),
    "dag_logs": ("dag_id",),
    "generate_dag": ("description",),
    "validate": ("target",),
    "rollback": ("target",),
    "repo_settings": ("name", "setting"),
    "predict_failure": ("dag_id",),
    "marketplace_search": ("query",),
    "marketplace_install": ("name",),
    "marketplace_rate": ("name", "stars"),
}

QUESTIONS: dict[tuple[str, str], str] = {
    ("add_repo", "url"): "Which repository URL? (https://…, git@…, or file://…)",
    ("remove_repo", "name"): "Which repository should I stop tracking?",
    ("run_dag", "dag_id"): "Which DAG should I run?",
    ("dag_logs", "dag_id"): "Logs of which DAG?",
    ("generate_dag", "description"): "Describe the workflow: its steps, in order, and when it should run.",
    ("validate", "target"): "What should I check? A DAG file, a folder or a repository name.",
    ("rollback", "target"): "Roll back which repository?",
    ("repo_settings", "name"): "Which repository should I change?",
    ("repo_settings", "setting"): (
        "What should I change: the branch, tag or commit it deploys, its DAG folder, its namespace or"
        " its URL? For example: the develop branch, tag v1.2.0, folder pipelines/dags, namespace company."
        " (Credentials and the validation policy are changed with `assistant repo set`.)"
    ),
    ("predict_failure", "dag_id"): "Which DAG should I assess?",
    ("marketplace_search", "query"): "What should the shared DAG do?",
    ("marketplace_install", "name"): "Which shared DAG?",
    ("marketplace_rate", "name"): "Which shared DAG are you rating?",
    ("marketplace_rate", "stars"): "How many stars, 1 to 5?",
}

# Actions with impact ask first (unless --yes); run_dag asks only when the failure check rates it risky,
# repo_settings only when something would change (the engine asks handlers_settings.confirmation).
ALWAYS_CONFIRM = {"remove_repo", "rollback", "repo_settings"}
# A required slot filled by any one of several: repo_settings needs one setting to change.
ANY_OF: dict[str, tuple[str, ...]] = {"setting": SETTING_SLOTS}

_YES = re.compile(r"^\s*(y|yes|yeah|yep|sure|ok|okay|confirm|go|go ahead|do it|please do)\b[.!]*\s*$", re.I)
_NO = re.compile(r"^\s*(n|no|nope|cancel|stop|abort|don'?t|never ?mind)\b[.!]*\s*$", re.I)


def missing_slot(intent: str, slots: dict[str, object]) -> str | None:
    for name in REQUIRED_SLOTS.get(intent, ()):
        if all(slots.get(part) in (None, "") for part in ANY_OF.get(name, (name,))):
            return name
    return None


def question(intent: str, slot: str) -> str:
    return QUESTIONS.get((intent, slot), f"What is the {slot.replace('_', ' ')}?")


def is_yes(text: str) -> bool:
    return bool(_YES.match(text))


def is_no(text: str) -> bool:
    return bool(_NO.match(text))


def coerce_answer(slot: str, text: str) -> object:
    """Turn the user's answer to a question into the slot's value."""
    value = text.strip().strip("`'\"")
    if slot == "setting":  # the settings named in the answer, as a dict of slots
        return settings_answer(text) or None
    if slot == "stars":
        digits = re.search(r"[1-5]", value)
        return int(digits.group()) if digits else None
    if slot in {"url"}:
        match = re.search(r"(https?://\S+|git@\S+|ssh://\S+|file://\S+|/\S+)", value)
        return match.group(1).rstrip(".,") if match else None
    if slot in {"dag_id", "name", "target"}:
        return value.split()[0] if len(value.split()) == 1 else value
    return value
