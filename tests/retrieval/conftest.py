"""Fixtures of the retrieval tests: one ONNX export, shared by hard link into each test's home."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from assistant.retrieval.embedder import Embedder, OnnxEmbedder, export_onnx, onnx_path, source_model_dir


@pytest.fixture(scope="session")
def exported_model() -> Path:
    """The ONNX export, made with the real exporter (once, then reused from the temp directory)."""
    return _shared_export()


@pytest.fixture(scope="session")
def embedder(exported_model: Path) -> Embedder:
    return OnnxEmbedder(exported_model, source_model_dir() / "tokenizer.json")


def link_export(home: Path) -> Path:
    """Put the session's ONNX export into ``home``/models (as after a first use); returns ``home``."""
    shared = _shared_export()
    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / shared.name
    if not target.exists():
        try:
            os.link(shared, target)
        except OSError:
            shutil.copyfile(shared, target)
    return home


def _shared_export() -> Path:
    """One export per machine user and model version, reused across test sessions."""
    cache = Path(tempfile.gettempdir()) / f"assistant-test-models-{os.getuid()}"
    target = onnx_path(cache, source_model_dir())
    return target if target.exists() else export_onnx(source_model_dir(), target)


@pytest.fixture
def assistant_home(isolated_env: Path) -> Path:
    return link_export(isolated_env)
