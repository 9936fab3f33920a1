"""Configuration: environment variables over an optional TOML file over defaults.

One frozen :class:`Config` is built once by :func:`load_config` and handed to the composition
root; nothing else reads the environment.

The TOML file lives at ``$ASSISTANT_HOME/config.toml`` (or ``ASSISTANT_CONFIG``) and uses the
section/key names of :data:`FIELDS`, for example::

    [airflow]
    url = "http://127.0.0.1:28080"
    username = "admin"

    [llm]
    ollama_host = "http://127.0.0.1:11434"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

# The project-local Airflow that scripts/airflow.sh installs, when running from a checkout.
_CHECKOUT_AIRFLOW = Path(__file__).resolve().parents[1] / ".local" / "airflow"
# The documentation the assistant ships; in a checkout, learned pages are proposed into it.
_CHECKOUT_KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


def _default_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".local" / "share")
    return Path(base) / "airflow-assistant"


@dataclass(frozen=True)
class Config:
    home: Path
    airflow_url: str = "http://127.0.0.1:28080"
    airflow_username: str = "admin"
    airflow_password: str = field(default="admin", repr=False)
    airflow_timeout_s: float = 10.0
    airflow_python: Path | None = None
    dags_folder: Path | None = None
    ollama_host: str | None = None
    ollama_model: str = "llama3.1"
    chroma_host: str | None = None
    chroma_port: int = 8000
    poll_interval_s: float = 60.0
    serve_host: str = "127.0.0.1"
    serve_port: int = 28090
    api_token: str | None = field(default=None, repr=False)
    slack_webhook_url: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    unpause_new_dags: bool = False
    model_cache: Path | None = None
    learned_docs_dir: Path | None = None
    min_success_rate: float = 0.8
    source: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def state_db(self) -> Path:
        return self.home / "state.db"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def models_dir(self) -> Path:
        """Where the ONNX export and router caches live (shareable between homes)."""
        return self.model_cache or self.home / "models"

    @property
    def repos_dir(self) -> Path:
        return self.home / "repos"

    @property
    def releases_dir(self) -> Path:
        return self.home / "releases"

    @property
    def known_hosts(self) -> Path:
        """SSH host keys of Git servers, accepted on first contact (never the user's ~/.ssh)."""
        return self.home / "ssh" / "known_hosts"

    @property
    def history_file(self) -> Path:
        return self.home / "history"

    @property
    def learned_docs(self) -> Path:
        """Where ``assistant learn`` writes the pages it proposes (once approved)."""
        return self.learned_docs_dir or self.home / "knowledge" / "failure-causes"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.ollama_host)


# name -> (env var, toml section, toml key, secret?)
FIELDS: dict[str, tuple[str, str, str, bool]] = {
    "airflow_url": ("ASSISTANT_AIRFLOW_URL", "airflow", "url", False),
    "airflow_username": ("ASSISTANT_AIRFLOW_USERNAME", "airflow", "username", False),
    "airflow_password": ("ASSISTANT_AIRFLOW_PASSWORD", "airflow", "password", True),
    "airflow_timeout_s": ("ASSISTANT_AIRFLOW_TIMEOUT", "airflow", "timeout_s", False),
    "airflow_python": ("ASSISTANT_AIRFLOW_PYTHON", "airflow", "python", False),
    "dags_folder": ("ASSISTANT_DAGS_FOLDER", "airflow", "dags_folder", False),
    "unpause_new_dags": ("ASSISTANT_UNPAUSE_NEW_DAGS", "airflow", "unpause_new_dags", False),
    "ollama_host": ("ASSISTANT_OLLAMA_HOST", "llm", "ollama_host", False),
    "ollama_model": ("ASSISTANT_OLLAMA_MODEL", "llm", "ollama_model", False),
    "chroma_host": ("ASSISTANT_CHROMA_HOST", "chroma", "host", False),
    "chroma_port": ("ASSISTANT_CHROMA_PORT", "chroma", "port", False),
    "poll_interval_s": ("ASSISTANT_POLL_INTERVAL", "serve", "poll_interval_s", False),
    "serve_host": ("ASSISTANT_SERVE_HOST", "serve", "host", False),
    "serve_port": ("ASSISTANT_SERVE_PORT", "serve", "port", False),
    "api_token": ("ASSISTANT_API_TOKEN", "serve", "api_token", True),
    "slack_webhook_url": ("ASSISTANT_SLACK_WEBHOOK_URL", "notify", "slack_webhook_url", True),
    "secret_key": ("ASSISTANT_SECRET_KEY", "secrets", "key", True),
    "model_cache": ("ASSISTANT_MODELS_DIR", "retrieval", "models_dir", False),
    "learned_docs_dir": ("ASSISTANT_LEARNED_DOCS_DIR", "learning", "docs_dir", False),
    "min_success_rate": ("ASSISTANT_MIN_SUCCESS_RATE", "learning", "min_success_rate", False),
}


