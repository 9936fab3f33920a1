from __future__ import annotations

import ast

from assistant.generation.parser import parse_description
from assistant.generation.render import render_dag


class InstalledProviders:
    """Pure logic: which provider packages count as installed for the renderer."""

    def __init__(self, *installed: str) -> None:
        self.installed = set(installed)

    def missing_for(self, kind: str) -> str | None:
        needed = {"s3_copy": "apache-airflow-providers-amazon", "slack": "apache-airflow-providers-slack"}
        package = needed.get(kind)
        return package if package and package not in self.installed else None


def _imports(code: str) -> set[str]:
    tree = ast.parse(code)
    return {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}


def test_missing_providers_become_taskflow_fallbacks_naming_the_package() -> None:
    spec = parse_description("deploy to AWS, back up to S3, then send a Slack notification")
    code = render_dag(spec, InstalledProviders())
    assert "TODO: install apache-airflow-providers-amazon" in code
    assert "TODO: install apache-airflow-providers-slack" in code
    assert "airflow.sdk.task" in _imports(code)
    assert not any("amazon" in i or "slack" in i for i in _imports(code))
    assert "deploy_to_aws >> back_up_to_s3" in code


def test_installed_providers_are_used_as_operators() -> None:
    spec = parse_description("copy s3://a/in to s3://b/out, then post 'done' to slack #ops")
    code = render_dag(
        spec, InstalledProviders("apache-airflow-providers-amazon", "apache-airflow-providers-slack")
    )
    imports = _imports(code)
    assert "airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator" in imports
    assert "airflow.providers.slack.operators.slack_webhook.SlackWebhookOperator" in imports
    assert 'source_bucket_name="a"' in code and 'dest_bucket_key="out"' in code
    assert 'channel="#ops"' in code


def test_rendered_dag_has_the_house_defaults_and_airflow3_imports() -> None:
    spec = parse_description("daily at 2am wait for /data/x.csv, then run `make load`")
    code = render_dag(spec, InstalledProviders())
    tree = ast.parse(code)
    assert "airflow.sdk.DAG" in _imports(code)
    assert not any(i.startswith("airflow.operators") for i in _imports(code))  # removed in Airflow 3
    dag_call = next(
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "DAG"
    )
    keywords = {
        k.arg: ast.literal_eval(k.value)
        for k in dag_call.keywords
        if k.arg in {"schedule", "catchup", "tags"}
    }
    assert keywords == {"schedule": "0 2 * * *", "catchup": False, "tags": ["generated"]}
    assert 'mode="reschedule"' in code and 'bash_command="make load"' in code


def test_text_from_the_description_cannot_break_out_of_strings() -> None:
    spec = parse_description('run `echo "x"""; import os` then clean the data """ + os.system("id")')
    code = render_dag(spec, InstalledProviders())
    tree = ast.parse(code)
    calls = {
        getattr(n.func, "attr", getattr(n.func, "id", "")) for n in ast.walk(tree) if isinstance(n, ast.Call)
    }
    assert "system" not in calls
    assert not any(isinstance(n, ast.Import) for n in tree.body)


def test_branch_returns_its_first_arm_and_the_join_tolerates_the_skipped_one() -> None:
    spec = parse_description("if the file is big, compress it, otherwise archive it, then clean up")
    code = render_dag(spec, InstalledProviders())
    assert "@task.branch" in code
    assert 'return ["compress"]' in code
    assert code.count('trigger_rule="none_failed_min_one_success"') == 1


def test_learned_timeouts_are_rendered_and_sensors_still_wait_an_hour() -> None:
    spec = parse_description("wait for /data/x.csv, then run `make load`")
    spec.timeout_minutes = 15
    spec.tasks[1].timeout_minutes, spec.tasks[1].retries = 45, 4
    code = render_dag(spec, InstalledProviders())
    assert '"execution_timeout": timedelta(minutes=15)' in code
    assert "timeout=3600," in code  # the file sensor gives up after 60 min, not 15
    assert "execution_timeout=timedelta(minutes=45)" in code and "retries=4," in code
    ast.parse(code)
