"""Plain records of finished runs, as the learning core sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TaskOutcome:
    task_id: str
    state: str | None
    try_number: int = 1
    duration_s: float | None = None
    error_template: str | None = None
    error_excerpt: str | None = None

    @property
    def failed(self) -> bool:
        return self.state == "failed"


@dataclass(frozen=True)
class RunRecord:
    dag_id: str
    run_id: str
    state: str
    start: datetime
    end: datetime | None = None
    duration_s: float | None = None
    code_version: str | None = None
    tasks: tuple[TaskOutcome, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def first_failure(self) -> TaskOutcome | None:
        """The failed task that explains the run: the first with an error, else the first failed."""
        failed = [t for t in self.tasks if t.state == "failed"]
        with_error = [t for t in failed if t.error_template or t.error_excerpt]
        chosen = with_error or failed
        return chosen[0] if chosen else None

    @property
    def cause(self) -> str | None:
        """``task: error template`` of the run's failure; None for a success.

        A failed run whose failing task left no error text is grouped under ``task: (no error text)``.
        """
        if not self.failed:
            return None
        task = self.first_failure
        if task is None:
            return "(no failed task recorded)"
        return f"{task.task_id}: {task.error_template or task.error_excerpt or '(no error text)'}"


@dataclass
class Tally:
    """Situations seen, and how many of them were followed by a failed run."""

    followed: int = 0
    failed: int = 0

    def add(self, failed: bool) -> None:
        self.followed += 1
        self.failed += int(failed)


@dataclass(frozen=True)
class Prior:
    """A Beta prior on a failure rate: ``mean`` worth ``strength`` situations."""

    mean: float
    strength: float

    def estimate(self, tally: Tally) -> float:
        return (tally.failed + self.mean * self.strength) / (tally.followed + self.strength)
