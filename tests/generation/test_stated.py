from __future__ import annotations

import pytest

from assistant.generation.parser import parse_description
from assistant.generation.stated import stated_settings


@pytest.mark.parametrize(
    ("description", "steps", "settings"),
    [
        (
            "daily at 2am export the orders table, then upload it to S3, with 3 retries",
            ["export_orders_table", "upload_to_s3"],
            {"retries": 3},
        ),
        (
            "every hour ping https://api.example.com/health, owner data-platform, timeout 2 hours",
            ["ping_health"],
            {"owner": "data-platform", "timeout_minutes": 120},
        ),
        (
            "daily load orders into the warehouse (retries: 4, timeout 30 minutes)",
            ["load_orders_into_warehouse"],
            {"retries": 4, "timeout_minutes": 30},
        ),
        (
            "daily load orders into the warehouse with no retries and a 45-minute timeout",
            ["load_orders_into_warehouse"],
            {"retries": 0, "timeout_minutes": 45},
        ),
        (
            "upload to s3 using the S3 connection aws_prod, then notify slack, tagged finance",
            ["upload_to_s3", "notify_slack"],
            {"connections": {"s3_copy": "aws_prod"}, "tags": ["finance"]},
        ),
    ],
)
def test_settings_in_the_description_are_taken_out_of_the_steps(
    description: str, steps: list[str], settings: dict[str, object]
) -> None:
    stated, rest = stated_settings(description)
    assert [t.task_id for t in parse_description(rest).tasks] == steps
    for name, value in settings.items():
        assert getattr(stated, name) == value
    assert stated.origin == "the description"


def test_a_description_without_settings_is_left_alone() -> None:
    text = "notify the owner of the account, then open a database connection pool"
    stated, rest = stated_settings(text)
    assert rest == text
    assert stated.is_empty()


@pytest.mark.parametrize(
    "text",
    [
        "email the report to the owner bob@example.com",
        "update the owner table in postgres, then notify slack",
        "copy files and set owner root on them with a bash command",
        "fetch the API with the requests timeout 10 seconds",
        "ping the slack connection status, then store it",
        "wait 30 minutes, then run the cleanup script",
        "daily export orders, then retry twice the upload to s3",
    ],
)
def test_words_for_settings_inside_a_step_stay_in_the_step(text: str) -> None:
    stated, rest = stated_settings(text)
    assert rest == text
    assert stated.is_empty()


@pytest.mark.parametrize(
    ("description", "steps", "settings"),
    [
        (
            "upload the export to s3 using connection aws_prod, then notify slack",
            [("upload_export_to_s3", "s3_copy"), ("notify_slack", "slack")],
            {"connections": {"s3_copy": "aws_prod"}},
        ),
        (
            "load orders into postgres via the postgres conn pg_alt then notify slack",
            [("load_orders_into_postgres", "sql"), ("notify_slack", "slack")],
            {"connections": {"sql:postgres": "pg_alt"}},
        ),
        (
            "daily load orders into postgres, timeout 1 hour 30 minutes, tagged finance and nightly",
            [("load_orders_into_postgres", "sql")],
            {"timeout_minutes": 90, "tags": ["finance", "nightly"]},
        ),
        (
            "with 3 retries, owner alice: load orders into postgres",
            [("load_orders_into_postgres", "sql")],
            {"retries": 3, "owner": "alice"},
        ),
        (
            "daily load orders into postgres, owner: alice.",
            [("load_orders_into_postgres", "sql")],
            {"owner": "alice"},
        ),
    ],
)
def test_a_setting_leaves_the_step_it_qualifies_whole(
    description: str, steps: list[tuple[str, str]], settings: dict[str, object]
) -> None:
    stated, rest = stated_settings(description)
    assert not rest.startswith((":", ",")) and not rest.endswith(",")
    assert [(t.task_id, t.kind) for t in parse_description(rest).tasks] == steps
    for name, value in settings.items():
        assert getattr(stated, name) == value


def test_settings_in_a_sentence_of_their_own() -> None:
    found, rest = stated_settings("merge them into insurance.claims_fact. Owner: data-eng, retries: 3.")
    assert (found.owner, found.retries) == ("data-eng", 3)
    assert "Owner" not in rest and "retries" not in rest
    found, rest = stated_settings(
        "write them to features.user_daily. Set retries to 2 and owner to ds-platform."
    )
    assert (found.owner, found.retries) == ("ds-platform", 2)
    assert "Set" not in rest


def test_lines_of_a_list_stay_lines() -> None:
    _found, rest = stated_settings(
        "Attribution, 3 retries per task:\n- wait for the a_b DAG\n- load it into t.x"
    )
    assert rest.splitlines()[1:] == ["- wait for the a_b DAG", "- load it into t.x"]
