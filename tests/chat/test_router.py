"""The intent router with the real embedding model (ONNX export made once per session)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy
import pytest

from assistant.chat.router import INTENTS, IntentRouter, Route
from assistant.chat.router_fit import REJECTION_TARGET, THRESHOLD_GRID
from assistant.retrieval.embedder import Embedder, OnnxEmbedder, export_onnx, onnx_path, source_model_dir
from tests.chat.settings_requests import PARTIAL_SETTINGS_REQUESTS, SETTINGS_REQUESTS


@pytest.fixture(scope="session")
def router_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("router-models")
    return export_onnx(source_model_dir(), onnx_path(models, source_model_dir()))


@pytest.fixture(scope="session")
def real_embedder(router_model_file: Path) -> Embedder:
    return OnnxEmbedder(router_model_file, source_model_dir() / "tokenizer.json")


@pytest.fixture(scope="session")
def router_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("router-cache")


@pytest.fixture(scope="session")
def router(real_embedder: Embedder, router_cache: Path) -> IntentRouter:
    return IntentRouter(real_embedder, router_cache)


class CountingEmbedder:
    """The real embedder, counting how many texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("trigger aws_deploy", "run_dag", {"dag_id": "aws_deploy"}),
        ("trigerr aws_deploy", "run_dag", {"dag_id": "aws_deploy"}),
        ("RUN NIGHTLY_BACKUP", "run_dag", {"dag_id": "NIGHTLY_BACKUP"}),
        ("please kick off invoice_pipeline", "run_dag", {"dag_id": "invoice_pipeline"}),
        ("did payroll_daily succeed?", "dag_status", {"dag_id": "payroll_daily"}),
        ("SHOW THE LOGS OF CRM_SYNC", "dag_logs", {"dag_id": "CRM_SYNC"}),
        ("stop tracking the billing repo", "remove_repo", {"name": "billing"}),
        ("which repositories do you know?", "list_repos", {}),
        ("list the personal dags", "list_dags", {"namespace": "personal"}),
        ("roll back growth to commit 1a2b3c4", "rollback", {"target": "growth", "version": "1a2b3c4"}),
        ("give airbyte_sync 4 stars", "marketplace_rate", {"name": "airbyte_sync", "stars": 4}),
        ("how do I set retries on a task?", "question", {}),
        ("what can you do?", "help", {}),
        # phrasings no example has: polite, indirect, typos, Airflow terms, assistant questions
        ("could you start invoices_eu for me please", "run_dag", {"dag_id": "invoices_eu"}),
        ("is ltv_model gonna break if I kick it off now", "predict_failure", {"dag_id": "ltv_model"}),
        ("hwo did marts_refresh do", "dag_status", {"dag_id": "marts_refresh"}),
        ("what does depends_on_past=True do", "question", {}),
        ("what is a ShortCircuitOperator", "question", {}),
        ("I don't want to follow the pipes repo any more", "remove_repo", {"name": "pipes"}),
        ("what is this assistant able to do", "help", {}),
    ],
)
def test_routes_messages_to_intents_and_slots(
    router: IntentRouter, text: str, intent: str, slots: dict
) -> None:
    route = router.route(text)
    assert (route.intent, route.slots) == (intent, slots)
    assert 0.0 <= route.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        # misroutes found by the documentation review: how-to questions about the assistant itself
        "how do I suppress a security finding?",
        "how do I suppress a finding of the security scan?",
        "how do I configure a github webhook?",
        "what does the security scan check?",
        "how do I roll back a repository to an earlier commit?",
        "how does rollback work",
        "what does validation check for",
        # the same forms, in words no example has
        "could you explain how a repository gets redeployed after a push",
        "is it possible to skip one validation rule for a file?",
        "how would I stop tracking a repository?",
        "why does the assistant warn me before some runs?",
        "can I roll back a single dag?",
        "tell me how to add a repo",
    ],
)
def test_explanation_questions_naming_no_target_are_questions(router: IntentRouter, text: str) -> None:
    route = router.route(text)
    assert (route.intent, route.slots) == ("question", {})


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        # a target (commit, path, identifier) or the imperative keeps the action
        ("roll back etl to 3f9c2ab", "rollback", {"target": "etl", "version": "3f9c2ab"}),
        (
            "how do I roll back etl_daily to 3f9c2ab?",
            "rollback",
            {"target": "etl_daily", "version": "3f9c2ab"},
        ),
        ("is ./dags/etl.py safe?", "validate", {"target": "./dags/etl.py"}),
        ("is my dag safe? scan ./dags/etl.py", "validate", {"target": "./dags/etl.py"}),
        ("will aws_deploy fail", "predict_failure", {"dag_id": "aws_deploy"}),
        ("can I see the logs of etl_daily", "dag_logs", {"dag_id": "etl_daily"}),
        ("why did etl_daily fail?", "dag_logs", {"dag_id": "etl_daily"}),
        ("rollback etl to v1.4.0", "rollback", {"target": "etl", "version": "v1.4.0"}),
        # an imperative is a request, however close its words are to the questions'
        (
            "trigger the backup dag with mode set to full",
            "run_dag",
            {"dag_id": "backup", "conf": {"mode": "full"}},
        ),
        (
            "trigger nightly_backup with retries set to 2",
            "run_dag",
            {"dag_id": "nightly_backup", "conf": {"retries": 2}},
        ),
    ],
)
def test_requests_with_a_target_keep_their_action(
    router: IntentRouter, text: str, intent: str, slots: dict
) -> None:
    route = router.route(text)
    assert (route.intent, route.slots) == (intent, slots)


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        *SETTINGS_REQUESTS,
        *PARTIAL_SETTINGS_REQUESTS,
        # words no example has
        (
            "could you have the payments repo follow the hotfix branch",
            {"name": "payments", "branch": "hotfix"},
        ),
        (
            "point crm at git@github.com:acme/crm-v2.git",
            {"name": "crm", "url": "git@github.com:acme/crm-v2.git"},
        ),
    ],
)
def test_repository_settings_are_their_own_intent(router: IntentRouter, text: str, slots: dict) -> None:
    route = router.route(text)
    assert (route.intent, route.slots) == ("repo_settings", slots)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # near misses: the words of repo_settings, the request of another intent
        ("add https://github.com/acme/etl.git on the develop branch", "add_repo"),
        ("connect git@github.com:acme/ml.git to the company namespace", "add_repo"),
        ("I pushed a fix to ml-repo, deploy it again", "sync_repo"),
        ("deploy the newest commit of crm", "sync_repo"),
        ("revert ml-repo to commit 9f8e7d6", "rollback"),
        ("roll analytics back to the previous release", "rollback"),
        ("which branch does each repo track?", "list_repos"),
        ("list the dags in the company namespace", "list_dags"),
        ("how do I change the branch a repository tracks?", "question"),
    ],
)
def test_near_misses_of_repository_settings_keep_their_intent(
    router: IntentRouter, text: str, intent: str
) -> None:
    assert router.route(text).intent == intent


