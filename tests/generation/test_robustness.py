"""What no one would write on purpose: a pasted document is refused with a hint, and long
pathological descriptions are read in well under a second (the budget here is generous on
purpose: it catches a parser that takes minutes, not a slow machine)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pytest

from assistant.errors import UsageError
from assistant.generation.parser import MAX_DESCRIPTION_CHARS, parse_description
from assistant.generation.pipeline import Generator

BUDGET_S = 5.0


def _repeated(unit: str, length: int = MAX_DESCRIPTION_CHARS - 200) -> str:
    return (unit * (length // len(unit) + 1))[:length]


ADVERSARIAL = {
    "spaces": "load x" + _repeated(" ") + "into y",
    "blank lines": "Hi Ann,\nload x" + _repeated("\n") + "then email a@b.com\nThanks,\nBob",
    "blank lines with spaces": "load x" + _repeated("\n ") + "## Steps\n- email a@b.com",
    "tabs": "load x" + _repeated("\t") + "- Ann",
    "commas": "load x" + _repeated(",") + "then email a@b.com",
    "commas and spaces": _repeated(", "),
    "and and and": "load x " + _repeated("and ") + "y",
    "backticks": _repeated("`"),
    "backticked words": _repeated("`run x "),
    "open parentheses": _repeated("("),
    "empty parentheses": "load x " + _repeated("()") + " then email a@b.com",
    "question marks": _repeated("?") + "x load y",
    "one long word": "email " + _repeated("a"),
    "digits": "wait 5 minutes " + _repeated("1"),
    "dotted and dashed": "wait for the file " + _repeated("a-", 10_000) + " " + _repeated("a.", 9_000),
    "underscored dotted": "wait for the " + _repeated("a_.") + " dag to finish",
    "repeated verbs": "post to slack "
    + _repeated("post ", 14_000)
    + " "
    + _repeated("wait for file ", 5_000),
    "sign-off after spaces": "ok. thanks" + _repeated(" ") + "1",
    "schedule words": _repeated("if x is daily the daily "),
    "many steps": _repeated("run x, "),
}


def test_a_description_over_the_limit_is_refused_with_a_hint() -> None:
    huge = _repeated("extract the orders, then load them into the warehouse. ", 200_000)
    started = time.perf_counter()
    with pytest.raises(UsageError) as caught:
        parse_description(huge)
    assert time.perf_counter() - started < BUDGET_S
    assert "200,000 characters" in caught.value.message
    assert f"{MAX_DESCRIPTION_CHARS:,}" in caught.value.message
    assert "few sentences" in caught.value.hint


def test_a_description_at_the_limit_is_read() -> None:
    text = _repeated("extract the orders from postgres, then upload them to s3://bucket/orders/. ")
    assert len(text) <= MAX_DESCRIPTION_CHARS
    assert parse_description(text).tasks


def test_generate_refuses_a_huge_description_before_reading_it(tmp_path: Path) -> None:
    class NoProviders:
        def missing_for(self, kind: str) -> NoReturn:
            raise AssertionError("a refused description is not rendered")

    def validate(paths: Sequence[Path], base_dir: Path, known: Mapping[str, str]) -> Any:
        raise AssertionError("a refused description is not validated")

    generator = Generator(NoProviders(), validate)
    with pytest.raises(UsageError, match="characters long"):
        generator.generate("x " * 100_000, out=tmp_path / "dag.py")
    assert not (tmp_path / "dag.py").exists()


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_pathological_description_is_read_quickly(name: str) -> None:
    text = ADVERSARIAL[name]
    assert len(text) <= MAX_DESCRIPTION_CHARS
    started = time.perf_counter()
    with contextlib.suppress(UsageError):  # nothing to read in it is a fine answer, no other error is
        parse_description(text)
    assert time.perf_counter() - started < BUDGET_S, name


def test_settings_are_read_in_linear_time_on_runs_of_commas() -> None:
    import time

    from assistant.generation.stated import stated_settings

    started = time.perf_counter()
    found, _rest = stated_settings("load x" + "," * 20_000 + " with 3 retries")
    assert found.retries == 3
    assert time.perf_counter() - started < 5.0  # was about 9 minutes: generous, not a benchmark
