from __future__ import annotations

from pathlib import Path

from assistant.compose import build_assistant
from assistant.gitops.models import RepoSpec
from assistant.tools.dag_index import index_release

BACKUP = """
from airflow.sdk import dag, task


@dag(dag_id="nightly_s3_backup", schedule="@daily", tags=["backup"])
def nightly_s3_backup():
    @task
    def copy_bucket():
        token = "password=hunter2hunter2"
        print("copy s3://prod to s3://backup")

    copy_bucket()


nightly_s3_backup()
"""


def _release(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_release_code_is_searchable_and_replaced_on_the_next_release(tmp_path: Path) -> None:
    knowledge = build_assistant().components.knowledge
    spec = RepoSpec(name="flows", url="file:///x", namespace="company")
    first = _release(
        tmp_path / "r1", {"backup.py": BACKUP, "helpers/util.py": "def helper():\n    return 1\n"}
    )
    added = index_release(knowledge, spec, first, {"nightly_s3_backup": "backup.py"})
    assert added >= 2

    hits = knowledge.search("back up an s3 bucket every night", k=3, collections=("dags",))
    assert hits and hits[0].metadata["dag_id"] == "nightly_s3_backup"
    assert hits[0].metadata["repo"] == "flows"
    assert "hunter2hunter2" not in " ".join(h.text for h in hits)  # redacted before indexing

    second = _release(tmp_path / "r2", {"backup.py": BACKUP})
    index_release(knowledge, spec, second, {"nightly_s3_backup": "backup.py"})
    assert sorted(knowledge.indexed_groups("dags")) == ["company/flows/backup.py"]


def test_forgetting_a_repo_drops_its_code(tmp_path: Path) -> None:
    from assistant.tools.dag_index import forget_repo

    knowledge = build_assistant().components.knowledge
    release = _release(tmp_path / "r1", {"backup.py": BACKUP})
    index_release(knowledge, RepoSpec(name="flows", url="file:///x", namespace="company"), release, {})
    index_release(knowledge, RepoSpec(name="other", url="file:///y", namespace="personal"), release, {})
    forget_repo(knowledge, "company", "flows")
    assert knowledge.indexed_groups("dags") == ["personal/other/backup.py"]
