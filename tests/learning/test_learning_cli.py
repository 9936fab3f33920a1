from __future__ import annotations


def test_report_with_a_bad_period_is_one_line_with_a_hint(run_cli: object) -> None:
    result = run_cli("report", "--since", "yesterday")  # type: ignore[operator]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot read the period 'yesterday'" in result.stderr and "hint:" in result.stderr


def test_commands_are_listed_in_help(run_cli: object) -> None:
    result = run_cli("--help")  # type: ignore[operator]
    for name in ("predict", "advise", "report", "learn"):
        assert f"  {name} " in result.stdout
