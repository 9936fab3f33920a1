"""The signals beyond a DAG's own failure sequence: durations nearing execution_timeout, the same
failure in other DAGs (spreading, ongoing, resolved), and how long such episodes last."""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant.learning.history import extract
from assistant.learning.peers import PeerIndex, failure_key
from assistant.learning.predictor import predict
from assistant.learning.records import RunRecord, TaskOutcome
from assistant.learning.survival import incident_survival
from assistant.learning.trend import inferred_limits, nearest_timeout

T0 = datetime(2025, 1, 1)
TIMEOUT = "airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 4242"
EXPIRED = "botocore.exceptions.ClientError: An error occurred (ExpiredToken): token expired. RequestId 9F3A"
OUTAGE = "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://{host}/v2/x"


def task_run(
    dag: str, hour: float, duration: float, *, error: str | None = None, task: str = "transform"
) -> RunRecord:
    outcome = TaskOutcome(task, "failed" if error else "success", 1, duration, None, error)
    start = T0 + timedelta(hours=hour)
    return RunRecord(
        dag,
        f"r{hour}",
        "failed" if error else "success",
        start,
        start + timedelta(minutes=5),
        duration,
        "v1",
        (outcome,),
    )


# -- durations nearing the execution_timeout -----------------------------------------------------


def test_durations_creeping_up_to_the_timeout_raise_the_risk_and_say_why() -> None:
    history = [task_run("d", 6 * i, 2500 + 45 * i) for i in range(26)]  # 42 min -> 60 min
    now = T0 + timedelta(hours=6 * 26)
    trend = nearest_timeout(history, "v1", now, {"transform": 3600.0})
    assert trend is not None and trend.task_id == "transform" and trend.probability > 0.5
    features = extract(history, "v1", now=now, timeouts={"transform": 3600.0})
    prediction = predict("d", features, now)
    assert prediction.probability is not None and prediction.probability > 0.5
    assert prediction.reason.startswith("transform is nearing its 60 min limit")
    assert "execution_timeout" in prediction.recommendation
    # without the limit and without a past timeout, nothing can be said about it
    assert nearest_timeout(history, "v1", now, None) is None
    assert predict("d", extract(history, "v1", now=now), now).probability < 0.2  # type: ignore[operator]


def test_flat_durations_far_below_the_limit_give_no_timeout_signal() -> None:
    history = [task_run("d", i, 600 + (i % 3) * 20) for i in range(30)]
    now = T0 + timedelta(hours=30)
    assert nearest_timeout(history, "v1", now, {"transform": 3600.0}) is None
    prediction = predict("d", extract(history, "v1", now=now, timeouts={"transform": 3600.0}), now)
    assert prediction.risk == "low" and "limit" not in prediction.reason


def test_a_timed_out_try_tells_the_limit_until_a_longer_success_shows_it_was_raised() -> None:
    runs = [task_run("d", 0, 3000), task_run("d", 1, 3600, error=TIMEOUT), task_run("d", 2, 3100)]
    assert inferred_limits(runs) == {"transform": 3600}
    assert inferred_limits([*runs, task_run("d", 3, 4100)]) == {}


def test_after_timeouts_the_trend_replaces_the_persistence_rate() -> None:
    """Timeouts at the edge of the limit come and go; the censored fit says how likely the next is."""
    history = []
    for i in range(24):
        duration = 3000 + 30 * i
        history.append(
            task_run("d", i, 3600, error=TIMEOUT) if duration > 3550 else task_run("d", i, duration)
        )
    now = T0 + timedelta(hours=24)
    features = extract(history, "v1", now=now, timeouts={"transform": 3600.0})
    assert features.timeout is not None and features.timeout.timed_out >= 1
    prediction = predict("d", features, now)
    assert prediction.probability == features.timeout.probability
    assert "chance the next run times out" in prediction.reason


# -- the same failure in other DAGs --------------------------------------------------------------


def _index(*runs: RunRecord) -> PeerIndex:
    return PeerIndex.from_histories({"all": list(runs)})


def test_failure_keys_match_across_dags_and_tell_upstream_hosts_apart() -> None:
    a = task_run("a", 0, 5, error=OUTAGE.format(host="api.partner-1.example.com") + "?since=12", task="fetch")
    b = task_run("b", 1, 5, error=OUTAGE.format(host="api.partner-1.example.com") + "?since=99", task="get")
    c = task_run("c", 1, 5, error=OUTAGE.format(host="api.partner-2.example.com"), task="fetch")
    assert failure_key(a) == failure_key(b)
    assert failure_key(a) != failure_key(c) and "api.partner-2.example.com" in (failure_key(c) or "")
    assert failure_key(task_run("a", 0, 5)) is None


