"""Commands over Airflow itself: dags, run, status, logs, doctor, config."""

from __future__ import annotations

import json
from typing import Any

import click

from assistant.cli import output
from assistant.errors import UsageError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def parse_conf(raw: str | None) -> dict[str, object]:
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--conf is not valid JSON ({exc.msg} at column {exc.colno})",
            'pass a JSON object, for example --conf \'{"env": "prod"}\'',
        ) from None
    if not isinstance(value, dict):
        raise UsageError("--conf must be a JSON object", 'for example --conf \'{"env": "prod"}\'')
    return value


@click.command()
@click.option(
    "--namespace", type=click.Choice(["company", "community", "personal"]), help="Only this namespace."
)
@json_option
@click.pass_context
def dags(ctx: click.Context, namespace: str | None, as_json: bool) -> None:
    """List the DAGs Airflow knows, with paused state, tags and bundle."""
    found = ctx.obj.assistant.dags(namespace)
    if as_json:
        output.print_json(found)
        return
    rows = [
        (
            d.dag_id,
            "paused" if d.is_paused else "active",
            ", ".join(d.tags),
            d.timetable_summary or "-",
            d.relative_fileloc or d.fileloc or "-",
            "[red]import errors[/red]" if d.has_import_errors else "",
        )
        for d in found
    ]
    output.console().print(
        output.table(f"{len(found)} DAGs", ["dag", "state", "tags", "schedule", "file", ""], rows)
    )


@click.command()
@click.argument("dag_id")
@click.option("--conf", "conf_json", help="Run configuration as a JSON object.")
@click.option("--wait", is_flag=True, help="Wait for the run to finish and show its outcome.")
@click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True, help="Seconds to wait.")
@json_option
@click.pass_context
def run(
    ctx: click.Context, dag_id: str, conf_json: str | None, wait: bool, timeout_s: float, as_json: bool
) -> None:
    """Trigger DAG_ID (unpausing it if needed); with --wait, wait for the outcome."""
    conf = parse_conf(conf_json)
    assistant = ctx.obj.assistant
    started = assistant.trigger(dag_id, conf)
    if not wait:
        if as_json:
            output.print_json(started)
        else:
            click.echo(f"triggered {dag_id}: run {started.run_id} ({started.state})")
        return
    if as_json:
        report = assistant.wait(started, timeout_s)
    else:
        with output.console(stderr=True).status(f"waiting for {dag_id} run {started.run_id} …"):
            report = assistant.wait(started, timeout_s)
    if as_json:
        output.print_json(report)
    else:
        _print_report(report)
    _learn_from(assistant, dag_id)
    if report.run.state != "success":
        ctx.exit(1)


def _learn_from(assistant: Any, dag_id: str) -> None:
    """Record and index the finished run; a failure here never changes the run's outcome."""
    from assistant.errors import AssistantError

    try:
        assistant.ingest_runs(limit=5, dag_id=dag_id)
    except AssistantError as exc:
        click.echo(f"note: the run was not indexed ({exc.message})", err=True)


@click.command()
@click.option("--dag", "dag_id", help="Only runs of this DAG.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many recent runs to look at.")
@json_option
@click.pass_context
def ingest(ctx: click.Context, dag_id: str | None, limit: int, as_json: bool) -> None:
    """Record and index finished runs not seen yet (`serve` does this continuously)."""
    summary = ctx.obj.assistant.ingest_runs(limit=limit, dag_id=dag_id)
    if as_json:
        output.print_json(summary)
    else:
        click.echo(f"recorded {summary.recorded} run(s), indexed {summary.indexed} run(s)")


def _print_report(report: Any) -> None:
    console = output.console()
    run_ = report.run
    console.print(
        f"{run_.dag_id} run {run_.run_id}: {output.styled_state(run_.state)} in {output.seconds(run_.duration_s)}"
    )
    rows = [
        (t.task_id, output.styled_state(t.state), t.try_number, output.seconds(t.duration_s))
        for t in report.tasks
    ]
    console.print(output.table(None, ["task", "state", "try", "duration"], rows))
    for log in report.failed_logs:
        console.rule(f"log of {log.task_id} (try {log.try_number}), last lines")
        console.print(log.text, markup=False)


@click.command()
@click.argument("dag_id", required=False)
@click.option("--limit", type=int, default=10, show_default=True)
@json_option
@click.pass_context
def status(ctx: click.Context, dag_id: str | None, limit: int, as_json: bool) -> None:
    """Recent runs (of DAG_ID, or of every DAG): state, start, duration."""
    found = ctx.obj.assistant.status(dag_id, limit)
    if as_json:
        output.print_json(found)
        return
    if not found:
        click.echo(f"no runs yet{' for ' + dag_id if dag_id else ''}")
        return
    rows = [
        (
            r.dag_id,
            r.run_id,
            output.styled_state(r.state),
            output.when(r.start_date),
            output.seconds(r.duration_s),
        )
        for r in found
    ]
    output.console().print(output.table("recent runs", ["dag", "run", "state", "started", "duration"], rows))


@click.command()
@click.argument("dag_id")
@click.option("--run", "run_id", help="Run id (default: the latest run).")
@click.option("--task", "task_id", help="Only this task.")
@json_option
@click.pass_context
def logs(ctx: click.Context, dag_id: str, run_id: str | None, task_id: str | None, as_json: bool) -> None:
    """Task logs of a run of DAG_ID as plain text."""
    run_, found = ctx.obj.assistant.logs(dag_id, run_id, task_id)
    if as_json:
        output.print_json({"run": run_, "logs": found})
        return
    console = output.console()
    console.print(f"{dag_id} run {run_.run_id}: {output.styled_state(run_.state)}")
    for log in found:
        console.rule(f"{log.task_id} (try {log.try_number}, {log.state or 'no state'})")
        console.print(log.text or "(empty log)", markup=False)


@click.command()
@json_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check Airflow, credentials, DAGs folder, model, Chroma and git; say how to fix each."""
    checks = ctx.obj.assistant.doctor()
    if as_json:
        output.print_json(checks)
    else:
        console = output.console()
        for c in checks:
            mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
            console.print(f"{mark} {c.name}: {c.detail}", markup=True)
            if not c.ok and c.hint:
                console.print(f"      fix: {c.hint}", markup=False)
    if not all(c.ok for c in checks):
        ctx.exit(1)


@click.command()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Prepare a fresh install: export the embedding model, index the docs, fit the router, check health."""
    console = output.console()
    with console.status("preparing the assistant …"):
        steps = ctx.obj.assistant.setup()
    for step in steps:
        mark = "[green]ok[/green]  " if step.ok else "[red]FAIL[/red]"
        took = f" ({step.seconds:.1f}s)" if step.seconds >= 0.1 else ""
        console.print(f"{mark} {step.name}{took}: ", end="")
        console.print(step.detail, markup=False)
    if not all(s.ok for s in steps):
        ctx.exit(1)


@click.command("config")
@json_option
def config_cmd(as_json: bool) -> None:
    """Show the effective configuration (secrets redacted) and where each value comes from."""
    from assistant.config import describe, load_config

    rows = describe(load_config())
    if as_json:
        output.print_json({name: {"value": value, "source": source} for name, value, source in rows})
        return
    output.console().print(output.table("configuration", ["setting", "value", "source"], rows))


COMMANDS = [dags, run, status, logs, ingest, doctor, setup, config_cmd]
