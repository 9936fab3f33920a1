from __future__ import annotations

import pytest

from assistant.generation.phrasing import plain_description


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        (
            "hey can you set up a dag that pulls https://x.example/a, then loads it? thx",
            "pulls https://x.example/a, then loads it.",
        ),
        (
            "Hey, I need a pipeline that waits for /in/a.csv. Runs daily please.",
            "waits for /in/a.csv. Runs daily",
        ),
        ("can u make a dag: check if today is month end", "check if today is month end"),
        (
            "email a@b.com the list. starting tmrw, evry day at 8am",
            "email a@b.com the list. every day at 8am",
        ),
        ("Create a table in postgres then email a@b.com", "Create a table in postgres then email a@b.com"),
    ],
)
def test_what_only_a_person_needs_is_left_out(said: str, plain: str) -> None:
    assert plain_description(said) == plain


def test_items_on_lines_of_their_own_are_steps_and_inline_numbers_are_left_alone() -> None:
    assert plain_description("Nightly:\n1. wait for /a\n2. load it\n- email x@y.z") == (
        "Nightly: wait for /a; load it; email x@y.z"
    )
    inline = "1) scan the image 2) email x@y.z"
    assert plain_description(inline) == inline


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        (
            "As a data engineer I need a nightly DAG (call it claims_sync) that pulls new claims from the API",
            "nightly (call it claims_sync) pulls new claims from the API",
        ),
        (
            "I'd like a pipeline that runs `dbt run` and then `dbt test`.",
            "runs `dbt run` and then `dbt test`.",
        ),
        (
            "For the DOT dashboard we need something that, every weekday at 6am, downloads the feed",
            "every weekday at 6am, downloads the feed",
        ),
        (
            "- `grid_watch`: every 10 minutes, GET https://grid.example.org/f",
            "`grid_watch`: every 10 minutes, GET https://grid.example.org/f",
        ),
    ],
)
def test_requests_keep_when_and_the_name(said: str, plain: str) -> None:
    assert plain_description(said) == plain
