"""Learn from every finished run: record outcomes and error templates, index logs and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import AirflowUnavailable

if TYPE_CHECKING:
    from assistant.compose import Components


@dataclass(frozen=True)
class IngestSummary:
    recorded: int  # runs whose outcomes and error templates were recorded (learning)
    indexed: int  # runs whose logs and outcomes were indexed (retrieval)


def ingest(components: Components, dag_id: str | None = None, limit: int = 50) -> IngestSummary:
    """Both halves, idempotent: a run is recorded once and indexed once."""
    from assistant.learning.api import refresh
    from assistant.retrieval.ingest import ingest_finished_runs

    recorded = refresh(components, dag_id)
    try:
        indexed = ingest_finished_runs(components, limit, dag_id)
    except AirflowUnavailable:
        indexed = 0
    return IngestSummary(recorded, indexed)
