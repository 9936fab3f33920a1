"""Documentation that learns: a "known failure causes" page per DAG, from what its history shows."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.learning.records import RunRecord
from assistant.redact import redact


@dataclass(frozen=True)
class PageProposal:
    dag_id: str
    path: Path
    content: str
    diff: str  # unified diff against the current file ("" when unchanged)


@dataclass(frozen=True)
class Episode:
    cause: str
    failures: int
    first_run: RunRecord
    last_run: RunRecord
    ended_by: RunRecord | None  # the success that ended it, None while still failing


def episodes(runs: Sequence[RunRecord]) -> list[Episode]:
    """Streaks of failures with one cause, with the run that ended each."""
    out: list[Episode] = []
    runs = sorted(runs, key=lambda r: r.start)
    current: list[RunRecord] = []
    for run in [*runs, None]:
        if run is not None and run.failed and (not current or run.cause == current[0].cause):
            current.append(run)
            continue
        if current:
            ended = run if run is not None and not run.failed else None
            out.append(Episode(current[0].cause or "(unknown)", len(current), current[0], current[-1], ended))
        current = [run] if run is not None and run.failed else []
    return out


def _what_worked(episode: Episode) -> str:
    if episode.ended_by is None:
        return "not fixed yet"
    end = episode.ended_by
    code_changed = (
        end.code_version
        and episode.last_run.code_version
        and end.code_version != episode.last_run.code_version
    )
    hours = (end.start - episode.first_run.start).total_seconds() / 3600
    if code_changed:
        return f"fixed by a code change ({end.code_version}); next success {end.start:%Y-%m-%d %H:%M}"
    return f"passed without a code change after {hours:.1f} h (an outside fix or a transient cause)"


def render_page(dag_id: str, runs: Sequence[RunRecord]) -> str | None:
    found = episodes(runs)
    if not found:
        return None
    by_cause: dict[str, list[Episode]] = {}
    for episode in found:
        by_cause.setdefault(episode.cause, []).append(episode)
    lines = [
        f"# Known failure causes: {dag_id}",
        "",
        f"Learned from {len(runs)} recorded runs by `assistant learn`. Newest first within each cause.",
        "",
    ]
    ranked = sorted(by_cause.items(), key=lambda item: -sum(e.failures for e in item[1]))
    for cause, items in ranked:
        failures = sum(e.failures for e in items)
        example = next((t.error_excerpt for t in items[-1].first_run.tasks if t.error_excerpt), None)
        lines += [
            f"## {redact(cause)}",
            "",
            f"- {failures} failed runs in {len(items)} episode(s), first {items[0].first_run.start:%Y-%m-%d}, "
            f"last {items[-1].last_run.start:%Y-%m-%d}",
        ]
        if example:
            lines.append(f"- example: `{redact(example)}`")
        for episode in reversed(items[-5:]):
            lines.append(
                f"- {episode.first_run.start:%Y-%m-%d %H:%M}, {episode.failures} run(s): {_what_worked(episode)}"
            )
        lines.append("")
    return "\n".join(lines)


def propose(folder: Path, history: dict[str, list[RunRecord]]) -> list[PageProposal]:
    """A proposal per DAG whose page would change; nothing is written here."""
    out = []
    for dag_id, runs in sorted(history.items()):
        page = render_page(dag_id, runs)
        if page is None:
            continue
        content = page.rstrip("\n") + "\n"
        path = folder / f"{dag_id}.md"
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == content:
            continue
        diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                content.splitlines(keepends=True),
                fromfile=f"a/{path.name}" if current else "/dev/null",
                tofile=f"b/{path.name}",
            )
        )
        out.append(PageProposal(dag_id, path, content, diff))
    return out


def write(proposals: Sequence[PageProposal]) -> list[Path]:
    written = []
    for proposal in proposals:
        proposal.path.parent.mkdir(parents=True, exist_ok=True)
        proposal.path.write_text(proposal.content, encoding="utf-8")
        written.append(proposal.path)
    return written
