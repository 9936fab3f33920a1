"""`assistant setup`: prepare a fresh install (model export, docs index, router) and check health."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.tools import doctor

if TYPE_CHECKING:
    from assistant.compose import Components


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


def _timed(name: str, action: Callable[[], str]) -> Step:
    start = time.perf_counter()
    try:
        detail = action()
        ok = True
    except AssistantError as exc:
        detail, ok = f"{exc.message} ({exc.hint})" if exc.hint else exc.message, False
    return Step(name, ok, detail, time.perf_counter() - start)


def run_setup(components: Components) -> list[Step]:
    def embedder() -> str:
        components.embedder.embed(["warm up"])
        return f"all-MiniLM-L6-v2 ready (ONNX) in {components.config.models_dir}"

    def knowledge() -> str:
        kb = components.knowledge
        folder = kb.builtin_knowledge
        if folder is None:
            return "no built-in knowledge folder found"
        report = kb.index([folder], "docs")
        return (
            f"{folder}: {report.files_seen} files ({report.files_added} new, {report.files_changed} changed), "
            f"{report.chunks_total} passages indexed"
        )

    def router() -> str:
        route = components.router.route("run my deployment workflow")
        return f"intent router ready ({route.intent})"

    steps = [
        _timed("embedding model", embedder),
        _timed("documentation index", knowledge),
        _timed("router", router),
    ]
    for check in doctor.run_checks(components):
        steps.append(
            Step(
                check.name, check.ok, check.detail if check.ok else f"{check.detail} — fix: {check.hint}", 0.0
            )
        )
    return steps
