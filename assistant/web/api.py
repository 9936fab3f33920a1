"""The REST API under ``/api/v1``: a thin adapter over :class:`~assistant.service.Assistant`.

Every endpoint calls one service method and returns its result as JSON (the same shapes as the
commands' ``--json``); errors become ``{"error", "hint"}`` with a status code (see
:mod:`assistant.web.errors`). Every request needs ``Authorization: Bearer <token>``
(:mod:`assistant.web.guard`). Only :func:`assistant.web.app.create_app` imports this module, so
FastAPI and pydantic load only when ``serve`` starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from assistant.cli.output import to_jsonable
from assistant.web.errors import install_handlers
from assistant.web.guard import ApiGuard
from assistant.web.sessions import ChatSessions

if TYPE_CHECKING:
    from assistant.airflow.models import DagRunInfo
    from assistant.gitops.models import Repo
    from assistant.service import Assistant

Namespace = Literal["company", "community", "personal"]
DAG_COLLECTIONS = ("task_logs", "outcomes", "dags")  # what `search --dag` searches
LAST_RUN_WINDOW = 100  # recent runs (of every DAG) that `GET /dags?last_run=true` looks at


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatIn(_Body):
    message: str = Field(min_length=1, max_length=10_000, description="What the user typed.")
    session: str | None = Field(
        default=None, max_length=64, description="The session of an earlier reply; omit to start one."
    )


class TriggerIn(_Body):
    conf: dict[str, Any] = Field(default_factory=dict, description="The run configuration.")


class GenerateIn(_Body):
    description: str = Field(min_length=1, max_length=10_000, description="The workflow, in words.")
    repo: str | None = Field(default=None, description="Commit and push into this registered repo.")


class SyncIn(_Body):
    force: bool = Field(default=False, description="Validate and publish again even when deployed.")


def create_api(
    assistant: Assistant, *, token: str, max_body_bytes: int, sessions: ChatSessions | None = None
) -> FastAPI:
    api = FastAPI(
        title="Airflow assistant API",
        version="1",
        description="Chat, DAGs, runs, logs, failure risk, answers, generation and repositories.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_handlers(api)
    api.add_middleware(ApiGuard, token=token, max_body_bytes=max_body_bytes)
    chats = sessions or ChatSessions(assistant.conversation)

    # -- chat -----------------------------------------------------------------------------------

    @api.post("/chat", tags=["chat"])
    def chat(body: ChatIn) -> dict[str, Any]:
        """One message of a conversation; the reply says which session to send the next one to."""
        with chats.use(body.session) as conversation:
            reply = conversation.handle(body.message)
        return {"session": conversation.session_id, **reply.to_dict()}

    @api.delete("/chat/{session}", status_code=204, tags=["chat"])
    def end_chat(session: str) -> Response:
        chats.end(session)
        return Response(status_code=204)

    # -- DAGs and runs --------------------------------------------------------------------------

    @api.get("/dags", tags=["dags"])
    def dags(namespace: Namespace | None = None, last_run: bool = False) -> dict[str, Any]:
        """The DAGs Airflow knows; ``last_run`` adds each one's latest run among the recent ones."""
        found = [to_jsonable(d) for d in assistant.dags(namespace)]
        if last_run:
            latest: dict[str, DagRunInfo] = {}
            for run in assistant.status(None, LAST_RUN_WINDOW):
                latest.setdefault(run.dag_id, run)
            for dag in found:
                run = latest.get(dag["dag_id"])
                dag["last_run"] = _run_json(run) if run else None
        return {"dags": found}

    @api.get("/dags/{dag_id}/runs", tags=["dags"])
    def dag_runs(dag_id: str, limit: int = Query(10, ge=1, le=100)) -> dict[str, Any]:
        return {"runs": [_run_json(r) for r in assistant.status(dag_id, limit)]}

    @api.post("/dags/{dag_id}/runs", status_code=201, tags=["dags"])
    def trigger(dag_id: str, body: TriggerIn | None = None) -> dict[str, Any]:
        """Start a run (unpausing the DAG if needed); poll ``GET .../runs/{run_id}`` for its state."""
        return _run_json(assistant.trigger(dag_id, body.conf if body else {}))

    @api.get("/dags/{dag_id}/runs/{run_id}", tags=["dags"])
    def run_status(dag_id: str, run_id: str) -> dict[str, Any]:
        """One run: its state, its tasks, and the last log lines of each failed task."""
        from assistant.tools import runs

        airflow = assistant.components.airflow
        report = runs.report(airflow, airflow.get_run(dag_id, run_id))
        return {**to_jsonable(report), "run": _run_json(report.run)}

    @api.get("/dags/{dag_id}/runs/{run_id}/logs", tags=["dags"])
    def run_logs(dag_id: str, run_id: str, task: str | None = None) -> dict[str, Any]:
        return _logs(assistant, dag_id, run_id, task)

    @api.get("/dags/{dag_id}/logs", tags=["dags"])
    def latest_logs(dag_id: str, run: str | None = None, task: str | None = None) -> dict[str, Any]:
        """Task logs of run ``run`` (default: the latest run), of every task or of ``task``."""
        return _logs(assistant, dag_id, run, task)

    @api.get("/dags/{dag_id}/risk", tags=["dags"])
    def risk(dag_id: str) -> dict[str, Any]:
        """How likely the next run is to fail, why, and what to do (``assistant predict``)."""
        return to_jsonable(assistant.predict(dag_id))

    # -- knowledge and generation ---------------------------------------------------------------

    @api.get("/answer", tags=["knowledge"])
    def answer(q: str = Query(min_length=1, max_length=2000)) -> dict[str, Any]:
        """An answer from the indexed documentation, with its citations."""
        return to_jsonable(assistant.answer(q))

    @api.get("/search", tags=["knowledge"])
    def search(
        q: str = Query(min_length=1, max_length=2000),
        k: int = Query(5, ge=1, le=100),
        dag: str | None = None,
    ) -> dict[str, Any]:
        """Ranked passages (``assistant search``); with ``dag``, from that DAG's runs and code."""
        collections = DAG_COLLECTIONS if dag else ("docs",)
        return {"hits": [h.as_json() for h in assistant.search(q, k, collections, dag)]}

    @api.post("/generate", tags=["generation"])
    def generate(body: GenerateIn) -> dict[str, Any]:
        """A validated DAG from a description: the JSON of ``assistant generate --json``."""
        return assistant.generate(body.description, repo=body.repo).to_dict()

    # -- repositories ---------------------------------------------------------------------------

    @api.get("/repos", tags=["repos"])
    def repos() -> dict[str, Any]:
        return {"repos": [_repo_json(r) for r in assistant.repos()]}

    @api.post("/repos/sync", tags=["repos"])
    def sync_all(body: SyncIn | None = None, wait: bool = True) -> dict[str, Any]:
        """Deploy the newest commit of every repository."""
        return _outcomes(assistant.repo_sync(None, wait=wait, force=bool(body and body.force)))

    @api.post("/repos/{name}/sync", tags=["repos"])
    def sync_one(name: str, body: SyncIn | None = None, wait: bool = True) -> dict[str, Any]:
        """Deploy the newest commit of repository ``name``."""
        return _outcomes(assistant.repo_sync(name, wait=wait, force=bool(body and body.force)))

    return api


def _run_json(run: DagRunInfo) -> dict[str, Any]:
    return {**to_jsonable(run), "duration_s": run.duration_s}


def _logs(assistant: Assistant, dag_id: str, run_id: str | None, task: str | None) -> dict[str, Any]:
    run, logs = assistant.logs(dag_id, run_id, task)
    return {"run": _run_json(run), "logs": to_jsonable(logs)}


def _repo_json(repo: Repo) -> dict[str, Any]:
    """As ``assistant repo list --json``: no credentials in the URL, no policy text."""
    from assistant.gitops.urls import redact

    data = {k: v for k, v in to_jsonable(repo).items() if k != "policy_toml"}
    data.update(url=redact(repo.url), state=repo.display_state, policy_set=repo.policy_toml is not None)
    return data


def _outcomes(outcomes: list[Any]) -> dict[str, Any]:
    return {
        "ok": all(o.ok for o in outcomes),
        "outcomes": [{**to_jsonable(o), "ok": o.ok} for o in outcomes],
    }
