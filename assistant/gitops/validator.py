"""The seam to the validation pipeline: gitops asks one question of a release directory."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.config import Config
    from assistant.validation.policy import Policy


class ValidationResult(Protocol):
    @property
    def ok(self) -> bool: ...

    def dag_ids(self) -> dict[str, str]: ...

    def to_dict(self) -> dict[str, Any]: ...


class Validator(Protocol):
    def validate(
        self, release_dir: Path, known_dag_ids: Mapping[str, str], *, policy: Policy | None = None
    ) -> ValidationResult: ...


class PipelineValidator:
    """The real pipeline of :mod:`assistant.validation` over every Python file of a release.

    One-shot commands validate with a fresh pipeline; a long-running process (`serve`) calls
    :meth:`hold_open` so the pipeline's sandbox worker stays warm between deployments.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._held: Any = None
        self._hold = False

    def hold_open(self) -> None:
        self._hold = True

    def close(self) -> None:
        with self._lock:
            self._hold = False
            if self._held is not None:
                self._held.close()
                self._held = None

    def validate(
        self, release_dir: Path, known_dag_ids: Mapping[str, str], *, policy: Policy | None = None
    ) -> ValidationResult:
        """``policy``: the repo's policy (None: the default one)."""
        paths = sorted(p for p in release_dir.rglob("*.py") if p.is_file())
        if not self._hold:
            from assistant.validation import validate_paths

            return validate_paths(
                paths,
                config=self._config,
                policy=policy,
                known_dag_ids=dict(known_dag_ids),
                base_dir=release_dir,
                run_tests=True,
            )
        from assistant.validation.pipeline import Validator as Pipeline
        from assistant.validation.policy import Policy

        wanted = policy or Policy()
        with self._lock:  # one batch at a time through the warm worker
            if self._held is None:
                self._held = Pipeline(self._config, wanted)
            elif self._held.policy != wanted:
                held = self._held.policy
                if (held.timeout_s, held.max_processes) != (wanted.timeout_s, wanted.max_processes):
                    self._held.close()  # started again with the new limits (and says them in the report)
                self._held.policy = wanted
            return self._held.validate(
                paths, known_dag_ids=dict(known_dag_ids), base_dir=release_dir, run_tests=True
            )


def blocking_messages(result: ValidationResult, release_dir: Path, limit: int = 10) -> list[str]:
    """'file:line rule: message' for each blocking finding, paths relative to the release."""
    messages = []
    for file in result.to_dict().get("files", []):
        for finding in file.get("findings", []):
            if finding.get("severity") != "block":
                continue
            where = relative(file.get("path", "?"), release_dir)
            if finding.get("line"):
                where += f":{finding['line']}"
            messages.append(f"{where} {finding.get('rule', '?')}: {finding.get('message', '')}")
    return messages[:limit]


def relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
