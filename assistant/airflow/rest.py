"""The Airflow adapter over apache-airflow-client (REST API v2).

Client library types and exceptions stop here: methods return the dataclasses of
:mod:`assistant.airflow.models` and raise the errors of :mod:`assistant.errors`.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from assistant.airflow import lazy_client
from assistant.airflow.logs import render_log
from assistant.airflow.models import DagInfo, DagRunInfo, Health, ImportErrorInfo, TaskInstanceInfo
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

T = TypeVar("T")
_START_HINT = "start it with `make airflow-up`, or set ASSISTANT_AIRFLOW_URL to where it runs"


class RestAirflow:
    """Talks to one Airflow API server. Each client API class is imported on first use."""

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
        self._apis: dict[str, Any] = {}

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

    def _api(self, name: str) -> Any:
        if name not in self._apis:
            lazy_client.load()
            module_name, class_name = _APIS[name]
            module = __import__(f"airflow_client.client.api.{module_name}", fromlist=[class_name])
            self._apis[name] = getattr(module, class_name)(self._client())
        else:
            self._client()  # refresh the token if it is near expiry
        return self._apis[name]

    def _call(self, fn: Callable[[], T], *, dag_id: str | None = None, run_id: str | None = None) -> T:
        from airflow_client.client import exceptions as exc_mod

        for attempt in (1, 2):
            try:
                return fn()
            except exc_mod.UnauthorizedException:
                if attempt == 1:
                    self._tokens.invalidate()
                    self._client()
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
            self._api("dag").get_dag(dag_id, _request_timeout=self._timeout_s)
            return True
        except Exception:
            return False

    def _not_found(self, dag_id: str) -> DagNotFound:
        try:
            known = [d.dag_id for d in self.list_dags(include_stale=True)]
        except AirflowError:
            known = []
        return DagNotFound(dag_id, difflib.get_close_matches(dag_id, known, n=3, cutoff=0.5))

    # -- health -------------------------------------------------------------------------------

    def health(self) -> Health:
        import json
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
        api = self._api("dag")
        dags: list[DagInfo] = []
        offset = 0
        while True:
            page = self._call(
                lambda offset=offset: api.get_dags(
                    limit=100,
                    offset=offset,
                    exclude_stale=not include_stale,
                    _request_timeout=self._timeout_s,
                )
            )
            dags.extend(_dag(d) for d in page.dags)
            offset += len(page.dags)
            if not page.dags or offset >= page.total_entries:
                return dags

    def get_dag(self, dag_id: str) -> DagInfo:
        api = self._api("dag")
        return _dag(
            self._call(lambda: api.get_dag_details(dag_id, _request_timeout=self._timeout_s), dag_id=dag_id)
        )

    def set_paused(self, dag_id: str, paused: bool) -> DagInfo:
        from airflow_client.client.models.dag_patch_body import DAGPatchBody

        api = self._api("dag")
        body = DAGPatchBody(is_paused=paused)
        return _dag(
            self._call(lambda: api.patch_dag(dag_id, body, _request_timeout=self._timeout_s), dag_id=dag_id)
        )

    # -- runs ---------------------------------------------------------------------------------

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

        api = self._api("dag_run")
        body = TriggerDAGRunPostBody(conf=conf or {}, logical_date=None)
        run = self._call(
            lambda: api.trigger_dag_run(dag_id, body, _request_timeout=self._timeout_s), dag_id=dag_id
        )
        return _run(run)

    def get_run(self, dag_id: str, run_id: str) -> DagRunInfo:
        api = self._api("dag_run")
        run = self._call(
            lambda: api.get_dag_run(dag_id, run_id, _request_timeout=self._timeout_s),
            dag_id=dag_id,
            run_id=run_id,
        )
        return _run(run)

    def list_runs(self, dag_id: str | None = None, limit: int = 20) -> list[DagRunInfo]:
        api = self._api("dag_run")
        page = self._call(
            lambda: api.get_dag_runs(
                dag_id or "~", limit=limit, order_by=["-run_after"], _request_timeout=self._timeout_s
            ),
            dag_id=dag_id,
        )
        return [_run(r) for r in page.dag_runs]

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
        api = self._api("task_instance")
        page = self._call(
            lambda: api.get_task_instances(dag_id, run_id, limit=1000, _request_timeout=self._timeout_s),
            dag_id=dag_id,
            run_id=run_id,
        )
        return [
            TaskInstanceInfo(
                dag_id=ti.dag_id,
                run_id=ti.dag_run_id,
                task_id=ti.task_id,
                state=_state(ti.state),
                try_number=int(ti.try_number or 0),
                map_index=int(ti.map_index if ti.map_index is not None else -1),
                start_date=ti.start_date,
                end_date=ti.end_date,
                duration_s=ti.duration,
                operator=ti.operator,
            )
            for ti in page.task_instances
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The whole log of one try as text. The raw JSON is read because the generated models
        drop the structured fields (level, logger, error_detail) of each log line."""
        import json

        api = self._api("task_instance")
        response = self._call(
            lambda: api.get_log_without_preload_content(
                dag_id,
                run_id,
                task_id,
                max(try_number, 1),
                full_content=True,
                map_index=map_index,
                accept="application/json",
                _request_timeout=max(self._timeout_s, 30.0),
            ),
            dag_id=dag_id,
            run_id=run_id,
        )
        if response.status == 404:
            raise RunNotFound(
                f"no log for {task_id} try {try_number} in run {run_id}", "the task may not have run"
            )
        if response.status >= 400:
            raise AirflowUnavailable(
                f"Airflow answered {response.status} for the log of {task_id}", "see the Airflow log"
            )
        try:
            data = json.loads(response.data or b"{}")
        except ValueError:
            return response.data.decode("utf-8", "replace")
        return render_log(data.get("content") or [] if isinstance(data, dict) else data)

    # -- parsing ------------------------------------------------------------------------------

    def import_errors(self) -> list[ImportErrorInfo]:
        api = self._api("import_error")
        page = self._call(lambda: api.get_import_errors(limit=1000, _request_timeout=self._timeout_s))
        return [
            ImportErrorInfo(
                filename=e.filename,
                stacktrace=e.stack_trace,
                bundle_name=getattr(e, "bundle_name", None),
                timestamp=getattr(e, "timestamp", None),
            )
            for e in page.import_errors
        ]

    def reparse(self, file_token: str) -> None:
        api = self._api("dag_parsing")
        self._call(lambda: api.reparse_dag_file(file_token, _request_timeout=self._timeout_s))


