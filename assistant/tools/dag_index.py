"""Index the DAG code of each published release into the `dags` collection (for generation)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.redact import redact
from assistant.retrieval.chunking import chunk_text

if TYPE_CHECKING:
    from assistant.gitops.models import RepoSpec
    from assistant.retrieval.knowledge import KnowledgeBase

MAX_FILE_BYTES = 256 * 1024


def index_release(
    knowledge: KnowledgeBase, spec: RepoSpec, release_dir: Path, dag_files: dict[str, str]
) -> int:
    """Replace the repo's passages in `dags` with the release's Python files; returns passages added.

    Each file is a group ``<namespace>/<repo>/<path>``, so files removed from the repository leave
    the index too. Text is redacted before it is embedded.
    """
    prefix = f"{spec.namespace}/{spec.name}/"
    dag_of_file = {file: dag_id for dag_id, file in dag_files.items()}
    passages = []
    present = set()
    for path in sorted(release_dir.rglob("*.py")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        relative = path.relative_to(release_dir).as_posix()
        group = prefix + relative
        present.add(group)
        text = redact(path.read_text(encoding="utf-8", errors="replace"))
        meta: dict[str, str | int | float | bool] = {
            "source": group,
            "repo": spec.name,
            "namespace": spec.namespace,
        }
        if relative in dag_of_file:
            meta["dag_id"] = dag_of_file[relative]
        for chunk in chunk_text(text, group, "python"):
            passages.append((group, chunk.text, {**meta, "title": chunk.title, "section": chunk.section}))
    gone = [g for g in knowledge.indexed_groups("dags") if g.startswith(prefix) and g not in present]
    knowledge.remove_groups("dags", gone)
    return knowledge.add_passages("dags", passages, "file_key")


def forget_repo(knowledge: KnowledgeBase, namespace: str, name: str) -> None:
    """A removed repository's code no longer informs generation."""
    prefix = f"{namespace}/{name}/"
    knowledge.remove_groups("dags", [g for g in knowledge.indexed_groups("dags") if g.startswith(prefix)])
