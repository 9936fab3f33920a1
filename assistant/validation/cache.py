"""A content-hash cache of per-file results, under ``$ASSISTANT_HOME/cache/validation``.

The key covers everything a file's result depends on: its bytes, the repo-local modules it
imports, the Airflow version, the policy, the pipeline version and the options. Re-validating a
repo after a one-file change therefore pays for one file. Entries never contain file contents.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

PIPELINE_VERSION = "2"  # bump when a stage changes its verdicts: cached results are then redone


def cache_key(text: str, local_modules: list[str], *, airflow_version: str, policy: str, options: str) -> str:
    digest = hashlib.sha256()
    for part in (PIPELINE_VERSION, airflow_version, policy, options, text, *local_modules):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()


class ResultCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                json.dump(value, fh)
            os.replace(temporary, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def local_module_texts(tree_modules: list[str], root: Path) -> list[str]:
    """Hashes of the repo-local modules a file imports (``helpers``, ``common.utils``)."""
    hashes = []
    for module in tree_modules:
        parts = module.split(".")
        for length in range(len(parts), 0, -1):
            base = root.joinpath(*parts[:length])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file() and not candidate.is_symlink():
                    try:
                        hashes.append(f"{module}:{hashlib.sha256(candidate.read_bytes()).hexdigest()}")
                    except OSError:
                        continue
                    break
    return sorted(set(hashes))
