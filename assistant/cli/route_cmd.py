"""`assistant route`: show where a chat message would go, without doing anything."""

from __future__ import annotations

import sys

import click

from assistant.cli import output


@click.command()
@click.argument("text", nargs=-1)
@click.pass_context
def route(ctx: click.Context, text: tuple[str, ...]) -> None:
    """Print {"intent", "slots", "confidence"} for TEXT as JSON; nothing is executed.

    With no TEXT, read one message per line from stdin and print one JSON object per line
    (JSON Lines), in order; the model is loaded once.
    """
    assistant = ctx.obj.assistant
    if text:
        output.print_json(assistant.route(" ".join(text)).as_dict())
        return
    if sys.stdin.isatty():
        click.echo("reading messages from the terminal, one per line (Ctrl-D to end)", err=True)
    for line in sys.stdin:
        output.print_json(assistant.route(line.rstrip("\r\n")).as_dict())


COMMANDS = [route]
