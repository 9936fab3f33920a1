"""Entry point of the ``assistant`` command.

Command groups live in their own modules and are added here explicitly. Every
``AssistantError`` is printed as one line with its hint and mapped to its exit code; there are
no tracebacks for user errors.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from assistant import __version__
from assistant.cli import (
    airflow_cmds,
    chat_cmds,
    generate_cmd,
    knowledge_cmds,
    learning_cmds,
    repo_cmds,
    route_cmd,
    validate_cmd,
)

if TYPE_CHECKING:
    from assistant.service import Assistant


class AppContext:
    """Builds the Assistant on first use, so `--help` and usage errors build nothing."""

    def __init__(self) -> None:
        self._assistant: Assistant | None = None

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            from assistant.compose import build_assistant

            self._assistant = build_assistant()
        return self._assistant


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assistant")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run Apache Airflow workflows from Git, conversationally.

    Start with `assistant doctor` to check that Airflow and the rest are reachable.
    """
    ctx.obj = AppContext()


for command in [
    *airflow_cmds.COMMANDS,
    *chat_cmds.COMMANDS,
    *knowledge_cmds.COMMANDS,
    *route_cmd.COMMANDS,
    *learning_cmds.COMMANDS,
    *generate_cmd.COMMANDS,
]:
    cli.add_command(command)
for command in repo_cmds.COMMANDS:
    cli.add_command(command)
for command in validate_cmd.COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    from assistant.errors import AssistantError

    try:
        code = cli.main(args=argv, prog_name="assistant", standalone_mode=False)
    except AssistantError as exc:
        _fail(exc.message, exc.hint, exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", "", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", "", 130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, hint: str, code: int) -> None:
    sys.stdout.flush()
    line = f"error: {message}"
    if hint:
        line += f"\n  hint: {hint}"
    click.echo(line, err=True)
    sys.exit(code)
