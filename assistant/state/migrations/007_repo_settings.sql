-- Settings a registered repository can change in place (`assistant repo set`), and what each
-- deployment was made from.
-- repos.policy_toml: a validation policy set for the repository (a copy of the TOML, NULL: none).
ALTER TABLE repos ADD COLUMN policy_toml TEXT;
-- deployments.dag_path: the folder exported (NULL for deployments recorded before this migration).
ALTER TABLE deployments ADD COLUMN dag_path TEXT;
-- deployments.policy: which policy validated it ('default', '.assistant/policy.toml', 'repo set').
ALTER TABLE deployments ADD COLUMN policy TEXT NOT NULL DEFAULT '';
