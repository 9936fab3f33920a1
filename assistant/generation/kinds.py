"""One step of a description ("back up the exports to S3") → a task kind and its parameters.

The rules are ordered: the first whose pattern matches the step decides the kind, so the more
specific services (a DAG to wait for, Slack, Kubernetes, S3) are tried before the generic words
(a script, an API) and plain Python is the fallback.

The rules are only searched for (is there a match?), so "A, then B later in the same clause" is
written with :func:`_then_in_clause`, which reads each A only up to the next A: a step repeating
A many times is read in linear time.
"""

from __future__ import annotations

import re
import shlex
from typing import Any


def _then_in_clause(first: str, then: str, clause_end: str = ",") -> str:
    """A pattern for ``first`` followed by ``then`` with no ``clause_end`` character between.

    Where ``first`` occurs several times before ``then``, the last of them is followed by it too,
    so reading each ``first`` only up to the next one matches the same steps as
    ``first[^,]*then`` (``then`` never starts where a ``first`` does)."""
    return rf"{first}(?:(?!{first})[^{clause_end}])*{then}"


_QUOTE = r"[`'\"]?"  # an optional quote around a name: "`orders_daily`"
_WORKFLOW = r"(?:dag|pipeline|workflow)"  # what another DAG is called
# "orders_daily", "ops.crm_sync": a name with a word that has an underscore. Read once from the
# start of the name: its first such word is taken for good (atomic group), as what may follow the
# name does not depend on which word it is.
_UNDERSCORED_NAME = r"(?<![\w.-])(?>[\w.-]*?\b[a-z][a-z0-9]*_)[\w.-]*+"
# Waiting for another DAG:
_DAG_SENSOR = "|".join(
    (
        # "dag orders_daily has finished", "pipeline ingest to complete"
        rf"\b{_WORKFLOW}\s+{_QUOTE}(?!that\b|which\b|who\b)[a-z][\w.-]*{_QUOTE}\s+(?:has\s+|to\s+)?"
        r"(?:finish|complete|succeed|is\s+done|ran|run)",
        # "orders_daily dag is done", "`crm_sync` pipeline succeeded"
        rf"{_QUOTE}{_UNDERSCORED_NAME}{_QUOTE}\s+{_WORKFLOW}\s+(?:has\s+|is\s+)?(?:finish|complete|succeed|done|ran)",
        # "wait for the upstream dag", "wait on the ingest pipeline"
        rf"\bwait\w*\s+(?:for|on|until)\s+(?:the\s+)?(?:upstream\s+)?{_WORKFLOW}\b",
        rf"\bwait\w*\s+(?:for|on|until)\s+(?:the\s+)?(?:upstream\s+)?{_QUOTE}[a-z][\w.-]*{_QUOTE}\s+{_WORKFLOW}\b",
        # "completion of the billing workflow", "the upstream dag"
        rf"\bcompletion\s+of\s+(?:the\s+)?{_QUOTE}[a-z][\w.-]*{_QUOTE}\s+{_WORKFLOW}\b",
        rf"\bupstream\s+{_WORKFLOW}\b",
    )
)
# Waiting for a file:
_WATCHING = r"\b(?:wait\w*|watch\w*|sens\w*|poll\w*|until)\b"  # "waits", "watching", "sensor", "until"
_WATCHING_VERB = r"\b(?:wait\w*|watch\w*|sens\w*|poll\w*)\b"  # the same without "until"
_FILE = r"\bfiles?\b"
# "arrives", "landed", "shows up", "is present"
_ARRIVES = r"\b(?:arriv\w*|lands?|landed|appears?|exists?|is\s+present|is\s+there|shows?\s+up|dropped)\b"
_DATA_FILE = r"(?:\s/\S+|\.(?:csv|json|parquet|txt|xml|gz|zip)\b)"  # " /in/a.csv", ".parquet"
_FILE_SENSOR = "|".join(
    (
        _then_in_clause(_WATCHING, _FILE),  # "wait until the vendor file ..."
        _then_in_clause(_FILE, _ARRIVES),  # "once the file lands", "files are dropped"
        r"\bwait\w*\s+for\s+\S*/\S+",  # "wait for /in/orders/"
        _then_in_clause(_WATCHING_VERB, _DATA_FILE),  # "poll for report.csv"
        r"\barrival\s+of\b",  # "on arrival of the export"
        _then_in_clause(_FILE, r"\bpicked\s+up\b"),  # "when the file is picked up"
        # "shows up in /mnt/drop/", "is uploaded to s3://in/"
        r"\b(?:shows?\s+up|lands?|arrives?|appears?|gets?\s+dropped|is\s+dropped|is\s+uploaded|is\s+expected)"
        r"\s+(?:at|in|on|under|to)\s+\S*/",
        # "/in/_SUCCESS appears", "orders.done exists"
        r"(?:\s/\S+|\.(?:csv|json|parquet|txt|xml|gz|zip|flag|done|ok)\b)\s+(?:arriv\w*|lands?|landed|appears?|exists?|"
        r"is\s+(?:present|there)|shows?\s+up)",
    )
)
_AMOUNT = r"(?:\d+|an?|one|two|five|ten|fifteen|thirty)"  # "10", "an", "fifteen" (minutes)
_WAIT = (  # "wait 10 minutes", "sleep for another 2 hours", "give it 15 more min"
    rf"\b(?:wait|sleep|pause|delay)\w*\s+(?:for\s+)?(?:another\s+)?{_AMOUNT}\s*"
    r"(?:more\s+|extra\s+|additional\s+)?(?:min\w*|hours?|hrs?|seconds?|secs?)\b"
    rf"|\b(?:give\s+it|allow|leave\s+it)\s+(?:another\s+)?{_AMOUNT}\s*"
    r"(?:more\s+)?(?:min\w*|hours?|hrs?)\b"
)
_BRANCH = (  # "if there are rows ...", "branch on the region", "depending on", "check whether ..."
    r"^\s*(?:if|unless|whether)\b|^\s*branch\b|\bbranch(?:es|ing)?\s+(?:on|by|based|depending|according)\b"
    r"|\bdepending\s+on\b|\bchoose\s+between\b|^\s*(?:check|see|test|decide)\s+(?:if|whether)\b"
)
_SLACK = (  # "slack", "post the summary to #data-alerts", "in #ops"
    r"\bslack\b|"
    + _then_in_clause(
        r"\b(?:post|send|notify|tell|message|ping|alert|announce)\w*\b", r"\s#[a-z0-9][\w-]*", ",;"
    )
    + r"|\b(?:in|to|on|into)\s+#[a-z][\w-]*"
)
# "email", "mail", "smtp", "ops@example.com" (an address read from its start, never from inside it)
_EMAIL_WORDS = r"\be-?mails?\b|\bmail\b|\bsmtp\b|\bnewsletter\b|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+"
_KUBERNETES = r"\bkubernetes\b|\bk8s\b|\bpods?\b|\bcontainer\w*\b|\bgke\b|\beks\b"  # "on k8s", "a pod"
# "call url", "post to url" (a link in the step reads "url", see _classify)
_HTTP_CALL = _then_in_clause(
    r"\b(?:post|get|put|patch|call|hit|invoke|trigger\w*|request)\b", r"\burl\b", ",;"
)
_SHELL_SCRIPT = (  # "with a bash script", "pg_dump"
    r"\b(?:with|using|via)\s+(?:our\s+|a\s+|the\s+)?(?:bash|shell)\s+script\b|\bpg_dump\b|\bmysqldump\b|\bpg_restore\b"
)
# "into our postgres", "into the warehouse", "into a table": loading into a database.
_DB_TARGET = r"\binto\s+(?:the\s+|our\s+|a\s+)?(?:\w+\s+)?(?:postgres\w*|mysql|warehouse|table|database|db|snowflake|redshift|bigquery)\b"
# "from staging.products", "into the table sales.daily": a schema.table name (not "in report.csv").
_TABLE_TARGET = (
    r"\b(?:from|into|to|in)\s+"
    r"(?:the\s+)?(?:table\s+)?[a-z_][a-z0-9_]*\.(?!(?:csv|json|parquet|txt|xml|gz|zip|py|sh|sql|pdf|log|tsv|avro|ya?ml"
    r"|md|html|com|org|net|io)\b)[a-z_][a-z0-9_]*\b(?!\.\w)"
)
_TABLE_STATEMENT = (  # "update pricing.current_prices", "truncate staging.fx_rates"
    r"\b(?:update|truncate|vacuum|upsert\s+into|insert\s+into|merge\s+into|delete\s+from)\s+(?:the\s+)?(?:table\s+)?"
    r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\b(?!\.\w)"
)
_S3 = r"\bs3\b|s3://|\baws\s+bucket"  # "to S3", "s3://bucket/x", "the aws bucket"
_GCS = r"\bgcs\b|gs://|\bgoogle\s+cloud\s+storage\b|\bgcp\s+bucket"  # "to GCS", "gs://bucket/x"
_SQL_WORDS_IN_STEP = (  # "run the sql", "vacuum", "a materialized view", "select x from y"
    r"\bsql\b|\bquery\b|\bqueries\b|\bpostgres\w*\b|\bmysql\b|\bsnowflake\b|\bredshift\b|\bbigquery\b"
    r"|\bwarehouse\b|\bdatabase\b|\bdb\b|\btables?\b|\bvacuum\b|\bmaterialized\s+views?\b"
    r"|\bstored\s+procedure\b|\bsqlite\b|\bmssql\b|\bselect\s+.+\s+from\b"
)
_HTTP_WORDS = (  # "the API", "https", "an endpoint", "webhook", "ping", "health check", "pagerduty"
    r"(?<![\w-])apis?(?![\w-])|\bhttps?\b|https?://|\bendpoints?\b|\bwebhooks?\b|\burls?\b|\brest\b|\bping\w*\b"
    r"|\bhealth\s*-?checks?\b|\bweb\s*service\b|\bpagerduty\b|\bopsgenie\b"
)
# "notify the team", "alert ops" (a step naming Slack was taken by the slack rule before)
_NOTIFY = r"\b(?:notify|alert)\b"
_IN_PYTHON = (
    r"\b(?:in|with|using|via)\s+(?:plain\s+)?(?:python|pyhton|pandas|numpy|polars)\b"  # "with pandas"
)
_BUILT_THINGS = (  # what "build" makes when it is no software build: "build the daily report"
    r"(?:segments?|features?|reports?|summar\w+|datasets?|models?|aggregates?|tables?|views?|cohorts?|audiences?"
    r"|embeddings?|indexes|metrics|dashboards?|profiles?|scores?)\b"
)
_COMMAND_WORDS = (  # "a script", "deploy", "build the image", "dbt", "make", "restart", "backup.sh"
    r"\bscripts?\b|\bbash\b|\bshell\b|\bcommands?\b|\bdeploy\w*\b"
    rf"|\bbuild\b(?!\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){{0,2}}{_BUILT_THINGS})|\bcompile\b|\brestart\w*\b"
    r"|\bdocker\b|\bgzip\b|\bgunzip\b|\btar\b|\bregistry\b|\bgit\b|\bdbt\b|\bmake\b(?!\s+(?:the|a|an|sure|it|them)\b)"
    r"|\brsync\b|\bcli\b|\bterraform\b|\bansible\b|\bhelm\b|\bspark-submit\b|\.sh\b"
)

KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("dag_sensor", _DAG_SENSOR),
        ("file_sensor", _FILE_SENSOR),
        ("wait", _WAIT),
        ("branch", _BRANCH),
        ("slack", _SLACK),
        ("email", _EMAIL_WORDS),
        ("kubernetes", _KUBERNETES),
        ("http", _HTTP_CALL),
        ("bash", _SHELL_SCRIPT),
        ("sql", _DB_TARGET),
        ("sql", _TABLE_TARGET),
        ("sql", _TABLE_STATEMENT),
        ("s3_copy", _S3),
        ("gcs_copy", _GCS),
        ("sql", _SQL_WORDS_IN_STEP),
        ("http", _HTTP_WORDS),
        ("email", _NOTIFY),
        ("python", _IN_PYTHON),
        ("bash", _COMMAND_WORDS),
    )
)

# Single quotes only around words ("post 'queue ok'"), never the apostrophe of "it's".
_QUOTED = re.compile(r"`([^`]+)`|\"([^\"]+)\"|(?<!\w)'([^']{3,})'(?!\w)")
# "https://api.example.com/v1/orders?day=1": up to a space, a comma, a semicolon or a quote.
_URL = re.compile(r"https?://[^\s,;\"'`]+")
# "/data/in/orders_*.csv": two segments at least, not part of a URL.
_PATH = re.compile(r"(?<![\w:/])(/[\w.\-*{}]+(?:/[\w.\-*{}]+)+)")
# "orders_2024.csv", "_SUCCESS.done" (group 1), read from the start of the name, never from inside it.
_FILENAME = re.compile(
    r"(?<![\w\-*])[\-*]*+(\b[\w\-*]+\.(?:csv|json|parquet|txt|xml|gz|zip|xlsx|avro|done|ok|tsv|log)\b)"
)
# "ops@example.com", read from the start of the address, never from inside it.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+\w")
_S3_URL = re.compile(r"s3://[^\s,;\"'`]+")  # "s3://bucket/prefix/"
_GS_URL = re.compile(r"gs://[^\s,;\"'`]+")  # "gs://bucket/prefix/"
# "dag orders_daily", "`crm_sync` pipeline": the name of the DAG to wait for (group 1 or 2).
_DAG_NAME = re.compile(
    r"\b(?:dag|pipeline|workflow)\s+[`'\"]?([a-z][\w.-]*)[`'\"]?"
    r"|[`'\"]?([a-z][a-z0-9]*_[\w.-]*)[`'\"]?\s+(?:dag|pipeline|workflow)\b"
)
# Words after "dag" that are no name: "the dag has finished", "the pipeline runs".
_NOT_DAG_NAMES = frozenset(
    {"has", "to", "is", "finishes", "finished", "completes", "completed", "succeeds", "run", "runs"}
)
# "10 minutes", "an hour", "thirty secs" (a number is read from its first digit)
_DURATION = re.compile(
    r"((?<!\d)\d+|an?|one|two|five|ten|fifteen|thirty)\s*(min\w*|hours?|hrs?|seconds?|secs?)\b"
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "five": 5, "ten": 10, "fifteen": 15, "thirty": 30}
# "image ghcr.io/acme/etl:1.4": the container image.
_IMAGE = re.compile(r"\bimage\s+[`'\"]?([\w./:@-]+)")
# "#data-alerts": a Slack channel.
_CHANNEL = re.compile(r"(?<![\w])#([\w-]+)")
# A database named in a SQL step → its default connection id.
_CONN_HINTS: tuple[tuple[str, str], ...] = (
    ("postgres", "postgres_default"),
    ("mysql", "mysql_default"),
    ("snowflake", "snowflake_default"),
    ("redshift", "redshift_default"),
    ("bigquery", "google_cloud_default"),
    ("sqlite", "sqlite_default"),
    ("mssql", "mssql_default"),
)
# The connection a task of each kind uses unless conventions name another.
DEFAULT_CONN: dict[str, str] = {
    "sql": "warehouse",
    "http": "http_default",
    "s3_copy": "aws_default",
    "gcs_copy": "google_cloud_default",
    "email": "smtp_default",
    "slack": "slack_default",
    "file_sensor": "fs_default",
}


