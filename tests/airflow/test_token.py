from __future__ import annotations

import base64
import json

import pytest

from assistant.airflow.token import TokenProvider, _expiry
from assistant.errors import AirflowAuthError, AirflowUnavailable


def _jwt(exp: float) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"header.{payload}.signature"


def test_expiry_is_read_from_the_jwt() -> None:
    assert _expiry(_jwt(1234.0)) == 1234.0
    assert _expiry("not-a-jwt") is None


def test_token_is_refreshed_before_expiry() -> None:
    now = [1000.0]
    issued: list[str] = []
    provider = TokenProvider("http://unused", "u", "p", clock=lambda: now[0])

    def fetch() -> str:
        issued.append(_jwt(now[0] + 300))
        return issued[-1]

    provider._fetch = fetch  # type: ignore[method-assign]
    first = provider.token()
    assert provider.token() == first
    now[0] += 250  # within the refresh margin of the 300 s lifetime
    assert provider.token() != first
    assert len(issued) == 2


def test_unreachable_airflow_names_url_and_fix() -> None:
    provider = TokenProvider("http://127.0.0.1:9", "u", "p", timeout_s=2)
    with pytest.raises(AirflowUnavailable) as info:
        provider.token()
    assert "127.0.0.1:9" in info.value.message
    assert "make airflow-up" in info.value.hint


@pytest.mark.integration
def test_wrong_password_is_an_auth_error(live_airflow: dict[str, str]) -> None:
    provider = TokenProvider(live_airflow["ASSISTANT_AIRFLOW_URL"], "admin", "wrong-password")
    with pytest.raises(AirflowAuthError) as info:
        provider.token()
    assert "wrong-password" not in str(info.value)
    assert "ASSISTANT_AIRFLOW_PASSWORD" in info.value.hint
