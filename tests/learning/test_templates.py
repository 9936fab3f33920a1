from __future__ import annotations

from assistant.learning.templates import cause_line, mask, mine_templates

AIRFLOW_LOG = """[2026-11-30T14:19:33.389210Z] ERROR task - Task failed with exception
Traceback (most recent call last):
  File "/work/dags/t.py", line 10, in upload_to_s3
PermissionError: ExpiredToken: the AWS credentials have expired
"""


def test_cause_line_is_the_exception_line_of_the_traceback() -> None:
    assert cause_line(AIRFLOW_LOG) == "PermissionError: ExpiredToken: the AWS credentials have expired"


def test_cause_line_without_traceback_uses_the_last_error_line_and_redacts_secrets() -> None:
    log = (
        "[t] INFO task - starting\n[t] ERROR task - login failed password=hunter2secret\n[t] INFO task - bye"
    )
    excerpt = cause_line(log)
    assert excerpt is not None and "login failed" in excerpt and "hunter2secret" not in excerpt
    assert cause_line("") is None


def test_mask_hides_times_ids_paths_and_numbers() -> None:
    masked = mask("at 2025-01-02T10:00:00Z run 3f2a9c1e-0b7d-4c1a-9e2f-123456789abc read /data/in/x.csv 503")
    assert masked == "at <TIME> run <ID> read <PATH> <NUM>"


def test_same_cause_gets_one_template_and_different_causes_differ() -> None:
    templates = mine_templates(
        [
            "requests.exceptions.HTTPError: 503 Server Error for url: https://api.example.com/v2?since=1",
            "KeyError: 'customer_id'",
            "requests.exceptions.HTTPError: 502 Server Error for url: https://api.example.com/v2?since=9",
        ]
    )
    assert templates[0] == templates[2]
    assert "<URL>" in templates[0] and "<NUM>" in templates[0]
    assert templates[1] == "KeyError: 'customer_id'"
