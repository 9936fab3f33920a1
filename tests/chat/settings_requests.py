"""Requests to change a repository's settings, with the slots they carry: read by the slot rules'
tests and by the router's (which must route them to repo_settings with the same slots)."""

from __future__ import annotations

# The phrasings of the request, one per setting.
SETTINGS_REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("switch my workflows repo to the develop branch", {"name": "workflows", "branch": "develop"}),
    ("deploy the etl repo from the release-2.4 tag", {"name": "etl", "tag": "release-2.4"}),
    ("use dags/ as the DAG folder of analytics", {"name": "analytics", "path": "dags/"}),
    ("move data-pipelines to the company namespace", {"name": "data-pipelines", "namespace": "company"}),
    ("change the branch of ml-repo to main", {"name": "ml-repo", "branch": "main"}),
]
# No setting named (the dialog asks which), or the repository from the conversation.
PARTIAL_SETTINGS_REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("change the settings of etl", {"name": "etl"}),
    ("switch it to the main branch", {"branch": "main"}),
]
