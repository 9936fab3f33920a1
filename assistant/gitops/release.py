"""Release directories: immutable exports of a repo's DAG path at one commit.

A release is written into a hidden temporary directory and renamed into place only when complete,
so a release directory that exists is always whole. Only regular files under the DAG path are
exported: submodules, symlinks that leave the repository (or point at directories), files over
the size limit and paths that are not UTF-8 are skipped and reported. Symlinks to files inside
the repository are exported as copies, so Airflow never follows a link out of a release.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import time
import uuid
from pathlib import Path

from assistant.gitops.git import TreeEntry, TreeReader
from assistant.gitops.models import ReleaseInfo, SkippedFile

MANIFEST = ".assistant-release.json"
DEFAULT_MAX_FILE_BYTES = 1024 * 1024
KEEP_RELEASES = 4


def release_path(releases_dir: Path, repo: str, commit: str, dag_path: str = "") -> Path:
    """One directory per (commit, DAG path): the same commit exported from another folder is
    another release (releases made before the path was part of the name are still loaded)."""
    path_key = hashlib.sha256(dag_path.strip("/").encode("utf-8")).hexdigest()[:8]
    return releases_dir / repo / f"{commit[:16]}-{path_key}"


def load_release(path: Path) -> ReleaseInfo | None:
    """The release at ``path`` if it is complete (its manifest exists and every file matches)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    info = ReleaseInfo(
        path=path, commit=data["commit"], dag_path=str(data.get("dag_path", "")), files=dict(data["files"])
    )
    info.skipped = [SkippedFile(s["path"], s["reason"]) for s in data.get("skipped", [])]
    return info


def verify_release(info: ReleaseInfo) -> list[str]:
    """Paths that are missing or differ from the manifest (empty for a whole release)."""
    bad = []
    for rel, digest in info.files.items():
        file = Path(info.path) / rel
        if not file.is_file() or hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            bad.append(rel)
    return bad


def build_release(
    cache: Path,
    releases_dir: Path,
    repo: str,
    commit: str,
    dag_path: str,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ReleaseInfo:
    """Export ``dag_path`` of ``commit`` into its release directory (reused when already complete)."""
    final = release_path(releases_dir, repo, commit, dag_path)
    existing = load_release(final)
    if existing is not None and existing.dag_path == dag_path.strip("/") and not verify_release(existing):
        return existing
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    prefix = dag_path.strip("/")
    info = ReleaseInfo(path=final, commit=commit, dag_path=prefix)
    try:
        with TreeReader(cache) as reader:
            entries = list(reader.entries(commit, prefix))
            blobs = {e.path: e for e in entries if e.kind == "blob" and e.mode != "120000"}
            for entry in entries:
                rel, reason = _relative(entry.path, prefix)
                if rel is None:
                    info.skipped.append(SkippedFile(reason, "path is not UTF-8"))
                    continue
                target = entry
                if entry.kind == "commit":
                    info.skipped.append(SkippedFile(rel, "submodule (not published)"))
                    continue
                if entry.mode == "120000":
                    resolved, why = _resolve_symlink(entry, reader.blob(entry.sha), blobs)
                    if resolved is None:
                        info.skipped.append(SkippedFile(rel, why))
                        continue
                    target = resolved
                if (target.size or 0) > max_file_bytes:
                    info.skipped.append(
                        SkippedFile(rel, f"{target.size} bytes, over the {max_file_bytes}-byte limit")
                    )
                    continue
                data = reader.blob(target.sha)
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                if target.mode == "100755":
                    out.chmod(0o755)
                info.files[rel] = hashlib.sha256(data).hexdigest()
        manifest = {
            "commit": commit,
            "dag_path": prefix,
            "files": info.files,
            "skipped": [{"path": s.path, "reason": s.reason} for s in info.skipped],
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        _fsync_tree(tmp)
        if final.exists():  # an incomplete leftover of the same commit
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def _relative(path: bytes, prefix: str) -> tuple[str | None, str]:
    try:
        text = path.decode("utf-8")
    except UnicodeDecodeError:
        return None, path.decode("utf-8", errors="replace")
    rel = text[len(prefix) + 1 :] if prefix else text
    return rel, ""


def _resolve_symlink(
    entry: TreeEntry, link_target: bytes, blobs: dict[bytes, TreeEntry]
) -> tuple[TreeEntry | None, str]:
    try:
        target = link_target.decode("utf-8")
    except UnicodeDecodeError:
        return None, "symlink with a non-UTF-8 target"
    if target.startswith("/"):
        return None, "symlink pointing outside the repository"
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path.decode("utf-8")), target))
    if joined == ".." or joined.startswith("../"):
        return None, "symlink pointing outside the repository"
    resolved = blobs.get(joined.encode("utf-8"))
    if resolved is None:
        return None, "symlink to a directory, a missing file or outside the DAG path"
    return resolved, ""


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def clean_releases(
    releases_dir: Path, repo: str, keep: set[Path], keep_latest: int = KEEP_RELEASES
) -> list[Path]:
    """Remove old releases of ``repo`` and abandoned temporary exports; never one in ``keep``."""
    parent = releases_dir / repo
    if not parent.is_dir():
        return []
    removed = []
    kept = {p.resolve() for p in keep}
    candidates = []
    for child in parent.iterdir():
        if child.name.startswith(".tmp-"):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
        elif child.is_dir() and child.resolve() not in kept:
            candidates.append(child)
    candidates.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in candidates[max(keep_latest - len(kept), 0) :]:
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed
