"""Commands over the knowledge base: index and search."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from assistant.errors import UsageError

COLLECTION_NAMES = ["docs", "task_logs", "outcomes", "dags"]
DAG_COLLECTIONS = ("task_logs", "outcomes", "dags")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--collection",
    type=click.Choice(COLLECTION_NAMES),
    default="docs",
    show_default=True,
    help="Where to index.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...], collection: str, as_json: bool) -> None:
    """Index Markdown, reStructuredText, text and Python files (incremental)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    assistant = ctx.obj.assistant
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("embedding", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = assistant.index(list(paths), collection, advance)
    if as_json:
        from assistant.cli import output

        output.print_json(report)
        return
    click.echo(
        f"{collection}: {report.files_seen} files ({report.files_added} new, {report.files_changed} changed, "
        f"{report.files_removed} removed, {report.files_unchanged} unchanged); "
        f"{report.chunks_embedded} passages embedded, {report.chunks_total} in the collection"
    )
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped}", err=True)


@click.command()
@click.argument("query", required=False)
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="How many passages.")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    type=click.Choice(COLLECTION_NAMES),
    help="Collection(s) to search (default docs; with --dag: task_logs, outcomes, dags).",
)
@click.option("--dag", "dag_id", help="Only passages about this DAG id.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON; without QUERY, answer JSON Lines from stdin."
)
@click.pass_context
def search(
    ctx: click.Context,
    query: str | None,
    k: int,
    collections: tuple[str, ...],
    dag_id: str | None,
    as_json: bool,
) -> None:
    """Search the indexed knowledge for QUERY: ranked passages with source, section and score."""
    chosen = collections or (DAG_COLLECTIONS if dag_id else ("docs",))
    assistant = ctx.obj.assistant
    if query is None:
        if not as_json:
            raise UsageError(
                "no QUERY given", "pass a query, or use --json to read one query per line from stdin"
            )
        for line in sys.stdin:
            text = line.strip()
            hits = assistant.search(text, k, chosen, dag_id) if text else []
            _write_json([h.as_json() for h in hits])
        return
    hits = assistant.search(query, k, chosen, dag_id)
    if as_json:
        _write_json([h.as_json() for h in hits])
        return
    if not hits:
        click.echo("nothing relevant found; try other words, or index more with `assistant index PATH`")
        return
    for rank, hit in enumerate(hits, 1):
        where = f"{hit.source} — {hit.section}" if hit.section else hit.source
        click.echo(
            click.style(f"{rank}. {where}", bold=True) + f"  (score {hit.score:.3f}, {hit.collection})"
        )
        click.echo(textwrap.indent(_excerpt(hit.text), "   "))
        click.echo()


def _excerpt(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


COMMANDS = [index, search]
