"""The interactive chat driven through prompt_toolkit's pipe input, as a terminal would."""

from __future__ import annotations

import pytest

from assistant.cli.repl import NameCompleter, run_repl
from assistant.compose import build_assistant


@pytest.fixture
def pipe():
    from prompt_toolkit.input import create_pipe_input

    with create_pipe_input() as pipe_input:
        yield pipe_input


def test_a_session_answers_keeps_history_and_quits_on_ctrl_d(
    pipe, capsys: pytest.CaptureFixture[str]
) -> None:
    from prompt_toolkit.output import DummyOutput

    assistant = build_assistant()
    pipe.send_text("what can you do?\r")
    pipe.send_text("\x03")  # Ctrl-C at the prompt: the line is dropped, the session goes on
    pipe.send_text("what's the weather in Paris\r")
    pipe.send_text("\x04")  # Ctrl-D quits
    run_repl(assistant, term_input=pipe, term_output=DummyOutput())
    out = capsys.readouterr().out
    assert "I can:" in out
    assert "outside what I can help with" in out
    assert out.rstrip().endswith("bye")
    history = assistant.config.history_file.read_text()
    assert "what can you do?" in history and "weather in Paris" in history
    turns = assistant.components.db.execute("SELECT intent FROM chat_turns ORDER BY id").fetchall()
    assert [t[0] for t in turns] == ["help", "unknown"]


def test_completion_offers_starters_then_names() -> None:
    from prompt_toolkit.document import Document

    completer = NameCompleter({"etl_daily", "aws_deploy", "flows"})
    starters = [c.text for c in completer.get_completions(Document("ru"), None)]
    assert starters == ["run"]
    names = [c.text for c in completer.get_completions(Document("run et"), None)]
    assert names == ["etl_daily"]
