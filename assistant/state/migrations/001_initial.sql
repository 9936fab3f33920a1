-- Registered Git repositories and their deployments (GitOps).
CREATE TABLE repos (
    name            TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    namespace       TEXT NOT NULL CHECK (namespace IN ('company', 'community', 'personal')),
    ref_kind        TEXT NOT NULL DEFAULT 'branch' CHECK (ref_kind IN ('branch', 'tag', 'sha')),
    ref             TEXT NOT NULL,
    dag_path        TEXT NOT NULL DEFAULT '',
    credential      TEXT,
    webhook_credential TEXT,
    unpause         INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'new',
    state_detail    TEXT NOT NULL DEFAULT '',
    deployed_commit TEXT,
    last_sync_at    TEXT,
    stale_since     TEXT,
    last_attempt_commit TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repo            TEXT NOT NULL,
    commit_sha      TEXT NOT NULL,
    release_dir     TEXT,
    started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at     TEXT,
    result          TEXT NOT NULL DEFAULT 'pending',
    summary         TEXT NOT NULL DEFAULT '',
    validation_json TEXT,
    dag_ids         TEXT NOT NULL DEFAULT '[]',
    is_rollback     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deployments_repo ON deployments (repo, id);

-- Runs the assistant triggered or saw, and their task outcomes (learning, retrieval).
CREATE TABLE runs (
    dag_id          TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    state           TEXT NOT NULL,
    logical_date    TEXT,
    start_date      TEXT,
    end_date        TEXT,
    duration_s      REAL,
    conf_json       TEXT NOT NULL DEFAULT '{}',
    triggered_by_us INTEGER NOT NULL DEFAULT 0,
    ingested_at     TEXT,
    PRIMARY KEY (dag_id, run_id)
);
CREATE INDEX runs_dag_time ON runs (dag_id, start_date);

CREATE TABLE task_outcomes (
    dag_id          TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    task_id         TEXT NOT NULL,
    map_index       INTEGER NOT NULL DEFAULT -1,
    try_number      INTEGER NOT NULL DEFAULT 1,
    state           TEXT,
    start_date      TEXT,
    end_date        TEXT,
    duration_s      REAL,
    error_template  TEXT,
    error_excerpt   TEXT,
    PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number)
);

-- Every chat turn.
CREATE TABLE chat_turns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id      TEXT NOT NULL,
    at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    message         TEXT NOT NULL,
    intent          TEXT,
    slots_json      TEXT NOT NULL DEFAULT '{}',
    action          TEXT,
    result          TEXT,
    ok              INTEGER
);

-- Notifications (deploys, failures) shown in chat and sent to Slack when configured.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    level           TEXT NOT NULL,
    topic           TEXT NOT NULL,
    message         TEXT NOT NULL,
    seen            INTEGER NOT NULL DEFAULT 0
);
