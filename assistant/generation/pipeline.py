"""Description → spec → code → validation → (only if it validates) a file or a pushed commit.

The :class:`Generator` is built by the service from narrow parts: a provider catalog, the sources
of conventions (similar deployed DAGs, the docs' conventions page, run history; see
:mod:`.precedence`), the validation pipeline, an optional LLM proposer and an optional repo
writer. Settings stated in the description ("with 3 retries") are taken out before it is read
into steps (:mod:`.stated`). The code is always written into a private temporary directory and
validated there (import in Airflow included); ``--out`` or the repository only ever receive a
file that passed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.errors import AssistantError, UsageError
from assistant.generation.conventions import SimilarSearch
from assistant.generation.doc_conventions import DocsSearch
from assistant.generation.llm import SpecProposer
from assistant.generation.parser import check_description_size, parse_description
from assistant.generation.precedence import ConventionSources, follow_conventions
from assistant.generation.render import Providers, render_dag
from assistant.generation.run_defaults import TaskHistory
from assistant.generation.spec import DagSpec
from assistant.generation.stated import stated_settings
from assistant.redact import redact

if TYPE_CHECKING:
    from assistant.generation.repo_writer import PushedFile


class Report(Protocol):
    @property
    def ok(self) -> bool: ...

    def to_dict(self) -> dict[str, Any]: ...


# (paths, base_dir, known dag ids) -> the validation report
Validate = Callable[[Sequence[Path], Path, Mapping[str, str]], Report]


class RepoWriter(Protocol):
    def target_path(self, filename: str) -> str: ...

    def write(self, filename: str, content: str, message: str) -> PushedFile: ...


@dataclass
class GenerationResult:
    ok: bool
    spec: DagSpec
    code: str
    validation: dict[str, Any]
    path: str | None = None
    commit: str | None = None
    spec_source: str = "parser"  # "parser" or "llm"
    similar: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def summary(self) -> str:
        tasks = " → ".join(f"{t.task_id} ({t.kind})" for t in self.spec.tasks)
        when = f"schedule {self.spec.schedule}" if self.spec.schedule else "no schedule (runs when triggered)"
        lines = [f"DAG {self.spec.dag_id}: {tasks}; {when}."]
        if self.ok:
            where = f"written to {self.path}" if self.path else "not written (pass --out FILE or --repo NAME)"
            if self.commit:
                where += f", commit {self.commit[:10]} pushed"
            lines.append(f"It passed validation, import in Airflow included; {where}.")
        else:
            lines.append("It did NOT pass validation, so nothing was written:")
            lines += [f"  {message}" for message in blocking_findings(self.validation)]
        if self.similar:
            lines.append("Conventions from similar deployed DAGs: " + ", ".join(self.similar) + ".")
        todo = self.code.count("TODO")
        if todo:
            lines.append(f"{todo} TODO markers show what is left to fill in.")
        lines += self.notes
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dag_id": self.spec.dag_id,
            "path": self.path,
            "tasks": [
                {"task_id": t.task_id, "kind": t.kind, "upstream": list(t.upstream)} for t in self.spec.tasks
            ],
            "schedule": self.spec.schedule,
            "validation": self.validation,
            "summary": self.summary,
        }


def blocking_findings(validation: Mapping[str, Any], limit: int = 10) -> list[str]:
    found = []
    for file in validation.get("files", []):
        for finding in file.get("findings", []):
            if finding.get("severity") == "block":
                line = f":{finding['line']}" if finding.get("line") else ""
                found.append(
                    f"line{line} {finding.get('rule')}: {finding.get('message')} ({finding.get('hint')})"
                )
    return found[:limit]


class Generator:
    def __init__(
        self,
        providers: Providers,
        validate: Validate,
        *,
        similar: SimilarSearch | None = None,
        docs: DocsSearch | None = None,
        history: TaskHistory | None = None,
        proposer: SpecProposer | None = None,
        known_dag_ids: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self.providers = providers
        self.validate = validate
        self.sources = ConventionSources(similar, docs, history)
        self.proposer = proposer
        self.known_dag_ids = known_dag_ids

    def make_spec(self, description: str) -> tuple[DagSpec, str, list[str]]:
        """(spec, where it came from, notes): the LLM's when configured and sound, else the parser's."""
        notes: list[str] = []
        draft = parse_description(description)
        if self.proposer is None:
            return draft, "parser", notes
        try:
            return self.proposer.propose(description, draft), "llm", notes
        except AssistantError as exc:
            notes.append(f"Used the rule-based parser: {exc.message}.")
            return draft, "parser", notes

    def generate(
        self, description: str, *, out: Path | None = None, repo: RepoWriter | None = None
    ) -> GenerationResult:
        started = time.perf_counter()
        check_description_size(description)  # before anything reads it: a pasted document is refused
        if out is not None and repo is not None:
            raise UsageError("--out and --repo cannot be used together", "pass one of them")
        target = _out_path(out, None) if out is not None else None
        masked = redact(description)
        stated, steps = stated_settings(masked)
        spec, source, notes = self.make_spec(steps)
        if steps != masked:
            spec.description = " ".join(masked.split())  # all of it, settings included
        if masked != description:
            notes.append("Secrets in the description were masked; keep credentials in Airflow connections.")
        notes += follow_conventions(spec, steps, stated, self.sources).lines(spec)
        notes += _placeholder_notes(spec, self.providers)
        code = render_dag(spec, self.providers, {})
        filename = f"{spec.dag_id}.py"
        target = _out_path(out, filename) if out is not None else None
        with tempfile.TemporaryDirectory(prefix="assistant-gen-") as tmp:
            candidate = Path(tmp) / filename
            candidate.write_text(code, encoding="utf-8")
            known = {k: v for k, v in self.known_dag_ids().items()}
            report = self.validate([candidate], Path(tmp), known)
            validation = _relabel(report.to_dict(), str(candidate), filename)
        result = GenerationResult(
            ok=report.ok, spec=spec, code=code, validation=validation, spec_source=source,
            similar=list(spec.similar), notes=notes,
        )  # fmt: skip
        if result.ok and target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code, encoding="utf-8")
            result.path = str(target)
        elif result.ok and repo is not None:
            pushed = repo.write(filename, code, f"Add DAG {spec.dag_id} (generated)\n\n{spec.description}")
            result.path, result.commit = f"{pushed.repo}:{pushed.path}", pushed.commit
        result.elapsed_s = time.perf_counter() - started
        return result


def _placeholder_notes(spec: DagSpec, providers: Providers) -> list[str]:
    """Tasks rendered as placeholders for want of a provider, and the connection they will use."""
    notes = []
    for task in spec.tasks:
        package = providers.missing_for(task.kind)
        conn_id = task.params.get("conn_id")
        if package and conn_id:
            notes.append(
                f"{task.task_id} is a placeholder until {package} is installed in Airflow's environment; "
                f"connection {conn_id} applies once it is replaced by the real operator."
            )
    return notes


def _out_path(out: Path, filename: str | None) -> Path:
    target = out / filename if out.is_dir() and filename else out
    if out.is_dir() and filename is None:
        return out
    if target.suffix != ".py":
        raise UsageError(f"--out {out} must be a .py file or a folder", "for example --out dags/my_dag.py")
    if target.exists():
        raise UsageError(f"{target} already exists", "remove it or pass another --out path")
    return target


def _relabel(report: dict[str, Any], temp_path: str, filename: str) -> dict[str, Any]:
    """The validation JSON with the temporary file's path replaced by the file name."""
    for file in report.get("files", []):
        if file.get("path") == temp_path or str(file.get("path", "")).endswith("/" + filename):
            file["path"] = filename
    return report
