"""Slot rules, typo correction and the decision's pure parts (no model involved)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.chat.router_build import INTENTS, VectorCache, out_of_fold_scores
from assistant.chat.router_cues import cue_matrix
from assistant.chat.router_data import INTENT_SLOTS, Example, load_examples, vocabulary
from assistant.chat.router_domain import asks_about_airflow, domain_evidence
from assistant.chat.router_fit import (
    K_TIE,
    Decision,
    OutOfFold,
    decide,
    fit_decision,
    fold_assignment,
    misspell,
)
from assistant.chat.router_form import blocked_matrix, explains, imperative
from assistant.chat.router_text import TypoCorrector
from assistant.chat.slots import extract_slots, mention_of

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("run my etl dag with date 2024-01-01", {"conf": {"date": "2024-01-01"}}),  # "my etl": a mention
        ("run etl_daily with date 2024-01-01", {"dag_id": "etl_daily", "conf": {"date": "2024-01-01"}}),
        ("trigger the backup dag with mode set to full", {"dag_id": "backup", "conf": {"mode": "full"}}),
        (
            "start crm_sync with since 2023-12-01 and limit 500",
            {"dag_id": "crm_sync", "conf": {"since": "2023-12-01", "limit": 500}},
        ),
        (
            "run etl with day: 2024-02-29, region=eu and dry_run true",
            {"dag_id": "etl", "conf": {"day": "2024-02-29", "region": "eu", "dry_run": True}},
        ),
        ("run etl with target_env prod", {"dag_id": "etl", "conf": {"target_env": "prod"}}),
        ("run etl_daily with note 'full reload'", {"dag_id": "etl_daily", "conf": {"note": "full reload"}}),
    ],
)
def test_conf_pairs_in_words(corrector: TypoCorrector, text: str, slots: dict) -> None:
    assert extract_slots("run_dag", text, corrector) == slots


@pytest.mark.parametrize(
    "text",
    [
        "run etl with the latest data",  # a determiner is no key
        "trigger etl with full refresh",  # two plain words side by side: no setting
        "run etl with it",
        "run etl again",
    ],
)
def test_words_after_with_are_not_always_conf(corrector: TypoCorrector, text: str) -> None:
    assert extract_slots("run_dag", text, corrector) == {"dag_id": "etl"}


def test_dates_are_never_names(corrector: TypoCorrector) -> None:
    assert extract_slots("run_dag", "run 2024-01-01", corrector) == {}
    assert extract_slots("dag_status", "did etl_daily run on 2024-01-01", corrector) == {
        "dag_id": "etl_daily"
    }


def test_rollback_keeps_the_version_as_written(corrector: TypoCorrector) -> None:
    assert extract_slots("rollback", "roll back etl to v1.4.0", corrector) == {
        "target": "etl",
        "version": "v1.4.0",
    }
    assert extract_slots("rollback", "go back to release 2 of the ml repo", corrector) == {
        "target": "ml",
        "version": "2",
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


def test_rollback_does_not_take_the_hex_end_of_a_name_for_a_version(corrector: TypoCorrector) -> None:
    slots = extract_slots("rollback", "roll back workflows-bb49783b", corrector)
    assert slots == {"target": "workflows-bb49783b"}  # no version: the previous release
    assert (
        extract_slots("rollback", "roll back workflows-bb49783b to a1b2c3d4", corrector)["version"]
        == "a1b2c3d4"
    )


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
    assert corrector.routing_text("TRIGERR aws_deploy") == "trigger x"
    assert corrector.correct("lgos") == "logs"
    assert corrector.correct("etl") is None
    assert corrector.routing_text("add https://x.org/a.git") == "add url"


def test_between_equally_close_words_the_more_frequent_wins(corrector: TypoCorrector) -> None:
    assert corrector.correct("seach") == "search"  # one edit from "beach" too
    assert corrector.correct("rnu") == "run"  # a swap in a three-letter word
    assert corrector.correct("staus") == "status"  # a dropped letter beats a far-off key (stars)
    assert corrector.correct("lpgs") == "logs"  # p is next to o
    assert corrector.correct("rollup") is None  # two edits only in longer words


def test_real_words_are_not_typos(corrector: TypoCorrector) -> None:
    # not words of the router, but words of the model's vocabulary: "table" and "long" are wrong
    assert corrector.correct("able") is None
    assert corrector.correct("longer") is None
    nothing_is_a_word = TypoCorrector(vocabulary(), dictionary=frozenset)
    assert nothing_is_a_word.correct("able") == "table"  # what the dictionary prevents


def test_names_become_a_placeholder_and_class_names_are_split(corrector: TypoCorrector) -> None:
    assert corrector.routing_text("run growth_metrics") == corrector.routing_text("run payroll_daily")
    assert corrector.routing_text("revert data-pipelines") == "revert x"
    assert corrector.routing_text("re-sync the repo") == "re-sync the repo"  # a known word, not a name
    assert corrector.routing_text("how do I use the BranchPythonOperator") == (
        "how do i use the branch python operator"
    )


def test_descriptions_are_mentions_not_names(corrector: TypoCorrector) -> None:
    assert mention_of("run my deployment workflow", corrector) == "deployment"
    assert mention_of("execute the nightly backup", corrector) == "nightly backup"
    assert extract_slots("run_dag", "execute the nightly backup", corrector) == {}
    # one plain word next to "pipeline" is a name; identifiers always are
    assert extract_slots("run_dag", "run the backup pipeline", corrector) == {"dag_id": "backup"}
    assert mention_of("run the backup pipeline", corrector) is None
    assert extract_slots("run_dag", "run the etl_daily dag", corrector) == {"dag_id": "etl_daily"}
    assert mention_of("what went wrong in the last run?", corrector) is None


def test_inflections_of_common_words_are_not_names(corrector: TypoCorrector) -> None:
    assert extract_slots("sync_repo", "fetch updates from git for every repo", corrector) == {}
    assert extract_slots("sync_repo", "fetch updates for billing", corrector) == {"name": "billing"}


def test_domain_evidence_and_airflow_questions() -> None:
    assert domain_evidence("can you run growth_metrics for me")
    assert domain_evidence("add https://github.com/a/b.git")
    assert domain_evidence("list the workflows")
    assert not domain_evidence("what's the weather in Paris at 7am")
    assert asks_about_airflow("what are pools and priority weights")
    assert asks_about_airflow("what are trigger rules")
    assert not asks_about_airflow("what is a linked list")
    assert not asks_about_airflow("run the pool cleaner")  # not a question


@pytest.mark.parametrize(
    "text",
    [
        "how do I suppress a security finding?",
        "How can we configure a GitHub webhook",
        "how to roll back a repository to an earlier commit",
        "how does rollback work",
        "how are credentials for private repos stored?",
        "what does the security scan check?",
        "what happens when a scan finds a secret",
        "why would validation reject my dag?",
        "can I roll back a single dag?",
        "is it possible to skip a check?",
        "is there a way to mute a finding",
        "so, how do I add a repo?",
        "explain rollback",
        "could you explain how syncing works",
        "show me how to pass a conf to a run",
        "how do I clear a task to rerun it",  # "it" is the task, not a thing of the conversation
        "what does it mean when a task is skipped",
    ],
)
def test_explanation_questions_naming_no_target(corrector: TypoCorrector, text: str) -> None:
    assert explains(text, corrector.routing_text(text))


@pytest.mark.parametrize(
    "text",
    [
        "how do I roll back etl_daily?",  # an identifier
        "how do I roll back to 3f9c2ab",  # a commit
        "how do I validate ./dags/etl.py",  # a path
        "can I add https://github.com/a/b.git",  # a URL
        'can I run etl with {"full": true}',  # JSON
        "how do I roll back the etl repo",  # a named repository
        "how do I undo the last deployment",  # a particular deployment
        "can I run etl now?",  # the present moment
        "how do I roll it back",  # a thing of the conversation
        "why did the last run fail",  # why a run failed: the logs
        "why is my dag failing",
        "can I see the logs",  # a polite request
        "roll back a repository to an earlier commit",  # the imperative
        "is my dag safe?",
        "will it fail",
        "did etl succeed",
    ],
)
def test_requests_and_targets_are_not_explanation_questions(corrector: TypoCorrector, text: str) -> None:
    assert not explains(text, corrector.routing_text(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trigger the backup dag with mode set to full", True),
        ("please roll back etl", True),
        ("can you validate my repo", True),
        ("Run etl_daily", True),
        ("trigger rules explained", False),  # nouns, not the verb
        ("run history of etl_daily", False),
        ("how do I trigger a dag", False),
        ("show me the logs", False),  # may ask for knowledge: not an imperative of an action
        ("connect airflow to snowflake", False),
    ],
)
def test_imperatives_of_the_assistants_actions(corrector: TypoCorrector, text: str, expected: bool) -> None:
    assert imperative(corrector.routing_text(text)) is expected


def test_form_rules_out_actions_or_the_question(corrector: TypoCorrector) -> None:
    texts = ["how do I roll back a repository?", "trigger the backup dag", "did etl succeed"]
    blocked = blocked_matrix(texts, [corrector.routing_text(t) for t in texts], INTENTS)
    ruled_out = [{INTENTS[i] for i in np.flatnonzero(row)} for row in blocked]
    assert ruled_out[0] == set(INTENTS) - {"question", "help", "unknown"}
    assert ruled_out[1] == {"question"}
    assert ruled_out[2] == set()


def test_questions_about_the_assistant_cue_question_but_help_and_everyday_ones_do_not(
    corrector: TypoCorrector,
) -> None:
    texts = [
        "how do I configure a github webhook?",
        "how do I suppress a security finding?",
        "how do I use you",  # help
        "how do I bake bread",  # not about the assistant
        "how do I roll back etl_daily",  # names its target
    ]
    cues = cue_matrix([corrector.routing_text(t) for t in texts], INTENTS, texts)
    question = INTENTS.index("question")
    assert cues[:, question].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


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


def test_folds_are_contiguous_blocks_of_each_intent() -> None:
    folds = fold_assignment([0] * 10 + [1] * 5, n_folds=5)
    assert folds[:10] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert folds[10:] == [0, 1, 2, 3, 4]
    assert misspell("trigger nightly backup") == "trgiger nightly backup"


def test_decide_rejects_below_threshold_and_when_unknown_is_closest() -> None:
    decision = Decision(k=1, threshold=0.5, margin=0.05)
    unknown = 2
    assert decide(np.array([0.9, 0.3, 0.2]), unknown, decision)[0] == 0
    assert decide(np.array([0.4, 0.3, 0.2]), unknown, decision)[0] == unknown
    assert decide(np.array([0.7, 0.68, 0.2]), unknown, decision)[0] == unknown  # within the margin
    assert decide(np.array([0.7, 0.3, 0.8]), unknown, decision)[0] == unknown


def test_a_ruled_out_intent_is_never_chosen_but_does_not_change_rejection() -> None:
    decision = Decision(k=1, threshold=0.5, margin=0.0)
    unknown = 3
    blocked = np.array([1.0, 0.0, 0.0, 0.0])
    # in scope on the best score; the intent is the best one not ruled out, even under the threshold
    assert decide(np.array([0.9, 0.3, 0.2, 0.1]), unknown, decision, blocked)[0] == 1
    # rejected exactly as without the rule
    assert decide(np.array([0.4, 0.3, 0.2, 0.1]), unknown, decision, blocked)[0] == unknown
    assert decide(np.array([0.9, 0.3, 0.2, 0.95]), unknown, decision, blocked)[0] == unknown


class HashEmbedder:
    """A stand-in embedding: a fixed random unit vector per distinct text."""

    def __call__(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).normal(size=16)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)


def test_out_of_fold_scores_never_see_their_own_example() -> None:
    examples = tuple(
        Example(intent, f"{verb} {intent.replace('_', ' ')} number {i}")
        for intent in ("run_dag", "list_repos", "unknown")
        for i, verb in enumerate(("please", "kindly", "now", "then", "so"))
    )
    corrector = TypoCorrector(vocabulary(examples))
    texts = [corrector.routing_text(e.text) for e in examples]
    oof = out_of_fold_scores(examples, texts, VectorCache(HashEmbedder()), n_folds=5)
    # every example once as written and once misspelt, each scored by the other folds only
    assert len(oof.labels) == 2 * len(examples)
    assert sorted(oof.labels.tolist()) == sorted(2 * [INTENTS.index(e.intent) for e in examples])
    assert oof.neighbours[1].max() < 0.999  # a text compared with itself would score 1.0
    assert oof.keywords.shape == oof.cues.shape == oof.linear.shape == (2 * len(examples), len(INTENTS))


def test_fit_decision_separates_in_scope_from_out_of_scope() -> None:
    # two in-scope intents and unknown; in-scope rows score high on their intent, unknown rows low
    rng = np.random.default_rng(0)
    labels = np.array([0] * 40 + [1] * 40 + [2] * 40)
    scores = np.full((120, 3), 0.3, dtype=np.float32) + rng.uniform(0, 0.05, (120, 3)).astype(np.float32)
    scores[:40, 0] = 0.8
    scores[40:80, 1] = 0.8
    scores[80:, :2] = rng.uniform(0.3, 0.5, (40, 2))
    zeros = np.zeros_like(scores)
    oof = OutOfFold({k: scores for k in (1, 2, 3, 4)}, scores, zeros, zeros, zeros, labels)
    decision = fit_decision(oof, unknown=2, temperature=0.25)
    assert 0.5 <= decision.threshold <= 0.8
    assert decision.held_out_accuracy == 1.0
    assert decision.held_out_rejection == 1.0


def test_fit_counts_rows_by_the_intent_they_get_after_the_form_rules() -> None:
    # intent 0's rows score best on intent 1, which their form rules out: they are right all the same
    labels = np.array([0] * 20 + [1] * 20 + [2] * 20)
    scores = np.full((60, 3), 0.2, dtype=np.float32)
    scores[:20, :2] = [0.7, 0.8]
    scores[20:40, 1] = 0.8
    blocked = np.zeros_like(scores)
    blocked[:20, 1] = 1.0
    zeros = np.zeros_like(scores)
    oof = OutOfFold({k: scores for k in (1, 2, 3, 4)}, scores, zeros, zeros, zeros, labels, blocked)
    assert fit_decision(oof, unknown=2, temperature=0.25).held_out_accuracy == 1.0
    unruled = OutOfFold({k: scores for k in (1, 2, 3, 4)}, scores, zeros, zeros, zeros, labels)
    assert fit_decision(unruled, unknown=2, temperature=0.25).held_out_accuracy == 0.5


def test_fit_prefers_the_smallest_k_unless_a_larger_one_is_clearly_better() -> None:
    labels = np.array([0] * 1000 + [1] * 1000 + [2] * 1000)
    good = np.full((3000, 3), 0.2, dtype=np.float32)
    good[:1000, 0] = 0.8
    good[1000:2000, 1] = 0.8
    zeros = np.zeros_like(good)
    flat = np.full_like(good, 1 / 3)  # a linear read-out that cannot make up for the neighbours

    def with_k1_wrong_on(rows: int) -> OutOfFold:
        k1 = good.copy()
        k1[:rows] = [0.2, 0.8, 0.2]
        return OutOfFold({1: k1, 2: good, 3: good, 4: good}, flat, zeros, zeros, zeros, labels)

    assert K_TIE > 1 / 2000  # one in-scope row of 2000 is within the tie
    assert fit_decision(with_k1_wrong_on(1), unknown=2, temperature=0.25).k == 1
    assert fit_decision(with_k1_wrong_on(20), unknown=2, temperature=0.25).k == 2
