"""JWT access tokens from Airflow's ``POST /auth/token`` (simple auth manager and others)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from assistant.errors import AirflowAuthError, AirflowUnavailable

REFRESH_MARGIN_S = 60.0


def _expiry(token: str) -> float | None:
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return float(claims["exp"])
    except (IndexError, KeyError, ValueError, TypeError):
        return None


class TokenProvider:
    """Fetches a token, keeps it in memory only, and refreshes it before it expires."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url.rstrip("/")
        self._username = username
        self._password = password
        self._timeout_s = timeout_s
        self._clock = clock
        self._token: str | None = None
        self._expires_at: float | None = None

    def token(self) -> str:
        if self._token is None or (
            self._expires_at is not None and self._clock() > self._expires_at - REFRESH_MARGIN_S
        ):
            self._token = self._fetch()
            self._expires_at = _expiry(self._token)
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> str:
        body = json.dumps({"username": self._username, "password": self._password}).encode()
        request = urllib.request.Request(
            f"{self._url}/auth/token",
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                data = json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401, 403):
                raise AirflowAuthError(
                    f"Airflow at {self._url} rejected the credentials of user {self._username!r}",
                    "set ASSISTANT_AIRFLOW_USERNAME and ASSISTANT_AIRFLOW_PASSWORD "
                    "(the local Airflow of `make airflow-up` uses admin/admin)",
                ) from None
            raise AirflowUnavailable(
                f"Airflow at {self._url} answered {exc.code} to POST /auth/token",
                "check the Airflow API server log; restart it with `make airflow-down airflow-up`",
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AirflowUnavailable(
                f"cannot reach Airflow at {self._url} ({_reason(exc)})",
                "start it with `make airflow-up`, or set ASSISTANT_AIRFLOW_URL to where it runs",
            ) from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise AirflowAuthError(
                f"Airflow at {self._url} returned no access token", "check that its auth manager issues JWTs"
            )
        return str(token)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc.__class__.__name__)
