from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import describe, load_config
from assistant.errors import ConfigError


def test_env_overrides_toml_overrides_default(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text(
        '[airflow]\nurl = "http://toml:1/"\nusername = "tom"\n[serve]\nport = 9000\n'
    )
    config = load_config({"ASSISTANT_HOME": str(home), "ASSISTANT_AIRFLOW_USERNAME": "envuser"})
    assert config.airflow_url == "http://toml:1"
    assert config.airflow_username == "envuser"
    assert config.serve_port == 9000
    assert config.source["airflow_username"] == "env ASSISTANT_AIRFLOW_USERNAME"
    assert config.source["airflow_url"].startswith("config.toml")
    assert config.poll_interval_s == 60.0


def test_default_home_is_per_user_data_dir(tmp_path: Path) -> None:
    config = load_config({"HOME": str(tmp_path)})
    assert config.home == tmp_path / ".local" / "share" / "airflow-assistant"
    assert config.state_db == config.home / "state.db"


def test_bad_value_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_SERVE_PORT": "eighty"})
    assert "ASSISTANT_SERVE_PORT" in info.value.hint


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[airflow\nurl=")
    with pytest.raises(ConfigError):
        load_config({"ASSISTANT_HOME": str(tmp_path)})


def test_describe_redacts_secrets(tmp_path: Path) -> None:
    config = load_config(
        {
            "ASSISTANT_HOME": str(tmp_path),
            "ASSISTANT_AIRFLOW_PASSWORD": "hunter2-very-secret",
            "ASSISTANT_SLACK_WEBHOOK_URL": "https://hooks.example.invalid/T000/B000/XXXX",
        }
    )
    text = repr(describe(config)) + repr(config)
    assert "hunter2-very-secret" not in text
    assert "XXXX" not in text
    rows = {name: value for name, value, _ in describe(config)}
    assert rows["airflow_password"] == "****** (set)"


def test_learned_pages_go_to_the_checkouts_knowledge_unless_set(tmp_path: Path) -> None:
    checkout = Path(__file__).resolve().parents[1]
    config = load_config({"ASSISTANT_HOME": str(tmp_path)})
    assert config.learned_docs == checkout / "knowledge" / "failure-causes"
    assert config.source["learned_docs_dir"] == "knowledge/ of this checkout"
    elsewhere = tmp_path / "team-docs"
    config = load_config({"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_LEARNED_DOCS_DIR": str(elsewhere)})
    assert config.learned_docs == elsewhere


def test_min_success_rate_is_a_fraction(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[learning]\nmin_success_rate = 0.95\n")
    assert load_config({"ASSISTANT_HOME": str(tmp_path)}).min_success_rate == 0.95
    with pytest.raises(ConfigError) as info:
        load_config({"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_MIN_SUCCESS_RATE": "80"})
    assert "0.8" in info.value.hint


def test_api_token_is_a_secret_setting(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[serve]\napi_token = "toml-token-0123456789abcdef"\n')
    config = load_config({"ASSISTANT_HOME": str(tmp_path)})
    assert config.api_token == "toml-token-0123456789abcdef"
    assert config.source["api_token"] == "config.toml [serve] api_token"
    env = load_config({"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_API_TOKEN": "env-token-0123456789abcdef"})
    assert env.api_token == "env-token-0123456789abcdef"
    text = repr(describe(config)) + repr(config) + repr(describe(env)) + repr(env)
    assert "0123456789abcdef" not in text
    assert {name: value for name, value, _ in describe(config)}["api_token"] == "****** (set)"
    assert load_config({"ASSISTANT_HOME": str(tmp_path / "other")}).api_token is None
