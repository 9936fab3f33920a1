"""Precedence of the sources of conventions: description > docs > similar DAGs > runs > built-in."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.errors import RetrievalError
from assistant.generation import conventions_page_search, task_history
from assistant.generation.doc_conventions import DocsSearch
from assistant.generation.parser import parse_description
from assistant.generation.pipeline import Generator
from assistant.generation.precedence import ConventionSources, follow_conventions
from assistant.generation.stated import stated_settings
from assistant.learning import store
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.state import open_state
from tests.generation.hits import Hit

DEPLOYED = """
with DAG(dag_id="orders_to_warehouse", tags=["finance", "orders"],
         default_args={"owner": "finance-data", "retries": 3}):
    load = SQLExecuteQueryOperator(task_id="load_orders", conn_id="dwh_postgres", sql="select 1")
    upload = S3CopyObjectOperator(task_id="upload_orders", aws_conn_id="aws_legacy")
"""
CONVENTIONS_PAGE = "- owner: data-platform\n- tags: platform\n- S3 connection: aws_prod\n"


def similar(query: str, k: int) -> list[Hit]:
    return [Hit("company/flows/orders.py", DEPLOYED, metadata={"dag_id": "orders_to_warehouse"})]


def docs(page: str = CONVENTIONS_PAGE) -> DocsSearch:
    return lambda query, k: [Hit("/srv/docs/conventions.md", page, "DAG conventions")]


def unreachable(query: str, k: int) -> list[Hit]:
    raise RetrievalError("the search index is unreadable", "rebuild it")


def history_db(tmp_path: Path, minutes: float = 4.0) -> sqlite3.Connection:
    db = open_state(tmp_path / "state.db")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for i in range(12):
        tasks = (
            TaskOutcome("load_orders", "success", 1, minutes * 60),
            TaskOutcome("upload_orders", "success", 1, 30.0),
        )
        run = RunRecord(
            "orders_to_warehouse", f"r{i}", "success", start + timedelta(days=i), None, 300.0, None, tasks
        )
        store.save_run(db, run, run.start, "sha256:1")
    return db


def test_each_value_comes_from_the_highest_source_that_gives_it(tmp_path: Path) -> None:
    db = history_db(tmp_path)
    stated, steps = stated_settings("load orders into the warehouse, then upload them to s3, with 4 retries")
    spec = parse_description(steps)
    sources = ConventionSources(similar, docs(), task_history(lambda: db))
    report = follow_conventions(spec, steps, stated, sources)
    load, upload = spec.tasks
    assert spec.retries == 4  # the description over the similar DAG's 3
    assert spec.owner == "data-platform"  # the docs over the similar DAG's finance-data
    assert upload.params["conn_id"] == "aws_prod"  # the docs over the similar DAG's aws_legacy
    assert load.params["conn_id"] == "dwh_postgres"  # only the similar DAG says
    assert {"platform", "finance"} <= set(spec.tags)
    assert spec.timeout_minutes == 15  # nobody said: learned from 12 runs (p95 4 min -> 12 -> 15)
    lines = report.lines(spec)
    assert lines[0] == "From the description: retries 4."
    assert lines[1] == (
        "From the docs (conventions.md): owner data-platform, tag platform, "
        "upload_to_s3 uses connection aws_prod."
    )
    assert lines[2].startswith(
        "From the similar deployed DAGs: tag finance, tag orders, load_orders_into_warehouse uses connection dwh_postgres"
    )
    assert lines[3].startswith(
        "Learned from run history: execution_timeout 15 min from 24 runs of the tasks of orders_to_warehouse"
    )
    assert "load_orders in orders_to_warehouse (p95 4 min)" not in lines[3]  # same 15 min: not repeated
    assert spec.similar == ["orders_to_warehouse"]


def test_a_timeout_from_the_docs_is_kept_and_longer_runs_are_pointed_out(tmp_path: Path) -> None:
    db = history_db(tmp_path, minutes=25)
    stated, steps = stated_settings("load orders into the warehouse")
    spec = parse_description(steps)
    sources = ConventionSources(similar, docs("- execution timeout: 30 min"), task_history(lambda: db))
    lines = follow_conventions(spec, steps, stated, sources).lines(spec)
    assert spec.timeout_minutes == 30 and spec.tasks[0].timeout_minutes is None
    assert "From the docs (conventions.md): execution_timeout 30 min." in lines[0]
    assert lines[-1] == (
        "Run history suggests execution_timeout 90 min for load_orders_into_warehouse (12 runs of load_orders in orders_to_warehouse "
        "(p95 25 min)); kept 30 min from the docs (conventions.md)."
    )


def test_without_sources_the_built_in_defaults_are_named() -> None:
    stated, steps = stated_settings("clean the data")
    spec = parse_description(steps)
    lines = follow_conventions(spec, steps, stated, ConventionSources()).lines(spec)
    assert lines == ["Built-in defaults: owner data-team, retries 2, execution_timeout 60 min."]


def test_a_failing_source_is_named_and_the_others_still_count(tmp_path: Path) -> None:
    stated, steps = stated_settings("upload the export to s3")
    spec = parse_description(steps)
    report = follow_conventions(spec, steps, stated, ConventionSources(unreachable, docs(), None))
    assert spec.tasks[0].params["conn_id"] == "aws_prod"
    assert "Similar DAGs were not searched: the search index is unreadable." in report.lines(spec)


@dataclass
class Report:
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": []}


class NoProviderMissing:
    def missing_for(self, kind: str) -> str | None:
        return None


def test_the_generated_code_and_summary_carry_the_conventions(tmp_path: Path) -> None:
    db = history_db(tmp_path)

    def validate(paths: Sequence[Path], base_dir: Path, known: Mapping[str, str]) -> Report:
        return Report()

    generator = Generator(
        NoProviderMissing(), validate, similar=similar, docs=docs(), history=task_history(lambda: db)
    )
    result = generator.generate("daily upload the orders to s3, owner team-x, with a 2 hour timeout")
    assert [t.task_id for t in result.spec.tasks] == ["upload_orders_to_s3"]
    assert '"owner": "team-x"' in result.code
    assert '"execution_timeout": timedelta(minutes=120)' in result.code
    assert 'aws_conn_id="aws_prod"' in result.code
    assert "From the description: owner team-x, execution_timeout 120 min." in result.summary
    assert "Conventions from similar deployed DAGs: orders_to_warehouse." in result.summary
    assert result.spec.description.endswith("with a 2 hour timeout")


def test_values_out_of_range_are_ignored_and_said() -> None:
    long_owner = "x" * 70
    stated, steps = stated_settings("load orders into the warehouse with 30 retries, timeout of 48 hours")
    spec = parse_description(steps)
    page = f"- owner: {long_owner}\n- retries: 4\n- execution timeout: 30 min"
    lines = follow_conventions(spec, steps, stated, ConventionSources(docs=docs(page))).lines(spec)
    assert (spec.owner, spec.retries, spec.timeout_minutes) == ("data-team", 4, 30)
    assert "Ignored retries 30 from the description: retries are between 0 and 10." in lines
    assert (
        "Ignored execution_timeout 2880 min from the description: it is between 1 and 1440 minutes." in lines
    )
    assert (
        "Ignored owner xxxxxxxxxxxxxxxxxxxx… from the docs (conventions.md): at most 60 characters." in lines
    )


def test_conflicting_statements_in_the_docs_are_pointed_out() -> None:
    stated, steps = stated_settings("load orders into the warehouse")
    spec = parse_description(steps)
    page = "- owner: data-platform\n- owner: legacy-team\n"
    lines = follow_conventions(spec, steps, stated, ConventionSources(docs=docs(page))).lines(spec)
    assert spec.owner == "data-platform"
    assert (
        "The docs (conventions.md) also say owner legacy-team; the first statement of each was followed."
        in lines
    )


class Mirror:
    def exists(self, collection: str) -> bool:
        return True


class Knowledge:
    """Ranks the later, older rules of the conventions page above its first ones."""

    def __init__(self) -> None:
        self.mirror = Mirror()
        self.page = [
            Hit("docs/conventions.md", "- owner: legacy-team", metadata={"position": 3}),
            Hit("docs/runbook.md", "- owner: ops", metadata={"position": 0}),
            Hit("docs/conventions.md", "- owner: data-platform", metadata={"position": 0}),
        ]

    def search(
        self, query: str, k: int, collections: Sequence[str], where: dict[str, str] | None = None
    ) -> list[Hit]:
        return [hit for hit in self.page if where is None or hit.source == where["source"]][:k]


def test_a_conventions_page_is_read_in_page_order_whatever_the_ranking() -> None:
    search = conventions_page_search(lambda: Knowledge())  # type: ignore[arg-type,return-value]
    passages = search("conventions", 1)
    assert [p.text for p in passages] == ["- owner: data-platform", "- owner: legacy-team"]
    stated, steps = stated_settings("clean the data")
    spec = parse_description(steps)
    follow_conventions(spec, steps, stated, ConventionSources(docs=search))
    assert spec.owner == "data-platform"


class SlackMissing:
    def missing_for(self, kind: str) -> str | None:
        return "apache-airflow-providers-slack" if kind == "slack" else None


def test_a_placeholder_task_says_its_connection_waits_for_the_provider() -> None:
    def validate(paths: Sequence[Path], base_dir: Path, known: Mapping[str, str]) -> Report:
        return Report()

    generator = Generator(SlackMissing(), validate, docs=docs("- Slack connection: slack_alerts"))
    result = generator.generate("load orders into the warehouse, then notify slack")
    assert "slack_alerts" in result.code  # named in the placeholder's TODO
    assert (
        "notify_slack is a placeholder until apache-airflow-providers-slack is installed in Airflow's "
        "environment; connection slack_alerts applies once it is replaced by the real operator."
    ) in result.summary
