"""The interactive terminal chat (prompt_toolkit): history, completion, Ctrl-C, Ctrl-D, spinner."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from assistant.cli import output
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.service import Assistant

STARTERS = (
    "add repo",
    "list repos",
    "sync",
    "remove repo",
    "list dags",
    "run",
    "trigger",
    "status",
    "logs",
    "validate",
    "rollback",
    "generate a dag that",
    "will it fail",
    "help",
    "how do I",
)
BANNER = "Airflow assistant. Ask anything, `help` for what I can do; Ctrl-C cancels, Ctrl-D quits."


class NameCompleter:
    """Completes starters, DAG ids and repo names; names are refreshed after every turn."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names: set[str] = set(names)

    def get_completions(self, document: Any, complete_event: Any) -> Iterable[Any]:
        from prompt_toolkit.completion import Completion

        word = document.get_word_before_cursor(WORD=True)
        line = document.text_before_cursor
        pool = STARTERS if line.strip() == word else sorted(self.names)
        for candidate in pool:
            if candidate.lower().startswith(word.lower()) and candidate != word:
                yield Completion(candidate, start_position=-len(word))


def _known_names(assistant: Assistant) -> set[str]:
    names: set[str] = set()
    with contextlib.suppress(AssistantError):
        names |= {d.dag_id for d in assistant.dags()}
    with contextlib.suppress(AssistantError):
        names |= {r.name for r in assistant.repos()}
    return names


def run_repl(
    assistant: Assistant, *, assume_yes: bool = False, term_input: Any = None, term_output: Any = None
) -> None:
    """The chat loop. ``term_input``/``term_output`` are prompt_toolkit's (tests: a pipe, a dummy)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import DynamicCompleter, ThreadedCompleter
    from prompt_toolkit.history import FileHistory

    console = output.console()
    history = assistant.config.history_file
    history.parent.mkdir(parents=True, exist_ok=True)
    completer = NameCompleter(_known_names(assistant))
    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history)),
        completer=DynamicCompleter(lambda: ThreadedCompleter(completer)),  # type: ignore[arg-type]
        complete_while_typing=False,
        input=term_input,
        output=term_output,
    )
    conversation = assistant.conversation(assume_yes=assume_yes)
    console.print(BANNER, style="bold")
    while True:
        try:
            message = session.prompt("you> ")
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line
        except EOFError:
            console.print("bye")
            return
        if not message.strip():
            continue
        try:
            with console.status("working …", spinner="dots"):
                reply = conversation.handle(message)
        except KeyboardInterrupt:
            console.print("[yellow]cancelled[/yellow]")
            conversation.pending = None
            continue
        style = "" if reply.ok else "yellow"
        console.print(reply.text, style=style, markup=False, highlight=False)
        completer.names |= (
            _known_names(assistant) if reply.intent in {"add_repo", "sync_repo", "list_dags"} else set()
        )
