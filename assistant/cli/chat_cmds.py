"""`assistant ask` and `assistant chat` (interactive REPL, or scripted from a file or stdin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from assistant.cli import output


def _print_reply(reply: Any, console: Any) -> None:
    style = "" if reply.ok else "[yellow]"
    console.print(f"{style}{reply.text}" if style else reply.text, markup=bool(style), highlight=False)


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
@click.option("--yes", "assume_yes", is_flag=True, help="Confirm actions with impact without asking.")
@click.pass_context
def ask(ctx: click.Context, text: tuple[str, ...], as_json: bool, assume_yes: bool) -> None:
    """Say one thing to the assistant, e.g. assistant ask "did nightly_backup succeed?"."""
    conversation = ctx.obj.assistant.conversation(assume_yes=assume_yes)
    reply = conversation.handle(" ".join(text))
    if as_json:
        output.print_json(reply.to_dict())
    else:
        _print_reply(reply, output.console())
    if not reply.ok or reply.awaiting:
        ctx.exit(1)


@click.command()
@click.option(
    "--script",
    "script",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run the messages of FILE (one per line) and print the transcript.",
)
@click.option("--yes", "assume_yes", is_flag=True, help="Confirm actions with impact without asking.")
@click.pass_context
def chat(ctx: click.Context, script: Path | None, assume_yes: bool) -> None:
    """Talk to the assistant. Interactive in a terminal; with --script FILE or piped stdin, scripted."""
    assistant = ctx.obj.assistant
    if script is not None:
        lines = script.read_text(encoding="utf-8").splitlines()
    elif not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
    else:
        from assistant.cli.repl import run_repl

        run_repl(assistant, assume_yes=assume_yes)
        return
    failures = _run_script(assistant, lines, assume_yes)
    if failures:
        ctx.exit(1)


def _run_script(assistant: Any, lines: list[str], assume_yes: bool) -> int:
    """Feed each non-empty, non-comment line to one conversation; print a transcript."""
    conversation = assistant.conversation(assume_yes=assume_yes)
    failures = 0
    for line in lines:
        message = line.strip()
        if not message or message.startswith("#"):
            continue
        click.echo(f"you> {message}")
        reply = conversation.handle(message)
        for text_line in reply.text.splitlines() or [""]:
            click.echo(f"assistant> {text_line}")
        if not reply.ok:
            failures += 1
    return failures


COMMANDS = [ask, chat]