def test_a_date_in_words_is_conf_not_the_dag(router: IntentRouter) -> None:
    route = router.route("run my etl dag with date 2024-01-01")
    assert route.intent == "run_dag"
    assert route.slots["conf"] == {"date": "2024-01-01"}
    assert route.slots.get("dag_id", route.mention) == "etl"


@pytest.mark.parametrize(
    "text",
    [
        "how do I bake sourdough bread",
        "how do I roll back a driver update on windows",
        "what does a carburetor do",
        "how does a dishwasher work",
    ],
)
def test_everyday_how_to_questions_stay_out_of_scope(router: IntentRouter, text: str) -> None:
    assert router.route(text).intent == "unknown"


@pytest.mark.parametrize(
    "text", ["what's the weather in Paris", "order me a pizza", "who wrote war and peace"]
)
def test_out_of_scope_messages_are_unknown(router: IntentRouter, text: str) -> None:
    route = router.route(text)
    assert route.intent == "unknown"
    assert route.slots == {}


def test_descriptions_reach_the_dialog_as_a_mention(router: IntentRouter) -> None:
    route = router.route("run my deployment workflow")
    assert (route.intent, route.slots, route.mention) == ("run_dag", {}, "deployment")
    route = router.route("did the nightly backup finish")
    assert (route.intent, route.slots, route.mention) == ("dag_status", {}, "nightly backup")