def test_a_failure_spreading_from_a_dag_that_failed_together_before_is_a_warning() -> None:
    ours, theirs = [], []
    for incident in (24, 72, 120):  # three earlier incidents hit both DAGs
        theirs.append(task_run("other", incident, 5, error=EXPIRED, task="upload"))
        ours.append(task_run("ours", incident + 1, 5, error=EXPIRED, task="upload"))
        theirs.append(task_run("other", incident + 12, 5, task="upload"))
        ours.append(task_run("ours", incident + 13, 5, task="upload"))
    ours.append(task_run("ours", 160, 5, task="upload"))
    theirs.append(task_run("other", 162, 5, error=EXPIRED, task="upload"))  # failing again, now
    now = T0 + timedelta(hours=163)
    features = extract(ours, "v1", now=now, peers=_index(*ours, *theirs))
    assert features.shared is not None and features.shared.kind == "spreading"
    assert (features.shared.tally.followed, features.shared.tally.failed) == (3, 3)
    prediction = predict("ours", features, now)
    assert prediction.risk == "high"
    assert prediction.reason.startswith("other failed 55 min ago with upload: ")
    assert "ExpiredToken" in prediction.reason and "credentials" in prediction.recommendation
    # without the other DAG's failure, the same history is low risk
    quiet = extract(ours, "v1", now=now, peers=_index(*ours, *theirs[:-1]))
    calm = predict("ours", quiet, now)
    assert quiet.shared is None and calm.risk != "high"
    assert calm.probability is not None and prediction.probability is not None
    assert calm.probability < prediction.probability


def test_a_failure_in_an_unrelated_dag_is_not_a_warning() -> None:
    """The other DAG fails with an error this DAG never shared and no common connection."""
    ours = [task_run("ours", i, 5, task="upload") for i in range(30)]
    theirs = [task_run("other", 29.5, 5, error=EXPIRED, task="upload")]
    now = T0 + timedelta(hours=30)
    connections = {
        "ours": {"upload": frozenset({"aws_reporting"})},
        "other": {"upload": frozenset({"aws_default"})},
    }
    features = extract(ours, "v1", now=now, peers=_index(*ours, *theirs), connections=connections)
    assert features.shared is None
    assert predict("ours", features, now).risk == "low"


def test_a_failing_task_on_a_connection_this_dag_uses_is_a_warning_without_history() -> None:
    ours = [task_run("ours", i, 5, task="upload") for i in range(30)]
    theirs = [task_run("other", 29.5, 5, error=EXPIRED, task="upload")]
    now = T0 + timedelta(hours=30)
    connections = {
        "ours": {"upload": frozenset({"aws_default"})},
        "other": {"upload": frozenset({"aws_default"})},
    }
    features = extract(ours, "v1", now=now, peers=_index(*ours, *theirs), connections=connections)
    assert features.shared is not None and features.shared.connections == ("aws_default",)
    prediction = predict("ours", features, now)
    assert prediction.risk == "high"
    assert "at a task using aws_default, which this DAG uses too" in prediction.reason


def _failing_together(other_recovers: bool) -> tuple[list[RunRecord], PeerIndex]:
    ours = [task_run("ours", i, 5, task="upload") for i in range(20)]
    ours += [task_run("ours", 20 + i, 5, error=EXPIRED, task="upload") for i in range(3)]
    theirs = [task_run("other", 19.5 + i, 5, error=EXPIRED, task="upload") for i in range(3)]
    if other_recovers:
        theirs.append(task_run("other", 22.5, 5, task="upload"))
    else:
        theirs.append(task_run("other", 22.5, 5, error=EXPIRED, task="upload"))
    return ours, _index(*ours, *theirs)


def test_a_dag_that_failed_the_same_way_and_recovered_lowers_the_risk() -> None:
    now = T0 + timedelta(hours=23)
    ours, still_failing = _failing_together(other_recovers=False)
    _, recovered = _failing_together(other_recovers=True)
    ongoing = predict("ours", extract(ours, "v1", now=now, peers=still_failing), now)
    fixed = predict("ours", extract(ours, "v1", now=now, peers=recovered), now)
    alone = predict("ours", extract(ours, "v1", now=now), now)
    assert ongoing.probability is not None and fixed.probability is not None and alone.probability is not None
    assert "failed the same way" in ongoing.reason and "not fixed yet" in ongoing.reason
    assert "succeeded" in fixed.reason and "it may be fixed" in fixed.reason
    assert fixed.probability < alone.probability <= ongoing.probability
    assert fixed.risk != "high" and ongoing.risk == "high"


# -- how long episodes last ----------------------------------------------------------------------


