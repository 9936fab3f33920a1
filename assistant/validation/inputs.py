"""Turning the PATH arguments into DAG sources, or into findings for what cannot be read.

Folders are walked for ``*.py`` (hidden folders, caches, virtualenvs and ``tests/`` skipped, and
``.airflowignore`` glob patterns honoured). Symlinks are never followed outside the root (the
repo's base_dir, else the folder given, else the file's own folder). Binary, non-UTF-8, empty and
oversized files become findings; the rest of the batch is still validated.
"""

from __future__ import annotations

import fnmatch
import io
import os
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.validation.report import FileReport

SKIP_DIRS = {"__pycache__", "node_modules", "venv", ".venv", "site-packages", "tests", "test"}


@dataclass
class Source:
    path: Path  # as the user named it (for the report)
    real: Path  # the resolved file that is read
    root: Path  # the folder it belongs to (repo root, folder argument, or its own folder)
    text: str
    tree_root: bool = True  # False when root is merely the folder of a file given on its own


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _ignored(relative: Path, patterns: list[str]) -> bool:
    text = relative.as_posix()
    return any(
        fnmatch.fnmatch(text, p) or fnmatch.fnmatch(relative.name, p) or text.startswith(p.rstrip("/") + "/")
        for p in patterns
    )


def _airflowignore(root: Path) -> list[str]:
    try:
        lines = (root / ".airflowignore").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _skipped(relative: Path, root: Path) -> bool:
    folders = relative.parts[:-1]
    hidden = any(p.startswith(".") or p in SKIP_DIRS for p in folders)
    return hidden or _ignored(relative, _airflowignore(root))


def _walk(folder: Path, root: Path, reports: list[FileReport]) -> list[tuple[Path, Path]]:
    found: list[tuple[Path, Path]] = []
    patterns = _airflowignore(root)
    for current, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(current)
        kept = []
        for name in sorted(dirnames):
            sub = here / name
            if name.startswith(".") or name in SKIP_DIRS or _ignored(sub.relative_to(folder), patterns):
                continue
            if sub.is_symlink():
                if not _within(sub.resolve(), root):
                    report = FileReport(sub)
                    report.add(
                        "input.symlink-escape",
                        "block",
                        None,
                        f"symlinked folder points outside the repository ({sub.resolve()})",
                        "replace the symlink with the files themselves; links leaving the repo are not followed",
                    )
                    reports.append(report)
                continue  # in-repo symlinked folders are reached through their real path
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            if name.endswith(".py") and not _ignored(path.relative_to(folder), patterns):
                found.append((path, root))
    return found


def collect_sources(
    paths: Sequence[Path], base_dir: Path | None, max_bytes: int
) -> tuple[list[Source], list[FileReport]]:
    """Readable sources, and reports (with blocking findings) for everything that is not."""
    candidates: list[tuple[Path, Path]] = []
    loose: set[Path] = set()
    problems: list[FileReport] = []
    base = base_dir.resolve() if base_dir else None
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            report = FileReport(path)
            report.add(
                "input.not-found",
                "block",
                None,
                f"{path} does not exist",
                "pass a DAG file or a folder of DAG files",
            )
            problems.append(report)
        elif path.is_dir() and not path.is_symlink():
            root = base if base and _within(path.resolve(), base) else path.resolve()
            candidates.extend(_walk(path, root, problems))
        else:
            if base and _within(path.absolute(), base) and _skipped(path.absolute().relative_to(base), base):
                continue  # tests/, hidden folders, .airflowignore'd files of the repo are not DAG files
            root = base if base and _within(path.absolute(), base) else path.absolute().parent
            if root != base:
                loose.add(path)
            candidates.append((path, root))
    sources: list[Source] = []
    seen: set[Path] = set()
    for path, root in candidates:
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        report = FileReport(path)
        source = _read(path, real, root, max_bytes, report)
        if source is None:
            problems.append(report)
        else:
            source.tree_root = path not in loose
            sources.append(source)
    return sources, problems


def _read(path: Path, real: Path, root: Path, max_bytes: int, report: FileReport) -> Source | None:
    if path.is_symlink() and not _within(real, root):
        report.add(
            "input.symlink-escape",
            "block",
            None,
            f"symlink points outside the repository ({real})",
            "copy the file into the repository; symlinks leaving it are never followed",
        )
        return None
    if not real.is_file():
        report.add(
            "input.not-a-file",
            "block",
            None,
            f"{path} is not a regular file",
            "pass a DAG file (.py) or a folder",
        )
        return None
    size = real.stat().st_size
    if size > max_bytes:
        report.add(
            "input.too-large",
            "block",
            None,
            f"{size // 1024} KiB is over the {max_bytes // 1024} KiB limit",
            "split the file, or move data out of the DAG file; raise [limits] max_file_kb if intended",
        )
        return None
    data = real.read_bytes()
    if b"\x00" in data:
        report.add(
            "input.binary",
            "block",
            None,
            "the file is binary, not Python source",
            "only .py DAG files can be validated; remove binaries from the DAGs folder",
        )
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        report.add(
            "input.encoding",
            "block",
            None,
            f"the file is not valid UTF-8 text ({type(exc).__name__})",
            "save the file as UTF-8",
        )
        return None
    if not text.strip():
        severity = "info" if path.name == "__init__.py" else "warn"
        report.add(
            "input.empty",
            severity,
            None,
            "the file is empty: it defines no DAG",
            "add a DAG or remove the file",
        )
        return None
    return Source(path=path, real=real, root=root, text=text)