def test_route_many_keeps_order_and_matches_route(router: IntentRouter) -> None:
    texts = ["status", "", "list dags", "tell me a joke", "sync etl"]
    many = router.route_many(texts)
    assert [r.intent for r in many] == [router.route(t).intent for t in texts]
    assert many[1] == Route("unknown", {}, 0.0)
    assert many[0].intent == "dag_status"


def test_decision_is_fitted_and_cached(
    real_embedder: Embedder, router: IntentRouter, router_cache: Path
) -> None:
    decision = router.decision
    assert decision.threshold in THRESHOLD_GRID
    # cross-validated over the examples: the constraint the fit enforces, and a floor on accuracy
    assert decision.held_out_rejection >= REJECTION_TARGET
    assert decision.held_out_accuracy >= 0.85
    assert list((router_cache / "router").glob("router-*.npz"))
    counting = CountingEmbedder(real_embedder)
    again = IntentRouter(counting, router_cache)
    assert again.decision == decision
    assert counting.texts == 1  # only the probe that identifies the model; the examples came from disk
    assert again.route("trigger aws_deploy").intent == "run_dag"
    assert len(INTENTS) == 19


@pytest.fixture
def home_with_model(isolated_env: Path, router_model_file: Path, router_cache: Path) -> Path:
    """ASSISTANT_HOME with the ONNX export and the router cache in models/, as after a first use."""
    models = isolated_env / "models"
    models.mkdir(parents=True)
    try:
        os.link(router_model_file, models / router_model_file.name)
    except OSError:
        shutil.copyfile(router_model_file, models / router_model_file.name)
    shutil.copytree(router_cache / "router", models / "router")
    return isolated_env


def test_route_command_prints_one_json_object(home_with_model: Path, run_cli) -> None:
    result = run_cli("route", 'trigger weekly_rollup with {"full": true}')
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert list(printed) == ["intent", "slots", "confidence"]
    assert printed["intent"] == "run_dag"
    assert printed["slots"] == {"dag_id": "weekly_rollup", "conf": {"full": True}}


def test_route_command_reads_json_lines_from_stdin(home_with_model: Path, run_cli) -> None:
    result = run_cli(
        "route", input="RUN NIGHTLY_BACKUP\nrate slack_daily_digest 5 stars\nwhat's the weather\n"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["intent"] for line in lines] == ["run_dag", "marketplace_rate", "unknown"]
    assert lines[1]["slots"] == {"name": "slack_daily_digest", "stars": 5}
    assert lines[2]["slots"] == {}


def test_stale_caches_are_pruned_and_fresh_ones_kept(tmp_path: Path) -> None:
    from assistant.chat.router import STALE_CACHE_SECONDS, _prune_stale_caches

    cache = tmp_path / "router"
    cache.mkdir()
    current, recent, stale = (cache / f"router-v5-{n}-m.npz" for n in ("a", "b", "c"))
    for path in (current, recent, stale):
        path.write_bytes(b"x")
    old = time.time() - STALE_CACHE_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(current, (old, old))  # the one just written is never removed
    _prune_stale_caches(current)
    assert sorted(p.name for p in cache.iterdir()) == [current.name, recent.name]
