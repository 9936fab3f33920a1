"""Incremental indexing of files and of generated passages (task logs, outcomes).

Files are identified by their absolute path and compared by a content hash: a re-run embeds
only files that are new or changed, drops the passages of files that disappeared from an indexed
folder, and leaves the rest alone. Writes go to the store of record (Chroma) first, then to the
mirror, incrementally (only the changed files' rows are deleted and appended).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import UsageError
from assistant.retrieval.chunking import CHUNKING_VERSION, Chunk, chunk_text, kind_of
from assistant.retrieval.mirror import Mirror, Records
from assistant.retrieval.store import check_collection

if TYPE_CHECKING:
    from assistant.retrieval.embedder import Embedder
    from assistant.retrieval.store import Metadata, VectorStore

SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    "build",
    "dist",
}
EMBED_BATCH = 128
Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IndexReport:
    collection: str
    files_seen: int = 0
    files_added: int = 0
    files_changed: int = 0
    files_removed: int = 0
    files_unchanged: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    skipped: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(data: bytes) -> str:
    """The hash a file is indexed under: its content and the chunking version."""
    return content_hash(CHUNKING_VERSION.encode() + b"\0" + data)


def chunk_id(key: str, position: int) -> str:
    return f"{hashlib.sha1(key.encode()).hexdigest()[:16]}:{position}"


def discover(paths: Sequence[Path]) -> Iterator[tuple[Path, Path, str]]:
    """(root, file, display source) of every indexable file under ``paths``."""
    for given in paths:
        root = given.expanduser().resolve()
        if not root.exists():
            raise UsageError(f"no such file or directory: {given}", "pass existing files or folders to index")
        if root.is_file():
            if kind_of(root) is None:
                raise UsageError(
                    f"cannot index {given}: unsupported file type", "index .md, .rst, .txt or .py files"
                )
            yield root, root, root.name
            continue
        for file in sorted(root.rglob("*")):
            relative = file.relative_to(root)
            if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
                continue
            if file.is_file() and kind_of(file) is not None:
                yield root, file, f"{root.name}/{relative.as_posix()}"


class Indexer:
    def __init__(self, embedder: Embedder, store: VectorStore, mirror: Mirror) -> None:
        self.embedder = embedder
        self.store = store
        self.mirror = mirror

    def index_paths(
        self, paths: Sequence[Path], collection: str = "docs", progress: Progress | None = None
    ) -> IndexReport:
        check_collection(collection)
        report = IndexReport(collection)
        known = self.mirror.file_hashes(collection)
        roots: set[str] = set()
        pending: list[tuple[str, str, list[Chunk]]] = []  # (path, hash, chunks)
        seen: set[str] = set()
        for root, file, source in discover(paths):
            roots.add(str(root))
            key = str(file)
            seen.add(key)
            report.files_seen += 1
            try:
                data = file.read_bytes()
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                report.skipped.append(f"{source}: {exc.__class__.__name__}")
                continue
            digest = file_hash(data)
            if known.get(key) == digest:
                report.files_unchanged += 1
                continue
            if key in known:
                report.files_changed += 1
            else:
                report.files_added += 1
            pending.append((key, digest, chunk_text(text, source, kind_of(file) or "text")))
        removed = [p for p in known if p not in seen and any(_under(p, root) for root in roots)]
        report.files_removed = len(removed)
        records: list[tuple[str, str, Metadata]] = []
        files: dict[str, tuple[str, int]] = {}
        for key, digest, chunks in pending:
            files[key] = (digest, len(chunks))
            dag_id = dag_id_in("\n".join(c.text for c in chunks)) if key.endswith(".py") else None
            for chunk in chunks:
                meta: Metadata = {
                    "path": key,
                    "source": chunk.source,
                    "title": chunk.title,
                    "section": chunk.section,
                    "position": chunk.position,
                    "content_hash": digest,
                    "kind": "file",
                }
                if dag_id:
                    meta["dag_id"] = dag_id
                records.append((chunk_id(key, chunk.position), chunk.text, meta))
        embed_texts = [_embedding_text(text, meta) for _, text, meta in records]
        report.chunks_embedded = len(records)
        self._write(collection, records, embed_texts, [k for k, *_ in pending] + removed, files, progress)
        report.chunks_total = self.store.count(collection)
        return report

    def index_passages(
        self, collection: str, passages: Iterable[tuple[str, str, Metadata]], group_key: str
    ) -> int:
        """Add generated passages ``(group, text, metadata)``, replacing earlier ones of each group.

        ``group`` plays the part of a file path (for a task log: dag/run/task/try), so re-indexing
        the same group replaces its passages instead of duplicating them.
        """
        check_collection(collection)
        records: list[tuple[str, str, Metadata]] = []
        files: dict[str, tuple[str, int]] = {}
        for group, text, meta in passages:
            position = files.get(group, ("", 0))[1]
            files[group] = (content_hash(text.encode()), position + 1)
            full: Metadata = {**meta, "path": group, "position": position, group_key: group}
            records.append((chunk_id(group, position), text, full))
        if not records:
            return 0
        embed_texts = [_embedding_text(text, meta) for _, text, meta in records]
        self._write(collection, records, embed_texts, list(files), files, None)
        return len(records)

    def remove_groups(self, collection: str, groups: Sequence[str]) -> None:
        """Drop every passage of ``groups`` (paths, or the group keys of generated passages)."""
        check_collection(collection)
        if groups:
            self._write(collection, [], [], list(groups), {}, None)

    def _write(
        self,
        collection: str,
        records: list[tuple[str, str, Metadata]],
        embed_texts: list[str],
        replaced_paths: list[str],
        files: dict[str, tuple[str, int]],
        progress: Progress | None,
    ) -> None:
        import numpy as np

        if not records and not replaced_paths:
            return
        vectors = np.zeros((len(records), self.embedder.dim), dtype=np.float32)
        # Texts of similar length share a batch: less padding, less wasted work.
        order = sorted(range(len(records)), key=lambda i: len(embed_texts[i]))
        for start in range(0, len(records), EMBED_BATCH):
            batch = order[start : start + EMBED_BATCH]
            vectors[batch] = self.embedder.embed([embed_texts[i] for i in batch])
            if progress:
                progress(min(start + EMBED_BATCH, len(records)), len(records))
        if replaced_paths:
            self.store.delete_where(collection, "path", replaced_paths)
        if records:
            self.store.upsert(
                collection, [r[0] for r in records], vectors, [r[1] for r in records], [r[2] for r in records]
            )
        added = Records([r[0] for r in records], vectors, [r[1] for r in records], [r[2] for r in records])
        self.mirror.apply(collection, added, replaced_paths, files)


_DAG_ID = re.compile(r"""(?:dag_id\s*=\s*|\bDAG\(\s*)["']([\w.-]+)["']""")
_DAG_DECORATED = re.compile(r"@dag\b[^\n]*\n(?:@[^\n]*\n)*def\s+(\w+)")


def dag_id_in(source: str) -> str | None:
    """The (first) DAG id a Python file declares, read from its text without importing it."""
    explicit = _DAG_ID.search(source)
    if explicit:
        return explicit.group(1)
    decorated = _DAG_DECORATED.search(source)
    return decorated.group(1) if decorated else None


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _embedding_text(text: str, meta: Metadata) -> str:
    heading = " > ".join(str(part) for part in (meta.get("title"), meta.get("section")) if part)
    return f"{heading}\n{text}" if heading else text
