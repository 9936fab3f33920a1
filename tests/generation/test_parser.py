from __future__ import annotations

import pytest

from assistant.errors import UsageError
from assistant.generation.parser import parse_description, split_steps


def test_the_issue_example_is_three_chained_tasks() -> None:
    spec = parse_description("deploy to AWS, back up to S3, then send a Slack notification")
    assert [(t.task_id, t.kind) for t in spec.tasks] == [
        ("deploy_to_aws", "bash"),
        ("back_up_to_s3", "s3_copy"),
        ("send_slack_notification", "slack"),
    ]
    assert [t.upstream for t in spec.tasks] == [[], ["deploy_to_aws"], ["back_up_to_s3"]]
    assert spec.schedule is None
    assert spec.dag_id.startswith("deploy_to_aws")


def test_and_splits_only_before_a_verb() -> None:
    assert split_steps("load the orders and customers tables") == ["load the orders and customers tables"]
    assert split_steps("train the model and evaluate it") == ["train the model", "evaluate it"]


def test_after_reverses_the_order() -> None:
    spec = parse_description("email finance@example.com after the sales_rollup dag finishes")
    assert [t.kind for t in spec.tasks] == ["dag_sensor", "email"]
    assert spec.tasks[0].params == {"external_dag_id": "sales_rollup"}
    assert spec.tasks[1].params["to"] == ["finance@example.com"]


def test_quoted_commands_keep_their_commas_and_thens() -> None:
    spec = parse_description("run `echo a, then b` then run `VACUUM ANALYZE` on the db")
    assert [t.kind for t in spec.tasks] == ["bash", "sql"]
    assert spec.tasks[0].params["command"] == "echo a, then b"
    assert spec.tasks[1].params["sql"] == "VACUUM ANALYZE"


def test_otherwise_is_the_other_arm_of_the_branch_and_both_join() -> None:
    spec = parse_description("if the file is big, compress it, otherwise upload it to gcs, then notify slack")
    kinds = {t.task_id: (t.kind, t.upstream) for t in spec.tasks}
    branch = spec.tasks[0].task_id
    assert spec.tasks[0].kind == "branch"
    assert kinds["compress"] == ("python", [branch])
    assert kinds["upload_to_gcs"] == ("gcs_copy", [branch])
    assert spec.tasks[-1].upstream == ["compress", "upload_to_gcs"]


def test_condition_without_comma_is_split_from_its_action() -> None:
    spec = parse_description("fetch the weather api, if it is raining send an email otherwise do nothing")
    fetch, branch, email = spec.tasks
    assert [fetch.kind, branch.kind, email.kind] == ["http", "branch", "email"]
    assert (branch.upstream, email.upstream) == ([fetch.task_id], [branch.task_id])


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        ("wait for /data/in/orders.csv", "file_sensor"),
        ("wait for the upstream dag sales_etl", "dag_sensor"),
        ("wait 10 minutes", "wait"),
        ("run the spark job in a kubernetes pod", "kubernetes"),
        ("copy s3://a/b to s3://c/d", "s3_copy"),
        ("archive them to gs://bucket/x", "gcs_copy"),
        ("load it into snowflake", "sql"),
        ("call the inventory API", "http"),
        ("run the cleanup script", "bash"),
        ("build the docker image", "bash"),
        ("clean the data", "python"),
    ],
)
def test_step_kinds(step: str, kind: str) -> None:
    assert parse_description(step).tasks[0].kind == kind


def test_task_ids_are_unique_identifiers_and_names_can_be_given() -> None:
    spec = parse_description("clean the data, then clean the data, then run the job called nightly_cleanup")
    ids = [t.task_id for t in spec.tasks]
    assert len(set(ids)) == len(ids) == 3
    assert spec.dag_id == "nightly_cleanup"
    assert all(i.isidentifier() for i in ids)


def test_objects_in_urls_and_addresses_name_the_task() -> None:
    spec = parse_description("fetch https://api.example.com/orders, then email ops@example.com")
    assert [t.task_id for t in spec.tasks] == ["fetch_orders", "email_ops"]
    assert spec.tasks[0].params == {"method": "GET", "url": "https://api.example.com/orders"}


def test_credentials_in_urls_are_not_kept() -> None:
    spec = parse_description("call https://bob:hunter22@api.example.com/sync")
    assert spec.tasks[0].params["url"] == "https://api.example.com/sync"


@pytest.mark.parametrize("description", ["", "   ", "then, and then."])
def test_a_description_without_steps_is_a_usage_error(description: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_description(description)
    assert caught.value.hint
