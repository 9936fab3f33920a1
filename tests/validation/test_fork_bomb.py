"""A DAG file that fork-bombs while it is imported, against the real sandbox: its pids cgroup stops
it at the limit, the report blocks it, and no cgroup is left behind.

The bombs are bounded so that they cannot hurt the machine even if the limit failed: at most 500
forks each, and every child only sleeps, then exits (0.2 s; 8 s for the one that outlives its
import, and which the timeout kills). They get past the audit hook (which refuses ``os.fork``
while a DAG is parsed) through ``_posixsubprocess.fork_exec``, which Python does not audit: the
cgroup is what must hold then. Skipped where no writable pids cgroup exists (not root, read-only
cgroups, no pids controller)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.validation import Policy, validate_paths
from assistant.validation.sandbox import SandboxWorker
from assistant.validation.sandbox_pids import find_parent

LIMIT = 16
DAG = """
with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False,
         tags=["x"], default_args={{"owner": "team", "retries": 1}}):
    BashOperator(task_id="t", bash_command="echo ok")
"""
HEADER = """import os
import time

import _posixsubprocess
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
"""
BOMB = '''

def fork_unaudited(child_sleep_s, own_session):
    """fork() past the audit hook; the child sleeps, then exits without running anything else."""
    read_fd, write_fd = os.pipe()

    def child():
        time.sleep(child_sleep_s)
        os._exit(0)

    args = [[b"/bin/true"], [b"/bin/true"], True, (write_fd,), None, None, -1, -1, -1, -1, -1, -1,
            read_fd, write_fd, False, own_session, -1, None, None, -1, -1, child, False]
    try:
        try:
            return _posixsubprocess.fork_exec(*args)
        except TypeError:  # Python 3.12+: no allow_vfork argument
            return _posixsubprocess.fork_exec(*args[:-1])
    finally:
        os.close(read_fd)
        os.close(write_fd)


for _ in range(500):  # bounded: 500 forks at most, whatever the limit does
    try:
        fork_unaudited({sleep}, {own_session})
    except OSError:  # EAGAIN: the pids cgroup refused it
        pass
{after}'''
PLAIN_FORK = """
for _ in range(500):
    if os.fork() == 0:
        time.sleep(0.2)
        os._exit(0)
"""


def _bomb(dag_id: str, *, sleep: float = 0.2, own_session: bool = False, after: str = "") -> str:
    body = BOMB.format(sleep=sleep, own_session=own_session, after=after)
    return HEADER + body + DAG.format(dag_id=dag_id)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = load_config({"ASSISTANT_HOME": str(tmp_path / "home")})
    if config.airflow_python is None or not config.airflow_python.exists():
        pytest.skip("the project-local Airflow (scripts/airflow.sh) is not installed")
    parent, why = find_parent()
    if parent is None:
        pytest.skip(f"no writable pids cgroup here, so processes are not limited: {why}")
    return config


def _ours(parent: str, prefix: str) -> list[str]:
    return [name for name in os.listdir(parent) if name.startswith(f"{prefix}-")]


def test_a_fork_bomb_at_import_is_stopped_and_blocked(tmp_path: Path, config: Config) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "bomb.py").write_text(_bomb("fb_bomb"))
    (dags / "plain_fork.py").write_text(HEADER + PLAIN_FORK + DAG.format(dag_id="fb_plain"))
    (dags / "good.py").write_text(HEADER + DAG.format(dag_id="fb_good"))
    policy = Policy(max_processes=LIMIT)  # default time limits: each refused fork costs a whole fork
    report = validate_paths([dags], config=config, policy=policy, run_tests=False)
    files = {f.path.name: f for f in report.files}
    [limit] = [f for f in files["bomb.py"].findings if f.rule == "sandbox.process-limit"]
    assert limit.severity == "block" and not files["bomb.py"].ok
    assert (
        f"while Airflow parsed the file it reached the sandbox's limit of {LIMIT} processes" in limit.message
    )
    assert "more were refused" in limit.message and "top level" in limit.hint
    assert files["bomb.py"].dag_ids == ["fb_bomb"]  # the bomb caught the errors and went on
    # os.fork itself never gets as far as the cgroup: the audit hook refuses the first one
    plain = {f.rule for f in files["plain_fork.py"].findings if f.severity == "block"}
    assert "sandbox.blocked-operation" in plain and "sandbox.process-limit" not in plain
    assert files["good.py"].ok and files["good.py"].dag_ids == ["fb_good"]
    assert report.sandbox["processes"].startswith(f"at most {LIMIT} per file")
    assert report.sandbox["limits"]["max_processes"] == LIMIT


def test_each_file_has_its_own_cgroup_removed_even_after_a_timeout(tmp_path: Path, config: Config) -> None:
    parent, _ = find_parent()
    assert parent is not None
    files = {  # name: (text, time limit)
        "bomb.py": (_bomb("fb_bomb"), 60),
        # children in their own sessions outlive the import, which then hangs until its time limit
        "hangs.py": (_bomb("fb_hangs", sleep=8, own_session=True, after="time.sleep(60)\n"), 10),
        "good.py": (HEADER + DAG.format(dag_id="fb_good"), 60),
    }
    with SandboxWorker(config.airflow_python, parallel=2) as worker:
        jobs = []
        for name, (text, timeout_s) in files.items():
            (worker.src / name).write_text(text)
            job = {"id": name, "kind": "import", "path": str(worker.src / name), "root": str(worker.src)}
            jobs.append({**job, "timeout_s": timeout_s, "max_processes": LIMIT})
        bomb, hangs, good = worker.run(jobs)
        assert worker.pids_cgroup is not None and worker.pids_cgroup["parent"] == parent.path
        assert _ours(parent.path, worker.pids_prefix) == []  # each removed once its job was over
    assert _ours(parent.path, worker.pids_prefix) == []
    assert bomb["status"] == "ok" and hangs["status"] == "timeout"
    for result in (bomb, hangs):
        usage = result["processes"]
        assert usage["limit"] == LIMIT and usage["refused"] > 0
        assert usage["peak"] is None or usage["peak"] <= LIMIT  # pids.peak: newer kernels only
    # the good file ran beside the bombs, in a cgroup of its own, and was not starved
    assert good["status"] == "ok" and [d["dag_id"] for d in good["dags"]] == ["fb_good"]
    assert good["processes"]["refused"] == 0 and good["import_errors"] == []


def test_cgroups_of_a_killed_worker_are_removed_when_it_is_closed(tmp_path: Path, config: Config) -> None:
    parent, _ = find_parent()
    assert parent is not None
    worker = SandboxWorker(config.airflow_python, timeout_s=60)
    try:
        (worker.src / "slow.py").write_text("import time\ntime.sleep(60)\n")
        path = str(worker.src / "slow.py")
        worker.submit([{"id": "slow", "kind": "import", "path": path, "root": str(worker.src)}])
        deadline = time.monotonic() + 60
        while not _ours(parent.path, worker.pids_prefix) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ours(parent.path, worker.pids_prefix), "the job's cgroup never appeared"
        assert worker._process is not None
        worker._process.kill()  # the worker dies mid-job and cannot remove the cgroup itself
        worker._process.wait()
        assert _ours(parent.path, worker.pids_prefix)
    finally:
        worker.close()
    assert _ours(parent.path, worker.pids_prefix) == []
