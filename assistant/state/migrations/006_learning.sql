-- Learning from runs: the code version each finished run ran with (to tell a deployed fix from a
-- recurring failure). Filled when the assistant records a run's outcome.
CREATE TABLE run_code_versions (
    dag_id          TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    code_version    TEXT,
    recorded_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (dag_id, run_id)
);
