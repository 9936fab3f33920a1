"""Code templates, one per task kind: a TaskSpec → the lines that create the task in a DAG body.

Operators come from their provider when it is installed; otherwise the task is a TaskFlow
function that says, in a TODO and at run time, which provider package to install. Every string
from the description goes into the code through ``repr`` (never pasted raw), and placeholders are
marked ``TODO`` so an engineer can find what is left to fill in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from assistant.generation.kinds import DEFAULT_CONN, shell_echo
from assistant.generation.spec import TaskSpec

INDENT = "    "


@dataclass
class Block:
    imports: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskContext:
    variable: str  # the Python name the task is bound to
    missing_provider: str | None  # the provider package the kind needs and lacks
    connections: dict[str, str]  # kind -> conn id (conventions, else defaults)
    sensor_timeout_s: int
    branch_choices: list[str]  # for a branch: the task ids right after it
    trigger_rule: str | None  # set on a join after a branch


def _comment(text: str) -> str:
    return " ".join(text.split())[:150]


def _conn(task: TaskSpec, ctx: TaskContext) -> str:
    return str(
        task.params.get("conn_id") or ctx.connections.get(task.kind) or DEFAULT_CONN.get(task.kind, "")
    )


def _operator(
    imports: set[str],
    call: str,
    task: TaskSpec,
    ctx: TaskContext,
    args: list[tuple[str, str]],
    todo: str = "",
) -> Block:
    lines = [f"# TODO: {_comment(todo)}"] if todo else []
    lines.append(f"{ctx.variable} = {call}(")
    lines.append(f"{INDENT}task_id={task.task_id!r},")
    lines.extend(f"{INDENT}{name}={value}," for name, value in args)
    lines.extend(_common_args(task, ctx))
    lines.append(")")
    return Block(imports, lines)


def _common_args(task: TaskSpec, ctx: TaskContext) -> list[str]:
    lines = []
    if task.retries is not None:
        lines.append(f"{INDENT}retries={task.retries},")
    if task.timeout_minutes is not None:
        lines.append(f"{INDENT}execution_timeout=timedelta(minutes={task.timeout_minutes}),")
    if ctx.trigger_rule:
        lines.append(f"{INDENT}trigger_rule={ctx.trigger_rule!r},")
    return lines


def _taskflow(
    task: TaskSpec, ctx: TaskContext, body: list[str], *, returns: str = "None", decorator: str = "task"
) -> Block:
    options = [f"task_id={task.task_id!r}"] + [line.strip().rstrip(",") for line in _common_args(task, ctx)]
    docstring = _comment(task.summary or task.task_id).replace("\\", "/").replace('"""', "'''")
    lines = [
        f"@{decorator}({', '.join(options)})",
        f"def {ctx.variable}() -> {returns}:",
        f'{INDENT}"""{docstring[:1].upper() + docstring[1:]}."""',
        *(INDENT + line if line else "" for line in body),
        "",
        "",
        f"{ctx.variable} = {ctx.variable}()",
    ]
    return Block({"from airflow.sdk import task"}, lines)


def _fallback(task: TaskSpec, ctx: TaskContext, operator: str) -> Block:
    package = ctx.missing_provider or "the provider package"
    message = f"{task.task_id}: install {package} in Airflow's environment and use {operator}"
    body = [
        f"# TODO: install {package} in Airflow's environment, then replace this task with",
        f"# {operator} ({_comment(task.summary)}); parameters: {_comment(repr(task.params))}.",
        f"raise NotImplementedError({message!r})",
    ]
    return _taskflow(task, ctx, body)


def render_bash(task: TaskSpec, ctx: TaskContext) -> Block:
    command = task.params.get("command")
    todo = ""
    if not command:
        command = shell_echo(f"TODO: {_comment(task.summary)}")
        todo = f"replace the command with the real one to {task.summary}"
    if command.rstrip().endswith((".sh", ".bash")):
        command = command.rstrip() + " "  # else Airflow reads the string as a Jinja template file name
    return _operator(
        {"from airflow.providers.standard.operators.bash import BashOperator"},
        "BashOperator", task, ctx, [("bash_command", repr(command))], todo,
    )  # fmt: skip


def render_python(task: TaskSpec, ctx: TaskContext) -> Block:
    body = [
        f"# TODO: implement: {_comment(task.summary)}",
        f"print({('TODO: ' + _comment(task.summary))!r})",
    ]
    return _taskflow(task, ctx, body)


