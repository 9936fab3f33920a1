"""Read and write the learning view of the state database: runs, task outcomes, code versions."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from assistant.learning.records import RunRecord, TaskOutcome
from assistant.learning.templates import mine_templates


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load_history(
    db: sqlite3.Connection, dag_id: str | None = None, since: datetime | None = None
) -> dict[str, list[RunRecord]]:
    """Finished runs per DAG in time order, each with the last try of each task and its code version."""
    query = (
        "SELECT r.dag_id, r.run_id, r.state, r.start_date, r.end_date, r.duration_s, v.code_version "
        "FROM runs r LEFT JOIN run_code_versions v ON v.dag_id = r.dag_id AND v.run_id = r.run_id "
        "WHERE r.state IN ('success', 'failed') AND r.start_date IS NOT NULL"
    )
    params: list[str] = []
    if dag_id:
        query += " AND r.dag_id = ?"
        params.append(dag_id)
    rows = db.execute(query, params).fetchall()
    tasks = _tasks(db, dag_id)
    history: dict[str, list[RunRecord]] = defaultdict(list)
    for row in rows:
        start = _when(row["start_date"])
        if start is None or (since is not None and start < since):
            continue
        history[row["dag_id"]].append(
            RunRecord(
                row["dag_id"],
                row["run_id"],
                row["state"],
                start,
                _when(row["end_date"]),
                row["duration_s"],
                row["code_version"],
                tuple(tasks.get((row["dag_id"], row["run_id"]), ())),
            )
        )
    return {dag: with_mined_templates(sorted(runs, key=lambda r: r.start)) for dag, runs in history.items()}


def _tasks(db: sqlite3.Connection, dag_id: str | None) -> dict[tuple[str, str], list[TaskOutcome]]:
    query = (
        "SELECT dag_id, run_id, task_id, state, try_number, duration_s, error_template, error_excerpt "
        "FROM task_outcomes t WHERE try_number = (SELECT MAX(try_number) FROM task_outcomes u "
        "WHERE u.dag_id = t.dag_id AND u.run_id = t.run_id AND u.task_id = t.task_id AND u.map_index = t.map_index)"
    )
    params: list[str] = []
    if dag_id:
        query += " AND dag_id = ?"
        params.append(dag_id)
    out: dict[tuple[str, str], list[TaskOutcome]] = defaultdict(list)
    for row in db.execute(query + " ORDER BY start_date, task_id", params):
        out[(row["dag_id"], row["run_id"])].append(
            TaskOutcome(
                row["task_id"],
                row["state"],
                row["try_number"],
                row["duration_s"],
                row["error_template"],
                row["error_excerpt"],
            )
        )
    return out


def with_mined_templates(runs: list[RunRecord]) -> list[RunRecord]:
    """``runs`` with each failed task's error template re-mined over the whole list, per task."""
    slots = [(i, j) for i, run in enumerate(runs) for j, t in enumerate(run.tasks) if t.error_excerpt]
    templates = mine_templates([runs[i].tasks[j].error_excerpt or "" for i, j in slots])
    tasks = [list(run.tasks) for run in runs]
    for (i, j), template in zip(slots, templates, strict=True):
        tasks[i][j] = replace(tasks[i][j], error_template=template)
    return [replace(run, tasks=tuple(t)) for run, t in zip(runs, tasks, strict=True)]


def recorded_run_ids(db: sqlite3.Connection, dag_id: str) -> set[str]:
    rows = db.execute("SELECT run_id FROM run_code_versions WHERE dag_id = ?", (dag_id,)).fetchall()
    return {row["run_id"] for row in rows}


def excerpts_of(db: sqlite3.Connection, dag_id: str, task_id: str) -> list[str]:
    rows = db.execute(
        "SELECT error_excerpt FROM task_outcomes WHERE dag_id = ? AND task_id = ? AND error_excerpt IS NOT NULL "
        "ORDER BY start_date",
        (dag_id, task_id),
    ).fetchall()
    return [row["error_excerpt"] for row in rows]


def save_run(
    db: sqlite3.Connection, run: RunRecord, run_started: datetime | None, code_version: str | None
) -> None:
    """Upsert a finished run and its tasks; never clears an error text another writer recorded."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    with db:
        db.execute(
            "INSERT INTO runs (dag_id, run_id, state, start_date, end_date, duration_s) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dag_id, run_id) DO UPDATE SET state = excluded.state, start_date = excluded.start_date, "
            "end_date = excluded.end_date, duration_s = excluded.duration_s",
            (run.dag_id, run.run_id, run.state, iso(run_started or run.start), iso(run.end), run.duration_s),
        )
        for task in run.tasks:
            db.execute(
                "INSERT INTO task_outcomes (dag_id, run_id, task_id, try_number, state, start_date, duration_s, "
                "error_template, error_excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dag_id, run_id, task_id, map_index, try_number) DO UPDATE SET "
                "state = excluded.state, duration_s = excluded.duration_s, "
                "error_template = COALESCE(task_outcomes.error_template, excluded.error_template), "
                "error_excerpt = COALESCE(task_outcomes.error_excerpt, excluded.error_excerpt)",
                (
                    run.dag_id,
                    run.run_id,
                    task.task_id,
                    max(task.try_number, 1),
                    task.state,
                    iso(run.start),
                    task.duration_s,
                    task.error_template,
                    task.error_excerpt,
                ),
            )
        db.execute(
            "INSERT OR IGNORE INTO run_code_versions (dag_id, run_id, code_version) VALUES (?, ?, ?)",
            (run.dag_id, run.run_id, code_version),
        )
