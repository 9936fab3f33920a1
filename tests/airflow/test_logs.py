from __future__ import annotations

from assistant.airflow.logs import render_log


def test_structured_entries_become_lines_and_groups_are_dropped() -> None:
    content = [
        {"event": "::group::Log message source details", "sources": ["/x/attempt=1.log"]},
        {"event": "/logs/dag_id=x/attempt=1.log"},
        {"event": "::endgroup::"},
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "level": "info",
            "logger": "task",
            "event": "starting",
            "pid": 12,
        },
        "a raw line\n",
        {
            "timestamp": "2026-01-01T00:00:01Z",
            "level": "error",
            "event": "Task failed with exception",
            "error_detail": [
                {
                    "exc_type": "PermissionError",
                    "exc_value": "ExpiredToken",
                    "frames": [{"filename": "/dags/x.py", "lineno": 9, "name": "upload"}],
                }
            ],
        },
    ]
    text = render_log(content)
    lines = text.splitlines()
    assert lines[0] == "[2026-01-01T00:00:00Z] INFO task - starting pid=12"
    assert lines[1] == "a raw line"
    assert "::group::" not in text
    assert 'File "/dags/x.py", line 9, in upload' in text
    assert lines[-1] == "PermissionError: ExpiredToken"
