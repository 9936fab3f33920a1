"""`assistant generate DESCRIPTION`: write a DAG from words, validated before it is written."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant.cli import output


@click.command()
@click.argument("description", nargs=-1, required=True)
@click.option(
    "--repo", "repo", metavar="NAME", help="Commit and push the DAG into this registered repository."
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the DAG to this file (or folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--code/--no-code",
    "show_code",
    default=None,
    help="Print the generated code (default: when not written).",
)
@click.pass_context
def generate(
    ctx: click.Context, description: tuple[str, ...], repo: str | None, out: Path | None, as_json: bool,
    show_code: bool | None,
) -> None:  # fmt: skip
    """Generate an Airflow 3 DAG from DESCRIPTION, e.g.

    assistant generate "daily at 2am export the orders table, then upload it to S3, then notify Slack"

    Nothing is written (or pushed) unless the DAG passes validation, import in Airflow included.
    """
    result = ctx.obj.assistant.generate(" ".join(description), repo=repo, out=out)
    if as_json:
        output.print_json(result.to_dict())
    else:
        if show_code or (show_code is None and result.path is None and result.ok):
            click.echo(result.code)
        click.echo(result.summary)
    if not result.ok:
        sys.stdout.flush()
        ctx.exit(1)


COMMANDS = [generate]