# "SELECT ...", "copy into ...", "with x as (...)": a literal that is SQL.
_SQL_START = re.compile(
    r"(?i)\s*(?:select|insert|update|delete|merge|call|vacuum|refresh|create|truncate|analyze|optimize|alter|drop"
    r"|grant|revoke|copy\s+into|unload|with\s+\w+\s+as)\b"
)
# Kinds the words decide even when the step quotes a command: "wait for the `ingest` dag".
_COMMAND_FIRST = frozenset({"dag_sensor", "file_sensor", "wait", "branch"})


def classify(step: str) -> str:
    """The task kind of one step. An aside in parentheses ("(z-score on API call counts)") explains
    the step; only a URL or a command in it counts, and only when the rest names no kind."""
    asides = re.findall(r"\([^()]*\)", step)
    command = next((c for c in re.findall(r"`([^`]+)`", step) if looks_like_command(c)), None)
    kind = _classify(re.sub(r"\([^()]*\)", " ", step), command)
    if kind == "python" and any("://" in aside or re.search(r"/\S+\.\w+", aside) for aside in asides):
        return _classify(step, command)
    return kind


# "UPDATE", "MERGE" in capitals: SQL by its keyword.
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


# "GET /v1/orders": an HTTP request, not a command.
_HTTP_METHOD = re.compile(r"(?i)^(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S+$")
# "./sync.sh", "scripts/load.py", "~/bin/run": a script to run.
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


# Commands that are one word.
_BARE_COMMANDS = frozenset(
    {"make", "dbt", "ls", "uptime", "df", "true", "date", "hostname", "whoami", "sync"}
)


def quoted(step: str) -> str | None:
    """The first text in backticks or quotes: a command, SQL or a message."""
    match = _QUOTED.search(step)
    if not match:
        return None
    return next(g for g in match.groups() if g is not None).strip()


def _minutes(step: str) -> int:
    """How long a wait step waits, in minutes (5 when it does not say; a day at most)."""
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
    """The id of the DAG a step waits for ("wait for the orders_daily dag" -> "orders_daily")."""
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
        return {"path": path.group(1)} if path else {}
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
        urls = (_S3_URL if kind == "s3_copy" else _GS_URL).findall(step)
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
