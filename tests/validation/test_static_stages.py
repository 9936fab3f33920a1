"""Bandit mapping, policy rules, suppressions and input handling: positive and negative cases."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assistant.errors import UsageError
from assistant.validation.bandit_scan import scan_bandit
from assistant.validation.inputs import collect_sources
from assistant.validation.pipeline import ruff_air
from assistant.validation.policy import Policy, airflow3_policy, dag_policy, load_policy, static_policy
from assistant.validation.report import Finding
from assistant.validation.suppress import apply_suppressions

BANDIT_CASES = [
    (
        "bandit.B307",
        "def f(x):\n    return eval(x)\n",
        "import ast\ndef f(x):\n    return ast.literal_eval(x)\n",
    ),
    ("bandit.B102", "def f(x):\n    exec(x)\n", "def f(x):\n    print(x)\n"),
    (
        "bandit.B301",
        "import pickle\ndef f(b):\n    return pickle.loads(b)\n",
        "import json\ndef f(b):\n    return json.loads(b)\n",
    ),
    (
        "bandit.B506",
        "import yaml\ndef f(t):\n    return yaml.load(t)\n",
        "import yaml\ndef f(t):\n    return yaml.safe_load(t)\n",
    ),
    (
        "bandit.B602",
        "import subprocess\ndef f(t):\n    subprocess.run('ls ' + t, shell=True)\n",
        "import subprocess\ndef f(t):\n    subprocess.run(['ls', t])\n",
    ),
    (
        "bandit.B605",
        "import os\ndef f(t):\n    os.system('ls ' + t)\n",
        "import os\ndef f(t):\n    os.listdir(t)\n",
    ),
]


@pytest.mark.parametrize(("rule", "positive", "negative"), BANDIT_CASES)
def test_bandit_rules_block(tmp_path: Path, rule: str, positive: str, negative: str) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    bad.write_text(positive)
    good.write_text(negative)
    found = scan_bandit([bad, good])
    assert rule in {f.rule for f in found[bad] if f.severity == "block"}
    assert rule not in {f.rule for f in found[good] if f.severity == "block"}


def _static(source: str, policy: Policy | None = None) -> set[str]:
    return {f.rule for f in static_policy(ast.parse(source), policy or Policy())}


def test_policy_dynamic_start_date() -> None:
    assert "policy.dynamic-start-date" in _static("DAG('x', start_date=datetime.now(), catchup=False)\n")
    assert "policy.dynamic-start-date" not in _static(
        "DAG('x', start_date=datetime(2024, 1, 1), catchup=False)\n"
    )


def test_policy_catchup_explicit() -> None:
    assert "policy.catchup" in _static("from airflow.sdk import DAG\nDAG('x', schedule=None)\n")
    assert "policy.catchup" not in _static(
        "from airflow.sdk import DAG\nDAG('x', schedule=None, catchup=False)\n"
    )


def test_policy_level_off_removes_the_rule() -> None:
    assert "policy.catchup" not in _static("from airflow.sdk import DAG\nDAG('x')\n", Policy(catchup="off"))


def test_policy_over_loaded_dags() -> None:
    bare = {"dag_id": "d", "tags": [], "owners": ["airflow"], "retries": {"t": 0}}
    tidy = {"dag_id": "d", "tags": ["etl"], "owners": ["data-team"], "retries": {"t": 2}}
    assert {f.rule for f in dag_policy([bare], Policy())} == {"policy.tags", "policy.owner", "policy.retries"}
    assert dag_policy([tidy], Policy()) == []
    assert all(f.severity == "warn" for f in dag_policy([bare], Policy()))


def test_airflow3_removed_blocks_and_deprecated_warns(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_text(
        "from airflow.utils.dates import days_ago\nfrom airflow import DAG\nDAG('x', start_date=days_ago(1))\n"
    )
    new = tmp_path / "new.py"
    new.write_text("from airflow.sdk import DAG\nDAG('x', schedule=None, catchup=False)\n")
    results = ruff_air([old, new])
    findings = airflow3_policy(results.get(old, []), Policy())
    assert ("policy.airflow3.AIR301", "block") in {(f.rule, f.severity) for f in findings}
    assert ("policy.airflow3.AIR311", "warn") in {(f.rule, f.severity) for f in findings}
    assert airflow3_policy(results.get(new, []), Policy()) == []


def test_load_policy_reads_levels_and_rejects_unknown_keys(tmp_path: Path) -> None:
    good = tmp_path / "policy.toml"
    good.write_text(
        '[policy]\ntags = "block"\n[limits]\ntimeout_s = 5\n[severity]\n"security.raw-socket" = "info"\n'
    )
    policy = load_policy(good)
    assert (
        policy.tags == "block"
        and policy.timeout_s == 5
        and policy.level("security.raw-socket", "warn") == "info"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\ntagz = "block"\n')
    with pytest.raises(UsageError, match="unknown policy key"):
        load_policy(bad)
    with pytest.raises(UsageError, match="does not exist"):
        load_policy(tmp_path / "missing.toml")


def _finding(rule: str, line: int) -> Finding:
    return Finding(rule, "block", line, "m", "h")


def test_suppression_with_reason_downgrades_to_info() -> None:
    source = "x = 1\ns = socket()  # assistant: allow security.raw-socket -- health check of our own LB\n"
    [finding] = apply_suppressions([_finding("security.raw-socket", 2)], source, frozenset())
    assert finding.severity == "info" and finding.suppressed == "health check of our own LB"
    [kept] = apply_suppressions([_finding("security.raw-socket", 1)], source, frozenset())
    assert kept.severity == "block"


def test_suppression_without_reason_is_ignored_and_reported() -> None:
    source = "s = socket()  # assistant: allow security.raw-socket\n"
    findings = apply_suppressions([_finding("security.raw-socket", 1)], source, frozenset())
    assert {(f.rule, f.severity) for f in findings} == {
        ("security.raw-socket", "block"),
        ("suppression.missing-reason", "warn"),
    }


def test_unsuppressible_rule_stays_blocking() -> None:
    source = "# assistant: allow security.reverse-shell -- trust me\ncmd = 'x'\n"
    [finding] = apply_suppressions(
        [_finding("security.reverse-shell", 2)], source, frozenset({"security.reverse-shell"})
    )
    assert finding.severity == "block"


def test_bad_inputs_become_findings_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("x = 1\n")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "big.py").write_text("x = 1\n" * 400)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text("x = 2\n")
    (tmp_path / "escape.py").symlink_to(outside)
    (tmp_path / "inside.py").symlink_to(tmp_path / "good.py")
    sources, problems = collect_sources([tmp_path, tmp_path / "nope.py"], tmp_path, max_bytes=1024)
    rules = {p.path.name: p.findings[0].rule for p in problems}
    assert rules == {
        "binary.py": "input.binary",
        "latin.py": "input.encoding",
        "empty.py": "input.empty",
        "big.py": "input.too-large",
        "escape.py": "input.symlink-escape",
        "nope.py": "input.not-found",
    }
    assert [s.path.name for s in sources] == ["good.py"]  # inside.py is the same file, read once