def _episodes_of_two_hours(then_failing_since: float) -> list[RunRecord]:
    runs = []
    for start in (0, 24, 48, 72):
        runs += [task_run("d", start + h, 5, error=EXPIRED, task="upload") for h in (0, 1)]
        runs += [task_run("d", start + h, 5, task="upload") for h in range(2, 20)]
    runs += [task_run("d", 96 + h, 5, error=EXPIRED, task="upload") for h in range(int(then_failing_since))]
    return runs


def test_an_episode_longer_than_the_earlier_ones_is_probably_ending() -> None:
    runs = _episodes_of_two_hours(then_failing_since=1)
    young = incident_survival(runs, T0 + timedelta(hours=97))
    assert young is not None and young.lengths_h == (1.5, 1.5, 1.5, 1.5)
    assert (young.tally.followed, young.tally.failed) == (4, 4)  # 1 h in: the earlier ones went on
    old_runs = _episodes_of_two_hours(then_failing_since=2)
    old = incident_survival(old_runs, T0 + timedelta(hours=98))
    assert old is not None and (old.tally.followed, old.tally.failed) == (4, 0)
    assert (
        "such episodes lasted 2 h to 2 h"
        in predict("d", extract(old_runs, "v1", now=T0 + timedelta(hours=98)), T0).reason
    )
    assert incident_survival(runs[:3], T0 + timedelta(hours=3)) is None  # too few episodes to say


# -- how persistent a failure is, learned from the other DAGs ------------------------------------


def test_a_failure_that_persisted_in_other_dags_is_likely_to_fail_again_on_its_first_occurrence() -> None:
    others: list[RunRecord] = []
    for n, dag in enumerate(("a", "b", "c")):  # in each, the expired token failed 4 runs in a row
        others += [task_run(dag, 10 * n + i, 5, error=EXPIRED, task="upload") for i in range(4)]
        others.append(task_run(dag, 10 * n + 4, 5, task="upload"))
    ours = [task_run("ours", i, 5, task="upload") for i in range(40, 60)]
    ours.append(task_run("ours", 60, 5, error=EXPIRED, task="upload"))  # its first such failure
    now = T0 + timedelta(hours=61)
    index = _index(*others, *ours)
    assert (
        index.persistence(failure_key(ours[-1]) or "", "ours").followed,
        index.persistence(failure_key(ours[-1]) or "", "ours").failed,
    ) == (12, 9)
    informed = predict("ours", extract(ours, "v1", now=now, peers=index), now)
    alone = predict("ours", extract(ours, "v1", now=now, peers=_index(*ours)), now)
    assert informed.probability is not None and alone.probability is not None
    assert informed.probability > alone.probability
    assert any(
        "in other DAGs, this failure was followed by another failure 9 of 12 times" in e
        for e in informed.evidence
    )
    # a failure that passed by itself elsewhere (transient) lowers it instead
    transient = [task_run(d, h, 5, error=EXPIRED, task="upload") for d, h in (("a", 0), ("b", 5))]
    transient += [task_run(d, h + 1, 5, task="upload") for d, h in (("a", 0), ("b", 5))]
    passing = predict("ours", extract(ours, "v1", now=now, peers=_index(*transient, *ours)), now)
    assert passing.probability is not None and passing.probability < alone.probability


# -- connection tests just before the run -------------------------------------------------------


def test_a_connection_failing_its_test_warns_even_without_history_and_passing_ones_do_not() -> None:
    from assistant.airflow.models import ConnectionCheck
    from assistant.learning.preflight import Preflight, preflight

    now = T0 + timedelta(hours=1)
    empty = extract([], "v1", now=now)
    failing = Preflight((ConnectionCheck("aws_prod", False, "ExpiredToken: the token has expired"),))
    warned = predict("ours", empty, now, preflight=failing)
    assert warned.risk == "high" and "connection aws_prod fails Airflow's connection test" in warned.reason
    assert "renew the credentials" in warned.recommendation  # the test's message says which fix
    quiet = predict("ours", empty, now, preflight=Preflight((ConnectionCheck("aws_prod", True, "ok"),)))
    assert quiet.risk == "unknown" and quiet.evidence == ["connection tests just now: aws_prod ok"]
    history = [task_run("ours", i, 5, task="upload") for i in range(20)]
    calm = predict("ours", extract(history, "v1", now=T0 + timedelta(hours=20)), now)
    with_tests = predict("ours", extract(history, "v1", now=T0 + timedelta(hours=20)), now, preflight=failing)
    assert calm.risk == "low" and with_tests.risk == "high"

    calls: list[str] = []

    def blip(conn_id: str) -> ConnectionCheck:  # fails once, then passes: a blip is not a warning
        calls.append(conn_id)
        return ConnectionCheck(conn_id, len(calls) > 1, "timed out" if len(calls) == 1 else "ok")

    assert preflight(blip, ["http_partner"]).failing == [] and calls == ["http_partner", "http_partner"]
