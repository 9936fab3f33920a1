"""The whole pipeline against Airflow's real interpreter: sandboxed DagBag imports, dependencies,
collisions, the repo's tests, the cache, and the two corpora (malicious must block, Airflow's
own examples must not)."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.validation import Policy, ValidationReport, validate_paths
from assistant.validation.examples import example_folders
from assistant.validation.policy import UNSUPPRESSIBLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MALICIOUS = sorted((FIXTURES / "malicious").glob("*.py"))
FAST = Policy(timeout_s=4, cpu_s=4)
HEADER = (
    "import pendulum\nfrom airflow.sdk import DAG, task\n"
    "from airflow.providers.standard.operators.bash import BashOperator\n"
)


def _config(home: Path) -> Config:
    config = load_config({"ASSISTANT_HOME": str(home)})
    if config.airflow_python is None or not config.airflow_python.exists():
        pytest.skip("the project-local Airflow (scripts/airflow.sh) is not installed")
    return config


def _dag(
    dag_id: str, body: str = "    BashOperator(task_id='t', bash_command='echo ok')\n", extra: str = ""
) -> str:
    return (
        HEADER
        + extra
        + f"with DAG('{dag_id}', schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False, "
        "tags=['x'], default_args={'owner': 'team', 'retries': 1}):\n" + body
    )


def _blocking(report: ValidationReport, name: str) -> set[str]:
    [file] = [f for f in report.files if f.path.name == name]
    return {f.rule for f in file.findings if f.severity == "block"}


@pytest.fixture(scope="module")
def malicious_report(tmp_path_factory: pytest.TempPathFactory) -> ValidationReport:
    config = _config(tmp_path_factory.mktemp("home"))
    return validate_paths(MALICIOUS, config=config, policy=FAST)


@pytest.mark.parametrize("path", MALICIOUS, ids=[p.stem for p in MALICIOUS])
def test_every_malicious_dag_is_blocked_by_the_right_rule(
    malicious_report: ValidationReport, path: Path
) -> None:
    expected = re.search(r"# expect: (\S+)", path.read_text()).group(1)  # type: ignore[union-attr]
    [file] = [f for f in malicious_report.files if f.path == path]
    assert not file.ok
    assert expected in {f.rule for f in file.findings if f.severity == "block"}


def test_report_json_shape(malicious_report: ValidationReport) -> None:
    data = malicious_report.to_dict()
    assert data["ok"] is False and isinstance(data["elapsed_s"], float)
    for file in data["files"]:
        assert set(file) >= {"path", "ok", "dag_ids", "findings"}
        for finding in file["findings"]:
            assert set(finding) >= {"rule", "severity", "line", "message", "hint"}
            assert finding["severity"] in {"block", "warn", "info"} and finding["hint"]
        severities = [f["severity"] for f in file["findings"]]
        assert severities == sorted(severities, key=["block", "warn", "info"].index)  # blocking first
    assert data["sandbox"]["network"] in {
        "network namespace (unshare --net)",
        "sockets disabled in the child (audit hook)",
    }


def test_suppression_cannot_hide_a_reverse_shell(malicious_report: ValidationReport) -> None:
    assert "security.reverse-shell" in UNSUPPRESSIBLE
    assert "security.reverse-shell" in _blocking(malicious_report, "suppressed_reverse_shell.py")


def test_airflow_example_dags_are_not_blocked(tmp_path: Path) -> None:
    config = _config(tmp_path / "home")
    report = validate_paths(example_folders(config.airflow_python), config=config)
    blocked = {
        str(f.path): sorted(x.rule for x in f.findings if x.severity == "block")
        for f in report.files
        if not f.ok
    }
    assert blocked == {}
    assert len(report.files) > 50 and "example_complex" in report.dag_ids()


@pytest.fixture(scope="module")
def repo_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ValidationReport]]:
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(FIXTURES / "valid" / "repo", repo, dirs_exist_ok=True)
    (repo / "tests" / "test_failing.py").write_text("def test_fails_on_purpose():\n    assert 1 + 1 == 3\n")
    files = {
        "cycle.py": _dag(
            "fx_cycle",
            "    a = BashOperator(task_id='a', bash_command='x')\n"
            "    b = BashOperator(task_id='b', bash_command='x')\n    a >> b >> a\n",
        ),
        "dup_task.py": _dag(
            "fx_dup",
            "    BashOperator(task_id='a', bash_command='x')\n"
            "    BashOperator(task_id='a', bash_command='y')\n",
        ),
        "bad_schedule.py": _dag("fx_sched").replace("schedule=None", "schedule='every tuesday-ish'"),
        "broken.py": _dag("fx_broken", "    BashOperator(task_id='t', bash_command=undefined_name)\n"),
        "missing_dep.py": _dag("fx_missing", extra="import not_installed_pkg_xyz\n"),
        "provider.py": _dag(
            "fx_provider", extra="from airflow.providers.amazon.aws.operators.s3 import S3ListOperator\n"
        ),
        "collide_a.py": _dag("fx_same_id"),
        "collide_b.py": _dag("fx_same_id"),
        "deployed.py": _dag("fx_deployed_elsewhere"),
        "slow.py": "import time\ntime.sleep(60)\n" + _dag("fx_slow"),
        "netprobe.py": _dag("fx_net_{NET}_env_{ENV}")
        .replace("'fx_net_{NET}_env_{ENV}'", "f'fx_net_{NET}_env_{ENV}'")
        .replace(
            HEADER,
            HEADER
            + textwrap.dedent("""
            import os, socket
            try:
                socket.create_connection(("127.0.0.1", 28080), timeout=2).close()
                NET = "open"
            except OSError:
                NET = "closed"
            ENV = "leaked" if "ASSISTANT_SECRET_PROBE" in os.environ else "clean"
            """),
        ),
    }
    for name, text in files.items():
        (repo / name).write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASSISTANT_SECRET_PROBE", "s3cret")
        report = validate_paths(
            [repo],
            config=_config(tmp_path_factory.mktemp("home")),
            policy=FAST,
            base_dir=repo,
            known_dag_ids={"fx_deployed_elsewhere": "/releases/other-repo/dags.py"},
        )
    yield repo, report


def test_good_dag_with_a_local_module_passes(repo_report: tuple[Path, ValidationReport]) -> None:
    _, report = repo_report
    [good] = [f for f in report.files if f.path.name == "good_dag.py"]
    assert good.ok and good.dag_ids == ["fixture_good_dag"]
    assert not [f for f in good.findings if f.severity == "warn"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("cycle.py", "import.cycle"),
        ("dup_task.py", "import.duplicate-task-id"),
        ("bad_schedule.py", "import.invalid-schedule"),
        ("broken.py", "import.error"),
        ("missing_dep.py", "deps.missing-module"),
        ("provider.py", "deps.missing-module"),
        ("collide_a.py", "import.dag-id-collision"),
        ("collide_b.py", "import.dag-id-collision"),
        ("deployed.py", "import.dag-id-collision"),
    ],
)
def test_import_and_dependency_problems_block(
    repo_report: tuple[Path, ValidationReport], name: str, rule: str
) -> None:
    assert rule in _blocking(repo_report[1], name)


def test_import_error_points_at_the_line(repo_report: tuple[Path, ValidationReport]) -> None:
    [file] = [f for f in repo_report[1].files if f.path.name == "broken.py"]
    [error] = [f for f in file.findings if f.rule == "import.error"]
    assert error.line == 5 and "undefined_name" in error.message


def test_missing_provider_is_named(repo_report: tuple[Path, ValidationReport]) -> None:
    [file] = [f for f in repo_report[1].files if f.path.name == "provider.py"]
    messages = " ".join(f.message + f.hint for f in file.findings if f.rule == "deps.missing-module")
    assert "apache-airflow-providers-amazon" in messages


def test_requirements_not_installed_are_listed(repo_report: tuple[Path, ValidationReport]) -> None:
    findings = [
        f for r in repo_report[1].files for f in r.findings if f.rule == "deps.requirement-not-installed"
    ]
    assert len(findings) == 1 and "definitely-not-installed-pkg-xyz" in findings[0].message
    assert "pendulum" not in findings[0].message


def test_top_level_sleep_is_cut_by_the_timeout(repo_report: tuple[Path, ValidationReport]) -> None:
    assert _blocking(repo_report[1], "slow.py") & {"sandbox.timeout", "import.timeout"}


def test_sandbox_has_no_network_and_no_assistant_environment(
    repo_report: tuple[Path, ValidationReport],
) -> None:
    [file] = [f for f in repo_report[1].files if f.path.name == "netprobe.py"]
    assert file.dag_ids == ["fx_net_closed_env_clean"]


def test_repo_tests_run_in_the_sandbox(repo_report: tuple[Path, ValidationReport]) -> None:
    repo, report = repo_report
    [tests] = [f for f in report.files if f.path == repo / "tests"]
    failed = [f for f in tests.findings if f.rule == "tests.failed"]
    assert len(failed) == 1 and "test_fails_on_purpose" in failed[0].message


def test_cache_revalidates_only_the_changed_file(tmp_path: Path) -> None:
    config = _config(tmp_path / "home")
    repo = tmp_path / "dags"
    repo.mkdir()
    for index in range(3):
        (repo / f"d{index}.py").write_text(_dag(f"fx_cache_{index}"))
    first = validate_paths([repo], config=config, run_tests=False)
    assert first.ok and not any(f.cached for f in first.files)
    second = validate_paths([repo], config=config, run_tests=False)
    assert all(f.cached for f in second.files) and second.dag_ids() == first.dag_ids()
    (repo / "d1.py").write_text(_dag("fx_cache_renamed"))
    third = validate_paths([repo], config=config, run_tests=False)
    assert {f.path.name for f in third.files if not f.cached} == {"d1.py"}
    assert "fx_cache_renamed" in third.dag_ids()


def test_missing_interpreter_is_a_config_error(tmp_path: Path) -> None:
    from assistant.errors import ConfigError

    config = Config(home=tmp_path, airflow_python=None)
    (tmp_path / "d.py").write_text(_dag("fx_no_python"))
    with pytest.raises(ConfigError, match="interpreter"):
        validate_paths([tmp_path / "d.py"], config=config)


def test_airflow_2_import_paths_that_airflow_3_still_serves_warn_but_do_not_block(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.py"
    legacy.write_text(
        _dag("legacy_paths").replace(
            "from airflow.providers.standard.operators.bash import BashOperator",
            "from airflow.operators.bash import BashOperator",
        )
    )
    gone = tmp_path / "gone.py"
    gone.write_text(_dag("gone_paths", extra="from airflow.operators.teleport import Beam  # noqa\n"))
    report = validate_paths([legacy, gone], config=_config(tmp_path / "home"), policy=FAST, run_tests=False)
    assert _blocking(report, "legacy.py") == set()
    [legacy_file] = [f for f in report.files if f.path.name == "legacy.py"]
    assert any(f.rule.startswith("policy.airflow3") and f.severity == "warn" for f in legacy_file.findings)
    assert "deps.missing-module" in _blocking(report, "gone.py")
