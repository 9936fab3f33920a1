"""DAG validation: nothing reaches Airflow's DAGs folder without passing this pipeline.

Stages: syntax, static security scan (our AST rules + bandit), policy (+ ruff's AIR rules),
dependencies and import with Airflow's DagBag in a sandboxed child of Airflow's interpreter, dag id
collisions, the repository's own tests, and with ``run_dags`` (``--run``) each DAG of every clean
file run once with ``dag.test()`` in the sandbox (:mod:`assistant.validation.run_stage`). See
:mod:`assistant.validation.pipeline`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from assistant.config import Config
from assistant.validation.policy import Policy, load_policy
from assistant.validation.report import FileReport, Finding, ValidationReport

__all__ = ["FileReport", "Finding", "Policy", "ValidationReport", "load_policy", "validate_paths"]


def validate_paths(
    paths: Sequence[Path],
    *,
    config: Config,
    policy: Policy | None = None,
    known_dag_ids: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    run_tests: bool = True,
    run_dags: bool = False,
) -> ValidationReport:
    """Validate DAG files and folders; ``report.ok`` is False when anything blocks.

    ``known_dag_ids`` maps dag ids already deployed from elsewhere to their file (collision check);
    ``base_dir`` is the repo or release root: symlinks leaving it are never followed, and its
    ``requirements.txt`` and ``tests/`` are used. ``run_dags`` executes each DAG of every file
    without blocking findings once with ``dag.test()`` in the sandbox; what was in force while the
    tasks ran is in ``report.sandbox["run"]``.
    """
    from assistant.validation.pipeline import Validator

    with Validator(config, policy) as validator:
        return validator.validate(
            [Path(p) for p in paths],
            known_dag_ids=known_dag_ids,
            base_dir=Path(base_dir) if base_dir is not None else None,
            run_tests=run_tests,
            run_dags=run_dags,
        )
