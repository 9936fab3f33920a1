"""The validation pipeline: inputs -> syntax -> security (ours + bandit) -> policy (+ ruff AIR)
-> dependencies and import in the sandbox -> (--run) each clean DAG once with dag.test() in the
sandbox -> collisions -> the repo's tests.

:class:`Validator` owns the warm sandbox worker (started only when a file misses the cache) and
the result cache; ``validate_paths`` in the package builds one for a single batch.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.errors import NotAvailable
from assistant.validation import deps, import_stage, run_stage
from assistant.validation.bandit_scan import scan_bandit
from assistant.validation.cache import ResultCache, cache_key, local_module_texts
from assistant.validation.inputs import Source, collect_sources
from assistant.validation.policy import Policy, airflow3_policy, dag_policy, static_policy
from assistant.validation.report import FileReport, Finding, ValidationReport
from assistant.validation.sandbox import SandboxWorker, copy_tree
from assistant.validation.secrets_scan import scan_secrets
from assistant.validation.security import RawFinding, scan_security
from assistant.validation.suppress import apply_suppressions


@dataclass
class _Work:
    source: Source
    report: FileReport
    tree: ast.Module | None = None
    key: str = ""
    raw: list[RawFinding] = field(default_factory=list)
    modules: list[tuple[str, int, bool]] = field(default_factory=list)
    dags: list[dict[str, Any]] = field(default_factory=list)
    sandbox_path: Path | None = None  # the file's copy in the sandbox, and its repo copy's root
    sandbox_root: Path | None = None


def airflow_version_of(airflow_python: Path | None) -> str:
    """Airflow's version read from its dist-info (no interpreter started)."""
    if airflow_python is None:
        return "unknown"
    venv = Path(airflow_python).parent.parent
    for info in sorted(venv.glob("lib/python*/site-packages/apache_airflow-*.dist-info")):
        return info.name.removeprefix("apache_airflow-").removesuffix(".dist-info")
    return f"unknown:{airflow_python}"


