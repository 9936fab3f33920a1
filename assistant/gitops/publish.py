"""Atomic publication into Airflow's DAGs folder: ``<dags>/<namespace>/<repo>`` is a symlink to a
release directory, switched with one ``rename(2)``. Airflow's dag-processor follows symlinked
directories (checked against the real Airflow 3.3) and reports the link path as ``fileloc``, so a
swap changes every file of the repo at once and never exposes a half-written tree."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.errors import GitError

SWAP_PREFIX = ".assistant-swap-"
# The temporary link exists for microseconds, but keep Airflow from ever listing it.
_IGNORE_LINE = f"{SWAP_PREFIX}*"


def link_path(dags_folder: Path, namespace: str, repo: str) -> Path:
    return dags_folder / namespace / repo


def published_target(dags_folder: Path, namespace: str, repo: str) -> Path | None:
    link = link_path(dags_folder, namespace, repo)
    if not link.is_symlink():
        return None
    return Path(os.readlink(link))


def publish(dags_folder: Path, namespace: str, repo: str, release_dir: Path) -> None:
    """Point the repo's entry at ``release_dir`` in one atomic step."""
    link = link_path(dags_folder, namespace, repo)
    link.parent.mkdir(parents=True, exist_ok=True)
    _ensure_ignore(link.parent)
    if link.exists() and not link.is_symlink():
        raise GitError(
            f"{link} exists and was not created by the assistant",
            "move it out of the DAGs folder, or register the repo under another --name",
        )
    tmp = link.parent / f"{SWAP_PREFIX}{repo}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(release_dir.resolve(), tmp, target_is_directory=True)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def unpublish(dags_folder: Path, namespace: str, repo: str) -> bool:
    link = link_path(dags_folder, namespace, repo)
    if link.is_symlink():
        link.unlink()
        _fsync_dir(link.parent)
        return True
    return False


def _ensure_ignore(namespace_dir: Path) -> None:
    ignore = namespace_dir / ".airflowignore"
    lines = ignore.read_text().splitlines() if ignore.exists() else []
    if _IGNORE_LINE not in lines:
        with ignore.open("a") as fh:
            fh.write(_IGNORE_LINE + "\n")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
