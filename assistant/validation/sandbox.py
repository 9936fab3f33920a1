"""The assistant's side of the sandbox: starts the warm worker under Airflow's interpreter and
exchanges JSON lines with it.

Isolation in force (reported in every ValidationReport):
- a network namespace (``unshare --net``, loopback down) and a PID namespace with its own
  ``/proc`` when the platform permits it; otherwise an audit hook in each child that refuses to
  create sockets;
- a scrubbed environment: PATH, LANG and a throw-away HOME/AIRFLOW_HOME/TMPDIR, nothing else;
- per child: its own pids cgroup capping processes and threads where the machine has a writable
  one (sandbox_pids.py; Linux exempts root from RLIMIT_NPROC), its own session (killed as a
  group), wall-clock timeout, RLIMIT_CPU/AS/FSIZE/NOFILE/NPROC, and an audit hook blocking
  process creation, fork, sockets, ctypes, dynamic exec and writes outside the sandbox while the
  DAG is parsed;
- ``--run`` children (sandbox_run.py) run one DAG with ``dag.test()`` as ``nobody`` when we are
  root, with processes allowed and everything else above still in force.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError, ValidationFailed
from assistant.validation import sandbox_pids

log = logging.getLogger("assistant.validation")
WORKER_SCRIPT = Path(__file__).with_name("sandbox_worker.py")
START_TIMEOUT_S = 60.0


def _namespace_prefix() -> tuple[list[str], str, bool]:
    """(command prefix, network isolation name, pid namespace?) that works on this machine."""
    unshare = shutil.which("unshare")
    pid_ns = [unshare, "--net", "--pid", "--fork", "--kill-child"]
    # --mount-proc: /proc shows the namespace's own processes (psutil, used by dag.test(), needs it)
    candidates = [([*pid_ns, "--mount-proc"], True), (pid_ns, True), ([unshare, "--net"], False)]
    for prefix, pid_ns in candidates if unshare else []:
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return [str(p) for p in prefix], "network namespace (unshare --net)", pid_ns
    return [], "sockets disabled in the child (audit hook)", False


class SandboxWorker:
    """One warm worker process; start() is lazy, close() removes every trace of it."""

    def __init__(
        self,
        airflow_python: Path | None,
        *,
        timeout_s: float = 30.0,
        parallel: int = 2,
        max_processes: int = 64,
    ) -> None:
        if airflow_python is None:
            raise ConfigError(
                "Airflow's interpreter is not configured",
                "set ASSISTANT_AIRFLOW_PYTHON (or [airflow] python in config.toml) to Airflow's python",
            )
        if not Path(airflow_python).exists():
            raise ConfigError(
                f"Airflow's interpreter {airflow_python} does not exist",
                "point ASSISTANT_AIRFLOW_PYTHON at the python of the environment Airflow runs in",
            )
        self.airflow_python = Path(airflow_python)
        self.timeout_s = timeout_s
        self.parallel = parallel
        self.max_processes = max_processes
        self.root = Path(tempfile.mkdtemp(prefix="assistant-validate-"))
        self.src = self.root / "src"
        self.run_dir = self.root / "run"
        for folder in (
            self.src,
            self.run_dir,
            self.run_dir / "tmp",
            self.run_dir / "home",
            self.run_dir / "airflow",
        ):
            folder.mkdir(parents=True, exist_ok=True)
        self._process: subprocess.Popen[str] | None = None
        self.airflow_version: str | None = None
        self.network = "not started"
        self.pid_namespace = False
        # the worker names its job cgroups PREFIX-N; close() removes any a killed worker left
        self.pids_prefix = f"assistant-validate-{secrets.token_hex(6)}"
        self.pids_cgroup: dict[str, Any] | None = None  # parent, version, prefix: from the worker
        self.pids_problem = "the worker has not started"

    def environment(self) -> dict[str, str]:
        run = str(self.run_dir)
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": f"{run}/home",
            "TMPDIR": f"{run}/tmp",
            "AIRFLOW_HOME": f"{run}/airflow",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.src),
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": str(max(1.0, self.timeout_s - 1)),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{run}/airflow/airflow.db",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": f"{run}/airflow/logs",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def start(self) -> None:
        """Spawn the worker without waiting for it: Airflow imports while the static stages run."""
        if self._process is not None:
            return
        prefix, self.network, self.pid_namespace = _namespace_prefix()
        command = [
            *prefix,
            str(self.airflow_python),
            "-I",
            str(WORKER_SCRIPT),
            "--pids-cgroup-prefix",
            self.pids_prefix,
        ]
        stderr = (self.run_dir / "worker.log").open("w")
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=self.environment(),
                cwd=str(self.run_dir),
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot start Airflow's interpreter: {exc}", "check ASSISTANT_AIRFLOW_PYTHON"
            ) from None
        finally:
            stderr.close()

    def _ready(self) -> None:
        self.start()
        if self.airflow_version is not None:
            return
        hello = self._read_line(START_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            log = (self.run_dir / "worker.log").read_text(errors="replace").strip().splitlines()
            self.close()
            raise ConfigError(
                f"Airflow could not be imported by {self.airflow_python}: {log[-1] if log else 'no output'}",
                "check that apache-airflow is installed in that interpreter's environment",
            )
        self.airflow_version = str(hello.get("airflow_version"))
        self.pids_cgroup = hello.get("pids_cgroup")
        self.pids_problem = str(hello.get("pids_cgroup_problem") or "")

    def _read_line(self, timeout_s: float) -> dict[str, Any] | None:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout_s
        stream = self._process.stdout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                line = stream.readline()
                return json.loads(line) if line.strip() else None
        return None

    def _send(self, payload: dict[str, Any]) -> None:
        self._ready()
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(payload) + "\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise ValidationFailed(
                "the validation sandbox stopped unexpectedly", "run the validation again"
            ) from None

    def _receive(self, timeout_s: float) -> dict[str, Any]:
        reply = self._read_line(timeout_s)
        if reply is None:
            self.close()
            raise ValidationFailed("the validation sandbox did not answer", "run the validation again")
        return reply

    def submit(self, jobs: list[dict[str, Any]]) -> float:
        """Send a batch of jobs; returns the time budget to pass to :meth:`collect`."""
        for job in jobs:
            job.setdefault("timeout_s", self.timeout_s)
            job.setdefault("sandbox", str(self.run_dir))
            job.setdefault("source_root", str(self.src))
        self._send({"op": "batch", "jobs": jobs, "parallel": self.parallel})
        return sum(float(j["timeout_s"]) for j in jobs) / self.parallel + 60

    def collect(self, budget_s: float) -> list[dict[str, Any]]:
        return self._receive(budget_s)["results"]

    def run(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run jobs (dicts understood by sandbox_worker) and return their results in order."""
        if not jobs:
            return []
        return self.collect(self.submit(jobs))

    def prewarm_run(self) -> None:
        """Ask the worker to build what dag.test() needs once, before it forks run children (no reply)."""
        self._send({"op": "prewarm"})

    def distribution_versions(self, names: list[str]) -> dict[str, str | None]:
        if not names:
            return {}
        self._send({"op": "dists", "names": names})
        return self._receive(30)["versions"]

    def describe(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "pid_namespace": self.pid_namespace,
            "processes": self.processes(),
            "airflow_version": self.airflow_version,
            "worker": "warm (Airflow imported once, one forked child per file)",
        }

    def processes(self) -> str:
        """How the number of processes of one file's import is limited, for the report."""
        if self.pids_cgroup:
            return f"at most {self.max_processes} per file, threads included (pids cgroup v{self.pids_cgroup['version']})"
        why = f"no writable pids cgroup ({self.pids_problem})"
        if os.geteuid() == 0:
            return f"not limited: {why}; Linux exempts root from RLIMIT_NPROC, so only the time limit applies"
        return f"RLIMIT_NPROC {self.max_processes}, counting all of the user's processes: {why}"

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin:
                process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
            self._remove_pids_cgroups()
        shutil.rmtree(self.root, ignore_errors=True)

    def _remove_pids_cgroups(self) -> None:
        """The job cgroups a worker that was killed mid-batch left behind (normally none)."""
        parent = (self.pids_cgroup or {}).get("parent")
        if parent is None and self.airflow_version is None:  # it may have died while probing
            found, _ = sandbox_pids.find_parent()
            parent = found.path if found else None
        if parent is None:
            return
        left = sandbox_pids.remove_leftovers(str(parent), self.pids_prefix)
        if left:
            log.warning("pids cgroups of the validation sandbox could not be removed: %s", ", ".join(left))

    def __enter__(self) -> SandboxWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def copy_tree(source: Path, target: Path, *, max_bytes: int, max_files: int = 5000) -> None:
    """Copy the text files of a repo into the sandbox; symlinks and hidden folders are skipped."""
    keep = {
        ".py",
        ".sql",
        ".json",
        ".yaml",
        ".yml",
        ".txt",
        ".cfg",
        ".ini",
        ".sh",
        ".md",
        ".toml",
        ".csv",
        "",
    }
    skip_dirs = {"__pycache__", ".git", "node_modules", ".venv", "venv", ".tox", ".mypy_cache", ".ruff_cache"}
    copied = 0
    for folder, dirnames, filenames in os.walk(source, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in skip_dirs and not d.startswith(".")]
        relative = Path(folder).relative_to(source)
        for name in filenames:
            path = Path(folder) / name
            if path.is_symlink() or path.suffix not in keep or copied >= max_files:
                continue
            try:
                if path.stat().st_size > max_bytes:
                    continue
                destination = target / relative / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
            except OSError:
                continue
            copied += 1
