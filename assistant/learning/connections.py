"""Which Airflow connections each task of a DAG uses, read from the DAG's source file.

Airflow's REST API does not say which connection a task uses, but the DAG file does:
``S3CreateObjectOperator(task_id="upload", aws_conn_id="aws_default")``, a hook built inside a
``@task`` function (``S3Hook(aws_conn_id=...)``), ``BaseHook.get_connection("partner_api")`` or
``Connection.get(...)``. Keyword arguments ending in ``conn_id`` with a string value (or a
module-level string constant) are collected per task; nothing is imported or executed.
"""

from __future__ import annotations

import ast
from collections import defaultdict

TaskConnections = dict[str, frozenset[str]]


def task_connections(source: str) -> TaskConnections:
    """``{task_id: connection ids}`` for the tasks of a DAG file; {} when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    constants = _module_constants(tree)
    found: defaultdict[str, set[str]] = defaultdict(set)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            task_id = _string(_keyword(node, "task_id"), constants)
            if task_id:
                found[task_id] |= _connections_of_call(node, constants)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            task_id = _taskflow_id(node, constants)
            if task_id:
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call):
                        found[task_id] |= _connections_of_call(inner, constants)
    return {task: frozenset(conns) for task, conns in found.items() if conns}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node.value.value, str):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return out


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _string(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _connections_of_call(call: ast.Call, constants: dict[str, str]) -> set[str]:
    out = set()
    for keyword in call.keywords:
        if keyword.arg and keyword.arg.endswith("conn_id"):
            value = _string(keyword.value, constants)
            if value:
                out.add(value)
    func = call.func
    if isinstance(func, ast.Attribute) and call.args:
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        if func.attr == "get_connection" or (func.attr == "get" and owner == "Connection"):
            value = _string(call.args[0], constants)
            if value:
                out.add(value)
    return out


def _taskflow_id(node: ast.FunctionDef | ast.AsyncFunctionDef, constants: dict[str, str]) -> str | None:
    """The task id of a ``@task`` / ``@task.<kind>`` function, else None."""
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        while isinstance(target, ast.Attribute) and target.attr != "task":
            target = target.value
        is_task = (isinstance(target, ast.Name) and target.id == "task") or (
            isinstance(target, ast.Attribute) and target.attr == "task"
        )
        if is_task:
            explicit = _string(_keyword(call, "task_id"), constants) if call else None
            return explicit or node.name
    return None
