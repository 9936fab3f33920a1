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


def move(dags_folder: Path, old_namespace: str, new_namespace: str, repo: str) -> bool:
    """Move the repo's link to another namespace with one ``rename(2)``: its DAGs leave the old
    folder and appear in the new one at the same instant. False when nothing was published."""
    old = link_path(dags_folder, old_namespace, repo)
    new = link_path(dags_folder, new_namespace, repo)
    if not old.is_symlink():
        return False
    if new.exists() or new.is_symlink():
        raise GitError(
            f"{new} already exists in the DAGs folder",
            f"move it out of the DAGs folder, or keep {repo} in {old_namespace}",
        )
    new.parent.mkdir(parents=True, exist_ok=True)
    _ensure_ignore(new.parent)
    os.rename(old, new)
    _fsync_dir(new.parent)
    _fsync_dir(old.parent)
    return True


def stray_links(dags_folder: Path, repo: str, namespaces: tuple[str, ...], releases_dir: Path) -> list[str]:
    """Namespaces holding a link of ``repo`` into its releases (left by an interrupted move)."""
    found = []
    own = (releases_dir / repo).resolve()
    for namespace in namespaces:
        target = published_target(dags_folder, namespace, repo)
        if target is not None and own in target.resolve().parents:
            found.append(namespace)
    return found


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
