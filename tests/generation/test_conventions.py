from __future__ import annotations

from assistant.generation.conventions import apply_conventions, learn_conventions
from assistant.generation.parser import parse_description
from tests.generation.hits import Hit

DEPLOYED = """
with DAG(dag_id="orders_to_warehouse", tags=["finance", "orders"],
         default_args={"owner": "finance-data", "retries": 3}):
    load = SQLExecuteQueryOperator(task_id="load", conn_id="dwh_postgres", sql="select 1")
    fetch = HttpOperator(task_id="fetch", http_conn_id="orders_api", endpoint="/orders")
"""


def test_conventions_of_similar_dags_fill_the_defaults() -> None:
    conventions = learn_conventions([Hit("repo/orders.py", DEPLOYED), Hit("repo/other.py", DEPLOYED)])
    assert conventions.similar == ["orders_to_warehouse"]
    assert (conventions.owner, conventions.retries) == ("finance-data", 3)
    assert conventions.connections == {"sql": "dwh_postgres", "http": "orders_api"}
    spec = parse_description("fetch the orders API, then load it into the warehouse")
    changes = apply_conventions(spec, conventions)
    assert (spec.owner, spec.retries) == ("finance-data", 3)
    assert [t.params.get("conn_id") for t in spec.tasks] == ["orders_api", "dwh_postgres"]
    assert "finance" in spec.tags and spec.similar == ["orders_to_warehouse"]
    assert any("dwh_postgres" in c for c in changes)


def test_what_the_description_says_wins_over_conventions() -> None:
    spec = parse_description("load it into mysql")
    apply_conventions(spec, learn_conventions([Hit("x.py", DEPLOYED)]))
    assert spec.tasks[0].params["conn_id"] == "mysql_default"


def test_no_hits_change_nothing() -> None:
    spec = parse_description("clean the data")
    assert apply_conventions(spec, learn_conventions([])) == []
    assert spec.owner == "data-team"
