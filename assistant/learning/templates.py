"""Failure templates: the error line of a task log, masked and clustered by drain3.

A failing task's log is reduced to its error line (the exception that ended the task), secrets
are redacted, then volatile parts (times, ids, paths, URLs, numbers) are masked and drain3
groups the lines into templates, so "the same cause" can be counted across runs. drain3 keeps
its state in memory: templates are re-mined from the stored excerpts when needed, which keeps
the grouping consistent and writes nothing outside the assistant's home.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant.redact import redact

MAX_EXCERPT_CHARS = 300

_LOG_PREFIX = re.compile(r"^\[[^\]]*\]\s+(?:[A-Z]+\s+)?(?:[\w.\-]+\s+-\s+)?")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z][\w]*(?:Error|Exception|Timeout|Exit|Failure)\b.*")
_ERROR_LEVEL = re.compile(r"\b(?:ERROR|CRITICAL)\b")
_UNINFORMATIVE = ("Task failed with exception", "Traceback (most recent call last)")

# (regex, mask name), applied in order: the specific shapes before the generic number.
MASKS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?", "TIME"),
    (r"\d{4}-\d{2}-\d{2}", "DATE"),
    (r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b", "TIME"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "ID"),
    (r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]+", "URL"),
    (r"(?<![\w.])(?:~|\.{1,2})?(?:/[\w.\-@]+){2,}/?", "PATH"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "ID"),
    (r"\b(?:manual|scheduled|backfill|asset_triggered)__\S+", "ID"),
    (r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?", "NUM"),
)
_COMPILED_MASKS = tuple((re.compile(pattern), name) for pattern, name in MASKS)


def cause_line(log_text: str) -> str | None:
    """The line of a task log that says why the task failed, redacted; None for an empty log.

    This one line is what ``task_outcomes.error_excerpt`` stores: templates, peers and pages read it.
    """
    lines = [_LOG_PREFIX.sub("", line).strip() for line in (log_text or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    chosen = None
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line) and not line.startswith("File "):
            chosen = line
            break
    if chosen is None:
        raw = [line for line in (log_text or "").splitlines() if _ERROR_LEVEL.search(line)]
        informative = [_LOG_PREFIX.sub("", line).strip() for line in raw]
        informative = [line for line in informative if line and not line.startswith(_UNINFORMATIVE)]
        chosen = informative[-1] if informative else lines[-1]
    return redact(chosen)[:MAX_EXCERPT_CHARS]


def mask(text: str) -> str:
    """Replace times, dates, ids, URLs, paths, addresses and numbers with ``<NAME>`` placeholders."""
    for pattern, name in _COMPILED_MASKS:
        text = pattern.sub(f"<{name}>", text)
    return text


class TemplateMiner:
    """drain3 in memory, with this module's masks; one instance per batch of excerpts."""

    def __init__(self, similarity: float = 0.5) -> None:
        from drain3 import TemplateMiner as Drain3Miner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig

        config = TemplateMinerConfig()  # never .load(): drain3 would read drain3.ini from the cwd
        config.masking_instructions = [MaskingInstruction(pattern, name) for pattern, name in MASKS]
        config.drain_sim_th = similarity
        config.drain_depth = 5
        config.parametrize_numeric_tokens = True
        self._miner: Any = Drain3Miner(persistence_handler=None, config=config)
        self._cluster_of: list[int] = []

    def add(self, excerpt: str) -> int:
        result = self._miner.add_log_message(excerpt)
        cluster_id = int(result["cluster_id"])
        self._cluster_of.append(cluster_id)
        return cluster_id

    def template(self, cluster_id: int) -> str:
        for cluster in self._miner.drain.clusters:
            if cluster.cluster_id == cluster_id:
                return str(cluster.get_template())
        raise KeyError(cluster_id)

    def templates(self) -> list[str]:
        """The final template of every excerpt added, in the order they were added."""
        by_id = {c.cluster_id: str(c.get_template()) for c in self._miner.drain.clusters}
        return [by_id[cluster_id] for cluster_id in self._cluster_of]


def mine_templates(excerpts: Sequence[str]) -> list[str]:
    """Templates for ``excerpts`` (in order), clustered together so one cause gets one template."""
    if not excerpts:
        return []
    miner = TemplateMiner()
    for excerpt in excerpts:
        miner.add(excerpt)
    return miner.templates()
