"""The Airflow adapter over apache-airflow-client (REST API v2).

It uses the client's ``ApiClient`` (authentication, serialisation, transport, its exception
types) with the v2 endpoints and maps the JSON to the dataclasses of
:mod:`assistant.airflow.models` (see :mod:`assistant.airflow.parse`). The generated API classes
and their ~700 pydantic models are not imported: building them costs ~0.5 s in every one-shot
command, and they drop fields the assistant needs (the structured fields of task logs).
Client types and exceptions stop here; callers see :mod:`assistant.errors` only.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from assistant.airflow import lazy_client, parse
from assistant.airflow.logs import render_log
from assistant.airflow.models import (
    ConnectionCheck,
    DagInfo,
    DagRunInfo,
    Health,
    ImportErrorInfo,
    TaskInstanceInfo,
)
from assistant.airflow.token import TokenProvider
from assistant.errors import (
    AirflowAuthError,
    AirflowError,
    AirflowUnavailable,
    DagNotFound,
    RunNotFound,
    RunTimeout,
    UsageError,
)

_START_HINT = "start it with `make airflow-up`, or set ASSISTANT_AIRFLOW_URL to where it runs"
_AUTH = ["OAuth2PasswordBearer", "HTTPBearer"]
Query = list[tuple[str, Any]]


class RestAirflow:
    """Talks to one Airflow API server."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._tokens = TokenProvider(self.url, username, password, timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._api_client: Any = None

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._api_client is None:
            lazy_client.load()
            from airflow_client.client.api_client import ApiClient
            from airflow_client.client.configuration import Configuration

            configuration = Configuration(host=self.url)
            configuration.retries = 0
            self._api_client = ApiClient(configuration)
        self._api_client.configuration.access_token = self._tokens.token()
        return self._api_client

    def _request(
        self,
        method: str,
        path: str,
        query: Query | None = None,
        body: dict[str, Any] | None = None,
        *,
        dag_id: str | None = None,
        run_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """One call: JSON in and out; a 401 refreshes the token once; errors translated here."""
        lazy_client.load()  # before any airflow_client import: its package __init__ loads everything
        from airflow_client.client.exceptions import ApiException

        def send() -> Any:
            client = self._client()
            headers = {"Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            params = client.param_serialize(
                method=method,
                resource_path=path,
                query_params=[(k, v) for k, v in (query or []) if v is not None],
                header_params=headers,
                body=body,
                auth_settings=_AUTH,
            )
            response = client.call_api(*params, _request_timeout=timeout_s or self._timeout_s)
            data = response.read()
            if response.status >= 400:
                ApiException.from_response(
                    http_resp=response, body=data.decode("utf-8", "replace"), data=None
                )
            return json.loads(data) if data else None

        return self._call(send, dag_id=dag_id, run_id=run_id)

    def _call(self, fn: Callable[[], Any], *, dag_id: str | None = None, run_id: str | None = None) -> Any:
        lazy_client.load()
        from airflow_client.client import exceptions as exc_mod

        for attempt in (1, 2):
            try:
                return fn()
            except exc_mod.UnauthorizedException:
                if attempt == 1:
                    self._tokens.invalidate()
                    continue
                raise AirflowAuthError(
                    f"Airflow at {self.url} refused the token (401)",
                    "check ASSISTANT_AIRFLOW_USERNAME / ASSISTANT_AIRFLOW_PASSWORD",
                ) from None
            except exc_mod.ForbiddenException:
                raise AirflowAuthError(
                    f"the Airflow user is not allowed to do this at {self.url} (403)",
                    "use an Airflow user with the Admin or Op role",
                ) from None
            except exc_mod.NotFoundException:
                if run_id is not None and dag_id is not None and self._dag_exists(dag_id):
                    raise RunNotFound(
                        f"DAG {dag_id!r} has no run {run_id!r}",
                        f"list its runs with `assistant status {dag_id}`",
                    ) from None
                if dag_id is not None:
                    raise self._not_found(dag_id) from None
                raise AirflowError(f"Airflow at {self.url} answered 404", "check the id you gave") from None
            except exc_mod.ApiException as exc:
                if exc.status in (400, 422):
                    raise UsageError(
                        f"Airflow rejected the request: {_detail(exc)}", "fix the input"
                    ) from None
                if exc.status == 409:
                    raise AirflowError(
                        f"Airflow reports a conflict: {_detail(exc)}", "retry in a second"
                    ) from None
                raise AirflowUnavailable(
                    f"Airflow at {self.url} failed with {exc.status}: {_detail(exc)}",
                    "see the Airflow log (.local/airflow/standalone.log); restart with "
                    "`make airflow-down airflow-up`",
                ) from None
            except AirflowError:
                raise
            except Exception as exc:  # urllib3 connection errors and timeouts
                if _is_connection_error(exc):
                    raise AirflowUnavailable(f"cannot reach Airflow at {self.url}", _START_HINT) from None
                raise
        raise AssertionError("unreachable")

    def _dag_exists(self, dag_id: str) -> bool:
        try:
            self._request("GET", f"/api/v2/dags/{_q(dag_id)}")
            return True
        except AirflowError:
            return False

    def _not_found(self, dag_id: str) -> DagNotFound:
        try:
            known = [d.dag_id for d in self.list_dags(include_stale=True)]
        except AirflowError:
            known = []
        return DagNotFound(dag_id, difflib.get_close_matches(dag_id, known, n=3, cutoff=0.5))

    # -- health -------------------------------------------------------------------------------

    def health(self) -> Health:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=self._timeout_s) as r:
                data = json.load(r)
        except (urllib.error.URLError, OSError, ValueError):
            raise AirflowUnavailable(f"cannot reach Airflow at {self.url}", _START_HINT) from None
        components = {
            name: str(part.get("status"))
            for name, part in data.items()
            if isinstance(part, dict) and part.get("status") is not None
        }
        ok = all(components.get(c) == "healthy" for c in ("metadatabase", "scheduler"))
        return Health(ok=ok, components=components)

    # -- DAGs ---------------------------------------------------------------------------------

    def list_dags(self, *, include_stale: bool = False) -> list[DagInfo]:
        dags: list[DagInfo] = []
        offset = 0
        while True:
            query: Query = [("limit", 100), ("offset", offset)]
            if not include_stale:
                query.append(("exclude_stale", "true"))
            page = self._request("GET", "/api/v2/dags", query)
            dags.extend(parse.dag(d) for d in page["dags"])
            offset += len(page["dags"])
            if not page["dags"] or offset >= page["total_entries"]:
                return dags

    def get_dag(self, dag_id: str) -> DagInfo:
        return parse.dag(self._request("GET", f"/api/v2/dags/{_q(dag_id)}/details", dag_id=dag_id))

    def set_paused(self, dag_id: str, paused: bool) -> DagInfo:
        body = {"is_paused": paused}
        return parse.dag(self._request("PATCH", f"/api/v2/dags/{_q(dag_id)}", body=body, dag_id=dag_id))

    # -- runs ---------------------------------------------------------------------------------

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        body = {"conf": conf or {}, "logical_date": None}
        return parse.run(
            self._request("POST", f"/api/v2/dags/{_q(dag_id)}/dagRuns", body=body, dag_id=dag_id)
        )

    def get_run(self, dag_id: str, run_id: str) -> DagRunInfo:
        path = f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}"
        return parse.run(self._request("GET", path, dag_id=dag_id, run_id=run_id))

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
        path = f"/api/v2/dags/{_q(dag_id or '~')}/dagRuns"
        page = self._request("GET", path, [("limit", limit), ("order_by", "-run_after")], dag_id=dag_id)
        return [parse.run(r) for r in page["dag_runs"]]

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float, poll_s: float = 0.5) -> DagRunInfo:
        deadline = self._clock() + timeout_s
        while True:
            run = self.get_run(dag_id, run_id)
            if run.finished:
                return run
            if self._clock() >= deadline:
                raise RunTimeout(
                    f"run {run_id} of {dag_id} is still {run.state} after {timeout_s:g}s",
                    f"wait longer with --timeout, or check it later with `assistant status {dag_id}`",
                )
            self._sleep(poll_s)

    # -- task instances and logs --------------------------------------------------------------

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        path = f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances"
        page = self._request("GET", path, [("limit", 1000)], dag_id=dag_id, run_id=run_id)
        return [parse.task_instance(t) for t in page["task_instances"]]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The whole log of one try as text, structured fields (level, logger, errors) included."""
        path = (
            f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances/{_q(task_id)}"
            f"/logs/{max(try_number, 1)}"
        )
        query: Query = [("full_content", "true"), ("map_index", map_index)]
        data = self._request(
            "GET", path, query, dag_id=dag_id, run_id=run_id, timeout_s=max(self._timeout_s, 30.0)
        )
        return render_log((data or {}).get("content") or [] if isinstance(data, dict) else data or [])

    def task_timeouts(self, dag_id: str) -> dict[str, float | None]:
        """Each task's ``execution_timeout`` in seconds (None where the task sets none)."""
        page = self._request("GET", f"/api/v2/dags/{_q(dag_id)}/tasks", dag_id=dag_id)
        return {t["task_id"]: parse.seconds(t.get("execution_timeout")) for t in page.get("tasks") or []}

    # -- connections ----------------------------------------------------------------------------

    def test_connection(self, conn_id: str) -> ConnectionCheck:
        """Airflow's test of a stored connection (its hook's ``test_connection``), run by Airflow.

        The secrets never travel: the test body names the connection and Airflow merges the
        hidden fields of the stored one. Not testable (``ok`` None): no such connection, testing
        disabled in Airflow (``[core] test_connection``), or a type whose hook has no test.
        """
        try:
            stored = self._request("GET", f"/api/v2/connections/{_q(conn_id)}")
        except (AirflowAuthError, UsageError) as exc:
            return ConnectionCheck(conn_id, None, exc.message)
        except AirflowError as exc:
            if "404" in exc.message:
                return ConnectionCheck(conn_id, None, f"Airflow has no connection {conn_id!r}")
            raise
        body = {key: stored.get(key) for key in _CONNECTION_FIELDS if stored.get(key) is not None}
        try:
            result = self._request(
                "POST", "/api/v2/connections/test", body=body, timeout_s=CONNECTION_TEST_TIMEOUT_S
            )
        except AirflowAuthError:
            return ConnectionCheck(
                conn_id, None, "Airflow does not test connections (set [core] test_connection = Enabled)"
            )
        except UsageError as exc:
            return ConnectionCheck(conn_id, None, exc.message)
        message = str((result or {}).get("message") or "")
        if not (result or {}).get("status") and _UNTESTABLE.search(message):
            return ConnectionCheck(conn_id, None, message)
        return ConnectionCheck(conn_id, bool((result or {}).get("status")), message)

    # -- parsing ------------------------------------------------------------------------------

    def import_errors(self) -> list[ImportErrorInfo]:
        page = self._request("GET", "/api/v2/importErrors", [("limit", 1000)])
        return [parse.import_error(e) for e in page["import_errors"]]

    def reparse(self, file_token: str) -> None:
        self._request("PUT", f"/api/v2/parseDagFile/{_q(file_token)}")


_CONNECTION_FIELDS = ("connection_id", "conn_type", "host", "port", "schema", "login", "extra")
CONNECTION_TEST_TIMEOUT_S = 15.0
# A hook without a test, or an unknown type: nothing is known about the connection then.
_UNTESTABLE = re.compile(r"(?i)not\s+(?:implemented|supported)|no\s+hook|unknown\s+hook|does\s+not\s+support")


def _q(part: str) -> str:
    return quote(part, safe="~")


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None) or ""
    try:
        import json

        data = json.loads(body)
        detail = data.get("detail", data) if isinstance(data, dict) else data
        return str(detail)[:300]
    except (ValueError, TypeError):
        return (str(body) or str(getattr(exc, "reason", "")))[:300]


def _is_connection_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(
        names
        & {
            "MaxRetryError",
            "NewConnectionError",
            "ConnectionError",
            "ProtocolError",
            "TimeoutError",
            "ReadTimeoutError",
        }
    ) or isinstance(exc, OSError)