def render_http(task: TaskSpec, ctx: TaskContext) -> Block:
    method = str(task.params.get("method", "GET")).upper()
    url = task.params.get("url")
    if ctx.missing_provider is None:
        endpoint = task.params.get("endpoint") or (urlsplit(url).path if url else "/")
        todo = f"point the {_conn(task, ctx)} connection at " + (
            f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" if url else "the service to call"
        )
        return _operator(
            {"from airflow.providers.http.operators.http import HttpOperator"}, "HttpOperator", task, ctx,
            [("http_conn_id", repr(_conn(task, ctx))), ("endpoint", repr(endpoint)), ("method", repr(method)),
             ("log_response", "True")], todo,
        )  # fmt: skip
    if not url:
        return _fallback(task, ctx, "HttpOperator")
    body = [
        f"# TODO: with {ctx.missing_provider} installed, HttpOperator and a connection are the better choice.",
        "import urllib.request",
        "",
        f"request = urllib.request.Request({url!r}, method={method!r})",
        "with urllib.request.urlopen(request, timeout=60) as response:  # the URL is a fixed https/http literal",
        f"{INDENT}print({method!r}, {url!r}, response.status)",
        f"{INDENT}return int(response.status)",
    ]
    return _taskflow(task, ctx, body, returns="int")


def render_file_sensor(task: TaskSpec, ctx: TaskContext) -> Block:
    path = task.params.get("path")
    todo = "" if path else "the path of the file to wait for"
    return _operator(
        {"from airflow.providers.standard.sensors.filesystem import FileSensor"}, "FileSensor", task, ctx,
        [("filepath", repr(path or "/data/incoming/TODO")), ("fs_conn_id", repr(_conn(task, ctx))),
         ("poke_interval", "60"), ("timeout", str(ctx.sensor_timeout_s)), ("mode", repr("reschedule"))], todo,
    )  # fmt: skip


def render_dag_sensor(task: TaskSpec, ctx: TaskContext) -> Block:
    upstream_dag = task.params.get("external_dag_id")
    todo = "waits for the run of the other DAG with the same logical date; align the schedules"
    if not upstream_dag:
        todo = "the dag_id of the DAG to wait for; " + todo
    args = [("external_dag_id", repr(upstream_dag or "TODO_upstream_dag"))]
    if task.params.get("external_task_id"):
        args.append(("external_task_id", repr(task.params["external_task_id"])))
    args += [("poke_interval", "60"), ("timeout", str(ctx.sensor_timeout_s)), ("mode", repr("reschedule"))]
    return _operator(
        {"from airflow.providers.standard.sensors.external_task import ExternalTaskSensor"},
        "ExternalTaskSensor", task, ctx, args, todo,
    )  # fmt: skip


def render_sql(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "SQLExecuteQueryOperator")
    sql = task.params.get("sql")
    todo = "" if sql else f"the SQL to {task.summary}"
    if not sql:
        sql = f"-- TODO: {_comment(task.summary)}\nSELECT 1"
    return _operator(
        {"from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator"},
        "SQLExecuteQueryOperator", task, ctx, [("conn_id", repr(_conn(task, ctx))), ("sql", repr(sql))], todo,
    )  # fmt: skip


def _bucket_key(url: str | None, placeholder: str) -> tuple[str, str]:
    if not url:
        return f"TODO-{placeholder}-bucket", "TODO/key"
    parts = urlsplit(url)
    return parts.netloc, parts.path.lstrip("/") or "TODO/key"


def render_s3_copy(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "S3CopyObjectOperator")
    source, dest = (
        _bucket_key(task.params.get("source"), "source"),
        _bucket_key(task.params.get("dest"), "dest"),
    )
    return _operator(
        {"from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator"}, "S3CopyObjectOperator",
        task, ctx, [("source_bucket_name", repr(source[0])), ("source_bucket_key", repr(source[1])),
                    ("dest_bucket_name", repr(dest[0])), ("dest_bucket_key", repr(dest[1])),
                    ("aws_conn_id", repr(_conn(task, ctx)))],
        "" if task.params.get("source") and task.params.get("dest") else "the source and destination objects",
    )  # fmt: skip