def _coerce(name: str, raw: Any, target: type | str) -> Any:
    kind = str(target)
    try:
        if "bool" in kind:
            if isinstance(raw, bool):
                return raw
            value = str(raw).strip().lower()
            if value in {"1", "true", "yes", "on"}:
                return True
            if value in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if "float" in kind:
            return float(raw)
        if "int" in kind:
            return int(raw)
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        return str(raw)
    except ValueError as exc:
        env_name = FIELDS[name][0]
        raise ConfigError(
            f"invalid value {raw!r} for {name}",
            f"set {env_name} (or [{FIELDS[name][1]}] {FIELDS[name][2]} in config.toml) to a valid {kind}",
        ) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix the TOML syntax or remove the file") from exc


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build the effective configuration from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    home = Path(env["ASSISTANT_HOME"]).expanduser() if env.get("ASSISTANT_HOME") else _default_home(env)
    toml_path = Path(env.get("ASSISTANT_CONFIG") or home / "config.toml").expanduser()
    home_source = "env ASSISTANT_HOME" if env.get("ASSISTANT_HOME") else "default"
    toml = _read_toml(toml_path)
    types = {f.name: f.type for f in fields(Config)}
    values: dict[str, Any] = {}
    source: dict[str, str] = {"home": home_source}
    for name, (env_name, section, key, _secret) in FIELDS.items():
        if env.get(env_name, "") != "":
            values[name] = _coerce(name, env[env_name], types[name])
            source[name] = f"env {env_name}"
        elif key in toml.get(section, {}):
            values[name] = _coerce(name, toml[section][key], types[name])
            source[name] = f"{toml_path.name} [{section}] {key}"
    if _CHECKOUT_AIRFLOW.is_dir():
        for name, default in (
            ("airflow_python", _CHECKOUT_AIRFLOW / "venv" / "bin" / "python"),
            ("dags_folder", _CHECKOUT_AIRFLOW / "dags"),
        ):
            if name not in values:
                values[name] = default
                source[name] = "local Airflow of this checkout"
    if "learned_docs_dir" not in values and (_CHECKOUT_KNOWLEDGE.parent / ".git").exists():
        values["learned_docs_dir"] = _CHECKOUT_KNOWLEDGE / "failure-causes"
        source["learned_docs_dir"] = "knowledge/ of this checkout"
    rate = values.get("min_success_rate", Config.min_success_rate)
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(
            f"min_success_rate must be between 0 and 1, got {rate}",
            "set ASSISTANT_MIN_SUCCESS_RATE (or [learning] min_success_rate) to e.g. 0.8 for 80%",
        )
    values["airflow_url"] = str(values.get("airflow_url", Config.airflow_url)).rstrip("/")
    return Config(home=home, source=source, **values)


def describe(config: Config) -> list[tuple[str, str, str]]:
    """(name, value, source) rows with secrets redacted, for ``assistant config``."""
    rows = [("home", str(config.home), config.source.get("home", "default"))]
    for name, (_env, _section, _key, secret) in FIELDS.items():
        value = getattr(config, name)
        if secret and value:
            shown = "****** (set)"
        elif value is None:
            shown = "(not set)"
        else:
            shown = str(value)
        rows.append((name, shown, config.source.get(name, "default")))
    return rows
