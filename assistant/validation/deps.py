"""Dependencies: which modules a DAG imports, and what to say when Airflow's environment lacks one.

The modules are resolved inside the sandbox child (``importlib.util.find_spec`` under Airflow's
interpreter, with the repository on ``sys.path``); this module prepares the list and turns what is
missing into findings with an install hint, naming the provider package for provider operators.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from assistant.validation.security import RawFinding

# import name -> distribution name, where they differ
DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "jwt": "PyJWT",
    "dotenv": "python-dotenv",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.storage": "google-cloud-storage",
    "snowflake.connector": "snowflake-connector-python",
    "attr": "attrs",
    "magic": "python-magic",
}
ISOLATED_ENV = re.compile(r"(?i)virtualenv|external_?python|docker|kubernetes|pyspark|\bbash\b")
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _isolated_lines(tree: ast.Module) -> set[int]:
    """Lines of functions that run in another environment (virtualenv, external python, docker,
    kubernetes tasks): their imports need not resolve in Airflow's own environment."""
    callables: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ISOLATED_ENV.search(ast.unparse(node.func)):
            for keyword in node.keywords:
                if keyword.arg == "python_callable" and isinstance(keyword.value, ast.Name):
                    callables.add(keyword.value.id)
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = " ".join(ast.unparse(d) for d in node.decorator_list)
            if node.name in callables or ISOLATED_ENV.search(decorators):
                lines |= {n.lineno for n in ast.walk(node) if hasattr(n, "lineno")}
    return lines


def imported_modules(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(module, line, soft) for absolute imports. Soft imports only break a task at run time, not
    the DAG's import: inside a function, or guarded by try/except ImportError.

    Imports inside functions that run in another environment are left out.
    """
    isolated = _isolated_lines(tree)
    in_functions = {
        n.lineno
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(f)
        if isinstance(n, ast.Import | ast.ImportFrom)
    }
    guarded_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            handled = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
            if (
                not node.handlers
                or any(h.type is None for h in node.handlers)
                or "ImportError" in handled
                or ("ModuleNotFoundError" in handled or "Exception" in handled)
            ):
                guarded_lines |= {
                    n.lineno for stmt in node.body for n in ast.walk(stmt) if hasattr(n, "lineno")
                }
    seen: dict[str, tuple[str, int, bool]] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module != "__future__"
        ):
            names = [node.module]
        for name in names:
            if name not in seen and node.lineno not in isolated:
                seen[name] = (name, node.lineno, node.lineno in guarded_lines or node.lineno in in_functions)
    return sorted(seen.values(), key=lambda item: item[1])


def provider_package(module: str) -> str | None:
    """``airflow.providers.amazon.aws.operators.s3`` -> ``apache-airflow-providers-amazon``."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["airflow", "providers"]:
        return f"apache-airflow-providers-{parts[2].replace('_', '-')}"
    return None


def distribution_for(module: str) -> str:
    for name in sorted(DISTRIBUTIONS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return DISTRIBUTIONS[name]
    return module.split(".")[0].replace("_", "-")


def read_requirements(root: Path | None) -> list[str]:
    if root is None:
        return []
    try:
        lines = (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    names = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = REQUIREMENT_NAME.match(line)
        if match:
            names.append(match.group(1))
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_findings(
    missing: list[dict[str, Any]], soft: dict[str, bool], airflow_python: Path, requirements: list[str]
) -> list[RawFinding]:
    findings: list[RawFinding] = []
    listed = {_normal(r) for r in requirements}
    for item in missing:
        module = str(item["module"])
        provider = provider_package(module)
        severity = "warn" if soft.get(module) else "block"
        if provider:
            message = f"{module} comes from {provider}, which is not installed in Airflow's environment"
            hint = f"{airflow_python} -m pip install {provider}"
        else:
            distribution = distribution_for(module)
            message = f"module {module} is not installed in Airflow's environment"
            if _normal(distribution) in listed:
                message += " (it is listed in requirements.txt)"
            hint = f"{airflow_python} -m pip install {distribution} (and list it in requirements.txt)"
        if soft.get(module):
            message += "; the task importing it will fail when it runs"
        reason = str(item.get("reason") or "")
        if reason and reason != "not found":
            message += f": {reason[:160]}"
        findings.append(RawFinding("deps.missing-module", severity, item.get("line"), message, hint))
    return findings


def requirement_findings(
    requirements: list[str], versions: dict[str, str | None], airflow_python: Path
) -> list[RawFinding]:
    absent = [r for r in requirements if versions.get(r) is None]
    if not absent:
        return []
    return [
        RawFinding(
            "deps.requirement-not-installed",
            "block",
            None,
            f"requirements.txt lists {', '.join(absent)}, not installed in Airflow's environment",
            f"{airflow_python} -m pip install {' '.join(absent)}",
        )
    ]
