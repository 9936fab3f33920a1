"""One step of a description ("back up the exports to S3") → a task kind and its parameters.

The rules are ordered: the first whose pattern matches the step decides the kind, so the more
specific services (a DAG to wait for, Slack, Kubernetes, S3) are tried before the generic words
(a script, an API) and plain Python is the fallback.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

_DB_TARGET = r"\binto\s+(?:the\s+|our\s+|a\s+)?(?:\w+\s+)?(?:postgres\w*|mysql|warehouse|table|database|db|snowflake|redshift|bigquery)\b"

# "reload it from staging.products": a data verb and a schema.table name (not a file name).
_TABLE_TARGET = (
    r"(?:\b(?:load|reload|insert|upsert|merge|refresh|update|append|write|copy|sync|save|store|persist|aggregat|pull"
    r"|fetch|read|select|query|extract|results?)\w*\b[^,;]*?)?\b(?:from|into|to|in)\s+"
    r"(?:the\s+)?(?:table\s+)?[a-z_][a-z0-9_]*\.(?!(?:csv|json|parquet|txt|xml|gz|zip|py|sh|sql|pdf|log|tsv|avro|ya?ml"
    r"|md|html|com|org|net|io)\b)[a-z_][a-z0-9_]*\b(?!\.\w)"
)

KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("dag_sensor", re.compile(
        r"\b(?:dag|pipeline|workflow)\s+[`'\"]?(?!that\b|which\b|who\b)[a-z][\w.-]*[`'\"]?\s+(?:has\s+|to\s+)?(?:finish|complete|succeed|is\s+done|ran|run)"
        r"|[`'\"]?\b[a-z][a-z0-9]*_[\w.-]*[`'\"]?\s+(?:dag|pipeline|workflow)\s+(?:has\s+|is\s+)?(?:finish|complete|succeed|done|ran)"
        r"|\bwait\w*\s+(?:for|on|until)\s+(?:the\s+)?(?:upstream\s+)?(?:dag|pipeline|workflow)\b"
        r"|\bwait\w*\s+(?:for|on|until)\s+(?:the\s+)?(?:upstream\s+)?[`'\"]?[a-z][\w.-]*[`'\"]?\s+(?:dag|pipeline|workflow)\b"
        r"|\bcompletion\s+of\s+(?:the\s+)?[`'\"]?[a-z][\w.-]*[`'\"]?\s+(?:dag|pipeline|workflow)\b"
        r"|\bupstream\s+(?:dag|pipeline|workflow)\b")),
    ("file_sensor", re.compile(
        r"\b(?:wait\w*|watch\w*|sens\w*|poll\w*|until)\b[^,]*\bfiles?\b"
        r"|\bfiles?\b[^,]*\b(?:arriv\w*|lands?|landed|appears?|exists?|is\s+present|is\s+there|shows?\s+up|dropped)\b"
        r"|\bwait\w*\s+for\s+\S*/\S+"
        r"|\b(?:wait\w*|watch\w*|sens\w*|poll\w*)\b[^,]*(?:\s/\S+|\.(?:csv|json|parquet|txt|xml|gz|zip)\b)"
        r"|\barrival\s+of\b|\bfiles?\b[^,]*\bpicked\s+up\b"
        r"|\b(?:shows?\s+up|lands?|arrives?|appears?|gets?\s+dropped|is\s+dropped|is\s+uploaded|is\s+expected)"
        r"\s+(?:at|in|on|under|to)\s+\S*/"
        r"|(?:\s/\S+|\.(?:csv|json|parquet|txt|xml|gz|zip|flag|done|ok)\b)\s+(?:arriv\w*|lands?|landed|appears?|exists?|"
        r"is\s+(?:present|there)|shows?\s+up)")),
    ("wait", re.compile(
        r"\b(?:wait|sleep|pause|delay)\w*\s+(?:for\s+)?(?:another\s+)?(?:\d+|an?|one|two|five|ten|fifteen|thirty)\s*"
        r"(?:more\s+|extra\s+|additional\s+)?(?:min\w*|hours?|hrs?|seconds?|secs?)\b"
        r"|\b(?:give\s+it|allow|leave\s+it)\s+(?:another\s+)?(?:\d+|an?|one|two|five|ten|fifteen|thirty)\s*"
        r"(?:more\s+)?(?:min\w*|hours?|hrs?)\b")),
    ("branch", re.compile(
        r"^\s*(?:if|unless|whether)\b|^\s*branch\b|\bbranch(?:es|ing)?\s+(?:on|by|based|depending|according)\b"
        r"|\bdepending\s+on\b|\bchoose\s+between\b|^\s*(?:check|see|test|decide)\s+(?:if|whether)\b")),
    ("slack", re.compile(
        r"\bslack\b|\b(?:post|send|notify|tell|message|ping|alert|announce)\w*\b[^,;]*\s#[a-z0-9][\w-]*"
        r"|\b(?:in|to|on|into)\s+#[a-z][\w-]*")),
    ("email", re.compile(r"\be-?mails?\b|\bmail\b|\bsmtp\b|\bnewsletter\b|[\w.+-]+@[\w-]+\.[\w.]+")),
    ("kubernetes", re.compile(r"\bkubernetes\b|\bk8s\b|\bpods?\b|\bcontainer\w*\b|\bgke\b|\beks\b")),
    ("http", re.compile(r"\b(?:post|get|put|patch|call|hit|invoke|trigger\w*|request)\b[^,;]*?\burl\b")),
    ("bash", re.compile(
        r"\b(?:with|using|via)\s+(?:our\s+|a\s+|the\s+)?(?:bash|shell)\s+script\b|\bpg_dump\b|\bmysqldump\b|\bpg_restore\b")),
    ("sql", re.compile(_DB_TARGET)),
    ("sql", re.compile(_TABLE_TARGET)),
    ("sql", re.compile(
        r"\b(?:update|truncate|vacuum|upsert\s+into|insert\s+into|merge\s+into|delete\s+from)\s+(?:the\s+)?(?:table\s+)?"
        r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\b(?!\.\w)")),
    ("s3_copy", re.compile(r"\bs3\b|s3://|\baws\s+bucket")),
    ("gcs_copy", re.compile(r"\bgcs\b|gs://|\bgoogle\s+cloud\s+storage\b|\bgcp\s+bucket")),
    ("sql", re.compile(
        r"\bsql\b|\bquery\b|\bqueries\b|\bpostgres\w*\b|\bmysql\b|\bsnowflake\b|\bredshift\b|\bbigquery\b"
        r"|\bwarehouse\b|\bdatabase\b|\bdb\b|\btables?\b|\bvacuum\b|\bmaterialized\s+views?\b"
        r"|\bstored\s+procedure\b|\bsqlite\b|\bmssql\b|\bselect\s+.+\s+from\b")),
    ("http", re.compile(
        r"(?<![\w-])apis?(?![\w-])|\bhttps?\b|https?://|\bendpoints?\b|\bwebhooks?\b|\burls?\b|\brest\b|\bping\w*\b"
        r"|\bhealth\s*-?checks?\b|\bweb\s*service\b|\bpagerduty\b|\bopsgenie\b")),
    ("email", re.compile(r"\b(?:notify|alert)\b(?!.*\bslack\b)")),
    ("python", re.compile(r"\b(?:in|with|using|via)\s+(?:plain\s+)?(?:python|pyhton|pandas|numpy|polars)\b")),
    ("bash", re.compile(
        r"\bscripts?\b|\bbash\b|\bshell\b|\bcommands?\b|\bdeploy\w*\b|\bbuild\b(?!\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}"
        r"(?:segments?|features?|reports?|summar\w+|datasets?|models?|aggregates?|tables?|views?|cohorts?|audiences?"
        r"|embeddings?|indexes|metrics|dashboards?|profiles?|scores?)\b)|\bcompile\b|\brestart\w*\b"
        r"|\bdocker\b|\bgzip\b|\bgunzip\b|\btar\b|\bregistry\b|\bgit\b|\bdbt\b|\bmake\b(?!\s+(?:the|a|an|sure|it|them)\b)|\brsync\b|\bcli\b|\bterraform\b|\bansible\b|\bhelm\b|\bspark-submit\b|\.sh\b")),
)  # fmt: skip

# Single quotes only around words ("post 'queue ok'"), never the apostrophe of "it's".
_QUOTED = re.compile(r"`([^`]+)`|\"([^\"]+)\"|(?<!\w)'([^']{3,})'(?!\w)")
_URL = re.compile(r"https?://[^\s,;\"'`]+")
_PATH = re.compile(r"(?<![\w:/])(/[\w.\-*{}]+(?:/[\w.\-*{}]+)+)")
_FILENAME = re.compile(r"\b[\w\-*]+\.(?:csv|json|parquet|txt|xml|gz|zip|xlsx|avro|done|ok|tsv|log)\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+\w")
_S3 = re.compile(r"s3://[^\s,;\"'`]+")
_GS = re.compile(r"gs://[^\s,;\"'`]+")
_DAG_NAME = re.compile(
    r"\b(?:dag|pipeline|workflow)\s+[`'\"]?([a-z][\w.-]*)[`'\"]?"
    r"|[`'\"]?([a-z][a-z0-9]*_[\w.-]*)[`'\"]?\s+(?:dag|pipeline|workflow)\b"
)
_NOT_DAG_NAMES = {
    "has",
    "to",
    "is",
    "finishes",
    "finished",
    "completes",
    "completed",
    "succeeds",
    "run",
    "runs",
}
_DURATION = re.compile(r"(\d+|an?|one|two|five|ten|fifteen|thirty)\s*(min\w*|hours?|hrs?|seconds?|secs?)\b")
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "five": 5, "ten": 10, "fifteen": 15, "thirty": 30}
_IMAGE = re.compile(r"\bimage\s+[`'\"]?([\w./:@-]+)")
_CHANNEL = re.compile(r"(?<![\w])#([\w-]+)")
_CONN_HINTS: tuple[tuple[str, str], ...] = (
    ("postgres", "postgres_default"),
    ("mysql", "mysql_default"),
    ("snowflake", "snowflake_default"),
    ("redshift", "redshift_default"),
    ("bigquery", "google_cloud_default"),
    ("sqlite", "sqlite_default"),
    ("mssql", "mssql_default"),
)
DEFAULT_CONN: dict[str, str] = {
    "sql": "warehouse",
    "http": "http_default",
    "s3_copy": "aws_default",
    "gcs_copy": "google_cloud_default",
    "email": "smtp_default",
    "slack": "slack_default",
    "file_sensor": "fs_default",
}


_SQL_START = re.compile(
    r"(?i)\s*(?:select|insert|update|delete|merge|call|vacuum|refresh|create|truncate|analyze|optimize|alter|drop"
    r"|grant|revoke|copy\s+into|unload|with\s+\w+\s+as)\b"
)
_COMMAND_FIRST = frozenset({"dag_sensor", "file_sensor", "wait", "branch"})


def classify(step: str) -> str:
    """The task kind of one step. An aside in parentheses ("(z-score on API call counts)") explains
    the step; only a URL or a command in it counts, and only when the rest names no kind."""
    asides = re.findall(r"\([^()]*\)", step)
    command = next((c for c in re.findall(r"`([^`]+)`", step) if looks_like_command(c)), None)
    kind = _classify(re.sub(r"\([^()]*\)", " ", step), command)
    if kind == "python" and any("://" in aside for aside in asides):
        return _classify(step, command)
    return kind


_SQL_WORDS = re.compile(r"\b(?:UPDATE|INSERT|DELETE|MERGE|SELECT|TRUNCATE|VACUUM|UPSERT)\b")


def _classify(step: str, command: str | None) -> str:
    if command is None and _SQL_WORDS.search(step):
        return "sql"  # "run the promo pricing UPDATE on pricing.current_prices": SQL by its keyword
    text = _URL.sub(" url ", step.lower().replace("`", ""))  # "https://user@host" is no e-mail address
    for kind, pattern in KIND_RULES:
        if command and kind not in _COMMAND_FIRST:
            # A command in backticks is run as it is: SQL on a database, anything else in bash.
            return "sql" if _SQL_START.match(command) else "bash"
        if pattern.search(text):
            return kind
    return "python"


_HTTP_METHOD = re.compile(r"(?i)^(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S+$")
_SCRIPT = re.compile(r"^(?:\.{0,2}/|~/)?[\w./-]*\.(?:sh|py|pl|rb|bash)$|^\.{1,2}/\S+$|^~/\S+$")


def looks_like_command(literal: str) -> bool:
    """Is a literal in backticks something to run (`make build`, `./sync.sh`, `VACUUM x`) rather than
    a name (`clinical.adt_events`, `orders_raw`, `aquasec/trivy`), a path or a URL?"""
    literal = literal.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", literal) or _HTTP_METHOD.match(literal):
        return False
    if " " in literal:
        return True
    return bool(_SCRIPT.match(literal)) or literal in _BARE_COMMANDS


_BARE_COMMANDS = frozenset(
    {"make", "dbt", "ls", "uptime", "df", "true", "date", "hostname", "whoami", "sync"}
)


def quoted(step: str) -> str | None:
    match = _QUOTED.search(step)
    if not match:
        return None
    return next(g for g in match.groups() if g is not None).strip()


def _minutes(step: str) -> int:
    match = _DURATION.search(step.lower())
    if not match:
        return 5
    raw, unit = match.groups()
    value = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
    if unit.startswith("h"):
        return min(value * 60, 24 * 60)
    if unit.startswith("s"):
        return 1
    return max(1, min(value, 24 * 60))


def external_dag_id(step: str) -> str | None:
    for match in _DAG_NAME.finditer(step.lower()):
        name = match.group(1) or match.group(2)
        if name and name not in _NOT_DAG_NAMES:
            return re.sub(r"[^a-z0-9_.-]", "_", name).strip("._-") or None
    return None


def params_for(kind: str, step: str) -> dict[str, Any]:
    """The parameters of a task of ``kind`` that the step's words give (defaults elsewhere)."""
    lower = step.lower()
    literal = quoted(step)
    if kind == "bash":
        return {"command": literal} if literal else {}
    if kind == "python":
        return {"purpose": step}
    if kind == "http":
        url = _URL.search(step)
        method = (
            "POST"
            if re.search(r"\b(?:post|send|notify|trigger|webhook|submit|push|create)\b", lower)
            else "GET"
        )
        params: dict[str, Any] = {"method": method}
        if url:
            params["url"] = re.sub(r"//[^/@\s]*@", "//", url.group(0).rstrip("."))  # never credentials
        return params
    if kind == "file_sensor":
        path = _PATH.search(step) or _FILENAME.search(step)
        return {"path": path.group(0)} if path else {}
    if kind == "dag_sensor":
        name = external_dag_id(step)
        return {"external_dag_id": name} if name else {}
    if kind == "sql":
        params = {}
        for word, conn_id in _CONN_HINTS:
            if word in lower:
                params["conn_id"] = conn_id
                break
        if literal and _SQL_START.match(literal):
            params["sql"] = literal
        return params
    if kind in ("s3_copy", "gcs_copy"):
        urls = (_S3 if kind == "s3_copy" else _GS).findall(step)
        params = {}
        if len(urls) >= 2:
            params["source"], params["dest"] = urls[0], urls[1]
        elif len(urls) == 1:
            into = re.search(r"\b(?:to|into|onto)\s+" + re.escape(urls[0]), step)
            params["dest" if into else "source"] = urls[0]
        return params
    if kind == "kubernetes":
        image = _IMAGE.search(step)
        params = {"image": image.group(1)} if image else {}
        if literal and not image:
            params["command"] = literal
        return params
    if kind == "email":
        to = _EMAIL.findall(_URL.sub(" ", step))
        return {"to": to} if to else {}
    if kind == "slack":
        params = {"message": literal} if literal else {}
        channel = _CHANNEL.search(step)
        if channel:
            params["channel"] = "#" + channel.group(1)
        return params
    if kind == "wait":
        return {"minutes": _minutes(step)}
    if kind == "branch":
        return {"condition": step}
    return {}


def shell_echo(text: str) -> str:
    return "echo " + shlex.quote(text)
