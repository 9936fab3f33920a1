"""Commands that learn from runs: predict, advise, report, learn."""

from __future__ import annotations

import click

from assistant.cli import output

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
_RISK_STYLE = {"high": "red", "medium": "yellow", "low": "green", "unknown": "dim"}


@click.command()
@click.argument("dag_id")
@click.option(
    "--no-connection-tests",
    is_flag=True,
    help="Do not ask Airflow to test the connections the DAG uses (history only).",
)
@json_option
@click.pass_context
def predict(ctx: click.Context, dag_id: str, no_connection_tests: bool, as_json: bool) -> None:
    """How likely the next run of DAG_ID is to fail, why, and what to do about it."""
    prediction = ctx.obj.assistant.predict(dag_id, test_connections=not no_connection_tests)
    if as_json:
        output.print_json(prediction)
        return
    console = output.console()
    style = _RISK_STYLE.get(prediction.risk, "")
    chance = f" ({prediction.probability:.0%})" if prediction.probability is not None else ""
    console.print(
        f"[{style}]{prediction.risk} risk[/{style}]{chance} for {dag_id}, confidence {prediction.confidence}"
    )
    console.print(f"reason: {prediction.reason}", markup=False)
    console.print(f"recommendation: {prediction.recommendation}", markup=False)
    for line in prediction.evidence:
        console.print(f"  - {line}", markup=False)


@click.command()
@click.argument("dag_id", required=False)
@json_option
@click.pass_context
def advise(ctx: click.Context, dag_id: str | None, as_json: bool) -> None:
    """Optimisation advice from duration and retry history (of DAG_ID, or of every DAG)."""
    items = ctx.obj.assistant.advise(dag_id)
    if as_json:
        output.print_json(items)
        return
    if not items:
        click.echo(
            "no advice: not enough history shows a problem (at least 5 recorded runs per DAG are needed)"
        )
        return
    for item in items:
        click.echo(f"{item.dag_id}{'.' + item.task_id if item.task_id else ''} [{item.kind}]: {item.message}")
        for line in item.evidence:
            click.echo(f"    evidence: {line}")


@click.command()
@click.option("--since", default="7d", show_default=True, help="Period: 30m, 12h, 7d, 2w.")
@json_option
@click.pass_context
def report(ctx: click.Context, since: str, as_json: bool) -> None:
    """Success rate per DAG, duration trend and top failure causes over a period."""
    from assistant.learning.reporter import parse_since

    parse_since(since)  # a bad period fails before anything is built
    rows = ctx.obj.assistant.report(since)
    if as_json:
        output.print_json(rows)
        return
    table_rows = [
        (
            r.dag_id,
            r.runs,
            f"[red]{r.success_rate:.0%}[/red]" if r.below_threshold else f"{r.success_rate:.0%}",
            output.seconds(r.median_duration_s),
            f"x{r.duration_trend}" if r.duration_trend is not None else "-",
            "; ".join(f"{cause} ({n})" for cause, n in r.top_causes) or "-",
        )
        for r in rows
    ]
    output.console().print(
        output.table(
            f"{len(rows)} DAGs with runs in the last {since}",
            ["dag", "runs", "success", "median", "trend", "top failure causes"],
            table_rows,
        )
    )


@click.command()
@click.option("--yes", "apply", is_flag=True, help="Write and index the proposed pages without asking.")
@click.pass_context
def learn(ctx: click.Context, apply: bool) -> None:
    """Propose "known failure causes" pages per DAG from the run history; write them after approval."""
    assistant = ctx.obj.assistant
    result = assistant.learn(apply=False)
    if not result.proposals:
        click.echo("nothing to propose: no recorded failures, or the pages are up to date")
        return
    for proposal in result.proposals:
        click.echo(proposal.diff, nl=False)
    if not apply and not click.confirm(
        f"write {len(result.proposals)} page(s) and index them?", default=False
    ):
        click.echo("nothing written")
        return
    done = assistant.learn(apply=True)
    for path in done.written:
        click.echo(f"wrote {path}")
    click.echo(f"indexed {len(done.written)} page(s) into the knowledge base")


COMMANDS = [predict, advise, report, learn]
