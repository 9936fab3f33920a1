"""Real git repositories on disk for the GitOps tests: a bare 'remote' and a working clone."""

from __future__ import annotations

import ast
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.compose import Components
from assistant.config import load_config
from assistant.service import Assistant
from assistant.validation.policy import Policy

DAG_TEMPLATE = """from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["{tag}"])
def pipeline():
    @task
    def hello():
        return "{tag}"

    hello()


pipeline()
"""


def dag_source(dag_id: str, tag: str = "v1") -> str:
    return DAG_TEMPLATE.format(dag_id=dag_id, tag=tag)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class RemoteRepo:
    bare: Path
    work: Path
    branch: str = "main"

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(
        self, files: Mapping[str, str | bytes | None], message: str = "change", push: bool = True
    ) -> str:
        for rel, content in files.items():
            path = self.work / rel
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        if push:
            git(self.work, "push", "-q", "origin", self.branch)
        return git(self.work, "rev-parse", "HEAD")

    def commit_on_branch(self, branch: str, files: Mapping[str, str | bytes | None]) -> str:
        """Commit ``files`` on ``branch`` (made from the main branch when new) and push it; the
        working clone goes back to the main branch."""
        known = git(self.work, "branch", "--list", branch)
        git(self.work, "checkout", "-q", *([branch] if known else ["-b", branch]))
        try:
            sha = self.commit(files, f"on {branch}", push=False)
            git(self.work, "push", "-q", "origin", branch)
        finally:
            git(self.work, "checkout", "-q", self.branch)
        return sha


def make_remote(root: Path, name: str = "dags-repo", branch: str = "main") -> RemoteRepo:
    bare = root / f"{name}.git"
    work = root / f"{name}-work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(work)], check=True)
    git(work, "remote", "add", "origin", bare.as_uri())
    return RemoteRepo(bare, work, branch)


def unique(prefix: str = "gt") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass
class _Report:
    """What a validation report offers gitops: pure data, for the unit tests' stand-in validator."""

    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f["ok"] for f in self.files)

    def dag_ids(self) -> dict[str, str]:
        return {d: f["path"] for f in self.files for d in f["dag_ids"]}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": self.files}


class SyntaxAndIdValidator:
    """A stand-in for the validation pipeline in unit tests (pure logic): syntax, literal dag ids,
    and the policy's ``tags`` rule (a DAG file without ``tags=`` gets ``policy.tags`` at its level)."""

    def __init__(self) -> None:
        self.calls: list[Path] = []
        self.policies: list[Policy | None] = []

    def validate(
        self, release_dir: Path, known_dag_ids: Mapping[str, str], *, policy: Policy | None = None
    ) -> _Report:
        self.calls.append(release_dir)
        self.policies.append(policy)
        tags_level = (policy or Policy()).tags
        report = _Report()
        for path in sorted(release_dir.rglob("*.py")):
            entry: dict[str, Any] = {"path": str(path), "ok": True, "dag_ids": [], "findings": []}
            try:
                tree = ast.parse(path.read_text(), str(path))
            except SyntaxError as exc:
                entry["ok"] = False
                entry["findings"].append(
                    {"rule": "syntax", "severity": "block", "line": exc.lineno, "message": str(exc.msg)}
                )
                report.files.append(entry)
                continue
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "dag_id"
                    and isinstance(node.value, ast.Constant)
                ):
                    entry["dag_ids"].append(str(node.value.value))
            if entry["dag_ids"] and "tags=" not in path.read_text() and tags_level != "off":
                entry["ok"] = tags_level != "block"
                entry["findings"].append(
                    {"rule": "policy.tags", "severity": tags_level, "line": None, "message": "no tags"}
                )
            report.files.append(entry)
        return report


# Fixtures shared by tests/gitops and tests/web (each conftest imports them).
@pytest.fixture
def offline_assistant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    """An Assistant deploying into a private DAGs folder, with the stand-in validator (no Airflow)."""
    monkeypatch.setenv("ASSISTANT_DAGS_FOLDER", str(tmp_path / "dags"))
    return Assistant(Components(load_config(), validator=SyntaxAndIdValidator()))


@pytest.fixture
def remote(tmp_path: Path) -> RemoteRepo:
    return make_remote(tmp_path / "remotes")
