"""Slots of ``repo_settings``: which repository, and the settings to give it, as the user wrote them.

"switch my workflows repo to the develop branch" -> name workflows, branch develop;
"deploy the etl repo from the release-2.4 tag" -> tag; "pin core to commit <sha>" -> commit;
"use dags/ as the DAG folder of analytics" -> path; "move etl to the company namespace" ->
namespace; "point crm at https://..." -> url. A namespace counts only where the message moves
the repository there ("to company", "the company namespace"), never where it merely says where a
repository is. The same rules read an answer to "What should I change?", where a bare namespace
("company"), URL, folder ("pipelines/dags") or commit id is enough.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.chat.router_data import vocabulary
from assistant.chat.router_text import URL_RE, TypoCorrector, looks_like_identifier, outside
from assistant.chat.slots import SHA_RE, Message, namespace_of, standalone_commit

# The slots that say what to change, in the order a confirmation lists them.
SETTING_SLOTS = ("url", "branch", "tag", "commit", "path", "namespace")

_VALUE = r"[\w./~-]*[\w/]"
_NAME = r"[\w.-]*\w"
_OWNER = rf"(?:the\s+|my\s+|our\s+)?(?P<name>{_NAME})(?:\s+(?:repo|repository))?"
# "change the branch of ml-repo to main", "set the tag of etl to v2"
REF_OF_RE = re.compile(
    rf"\b(?P<kind>branch|tag)\s+(?:of|for)\s+{_OWNER}\s+(?:to|into|as|=)\s+(?:the\s+)?(?P<value>{_VALUE})",
    re.IGNORECASE,
)
# "change its branch to main"
REF_TO_RE = re.compile(
    rf"\b(?P<kind>branch|tag)\s+(?:to|into|=)\s+(?:the\s+)?(?P<value>{_VALUE})", re.IGNORECASE
)
# "to the develop branch", "from the release-2.4 tag", "onto develop branch"
REF_BEFORE_RE = re.compile(
    rf"\b(?:the|a|its|their|to|onto|on|from|at)\s+(?P<value>{_VALUE})\s+(?P<kind>branch|tag)\b",
    re.IGNORECASE,
)
# "to branch hotfix-7", "track tag v1.5.0", "--branch develop", "branch: main"
REF_AFTER_RE = re.compile(rf"\b(?P<kind>branch|tag)\s*[:=]?\s+(?P<value>{_VALUE})", re.IGNORECASE)
# "use dags/ as the DAG folder", "use the repository root as the dag folder"
PATH_USE_RE = re.compile(
    r"\buse\s+(?P<value>\S+)\s+as\s+(?:the\s+|its\s+)?(?:dags?\s+)?(?:folder|directory|dir|path)\b",
    re.IGNORECASE,
)
# "set the dag path of growth to pipelines/dags"
PATH_OF_RE = re.compile(
    rf"\b(?:folder|directory|dir|path)\s+(?:of|for)\s+{_OWNER}\s+(?:to|as|=)\s+(?P<value>\S+)",
    re.IGNORECASE,
)
# "the dag folder to airflow/dags", "path dags", "--path dags"
PATH_AFTER_RE = re.compile(
    r"\b(?:folder|directory|dir|path)\s*(?:to\s+|[:=]\s*|\s)(?P<value>\S+)", re.IGNORECASE
)
# "from the jobs folder", "from the ./flows directory"
PATH_BEFORE_RE = re.compile(
    r"\b(?:from|in|under|inside)\s+(?:the\s+)?(?P<value>\S+)\s+(?:folder|directory|dir)\b", re.IGNORECASE
)
# "the dags of ledger now live in workflows/prod"
PATH_LIVE_RE = re.compile(
    r"\bdags?\b.{0,30}?\b(?:live|lives|are|sit|sits)\s+(?:now\s+)?(?:in|under)\s+(?P<value>\S+)",
    re.IGNORECASE,
)
ROOT_RE = re.compile(r"\b(?:the\s+)?(?:(?:repository|repo|project|top[- ]level)\s+)?root\b", re.IGNORECASE)
# "change the namespace of ml to company", "namespace company"
NAMESPACE_OF_RE = re.compile(
    rf"\bnamespace\s+(?:of\s+{_OWNER}\s+)?(?:to\s+|[:=]\s*)?(?P<value>\w+)", re.IGNORECASE
)
NAMESPACE_BEFORE_RE = re.compile(r"\b(?P<value>\w+)\s+namespace\b", re.IGNORECASE)
NAMESPACE_MOVE_RE = re.compile(r"\b(?:to|into|under)\s+(?:the\s+)?(?P<value>\w+)\b", re.IGNORECASE)
# The repository: "of analytics", "for the platform repo", "the etl repo", "repo etl"
OWNER_OF_RE = re.compile(rf"\b(?:of|for)\s+{_OWNER}\b", re.IGNORECASE)
OWNER_BEFORE_RE = re.compile(
    rf"(?P<det>\b(?:the|my|our|your)\s+)?\b(?P<name>{_NAME})\s+(?:repo|repository)\b", re.IGNORECASE
)
OWNER_AFTER_RE = re.compile(
    rf"\b(?:repo|repository)\s+(?:named\s+|called\s+)?(?P<name>{_NAME})", re.IGNORECASE
)


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Words that are never a branch, tag, folder or repository on their own.
NOT_VALUES = _words(
    """
    a an the this that these those it its it's my our your their his her which what whatever same
    default other another new old current latest newest each every any one git remote github gitlab
    of for to in on at from into as is was be with and or instead now dag dags file files private
    public whole entire repo repos repository repositories branch branches tag tags folder path me us
    them all everything everyone today
    """
)

FOLDER_WORDS = frozenset({"dag", "dags"})  # a folder may well be called "dags"


def settings_slots(message: Message) -> dict[str, str]:
    """The repository named and the settings asked for; absent ones are left out."""
    slots: dict[str, str] = {}
    names: list[str] = []
    url = _url(message)
    if url:
        slots["url"] = url
    ref = _ref(message, names)
    if ref:
        slots[ref[0]] = ref[1]
    commit = standalone_commit(message)
    if commit and "branch" not in slots and "tag" not in slots:
        slots["commit"] = commit
    path = _path(message, names)
    if path:
        slots["path"] = path
    namespace = _namespace(message, names)
    if namespace:
        slots["namespace"] = namespace
    name = next((n for n in names if _is_owner(message, n)), None) or _owner(message, set(slots.values()))
    if name:
        slots["name"] = name
    return {key: slots[key] for key in ("name", *SETTING_SLOTS) if key in slots}


def settings_answer(text: str, corrector: TypoCorrector | None = None) -> dict[str, str]:
    """The settings in an answer to "What should I change?": as in a request, or bare values."""
    if corrector is None:
        corrector = TypoCorrector(vocabulary())
    message = Message(text, corrector)
    found = {k: v for k, v in settings_slots(message).items() if k != "name"}
    if found:
        return found
    value = text.strip().strip("`'\"").rstrip(".!?")
    if len(value.split()) != 1:
        return {}
    if namespace_of(value):
        return {"namespace": str(namespace_of(value))}
    if SHA_RE.fullmatch(value):
        return {"commit": value}
    if "/" in value and not URL_RE.fullmatch(value):
        return {"path": value}
    return {}


def _url(message: Message) -> str | None:
    for span in message.specials:
        if URL_RE.fullmatch(span.text):
            return span.text.rstrip(".,")
    return None


def _ref(message: Message, names: list[str]) -> tuple[str, str] | None:
    """("branch" or "tag", value); a repository named on the way ("branch of ml") joins ``names``."""

    def value_of(match: re.Match[str]) -> str | None:
        value = _clean(match.group("value"))
        return value if outside(message.specials, match.start("value")) and _plausible(value) else None

    found = _first_value(message, (REF_OF_RE, REF_TO_RE, REF_BEFORE_RE, REF_AFTER_RE), names, value_of)
    return (found[0].group("kind").lower(), found[1]) if found else None


def _path(message: Message, names: list[str]) -> str | None:
    if ROOT_RE.search(message.text) and re.search(r"\b(?:folder|directory|dir|path)\b", message.text, re.I):
        return "."

    def value_of(match: re.Match[str]) -> str | None:
        value = _clean(match.group("value"))
        return None if URL_RE.fullmatch(value) or not _plausible(value, FOLDER_WORDS) else value

    patterns = (PATH_OF_RE, PATH_USE_RE, PATH_AFTER_RE, PATH_BEFORE_RE, PATH_LIVE_RE)
    found = _first_value(message, patterns, names, value_of)
    return found[1] if found else None


def _namespace(message: Message, names: list[str]) -> str | None:
    def value_of(match: re.Match[str]) -> str | None:
        found = namespace_of(match.group("value"))
        return found if found and outside(message.specials, match.start("value")) else None

    patterns = (NAMESPACE_OF_RE, NAMESPACE_BEFORE_RE, NAMESPACE_MOVE_RE)
    found = _first_value(message, patterns, names, value_of)
    return found[1] if found else None


def _first_value(
    message: Message,
    patterns: Sequence[re.Pattern[str]],
    names: list[str],
    value_of: Callable[[re.Match[str]], str | None],
) -> tuple[re.Match[str], str] | None:
    """The first match of ``patterns`` (in their order) whose value ``value_of`` accepts, with that
    value; a repository named on the way ("branch of ml", "path of growth") joins ``names``."""
    for pattern in patterns:
        for match in pattern.finditer(message.text):
            value = value_of(match)
            if value is None:
                continue
            if match.groupdict().get("name"):
                names.append(match.group("name"))
            return match, value
    return None


def _owner(message: Message, values: set[str]) -> str | None:
    """The repository: after "of"/"for", before or after "repo", else the first name left."""
    for pattern in (OWNER_OF_RE, OWNER_BEFORE_RE, OWNER_AFTER_RE):
        for match in pattern.finditer(message.text):
            name = match.group("name")
            if name not in values and outside(message.specials, match.start("name")):
                described = pattern is OWNER_OF_RE or (pattern is OWNER_BEFORE_RE and match.group("det"))
                if _is_owner(message, name, strict=not described):
                    return name
    excluded = values | {w.text for v in values for w in Message(v, message.corrector).words}
    return next(iter(message.names(exclude=excluded)), None)


def _is_owner(message: Message, name: str, *, strict: bool = True) -> bool:
    """Can ``name`` be a repository? "my workflows repo" and "the DAGs of tools" name one with a
    common word: there any word but a determiner or pronoun will do; elsewhere it must read as a name."""
    lowered = name.lower()
    if lowered in NOT_VALUES or namespace_of(name):
        return False
    return not strict or message.is_name(name) or looks_like_identifier(name)


def _clean(value: str) -> str:
    value = value.strip("`'\"")
    if value in {".", "./"}:
        return value
    return value.rstrip(".,;:!?)")


def _plausible(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return bool(value) and (value.lower() in allowed or value.lower() not in NOT_VALUES)
