"""Slot rules, typo correction and the decision's pure parts (no model involved)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.chat.router_data import INTENT_SLOTS, load_examples, vocabulary
from assistant.chat.router_fit import Decision, decide, misspell, split_held_out
from assistant.chat.router_text import TypoCorrector
from assistant.chat.slots import extract_slots

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corrector() -> TypoCorrector:
    return TypoCorrector(vocabulary())


def test_add_repo_reads_url_namespace_branch_and_name(corrector: TypoCorrector) -> None:
    slots = extract_slots(
        "add_repo", "connect git@github.com:acme/x.git to COMPANY on branch develop as x-flows", corrector
    )
    assert slots == {
        "url": "git@github.com:acme/x.git",
        "namespace": "company",
        "branch": "develop",
        "name": "x-flows",
    }


def test_add_repo_accepts_local_paths_and_tags(corrector: TypoCorrector) -> None:
    assert extract_slots("add_repo", "register /srv/git/flows on tag v1.2.0", corrector) == {
        "url": "/srv/git/flows",
        "branch": "v1.2.0",
    }


def test_absent_slots_are_omitted(corrector: TypoCorrector) -> None:
    assert extract_slots("add_repo", "add my workflows repo", corrector) == {}
    assert extract_slots("run_dag", "run my deployment workflow", corrector) == {}


def test_conf_is_parsed_to_an_object(corrector: TypoCorrector) -> None:
    slots = extract_slots("run_dag", 'trigger etl_daily with {"date": "2024-01-01", "full": true}', corrector)
    assert slots == {"dag_id": "etl_daily", "conf": {"date": "2024-01-01", "full": True}}
    assert extract_slots("run_dag", "run etl with env=prod retries=3", corrector)["conf"] == {
        "env": "prod",
        "retries": 3,
    }


def test_dag_id_is_kept_as_written(corrector: TypoCorrector) -> None:
    assert extract_slots("run_dag", "RUN NIGHTLY_BACKUP", corrector) == {"dag_id": "NIGHTLY_BACKUP"}
    assert extract_slots("dag_status", "did nightly_backup succeed?", corrector) == {
        "dag_id": "nightly_backup"
    }


def test_logs_separate_task_from_dag(corrector: TypoCorrector) -> None:
    slots = extract_slots("dag_logs", "show me the log of task extract in etl_daily", corrector)
    assert slots == {"dag_id": "etl_daily", "task_id": "extract"}


def test_rollback_reads_target_and_commit(corrector: TypoCorrector) -> None:
    assert extract_slots("rollback", "revert data-pipelines to commit 3f9c2ab", corrector) == {
        "target": "data-pipelines",
        "version": "3f9c2ab",
    }


@pytest.mark.parametrize(
    ("text", "stars"),
    [("rate slack_daily_digest 5 stars", 5), ("rate slack_daily_digest three stars", 3), ("rate x_y 4/5", 4)],
)
def test_stars_are_integers(corrector: TypoCorrector, text: str, stars: int) -> None:
    slots = extract_slots("marketplace_rate", text, corrector)
    assert slots["stars"] == stars
    assert isinstance(slots["stars"], int)


def test_stars_out_of_range_are_dropped(corrector: TypoCorrector) -> None:
    assert "stars" not in extract_slots("marketplace_rate", "rate slack_daily_digest 9 stars", corrector)


def test_validate_target_is_a_path_or_a_repo(corrector: TypoCorrector) -> None:
    assert extract_slots("validate", "is my dag safe? scan ./dags/etl.py", corrector) == {
        "target": "./dags/etl.py"
    }
    assert extract_slots("validate", "check the billing repo", corrector) == {"target": "billing"}


def test_search_query_drops_the_lead_in(corrector: TypoCorrector) -> None:
    assert extract_slots("marketplace_search", "find a shared dag that syncs s3 buckets", corrector) == {
        "query": "syncs s3 buckets"
    }


def test_generate_description_is_the_request(corrector: TypoCorrector) -> None:
    text = "I need to deploy to AWS, backup to S3, and send a Slack notification"
    assert extract_slots("generate_dag", text, corrector) == {"description": text}


def test_typos_are_corrected_but_names_are_not(corrector: TypoCorrector) -> None:
    assert corrector.routing_text("TRIGERR aws_deploy") == "trigger aws_deploy"
    assert corrector.correct("lgos") == "logs"
    assert corrector.correct("etl") is None
    assert corrector.routing_text("add https://x.org/a.git") == "add url"


def test_every_intent_has_examples_and_the_bench_set_is_kept_apart() -> None:
    examples = load_examples()
    assert {e.intent for e in examples} == set(INTENT_SLOTS)
    known = {e.text.lower() for e in examples}
    labelled = [
        json.loads(line) for line in (ROOT / "bench/data/route_labelled.jsonl").read_text().splitlines()
    ]
    assert len(labelled) >= 150
    assert sum(1 for row in labelled if row["intent"] == "unknown") >= 15
    assert {row["intent"] for row in labelled} == set(INTENT_SLOTS)
    assert not [row["text"] for row in labelled if row["text"].lower() in known]


def test_held_out_split_takes_every_fourth_example_of_each_intent() -> None:
    train, held = split_held_out([0, 0, 0, 0, 1, 1, 1, 1, 1])
    assert held == [3, 7]
    assert sorted(train + held) == list(range(9))
    assert misspell("trigger nightly backup") == "trgiger nightly backup"


def test_decide_rejects_below_threshold_and_when_unknown_is_closest() -> None:
    decision = Decision(k=1, threshold=0.5, margin=0.05)
    unknown = 2
    assert decide(np.array([0.9, 0.3, 0.2]), unknown, decision)[0] == 0
    assert decide(np.array([0.4, 0.3, 0.2]), unknown, decision)[0] == unknown
    assert decide(np.array([0.7, 0.68, 0.2]), unknown, decision)[0] == unknown  # within the margin
    assert decide(np.array([0.7, 0.3, 0.8]), unknown, decision)[0] == unknown