_APIS = {
    "dag": ("dag_api", "DAGApi"),
    "dag_run": ("dag_run_api", "DagRunApi"),
    "task_instance": ("task_instance_api", "TaskInstanceApi"),
    "import_error": ("import_error_api", "ImportErrorApi"),
    "dag_parsing": ("dag_parsing_api", "DAGParsingApi"),
}


def _state(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _dag(d: Any) -> DagInfo:
    return DagInfo(
        dag_id=d.dag_id,
        is_paused=bool(d.is_paused),
        is_stale=bool(getattr(d, "is_stale", False)),
        tags=tuple(t.name for t in (d.tags or [])),
        owners=tuple(d.owners or ()),
        description=d.description,
        fileloc=d.fileloc,
        relative_fileloc=getattr(d, "relative_fileloc", None),
        bundle_name=getattr(d, "bundle_name", None),
        bundle_version=getattr(d, "bundle_version", None),
        has_import_errors=bool(getattr(d, "has_import_errors", False)),
        timetable_summary=getattr(d, "timetable_summary", None),
        file_token=getattr(d, "file_token", None),
        last_parsed_time=getattr(d, "last_parsed_time", None),
    )


def _run(r: Any) -> DagRunInfo:
    return DagRunInfo(
        dag_id=r.dag_id,
        run_id=r.dag_run_id,
        state=_state(r.state) or "unknown",
        logical_date=r.logical_date,
        start_date=r.start_date,
        end_date=r.end_date,
        run_after=getattr(r, "run_after", None),
        conf=dict(r.conf or {}),
        run_type=_state(getattr(r, "run_type", None)),
    )


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
