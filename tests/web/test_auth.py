"""The API token: configured, or generated once and kept with 0600 permissions; checked in constant time."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.errors import ConfigError
from assistant.web.auth import bearer_matches, ensure_token, token_path


def test_a_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    config = load_config({"ASSISTANT_HOME": str(tmp_path / "home")})
    first = ensure_token(config)
    path = token_path(config)
    assert first.path == path and first.source == "file"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.value) >= 32
    assert ensure_token(config).value == first.value
    assert first.value not in repr(first) and first.value not in first.where()
    assert "--show-token" in first.where()
    path.chmod(0o644)  # loosened by hand: tightened again
    assert ensure_token(config).value == first.value
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_token_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    env = {"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_API_TOKEN": "configured-token-0123456789"}
    token = ensure_token(load_config(env))
    assert token.value == "configured-token-0123456789" and token.path is None
    assert "ASSISTANT_API_TOKEN" in token.where() and token.value not in token.where()
    assert not token_path(load_config(env)).exists()
    with pytest.raises(ConfigError) as info:
        ensure_token(load_config({**env, "ASSISTANT_API_TOKEN": "short"}))
    assert "ASSISTANT_API_TOKEN" in info.value.hint


def test_bearer_header_matching() -> None:
    token = "the-token-0123456789abcdef"
    assert bearer_matches(f"Bearer {token}", token)
    assert bearer_matches(f"bearer  {token} ", token)
    for header in (None, "", "Bearer", "Bearer ", token, f"Basic {token}", f"Bearer {token[:-1]}"):
        assert not bearer_matches(header, token)


def test_serve_show_token_prints_the_stored_token(run_cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    shown = run_cli("serve", "--show-token", timeout=60)
    assert shown.returncode == 0, shown.stderr
    stored = (isolated_env / "api_token").read_text().strip()
    assert shown.stdout.strip() == stored
    assert stored not in shown.stderr and "api_token" in shown.stderr
