"""The failure warning: how likely the next run of a DAG is to fail, and why, in words.

Probabilities come from the DAG's own history (see :mod:`assistant.learning.history`):

* after a success: the rate at which a success was followed by a failure (a new problem);
  raised when the last success is long past (credentials, upstreams and data drift meanwhile);
* after a failure: how often that failure's cause was followed by another failure (persistent
  causes such as expired credentials or an outage stay, flaky ones pass); the current streak
  counts as evidence;
* when the DAG's code changed since the last failure (a fix may have been deployed): how often a
  code change after a failure was followed by another failure.

Two signals come from outside that sequence:

* a task whose durations creep up towards its execution_timeout (:mod:`assistant.learning.trend`):
  the chance that the next run exceeds it; after a timeout of that task it replaces the
  persistence rate, which lags behind the growth;
* the same failure in other DAGs sharing a connection or an upstream
  (:mod:`assistant.learning.peers`): spreading to this DAG, still going on, or fixed there.

Each rate is a Beta-smoothed estimate, so a short history stays close to a cautious prior
instead of jumping to 0 or 1. After a success, the likeliest of the possible causes (a new
failure of its own, a shared one spreading, a timeout) decides; they overlap, so they are not
added up.
The thresholds of the risk levels were fitted on generated histories (bench/predict, training
seeds), never on the replay it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assistant.learning.history import HistoryFeatures, Tally
from assistant.learning.peers import SHARED_PRIORS, SharedSignal
from assistant.learning.preflight import Preflight
from assistant.learning.records import Prior
from assistant.learning.trend import TimeoutTrend, timed_out_at
from assistant.learning.wording import ago, duration, recommend, since

HIGH_RISK = (
    0.559  # fitted on bench/predict training seeds 1, 6-14, connection tests included (precision >= 0.9)
)
MEDIUM_RISK = 0.25
STALE_SUCCESS_DAYS = 7.0
STALE_ODDS_FACTOR = 1.5


ONSET_PRIOR = Prior(0.1, 4.0)
PERSISTENCE_PRIOR = Prior(0.6, 2.0)
AFTER_FIX_PRIOR = Prior(0.15, 2.0)
# A connection the DAG uses fails Airflow's test now: its tasks on it fail too, nearly always (an
# outage may end between the test and the task). Fitted on bench/predict training seeds.
PREFLIGHT_FAILS = 0.93
POOLED_PRIOR = PERSISTENCE_PRIOR  # the persistence of a failure across the other DAGs, from this prior
POOLED_STRENGTH = 4.0  # the other DAGs' rate, worth this many of this DAG's own situations
MIN_TIMEOUT_CHANCE = 0.05  # below this, a task's durations are not worth a word
SURVIVAL_STRENGTH = 2.0  # the rate so far, worth this many past incidents against their durations


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


@dataclass
class _Estimate:
    probability: float
    reason: str
    support: int
    cause: str | None
    again: bool = True  # the cause is this DAG's own last failure


def level(probability: float, high: float = HIGH_RISK) -> str:
    if probability >= high:
        return "high"
    return "medium" if probability >= MEDIUM_RISK else "low"


def predict(
    dag_id: str,
    features: HistoryFeatures,
    now: datetime,
    *,
    high_threshold: float = HIGH_RISK,
    preflight: Preflight | None = None,
) -> Prediction:
    """The warning for the next run of ``dag_id``: its history (``features``) and, when given, the
    connection tests Airflow just ran (a failing one is a cause history cannot foresee)."""
    failing = preflight.failing if preflight is not None else []
    if features.runs == 0 and not failing:
        return Prediction(
            dag_id,
            "unknown",
            None,
            f"no history: I have not seen a finished run of {dag_id} yet, so I cannot estimate its risk",
            "run it once and watch the outcome; I will learn from it",
            "low",
            evidence=[preflight.describe()] if preflight is not None else [],
        )
    evidence = [f"{features.failures_in_window} of the last {features.window} runs failed"]
    if features.runs == 0:
        estimate = _Estimate(0.0, f"no finished run of {dag_id} seen yet", 0, None)
    elif features.last_cause is None:
        estimate = _after_success(features, now, evidence)
    else:
        estimate = _after_failure(features, now, evidence)
    if preflight is not None:
        evidence.append(preflight.describe())
    for check in failing[:1]:
        words = f"connection {check.conn_id} fails Airflow's connection test just now: {check.message}"
        _add_cause(
            estimate,
            PREFLIGHT_FAILS,
            words,
            f"{check.conn_id}: connection test: {check.message}",
            10,
            again=False,
        )
    probability = round(min(max(estimate.probability, 0.0), 1.0), 3)
    risk = level(probability, high_threshold)
    support = estimate.support
    return Prediction(
        dag_id=dag_id,
        risk=risk,
        probability=probability,
        reason=estimate.reason,
        recommendation=recommend(risk, estimate.cause, dag_id, again=estimate.again),
        confidence="high" if support >= 10 else "medium" if support >= 3 else "low",
        evidence=evidence,
        runs_seen=features.runs,
        likely_cause=estimate.cause,
    )


def _after_success(features: HistoryFeatures, now: datetime, evidence: list[str]) -> _Estimate:
    tally = features.after_success
    probability = ONSET_PRIOR.estimate(tally)
    evidence.append(f"a success was followed by a failure {tally.failed} times out of {tally.followed}")
    reason = f"the last run succeeded; {features.failures_in_window} of the last {features.window} failed"
    if features.last_success_end is not None:
        days = (now - features.last_success_end).total_seconds() / 86400
        evidence.append(f"last success {ago(days)}")
        if days > STALE_SUCCESS_DAYS:
            odds = probability / (1 - probability) * STALE_ODDS_FACTOR
            probability = odds / (1 + odds)
            reason += f"; but the last success was {ago(days)}"
    if features.cause_counts:
        cause, count = features.cause_counts.most_common(1)[0]
        fixed = features.causes_seen_resolved.get(cause, 0)
        evidence.append(f"most frequent recent cause: {cause} ({count}x, followed by a success {fixed}x)")
    estimate = _Estimate(probability, reason, tally.followed, None)
    shared = features.shared
    if shared is not None and shared.kind == "spreading":
        text = _shared_words(shared, now)
        evidence.append(text)
        _add_cause(estimate, shared.probability, text, shared.cause, shared.tally.followed, again=False)
    _add_timeout(estimate, features.timeout, evidence)
    return estimate


def _after_failure(features: HistoryFeatures, now: datetime, evidence: list[str]) -> _Estimate:
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
        evidence.append(f"failing since the last success, {duration(days)} before the last run")
    elif features.last_success_end is None:
        evidence.append("no successful run seen yet")
    timeout = features.timeout
    if features.code_changed_since_failure:
        probability = AFTER_FIX_PRIOR.estimate(features.after_fix)
        evidence.append(
            f"the DAG's code changed since the last failure; after earlier code changes a failure followed "
            f"{features.after_fix.failed} of {features.after_fix.followed} times"
        )
        reason = f"the code changed since the last failure (a fix may be deployed); it was {reason}"
        estimate = _Estimate(probability, reason, features.after_fix.followed + tally.followed, cause)
        _add_timeout(estimate, timeout, evidence)
        return estimate
    if features.code_changed_since_failure is None:
        evidence.append("code version unknown: cannot tell whether a fix was deployed")
    else:
        evidence.append("the DAG's code has not changed since the last failure")
    prior = PERSISTENCE_PRIOR
    pooled = features.pooled_persistence
    if pooled is not None and pooled.followed:
        # The same failure in other DAGs says how persistent it is before this DAG has its own evidence.
        prior = Prior(POOLED_PRIOR.estimate(pooled), POOLED_STRENGTH)
        evidence.append(
            f"in other DAGs, this failure was followed by another failure {pooled.failed} of {pooled.followed} times"
        )
    estimate = _Estimate(prior.estimate(tally), reason, tally.followed + pooled_support(pooled), cause)
    shared = features.shared
    if shared is not None and shared.kind in {"ongoing", "resolved"}:
        text = _shared_words(shared, now)
        evidence.append(text)
        prior = SHARED_PRIORS[shared.kind]
        if shared.kind == "ongoing":  # a subset of this cause's persistence: start from its rate
            prior = Prior(estimate.probability, prior.strength)
        estimate.probability = prior.estimate(shared.tally)
        estimate.reason += f"; {text}"
        estimate.support = max(estimate.support, shared.tally.followed)
    survival = features.survival
    if survival is not None and survival.tally.followed and (shared is None or shared.kind != "resolved"):
        evidence.append(survival.details(now))
        estimate.probability = Prior(estimate.probability, SURVIVAL_STRENGTH).estimate(survival.tally)
        estimate.reason += f"; {survival.describe(now)}"
    if timeout is not None and timed_out_at(cause, timeout.task_id):
        evidence.append(timeout.details())
        estimate.probability = timeout.probability  # the trend knows better than the lagging rate
        estimate.reason += f"; {timeout.describe()}"
        return estimate
    _add_timeout(estimate, timeout, evidence)
    return estimate


def pooled_support(pooled: Tally | None) -> int:
    return pooled.followed // 2 if pooled is not None else 0


def _add_cause(
    estimate: _Estimate, chance: float, text: str, cause: str, support: int, *, again: bool
) -> None:
    """Another possible cause of failure: when it is the likelier one, it decides the probability
    and leads the reason (the causes overlap, so they are not added up)."""
    if chance <= estimate.probability:
        return
    estimate.probability = chance
    estimate.reason = f"{text}; {estimate.reason}"
    estimate.cause, estimate.again = cause, again
    estimate.support = max(estimate.support, support)


def _add_timeout(estimate: _Estimate, timeout: TimeoutTrend | None, evidence: list[str]) -> None:
    if timeout is None or timeout.probability < MIN_TIMEOUT_CHANCE:
        return
    evidence.append(timeout.details())
    _add_cause(
        estimate,
        timeout.probability,
        timeout.describe(),
        f"{timeout.task_id}: timeout",
        timeout.samples,
        again=False,
    )


def _shared_words(shared: SharedSignal, now: datetime) -> str:
    where = shared.key.rsplit(" @ ", 1)[1] if " @ " in shared.key else None
    cause = f"{shared.cause} (at {where})" if where else shared.cause
    peers = ", ".join(shared.peers[:3]) + (
        f" and {len(shared.peers) - 3} more" if len(shared.peers) > 3 else ""
    )
    past = shared.tally
    history = (
        f" (before, the next run failed {past.failed} of {past.followed} times)" if past.followed else ""
    )
    if shared.kind == "spreading":
        link = (
            f"at a task using {', '.join(shared.connections)}, which this DAG uses too"
            if shared.connections
            else "a failure shared with this DAG before"
        )
        return f"{peers} failed {since(shared.since, now)} with {cause}, {link}{history}"
    if shared.kind == "ongoing":
        return f"{peers} failed the same way {since(shared.since, now)}: not fixed yet{history}"
    return f"but {peers}, which failed the same way, succeeded {since(shared.since, now)}: it may be fixed{history}"
