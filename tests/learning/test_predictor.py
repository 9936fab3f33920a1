from __future__ import annotations

from datetime import datetime, timedelta

from assistant.learning.history import extract
from assistant.learning.predictor import predict
from assistant.learning.records import RunRecord, TaskOutcome

T0 = datetime(2025, 1, 1)
EXPIRED = "botocore.exceptions.ClientError: ExpiredToken: the token has expired"


def run(
    i: int, failed: bool, version: str = "v1", error: str = EXPIRED, task: str = "upload_to_s3"
) -> RunRecord:
    outcome = (
        TaskOutcome(task, "failed", 1, 5.0, error, error) if failed else TaskOutcome(task, "success", 1, 5.0)
    )
    start = T0 + timedelta(hours=i)
    return RunRecord(
        "d",
        f"r{i}",
        "failed" if failed else "success",
        start,
        start + timedelta(minutes=1),
        60.0,
        version,
        (outcome,),
    )


def test_no_history_says_so() -> None:
    prediction = predict("d", extract([], None), T0)
    assert prediction.risk == "unknown" and prediction.probability is None
    assert "no history" in prediction.reason


def test_repeated_failure_for_one_cause_is_high_risk_with_the_reason() -> None:
    history = [run(i, False) for i in range(10)] + [run(10 + i, True) for i in range(5)]
    prediction = predict("d", extract(history, "v1"), T0 + timedelta(hours=16))
    assert prediction.risk == "high"
    assert prediction.reason.startswith(f"similar to 5 recent failures of upload_to_s3: {EXPIRED}")
    assert "credentials" in prediction.recommendation
    assert prediction.warns


def test_code_change_after_failures_lowers_the_risk() -> None:
    history = [run(i, False) for i in range(10)] + [run(10 + i, True) for i in range(5)]
    unchanged = predict("d", extract(history, "v1"), T0)
    changed = predict("d", extract(history, "v2"), T0)
    assert changed.probability is not None and unchanged.probability is not None
    assert changed.probability < unchanged.probability and changed.risk != "high"
    assert "code changed" in changed.reason


def test_flaky_cause_that_always_passes_is_not_a_warning() -> None:
    history = []
    for i in range(40):
        history.append(run(i, i % 8 == 0, error="ConnectionResetError: reset by peer", task="extract"))
    history.append(run(40, True, error="ConnectionResetError: reset by peer", task="extract"))
    prediction = predict("d", extract(history, "v1"), T0 + timedelta(hours=41))
    assert prediction.risk != "high"
    assert any("followed by a success" in line for line in prediction.evidence)


def test_a_success_after_failures_brings_the_risk_down() -> None:
    history = [run(i, True) for i in range(4)] + [run(4, False)]
    failing = predict("d", extract(history[:4], "v1"), T0)
    recovered = predict("d", extract(history, "v1"), T0 + timedelta(hours=5))
    assert failing.risk == "high"
    assert recovered.probability is not None and failing.probability is not None
    assert recovered.probability < failing.probability and recovered.risk != "high"


def test_long_time_since_last_success_raises_the_risk() -> None:
    history = [run(i, i == 3) for i in range(20)]
    soon = predict("d", extract(history, "v1"), T0 + timedelta(hours=21))
    late = predict("d", extract(history, "v1"), T0 + timedelta(days=30))
    assert late.probability is not None and soon.probability is not None
    assert late.probability > soon.probability
    assert "last success was" in late.reason
