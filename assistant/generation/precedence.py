"""Every source of conventions for a generated DAG, applied in precedence order, and in words.

Precedence, highest first: the description's own words > the docs' conventions page > the code of
similar deployed DAGs > defaults learned from their runs > the built-in defaults. Each source is a
narrow callable given by the composition root; a source that is missing (no index, no runs
recorded) contributes nothing, and one that fails is named in a note instead of stopping the
generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.errors import AssistantError
from assistant.generation.conventions import (
    DESCRIPTION,
    SIMILAR_DAGS,
    Applied,
    Conventions,
    Resolution,
    SimilarSearch,
    apply_layers,
    learn_conventions,
)
from assistant.generation.doc_conventions import CONVENTIONS_QUERY, DocsSearch, parse_conventions
from assistant.generation.run_defaults import RUN_HISTORY, TaskHistory, apply_run_defaults, learn_run_defaults
from assistant.generation.spec import DagSpec

SIMILAR_HITS = 3
DOC_PASSAGES = 5


@dataclass(frozen=True)
class ConventionSources:
    similar: SimilarSearch | None = None  # the `dags` collection
    docs: DocsSearch | None = None  # the conventions pages of the `docs` collection
    history: TaskHistory | None = None  # the learning store's task outcomes


@dataclass
class ConventionReport:
    resolution: Resolution = field(default_factory=Resolution)
    notes: list[str] = field(default_factory=list)  # what could not be searched, runs suggesting more

    def lines(self, spec: DagSpec) -> list[str]:
        """Where each applied value came from, one line per source in precedence order."""
        lines = [_line(origin, items) for origin, items in _by_origin(self.resolution.applied)]
        builtin = _builtin(spec, self.resolution.settled)
        if builtin:
            lines.append("Built-in defaults: " + ", ".join(builtin) + ".")
        return lines + self.resolution.ignored + self.notes


def follow_conventions(
    spec: DagSpec, description: str, stated: Conventions, sources: ConventionSources
) -> ConventionReport:
    """Fill ``spec`` from every source (``stated``: what the description says in so many words;
    ``description``, without secrets, is what similar DAGs are searched by)."""
    report = ConventionReport()
    docs = _docs_conventions(sources, report.notes)
    if docs.conflicts:
        report.notes.append(
            f"{docs.origin[:1].upper()}{docs.origin[1:]} also say {', '.join(docs.conflicts[:5])}; "
            "the first statement of each was followed."
        )
    similar = _similar_conventions(sources, description, report.notes)
    report.resolution = apply_layers(spec, [stated, docs, similar])
    if sources.history is not None and similar.similar:
        try:
            runs = sources.history(similar.similar)
        except AssistantError as exc:
            report.notes.append(f"Run history was not read: {exc.message}.")
        else:
            defaults = learn_run_defaults(spec, runs, similar.task_kinds)
            report.notes += apply_run_defaults(spec, defaults, report.resolution)
    return report


def _docs_conventions(sources: ConventionSources, notes: list[str]) -> Conventions:
    if sources.docs is None:
        return Conventions(origin="the docs")
    try:
        return parse_conventions(sources.docs(CONVENTIONS_QUERY, DOC_PASSAGES))
    except AssistantError as exc:
        notes.append(f"The docs were not searched for conventions: {exc.message}.")
        return Conventions(origin="the docs")


def _similar_conventions(sources: ConventionSources, description: str, notes: list[str]) -> Conventions:
    if sources.similar is None:
        return Conventions()
    try:
        hits = sources.similar(description, SIMILAR_HITS)
    except AssistantError as exc:
        notes.append(f"Similar DAGs were not searched: {exc.message}.")
        return Conventions()
    if not hits:
        notes.append("No similar deployed DAGs are indexed yet.")
    return learn_conventions(hits)


def _by_origin(applied: list[Applied]) -> list[tuple[str, list[str]]]:
    """The applied values grouped by source, in precedence order."""
    grouped: dict[str, list[str]] = {}
    for item in applied:
        grouped.setdefault(item.origin, []).append(item.what)
    return sorted(grouped.items(), key=lambda group: _rank(group[0]))


def _rank(origin: str) -> int:
    if origin == DESCRIPTION:
        return 0
    return {SIMILAR_DAGS: 2, RUN_HISTORY: 3}.get(origin, 1)  # the docs' pages: 1


def _line(origin: str, items: list[str]) -> str:
    if origin == SIMILAR_DAGS:
        return f"From the similar deployed DAGs: {', '.join(items)}."
    if origin == RUN_HISTORY:
        return f"Learned from run history: {'; '.join(items)}."
    return f"From {origin}: {', '.join(items)}."


def _builtin(spec: DagSpec, settled: dict[str, str]) -> list[str]:
    values = {
        "owner": f"owner {spec.owner}",
        "retries": f"retries {spec.retries}",
        "timeout": f"execution_timeout {spec.timeout_minutes} min",
    }
    return [text for name, text in values.items() if name not in settled]