def render_gcs_copy(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "GCSToGCSOperator")
    source, dest = (
        _bucket_key(task.params.get("source"), "source"),
        _bucket_key(task.params.get("dest"), "dest"),
    )
    return _operator(
        {"from airflow.providers.google.cloud.transfers.gcs_to_gcs import GCSToGCSOperator"}, "GCSToGCSOperator",
        task, ctx, [("source_bucket", repr(source[0])), ("source_object", repr(source[1])),
                    ("destination_bucket", repr(dest[0])), ("destination_object", repr(dest[1])),
                    ("gcp_conn_id", repr(_conn(task, ctx)))],
        "" if task.params.get("source") and task.params.get("dest") else "the source and destination objects",
    )  # fmt: skip


def render_kubernetes(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "KubernetesPodOperator")
    image = task.params.get("image")
    args = [("name", repr(task.task_id.replace("_", "-"))),
            ("namespace", repr(task.params.get("namespace", "default"))),
            ("image", repr(image or "TODO/image:latest")), ("get_logs", "True")]  # fmt: skip
    if task.params.get("command"):
        args.append(("cmds", repr(["/bin/sh", "-c", task.params["command"]])))
    return _operator(
        {"from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator"},
        "KubernetesPodOperator", task, ctx, args, "" if image else "the container image to run",
    )  # fmt: skip


def render_email(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "EmailOperator")
    to = task.params.get("to") or ["team@example.com"]
    subject = task.params.get("subject") or f"[{{{{ dag.dag_id }}}}] {_comment(task.summary)}"[:120]
    body = task.params.get("body") or "Run {{ run_id }} of {{ dag.dag_id }}: " + _comment(task.summary)
    return _operator(
        {"from airflow.providers.smtp.operators.smtp import EmailOperator"}, "EmailOperator", task, ctx,
        [("to", repr(list(to) if isinstance(to, list) else [to])), ("subject", repr(subject)),
         ("html_content", repr(body)), ("conn_id", repr(_conn(task, ctx)))],
        "" if task.params.get("to") else "the recipients",
    )  # fmt: skip


def render_slack(task: TaskSpec, ctx: TaskContext) -> Block:
    if ctx.missing_provider is not None:
        return _fallback(task, ctx, "SlackWebhookOperator")
    message = task.params.get("message") or "{{ dag.dag_id }} run {{ run_id }}: " + _comment(task.summary)
    args = [("slack_webhook_conn_id", repr(_conn(task, ctx))), ("message", repr(message))]
    if task.params.get("channel"):
        args.append(("channel", repr(task.params["channel"])))
    return _operator(
        {"from airflow.providers.slack.operators.slack_webhook import SlackWebhookOperator"},
        "SlackWebhookOperator", task, ctx, args,
    )  # fmt: skip


def render_wait(task: TaskSpec, ctx: TaskContext) -> Block:
    minutes = int(task.params.get("minutes", 5))
    return _operator(
        {"from airflow.providers.standard.sensors.time_delta import WaitSensor"}, "WaitSensor", task, ctx,
        [("time_to_wait", f"timedelta(minutes={minutes})"), ("mode", repr("reschedule"))],
    )  # fmt: skip


def render_branch(task: TaskSpec, ctx: TaskContext) -> Block:
    condition = _comment(str(task.params.get("condition") or task.summary))
    choices = ctx.branch_choices
    body = [
        f"# TODO: decide {condition!r}; return the task ids to run next, from {choices!r}.",
        "# The others are skipped. [] skips them all.",
        f"return {choices[:1]!r}",
    ]
    return _taskflow(task, ctx, body, returns="list[str]", decorator="task.branch")


RENDERERS: dict[str, Callable[[TaskSpec, TaskContext], Block]] = {
    "bash": render_bash,
    "python": render_python,
    "http": render_http,
    "file_sensor": render_file_sensor,
    "dag_sensor": render_dag_sensor,
    "sql": render_sql,
    "s3_copy": render_s3_copy,
    "gcs_copy": render_gcs_copy,
    "kubernetes": render_kubernetes,
    "email": render_email,
    "slack": render_slack,
    "wait": render_wait,
    "branch": render_branch,
}
SENSOR_KINDS = frozenset({"file_sensor", "dag_sensor", "wait"})


def variable_name(task_id: str) -> str:
    return re.sub(r"\W", "_", task_id)
