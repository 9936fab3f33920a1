from __future__ import annotations

from pathlib import Path

import pytest

from assistant.generation.doc_conventions import (
    connection_key_of,
    is_conventions_passage,
    parse_conventions,
    parse_minutes,
)
from assistant.retrieval.chunking import chunk_text
from tests.generation.hits import Hit

ROOT = Path(__file__).resolve().parents[2]

PAGE = """\
Every DAG we deploy follows these rules.

- **Owner**: `data-platform` (the on-call rotation)
- Default tags: finance, `nightly`, #orders
- DAG retries = 3
- execution_timeout: 1h30m
- S3 connection: aws_prod, never aws_default
- Warehouse connection id: `dwh`
- Postgres conn_id -> pg_main
* Connection for Slack: slack_alerts
1. Use orders_api for the HTTP API
- SMTP connection: smtp_relay.
- Note: ask #data-platform before adding a new connection.

| setting | value |
|---|---|
| owner | someone-else |
| GCS connection | gcp_prod |

```python
default_args = {"owner": "example-only", "retries": 9}
- retries: 9
```
"""


def test_a_conventions_page_in_forgiving_markdown_is_read() -> None:
    found = parse_conventions([Hit("/team/docs/dag-conventions.md", PAGE, "Defaults")])
    assert found.owner == "data-platform"  # the first statement of a key wins over the table's
    assert found.tags == ["finance", "nightly", "orders"]
    assert (found.retries, found.timeout_minutes) == (3, 90)  # not the 9 inside the code block
    assert found.connections == {
        "s3_copy": "aws_prod",
        "sql": "dwh",
        "sql:postgres": "pg_main",
        "slack": "slack_alerts",
        "http": "orders_api",
        "email": "smtp_relay",
        "gcs_copy": "gcp_prod",
    }
    assert found.origin == "the docs (dag-conventions.md)"
    assert found.conflicts == ["owner someone-else"]  # said, so the answer can point it out


def test_under_a_connections_heading_the_service_name_is_enough() -> None:
    text = "- S3: aws_lake\n- Slack: `slack_ops`\n- The API is flaky on Mondays\n- retries: two"
    found = parse_conventions([Hit("x.md", text, "Connections", {"title": "Airflow standards"})])
    assert found.connections == {"s3_copy": "aws_lake", "slack": "slack_ops"}
    assert found.retries == 2
    assert found.origin == "the docs (Airflow standards)"


def test_pages_that_are_not_about_conventions_and_prose_values_are_ignored() -> None:
    other = Hit("runbook.md", "- owner: ops-team\n- retries: 5", "Restarting")
    prose = Hit("conventions.md", "Owner: the team that wrote the DAG\n- retries: as many as needed")
    assert not is_conventions_passage(other)
    found = parse_conventions([other, prose])
    assert (found.owner, found.retries, found.origin) == (None, None, "the docs")
    assert found.is_empty()


def test_the_best_hit_wins_over_later_pages() -> None:
    first = Hit("a/conventions.md", "- owner: first-team\n- retries: 1")
    second = Hit("b/guidelines.rst", "- owner: second-team\n- retries: 4\n- timeout: 20 min")
    found = parse_conventions([first, second])
    assert (found.owner, found.retries, found.timeout_minutes) == ("first-team", 1, 20)
    assert found.origin == "the docs (conventions.md, guidelines.rst)"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45 minutes", 45),
        ("45 min", 45),
        ("2 hours", 120),
        ("1.5 h", 90),
        ("1h30m", 90),
        ("90", 90),
        ("timedelta(hours=1)", 60),
        ("30 seconds", 1),
        ("a 2-hour run", 120),
        ("never", None),
        ("1 hour and 30 minutes", 90),
        ("3 days", 3 * 24 * 60),
        ("about 30 minutes, sometimes 2 hours", 30),  # separate figures are not added up
        ("30-45 minutes", 45),
        ("5 mins per 1000 rows", 5),
        ("2 weeks", None),
        ("1 1 1", None),
    ],
)
def test_durations_are_read_in_minutes(text: str, minutes: int | None) -> None:
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize(
    ("words", "key"),
    [
        ("S3", "s3_copy"),
        ("AWS", "s3_copy"),
        ("GCS", "gcs_copy"),
        ("Postgres", "sql:postgres"),
        ("the warehouse", "sql"),
        ("Slack", "slack"),
        ("HTTP API", "http"),
        ("SMTP", "email"),
        ("e-mail", "email"),
        ("lunch", None),
    ],
)
def test_service_names_map_to_connection_keys(words: str, key: str | None) -> None:
    assert connection_key_of(words) == key


def test_the_shipped_documentation_states_no_conventions() -> None:
    """The format's own example (in a code block) must not become everybody's conventions."""
    passages = [
        Hit(chunk.source, chunk.text, chunk.section, {"title": chunk.title})
        for path in sorted((ROOT / "knowledge").glob("*.md"))
        for chunk in chunk_text(path.read_text(encoding="utf-8"), str(path), "markdown")
    ]
    assert any(is_conventions_passage(p) for p in passages)  # the format is documented there
    assert parse_conventions(passages).is_empty()


def test_later_different_statements_are_kept_as_conflicts() -> None:
    page = (
        "- owner: data-platform\n- retries: 3\n- S3 connection: aws_prod\n- tags: finance\n"
        "- owner: legacy-team\n- retries: 3\n- S3 connection: aws_old\n- tags: legacy\n"
    )
    found = parse_conventions([Hit("conventions.md", page)])
    assert (found.owner, found.retries, found.connections, found.tags) == (
        "data-platform",
        3,
        {"s3_copy": "aws_prod"},
        ["finance"],
    )
    assert found.conflicts == ["owner legacy-team", "s3_copy connection aws_old", "tags legacy"]
