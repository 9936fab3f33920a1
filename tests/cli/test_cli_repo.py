"""`assistant repo ...` as a user types it, in process, over the offline assistant (real git repos,
stand-in validator): output, --json, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main as cli_main
from assistant.service import Assistant
from tests.gitops.gitrepos import RemoteRepo, dag_source, git


@pytest.fixture
def cli(offline_assistant: Assistant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(cli_main.AppContext, "assistant", property(lambda self: offline_assistant))
    monkeypatch.setenv("COLUMNS", "300")  # tables unwrapped

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            cli_main.main(list(args))
        out, err = capsys.readouterr()
        return int(exited.value.code or 0), out, err

    return run


@pytest.fixture
def added(cli, remote: RemoteRepo) -> RemoteRepo:
    remote.commit({"dags/a.py": dag_source("cli_a"), "other/b.py": dag_source("cli_b")})
    code, _out, err = cli("repo", "add", remote.url, "--name", "flows", "--path", "dags", "--no-wait")
    assert code == 0, err
    return remote


def test_set_path_prints_the_change_and_the_deployment(cli, added: RemoteRepo) -> None:
    code, out, _err = cli("repo", "set", "flows", "--path", "other", "--no-wait")
    assert code == 0
    assert "path: dags → other" in out and "flows: deployed" in out and "policy: default" in out


def test_set_json_and_a_failing_branch_exit_1(cli, added: RemoteRepo) -> None:
    git(added.work, "checkout", "-q", "-b", "broken")
    (added.work / "dags" / "a.py").write_text("def broken(:\n")
    git(added.work, "commit", "-qam", "broken")
    git(added.work, "push", "-q", "origin", "broken")
    code, out, _err = cli("repo", "set", "flows", "--branch", "broken", "--no-wait", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["changed"] == {"ref": ["branch main", "branch broken"]}
    assert data["deployment"]["result"] == "failed"


def test_set_namespace_moves(cli, added: RemoteRepo, offline_assistant: Assistant) -> None:
    code, out, _err = cli("repo", "set", "flows", "--namespace", "company", "--no-wait")
    assert code == 0 and "moved from personal/flows to company/flows" in out
    assert (offline_assistant.config.dags_folder / "company" / "flows" / "a.py").exists()


def test_set_without_options_lists_them(cli, added: RemoteRepo) -> None:
    code, _out, err = cli("repo", "set", "flows")
    assert code == 2 and err.startswith("error: nothing to change")
    assert "--namespace" in err and "--no-policy" in err and "Traceback" not in err


def test_set_unknown_repo_suggests_a_name(cli, added: RemoteRepo) -> None:
    code, _out, err = cli("repo", "set", "flow", "--branch", "main")
    assert code == 1 and "no repository named 'flow'" in err and "did you mean flows?" in err


def test_list_and_history_show_the_policy(cli, added: RemoteRepo, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[policy]\ntags = "warn"\n')
    assert cli("repo", "set", "flows", "--policy", str(policy))[0] == 0
    code, out, _err = cli("repo", "list", "--json")
    [repo] = json.loads(out)
    assert code == 0 and repo["policy_used"] == "default" and repo["policy_set"] is True
    assert "policy_toml" not in repo
    _code, table, _err = cli("repo", "list")
    assert "next: repo set" in table
    assert cli("repo", "sync", "flows", "--force", "--no-wait")[0] == 0
    _code, history, _err = cli("repo", "history", "flows", "--json")
    assert [h["policy"] for h in json.loads(history)] == ["repo set", "default"]