def ruff_air(paths: list[Path]) -> dict[Path, list[dict[str, Any]]]:
    """Ruff's Airflow 3 rules (AIR3xx: removed and moved names) over ``paths``, in one run."""
    ruff = Path(sys.executable).with_name("ruff")
    binary = str(ruff) if ruff.exists() else shutil.which("ruff")
    if not binary or not paths:
        return {}
    command = [
        binary,
        "check",
        "--isolated",
        "--preview",
        "--select",
        "AIR3",
        "--output-format",
        "json",
        "--exit-zero",
        "--no-cache",
        *map(str, paths),
    ]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
        items = json.loads(out or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    by_path: dict[Path, list[dict[str, Any]]] = {}
    resolved = {p.resolve(): p for p in paths}
    for item in items:
        path = resolved.get(Path(item.get("filename", "")).resolve())
        if path is not None:
            by_path.setdefault(path, []).append(item)
    return by_path


class Validator:
    def __init__(self, config: Config, policy: Policy | None = None, *, parallel: int = 2) -> None:
        self.config = config
        self.policy = policy or Policy()
        self.parallel = parallel
        self.cache = ResultCache(config.home / "cache" / "validation")
        self._worker: SandboxWorker | None = None

    @property
    def worker(self) -> SandboxWorker:
        if self._worker is None:
            self._worker = SandboxWorker(
                self.config.airflow_python,
                timeout_s=self.policy.timeout_s,
                parallel=self.parallel,
                max_processes=self.policy.max_processes,
            )
        return self._worker

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def __enter__(self) -> Validator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def validate(
        self,
        paths: Sequence[Path],
        *,
        known_dag_ids: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
        run_tests: bool = True,
        run_dags: bool = False,
        use_cache: bool = True,
    ) -> ValidationReport:
        started = time.perf_counter()
        sources, problems = collect_sources(paths, base_dir, self.policy.max_file_kb * 1024)
        version = airflow_version_of(self.config.airflow_python)
        if self.config.airflow_python is None:
            self.worker  # noqa: B018  (raises the ConfigError that says how to configure it)
        works = [_Work(s, FileReport(s.path)) for s in sources]
        pending = []
        for work in works:
            self._parse(work)
            local = local_module_texts([m for m, _, _ in work.modules], work.source.root)
            work.key = cache_key(
                work.source.text,
                local,
                airflow_version=version,
                policy=self.policy.fingerprint(),
                options="import+run" if run_dags else "import",
            )
            cached = self.cache.get(work.key) if use_cache else None
            if cached is not None:
                work.report.findings = [Finding.from_dict(f) for f in cached["findings"]]
                work.report.dag_ids = list(cached["dag_ids"])
                work.report.runs = list(cached.get("runs", []))
                work.report.cached = True
            else:
                pending.append(work)
        if run_dags and any(w.tree is not None for w in pending):
            self._prepare_run()
        submitted = self._submit(pending)  # the sandbox imports while the static stages run
        self._static(pending)
        self._collect(submitted, base_dir)
        for work in pending:
            self._finish(work)
        run_info = self._run(pending, version) if run_dags else {}
        for work in pending:
            if not {f.rule for f in work.report.findings} & run_stage.NOT_CACHED:
                entry = {
                    "findings": [f.to_dict() for f in work.report.findings],
                    "dag_ids": work.report.dag_ids,
                }
                self.cache.put(work.key, {**entry, "runs": work.report.runs})
        reports = [w.report for w in works]
        self._collisions(reports, known_dag_ids or {})
        if run_tests and base_dir is not None and (base_dir / "tests").is_dir():
            reports.append(self._tests(base_dir))
        report = ValidationReport(files=reports + problems, elapsed_s=time.perf_counter() - started)
        report.sandbox = {
            **(self._worker.describe() if self._worker and self._worker.airflow_version else {}),
            "airflow_version": version,
            "limits": {
                "timeout_s": self.policy.timeout_s,
                "cpu_s": self.policy.cpu_s,
                "memory_mb": self.policy.memory_mb,
                "max_processes": self.policy.max_processes,
                "max_file_kb": self.policy.max_file_kb,
            },
            "cached_files": sum(1 for r in reports if r.cached),
        }
        if run_dags:
            report.sandbox["run"] = run_info or {"how": "every file came from the cache or had no DAG to run"}
        return report

    # -- stages ---------------------------------------------------------------------------------

    def _parse(self, work: _Work) -> None:
        try:
            work.tree = ast.parse(work.source.text, filename=str(work.source.path))
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            work.raw.append(
                RawFinding(
                    "syntax.error",
                    "block",
                    line,
                    f"the file does not parse: {exc.msg if isinstance(exc, SyntaxError) else exc}",
                    "fix the syntax error (python -m py_compile FILE shows it too)",
                )
            )
            return
        work.modules = deps.imported_modules(work.tree)

    def _static(self, pending: list[_Work]) -> None:
        parsed = [w for w in pending if w.tree is not None]
        bandit = scan_bandit([w.source.real for w in parsed])
        air = ruff_air([w.source.real for w in parsed])
        for work in pending:
            if work.tree is None:
                work.raw.extend(scan_secrets(ast.Module(body=[], type_ignores=[]), work.source.text))
                continue
            work.raw.extend(scan_security(work.tree, work.source.text))
            work.raw.extend(scan_secrets(work.tree, work.source.text))
            ours = {(f.line, f.severity) for f in work.raw if f.severity == "block"}
            work.raw.extend(f for f in bandit.get(work.source.real, []) if (f.line, "block") not in ours)
            work.raw.extend(static_policy(work.tree, self.policy))
            work.raw.extend(airflow3_policy(air.get(work.source.real, []), self.policy))

    def _submit(self, pending: list[_Work]) -> tuple[list[_Work], float]:
        runnable = [w for w in pending if w.tree is not None]
        if not runnable:
            return [], 0.0
        worker = self.worker
        worker.start()
        copies: dict[Path, Path] = {}
        jobs = []
        limits = {
            "timeout_s": self.policy.timeout_s,
            "cpu_s": self.policy.cpu_s,
            "memory_mb": self.policy.memory_mb,
            "max_processes": self.policy.max_processes,
        }
        for index, work in enumerate(runnable):
            root = work.source.root
            if root not in copies:
                copies[root] = worker.src / f"r{len(copies)}"
                if work.source.tree_root:
                    copy_tree(root, copies[root], max_bytes=self.policy.max_file_kb * 1024)
                else:
                    copies[root].mkdir(parents=True)
            inside = work.source.real.is_relative_to(root)
            relative = (
                work.source.real.relative_to(root) if inside else Path(f"loose{index}", work.source.real.name)
            )
            target = copies[root] / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(work.source.text, encoding="utf-8")
            work.sandbox_path, work.sandbox_root = target, copies[root]
            jobs.append(import_stage.import_job(str(index), target, copies[root], work.modules, limits))
        return runnable, worker.submit(jobs)

    def _collect(self, submitted: tuple[list[_Work], float], base_dir: Path | None) -> None:
        runnable, budget = submitted
        if not runnable:
            return
        worker = self.worker
        results = worker.collect(budget)
        airflow_python = Path(str(self.config.airflow_python))
        requirements = deps.read_requirements(base_dir)
        for work, result in zip(runnable, results, strict=True):
            findings, work.dags = import_stage.import_findings(result, self.policy.timeout_s)
            work.raw.extend(findings)
            soft = {m: g for m, _, g in work.modules}
            work.raw.extend(
                deps.missing_findings(result.get("missing_modules", []), soft, airflow_python, requirements)
            )
            work.raw.extend(dag_policy(work.dags, self.policy))
            work.report.dag_ids = sorted(d["dag_id"] for d in work.dags)
        if requirements and runnable:
            versions = worker.distribution_versions(requirements)
            first = runnable[0]
            first.raw.extend(deps.requirement_findings(requirements, versions, airflow_python))

    def _prepare_run(self) -> None:
        worker = self.worker
        worker.start()
        if not worker.network.startswith("network namespace"):
            raise NotAvailable(
                "--run needs a network namespace (unshare --net) to keep tasks offline, and this "
                "platform has none",
                "validate without --run here, or on Linux with util-linux's unshare",
            )
        worker.prewarm_run()  # builds Airflow's in-process API while the static stages run

    def _run(self, pending: list[_Work], version: str) -> dict[str, Any]:
        """Run each DAG of every clean file once with dag.test() in the sandbox (``version``: Airflow's)."""
        runnable = [w for w in pending if w.report.ok and w.report.dag_ids and w.sandbox_path]
        for work in pending:
            if work.report.dag_ids and not work.report.ok:
                work.raw.append(
                    RawFinding(
                        "run.skipped",
                        "info",
                        None,
                        "not run: a file with blocking findings is never executed",
                        "fix the blocking findings first",
                    )
                )
                self._finish(work)
        if not runnable:
            return {}
        worker = self.worker
        key = run_stage.template_key(Path(str(self.config.airflow_python)), version)
        template, created_s = run_stage.template_db(worker, self.config.home / "cache" / "airflow-db", key)
        limits = {
            "timeout_s": self.policy.run_timeout_s,
            "cpu_s": max(self.policy.cpu_s, int(self.policy.run_timeout_s) + 1),
            "memory_mb": self.policy.memory_mb,
            "max_processes": self.policy.max_processes * run_stage.RUN_PROCESS_FACTOR,
        }
        jobs, owners = [], []
        for work in runnable:
            for dag_id in work.report.dag_ids:
                assert work.sandbox_path is not None and work.sandbox_root is not None
                job, job_dir = run_stage.run_job(
                    worker, len(jobs), dag_id, work.sandbox_path, work.sandbox_root, template, limits
                )
                jobs.append(job)
                owners.append((work, dag_id, job_dir))
        confinement: dict[str, str] = {}
        for (work, dag_id, job_dir), result in zip(owners, worker.run(jobs), strict=True):
            findings, summary = run_stage.run_findings(
                result, dag_id, work.source.text, job_dir, self.policy.run_timeout_s
            )
            work.raw.extend(findings)
            work.report.runs.append(summary)
            confinement = confinement or dict(result.get("confinement") or {})
        for work in runnable:
            self._finish(work)
        described = {"path": str(template), "created_s": round(created_s, 2) if created_s else None}
        return run_stage.isolation(worker, limits, confinement, described)

    def _finish(self, work: _Work) -> None:
        findings = []
        for raw in work.raw:
            severity = self.policy.level(raw.rule, raw.severity)
            if severity != "off":
                findings.append(Finding(raw.rule, severity, raw.line, raw.message, raw.hint))  # type: ignore[arg-type]
        work.report.findings = apply_suppressions(findings, work.source.text, self.policy.unsuppressible)

    @staticmethod
    def _collisions(reports: list[FileReport], known: Mapping[str, str]) -> None:
        owners: dict[str, list[FileReport]] = {}
        for report in reports:
            report.findings = [f for f in report.findings if f.rule != "import.dag-id-collision"]
            for dag_id in report.dag_ids:
                owners.setdefault(dag_id, []).append(report)
        for dag_id, files in owners.items():
            if len(files) > 1:
                for report in files:
                    others = ", ".join(str(r.path) for r in files if r is not report)
                    report.add(
                        "import.dag-id-collision",
                        "block",
                        None,
                        f"dag_id {dag_id!r} is also defined in {others}",
                        "give each DAG a unique dag_id (prefix it with the repo or team name)",
                    )
            elsewhere = known.get(dag_id)
            if elsewhere and all(str(r.path) != elsewhere for r in files):
                for report in files:
                    report.add(
                        "import.dag-id-collision",
                        "block",
                        None,
                        f"dag_id {dag_id!r} is already deployed from {elsewhere}",
                        "rename the DAG, or remove it from the other repository first",
                    )

    def _tests(self, base_dir: Path) -> FileReport:
        report = FileReport(base_dir / "tests")
        worker = self.worker
        copy = worker.src / "tests-root"
        copy_tree(base_dir.resolve(), copy, max_bytes=self.policy.max_file_kb * 1024)
        shim = import_stage.pytest_shim(worker.root / "pytest-shim")
        job = {
            "id": "tests",
            "kind": "pytest",
            "path": str(copy / "tests"),
            "root": str(copy),
            "extra_path": [str(shim)] if shim else [],
            "timeout_s": max(60.0, self.policy.timeout_s * 4),
            "cpu_s": max(60, self.policy.cpu_s * 4),
            "memory_mb": self.policy.memory_mb,
            "max_processes": self.policy.max_processes,
        }
        result = worker.run([job])[0]
        airflow_python = Path(str(self.config.airflow_python))
        for raw in import_stage.pytest_findings(result, airflow_python):
            report.add(raw.rule, raw.severity, raw.line, raw.message, raw.hint)  # type: ignore[arg-type]
        return report
