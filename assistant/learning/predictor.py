"""The failure warning: how likely the next run of a DAG is to fail, and why, in words.

Probabilities come from the DAG's own history (see :mod:`assistant.learning.history`):

* after a success: the rate at which a success was followed by a failure (a new problem);
  raised when the last success is long past (credentials, upstreams and data drift meanwhile);
* after a failure: how often that failure's cause was followed by another failure (persistent
  causes such as expired credentials or an outage stay, flaky ones pass); the current streak
  counts as evidence;
* when the DAG's code changed since the last failure (a fix may have been deployed): how often a
  code change after a failure was followed by another failure.

Each rate is a Beta-smoothed estimate, so a short history stays close to a cautious prior
instead of jumping to 0 or 1. The thresholds of the risk levels were fitted on a generated
history (bench/predict, training seed), never on the replay it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assistant.learning.history import HistoryFeatures, Tally

HIGH_RISK = 0.61  # fitted on bench/predict training seed 1 (precision >= 0.9)
MEDIUM_RISK = 0.25
STALE_SUCCESS_DAYS = 7.0
STALE_ODDS_FACTOR = 1.5


@dataclass(frozen=True)
class Prior:
    mean: float
    strength: float

    def estimate(self, tally: Tally) -> float:
        return (tally.failed + self.mean * self.strength) / (tally.followed + self.strength)


ONSET_PRIOR = Prior(0.1, 4.0)
PERSISTENCE_PRIOR = Prior(0.6, 2.0)
AFTER_FIX_PRIOR = Prior(0.15, 2.0)


@dataclass(frozen=True)
class Prediction:
    dag_id: str
    risk: str  # "low" | "medium" | "high" | "unknown" (no history)
    probability: float | None
    reason: str
    recommendation: str
    confidence: str  # "low" | "medium" | "high"
    evidence: list[str] = field(default_factory=list)
    runs_seen: int = 0
    likely_cause: str | None = None

    @property
    def warns(self) -> bool:
        return self.risk == "high"


def level(probability: float, high: float = HIGH_RISK) -> str:
    if probability >= high:
        return "high"
    return "medium" if probability >= MEDIUM_RISK else "low"


def predict(
    dag_id: str, features: HistoryFeatures, now: datetime, *, high_threshold: float = HIGH_RISK
) -> Prediction:
    if features.runs == 0:
        return Prediction(
            dag_id,
            "unknown",
            None,
            f"no history: I have not seen a finished run of {dag_id} yet, so I cannot estimate its risk",
            "run it once and watch the outcome; I will learn from it",
            "low",
        )
    evidence = [f"{features.failures_in_window} of the last {features.window} runs failed"]
    if features.last_cause is None:
        probability, reason, support = _after_success(features, now, evidence)
        cause = None
    else:
        probability, reason, support = _after_failure(features, evidence)
        cause = features.last_cause
    probability = round(min(max(probability, 0.0), 1.0), 3)
    risk = level(probability, high_threshold)
    return Prediction(
        dag_id=dag_id,
        risk=risk,
        probability=probability,
        reason=reason,
        recommendation=_recommend(risk, cause, dag_id),
        confidence="high" if support >= 10 else "medium" if support >= 3 else "low",
        evidence=evidence,
        runs_seen=features.runs,
        likely_cause=cause,
    )


def _after_success(features: HistoryFeatures, now: datetime, evidence: list[str]) -> tuple[float, str, int]:
    tally = features.after_success
    probability = ONSET_PRIOR.estimate(tally)
    evidence.append(f"a success was followed by a failure {tally.failed} times out of {tally.followed}")
    reason = f"the last run succeeded; {features.failures_in_window} of the last {features.window} failed"
    if features.last_success_end is not None:
        days = (now - features.last_success_end).total_seconds() / 86400
        evidence.append(f"last success {_ago(days)}")
        if days > STALE_SUCCESS_DAYS:
            odds = probability / (1 - probability) * STALE_ODDS_FACTOR
            probability = odds / (1 + odds)
            reason += f"; but the last success was {_ago(days)}"
    if features.cause_counts:
        cause, count = features.cause_counts.most_common(1)[0]
        fixed = features.causes_seen_resolved.get(cause, 0)
        evidence.append(f"most frequent recent cause: {cause} ({count}x, followed by a success {fixed}x)")
    return probability, reason, tally.followed


def _after_failure(features: HistoryFeatures, evidence: list[str]) -> tuple[float, str, int]:
    cause = features.last_cause or "(unknown)"
    tally = features.after_cause.get(cause, Tally())
    count = features.cause_counts.get(cause, 0)
    noun = "failure" if count == 1 else "failures"
    reason = f"similar to {count} recent {noun} of {cause}"
    if features.failure_streak > 1:
        reason += f"; the last {features.failure_streak} runs failed"
    evidence.append(
        f"this cause was followed by another failure {tally.failed} times out of {tally.followed}"
    )
    resolved = features.causes_seen_resolved.get(cause, 0)
    evidence.append(
        f"this cause was followed by a success {resolved}x before"
        if resolved
        else "never seen fixed by a success"
    )
    if features.last_success_end is not None and features.last_run_end is not None:
        days = (features.last_run_end - features.last_success_end).total_seconds() / 86400
        evidence.append(f"failing since the last success, {_duration(days)} before the last run")
    elif features.last_success_end is None:
        evidence.append("no successful run seen yet")
    if features.code_changed_since_failure:
        probability = AFTER_FIX_PRIOR.estimate(features.after_fix)
        evidence.append(
            f"the DAG's code changed since the last failure; after earlier code changes a failure followed "
            f"{features.after_fix.failed} of {features.after_fix.followed} times"
        )
        reason = f"the code changed since the last failure (a fix may be deployed); it was {reason}"
        return probability, reason, features.after_fix.followed + tally.followed
    if features.code_changed_since_failure is None:
        evidence.append("code version unknown: cannot tell whether a fix was deployed")
    else:
        evidence.append("the DAG's code has not changed since the last failure")
    return PERSISTENCE_PRIOR.estimate(tally), reason, tally.followed


_ADVICE = (
    (
        ("expiredtoken", "credential", "unauthor", "forbidden", "401", "403", "auth"),
        "renew the credentials its connection uses",
    ),
    (("timeout", "timed out"), "raise execution_timeout or make the task faster"),
    (
        ("connection", "unavailable", "503", "502", "refused", "upstream", "dns"),
        "check that the upstream service is reachable again",
    ),
    (("no such file", "filenotfound", "not found"), "check that the input it reads exists"),
    (
        ("keyerror", "typeerror", "attributeerror", "valueerror", "nameerror", "importerror"),
        "fix the code and deploy it (this looks like a bug, not an outage)",
    ),
)


def _recommend(risk: str, cause: str | None, dag_id: str) -> str:
    if risk == "low":
        return "looks safe to run"
    if cause is None:
        return "it can be run; watch the outcome (recent failures came and went)"
    task = cause.split(":", 1)[0]
    lowered = cause.lower()
    fix = next((text for words, text in _ADVICE if any(w in lowered for w in words)), None)
    fix = fix or f"read the log of {task} (`assistant logs {dag_id} --task {task}`) and fix the cause"
    if risk == "high":
        return f"fix the cause before running: {fix}"
    return f"it may fail again at {task}; {fix}"


def _ago(days: float) -> str:
    return f"{_duration(days)} ago"


def _duration(days: float) -> str:
    if days >= 2:
        return f"{days:.0f} days"
    hours = days * 24
    if hours >= 1:
        return f"{hours:.0f} h"
    return f"{hours * 60:.0f} min"
