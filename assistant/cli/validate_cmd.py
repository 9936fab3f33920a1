"""`assistant validate PATH...`: the DAG validation pipeline from the command line.

Exit codes: 0 nothing blocks, 1 something blocks, 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from assistant.cli import output
from assistant.errors import UsageError

SEVERITY_STYLE = {"block": "bold red", "warn": "yellow", "info": "dim"}


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for scripts.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), help="Policy TOML file.")
@click.option(
    "--base-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Repository root (default: PATH when a single folder is given).",
)
@click.option("--no-tests", is_flag=True, help="Do not run the repository's tests/.")
@click.option(
    "--run",
    "run_dags",
    is_flag=True,
    help="Also run each DAG of every clean file once with dag.test() in the sandbox (no network, "
    "read-only filesystem but for the run's folder, retries off).",
)
@click.option("--all", "show_all", is_flag=True, help="Show info findings too.")
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    as_json: bool,
    policy_file: Path | None,
    base_dir: Path | None,
    no_tests: bool,
    run_dags: bool,
    show_all: bool,
) -> None:
    """Check DAG files or folders: syntax, security, dependencies, import in Airflow, policy, tests."""
    if not any(p.exists() or p.is_symlink() for p in paths):
        shown = ", ".join(str(p) for p in paths)
        raise UsageError(
            f"no such file or folder: {shown}",
            "pass DAG files or folders (registered repos are validated by `assistant repo sync`)",
        )
    if base_dir is None and len(paths) == 1 and paths[0].is_dir():
        base_dir = paths[0]
    report = ctx.obj.assistant.validate(
        list(paths), policy_file=policy_file, base_dir=base_dir, run_tests=not no_tests, run_dags=run_dags
    )
    if as_json:
        output.print_json(report.to_dict())
    else:
        _print(report, show_all)
    ctx.exit(0 if report.ok else 1)


def _print(report: Any, show_all: bool) -> None:
    console = output.console()
    for file in report.files:
        findings = [f for f in file.sorted_findings() if show_all or f.severity != "info"]
        verdict = "[green]ok[/green]" if file.ok else "[bold red]blocked[/bold red]"
        dags = f" dags: {', '.join(file.dag_ids)}" if file.dag_ids else ""
        cached = " [dim](cached)[/dim]" if file.cached else ""
        console.print(f"{verdict} {file.path}{dags}{cached}", markup=True)
        for run in file.runs:
            tasks = run.get("tasks") or []
            took = f", {run['elapsed_s']}s" if run.get("elapsed_s") is not None else ""
            console.print(f"  ran {run['dag_id']}: {run['state']} ({len(tasks)} tasks{took})", markup=False)
        if not findings:
            continue
        rows = [
            (f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", f.line or "-", f.rule, f.message, f.hint)
            for f in findings
        ]
        console.print(output.table(None, ["severity", "line", "rule", "message", "how to fix"], rows))
    blocked = sum(1 for f in report.files if not f.ok)
    network = report.sandbox.get("network")
    summary = f"{len(report.files)} files, {blocked} blocked, {report.elapsed_s:.1f}s"
    if network:
        summary += f"; sandbox: {network}"
    console.print(f"[bold]{'OK' if report.ok else 'BLOCKED'}[/bold]: {summary}")
    run = report.sandbox.get("run") or {}
    if run.get("filesystem"):
        console.print(
            f"--run: {run.get('privileges')}; filesystem {run.get('filesystem')}; processes "
            f"{run.get('processes')}",
            markup=False,
        )


COMMANDS = [validate]
