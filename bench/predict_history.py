"""Synthetic run histories for bench/predict: DAGs with injected, realistic failure causes.

Causes, and how each is modelled after the way it happens in real deployments:

* expired credentials: a token of an AWS *connection* expires and every DAG using that connection
  fails at its S3 upload until someone rotates it (6-48 h later); no code change.
* upstream outage: a partner *API* is down for 2-12 hours; every DAG calling that API fails at
  its fetch (95% of tries) while it is down. The URL in the error names the API's host.
* timeouts: the input of ``transform`` grows, so its duration creeps up towards the task's
  ``execution_timeout`` (given with each run, as Airflow's task details give it for the code);
  once it crosses, runs time out. After a few timeouts a fix is deployed: the task is made
  faster or its execution_timeout is raised; the growth goes on and may hit the limit again.
* flaky: a transient error in ``extract`` on some of its *tries* (5-30% of them on a flaky DAG);
  the task's retries (1 or 2, as default_args set them) absorb most: the run fails only when every
  try failed, and a success on a later try shows in the task's try number. (``--flaky-per-run``
  in bench/predict brings back the first model, where a fixed share of *runs* failed this way.)
* a bug deployed, then fixed (two code changes).

Incidents belong to the shared resource (a connection, an upstream API), not to the DAG: this
is what makes several DAGs fail together, as they do in real deployments. Each run records its
ground-truth cause so the benchmark can break its figures down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from assistant.learning.records import RunRecord, TaskOutcome

START = datetime(2025, 1, 1)
DAYS = 60
UPSTREAMS = ("api.partner-1.example.com", "api.partner-2.example.com", "api.partner-3.example.com")
CONNECTIONS = ("aws_default", "aws_reporting")
TIMEOUT_S = 3600.0  # execution_timeout of every task (default_args), until a fix raises it
TIMEOUTS_BEFORE_FIX = 4

ERRORS = {
    "credentials": "botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the "
    "PutObject operation: The provided token has expired. RequestId {hex}",
    "outage": "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: "
    "https://{host}/v2/orders?since={ts}",
    "timeout": "airflow.exceptions.AirflowTaskTimeout: Timeout, PID: {pid}",
    "flaky": "ConnectionResetError: [Errno 104] Connection reset by peer while reading {path}",
    "bug": "KeyError: 'customer_id'",
}


@dataclass(frozen=True)
class TruthRun:
    record: RunRecord
    cause: str | None  # ground truth: None (success) or a key of ERRORS
    timeouts: dict[str, float]  # execution_timeout per task of the code it ran, as Airflow tells it
    connections: dict[str, frozenset[str]]  # connection ids per task, as the DAG file names them
    # The hidden state behind the run, for the bounds bench/predict prints:
    incident: tuple[str, str, float] | None = None  # (kind, resource, start) of the incident it is in
    incident_chance: float = 0.0  # that the incident makes it fail
    background_chance: float = 0.0  # that it fails otherwise (a timeout on the growth, flakiness)
    # Connections whose test (Airflow's ``test_connection``) fails twice just before the run (the
    # assistant tests a failing one again): an expired token always does, a partner API that is down
    # nearly always; now and then a test fails spuriously.
    failing_tests: frozenset[str] = frozenset()

    @property
    def oracle(self) -> float:
        """The true chance it fails, knowing the hidden state (no predictor can know it all)."""
        return 1 - (1 - self.incident_chance) * (1 - self.background_chance)

    def history_oracle(self, incident_seen_at: datetime | None) -> float:
        """The true chance, counting the incident only once a failure from it had finished
        (``incident_seen_at``) before this run started: the bound of learning from history."""
        seen = incident_seen_at is not None and incident_seen_at <= self.record.start
        return 1 - (1 - (self.incident_chance if seen else 0.0)) * (1 - self.background_chance)


@dataclass
class DagProfile:
    dag_id: str
    every_h: float
    tasks: tuple[str, ...]
    connection: str | None  # the AWS connection its upload uses, None: no upload
    upstream: str | None  # the partner API its fetch calls, None: no call
    grows_to_timeout: bool
    flaky_rate: float  # the chance that one try of ``extract`` fails
    retries: int  # tries after the first, as the DAG's default_args set them
    gets_bug: bool


@dataclass(frozen=True)
class Incidents:
    """Windows in hours since START during which a shared resource is broken."""

    expired: dict[str, list[tuple[float, float]]]  # per connection
    outages: dict[str, list[tuple[float, float]]]  # per upstream host


def profiles(rng: random.Random, count: int = 12) -> list[DagProfile]:
    out = []
    for i in range(count):
        out.append(
            DagProfile(
                dag_id=f"dag_{i:02d}",
                every_h=rng.choice([1.0, 2.0, 3.0, 4.0, 6.0]),
                tasks=("extract", "fetch_api", "transform", "upload_to_s3", "notify"),
                connection=rng.choice(CONNECTIONS) if rng.random() < 0.6 else None,
                upstream=rng.choice(UPSTREAMS) if rng.random() < 0.6 else None,
                grows_to_timeout=rng.random() < 0.3,
                flaky_rate=rng.choice([0.0, 0.0, 0.05, 0.15, 0.3]),
                retries=rng.choice([1, 2]),
                gets_bug=rng.random() < 0.4,
            )
        )
    return out


def incidents(rng: random.Random) -> Incidents:
    return Incidents(
        expired={conn: _windows(rng, 24 * 14, (6, 48)) for conn in CONNECTIONS},
        outages={host: _windows(rng, 24 * 6, (2, 12)) for host in UPSTREAMS},
    )


def _windows(
    rng: random.Random, mean_gap_h: float, length_h: tuple[float, float]
) -> list[tuple[float, float]]:
    """Random [start, end) windows in hours since START."""
    out, t = [], rng.expovariate(1 / mean_gap_h)
    while t < DAYS * 24:
        length = rng.uniform(*length_h)
        out.append((t, t + length))
        t += length + rng.expovariate(1 / mean_gap_h)
    return out


def _inside(hours: float, windows: list[tuple[float, float]]) -> bool:
    return any(a <= hours < b for a, b in windows)


def _message(rng: random.Random, cause: str, dag: DagProfile) -> str:
    return ERRORS[cause].format(
        hex=f"{rng.getrandbits(64):016X}",
        host=dag.upstream,
        ts=f"2025-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
        pid=rng.randint(1000, 99999),
        path=f"/data/in/batch_{rng.randint(1, 999)}.csv",
    )


@dataclass
class _Growth:
    """The growing input of ``transform``: its duration creeps up until a fix."""

    start_h: float
    base_s: float = 1800.0
    timeouts: int = 0
    fix_at_h: float | None = None

    def duration(self, hours: float) -> float:
        return self.base_s * (1 + max(0.0, hours - self.start_h) / (24 * 20))


def _extract_tries(rng: random.Random, dag: DagProfile, per_run: bool) -> int | None:
    """How many tries ``extract`` needed; None when every try failed (the run fails, flaky)."""
    if per_run:  # the first model: a share of runs fails, as many succeed on a retry
        if rng.random() < dag.flaky_rate / 4:
            return None
        return 2 if rng.random() < dag.flaky_rate / 4 else 1
    for attempt in range(1, dag.retries + 2):
        if rng.random() >= dag.flaky_rate:
            return attempt
    return None


def dag_history(
    rng: random.Random, dag: DagProfile, shared: Incidents, *, flaky_per_run: bool = False
) -> list[TruthRun]:
    expired = shared.expired[dag.connection] if dag.connection else []
    outages = shared.outages[dag.upstream] if dag.upstream else []
    bug_from = rng.uniform(10, DAYS - 10) * 24 if dag.gets_bug else None
    bug_until = bug_from + rng.uniform(4, 36) if bug_from is not None else None
    growth = _Growth(start_h=rng.uniform(0, DAYS * 24 * 0.4))
    timeout_s, version, bug_active = TIMEOUT_S, 1, False
    runs, hours = [], rng.uniform(0, dag.every_h)
    while hours < DAYS * 24:
        if bug_from is not None and bug_from <= hours:
            version, bug_active, bug_from = version + 1, True, None  # a deploy that introduces the bug
        if bug_until is not None and bug_until <= hours and bug_active:
            version, bug_active, bug_until = version + 1, False, None  # the fix
        if growth.fix_at_h is not None and growth.fix_at_h <= hours:
            version += 1  # the timeout fix: make transform faster, or raise its execution_timeout
            if rng.random() < 0.5:
                growth = _Growth(start_h=hours)
            else:
                timeout_s, growth.fix_at_h, growth.timeouts = timeout_s * 1.5, None, 0
        duration = {t: rng.lognormvariate(3.5, 0.3) for t in dag.tasks}
        if dag.grows_to_timeout:
            duration["transform"] = growth.duration(hours) * rng.uniform(0.9, 1.1)
        hidden = _hidden_state(dag, hours, bug_active, expired, outages, growth, timeout_s, flaky_per_run)
        cause = None
        if bug_active:
            cause = "bug"
        elif _inside(hours, expired):
            cause = "credentials"
        elif _inside(hours, outages) and rng.random() < 0.95:
            cause = "outage"
        elif duration["transform"] > timeout_s:
            cause = "timeout"
            growth.timeouts += 1
            if growth.timeouts == TIMEOUTS_BEFORE_FIX:
                growth.fix_at_h = hours + rng.uniform(6, 48)
        tries = _extract_tries(rng, dag, flaky_per_run)
        if cause is None and tries is None:
            cause = "flaky"
        run = _record(rng, dag, hours, version, duration, timeout_s, cause, tries or 1)
        tests = _failing_tests(rng, dag, _inside(hours, expired), _inside(hours, outages))
        runs.append(
            replace(
                run,
                incident=hidden[0],
                incident_chance=hidden[1],
                background_chance=hidden[2],
                failing_tests=tests,
            )
        )
        hours += dag.every_h * rng.uniform(0.98, 1.02)
    return runs


def _hidden_state(
    dag: DagProfile,
    hours: float,
    bug_active: bool,
    expired: list[tuple[float, float]],
    outages: list[tuple[float, float]],
    growth: _Growth,
    timeout_s: float,
    flaky_per_run: bool,
) -> tuple[tuple[str, str, float] | None, float, float]:
    """(incident, its chance of failing the run, the chance of failing otherwise) at ``hours``:
    what the generator knows and no predictor sees."""
    timeout = 0.0
    if dag.grows_to_timeout:
        expected = growth.duration(hours)
        timeout = min(max((1.1 * expected - timeout_s) / (0.2 * expected), 0.0), 1.0)
    flaky = dag.flaky_rate / 4 if flaky_per_run else dag.flaky_rate ** (dag.retries + 1)
    background = 1 - (1 - timeout) * (1 - flaky)
    if bug_active:
        return ("bug", dag.dag_id, 0.0), 1.0, background
    window = _window(hours, expired)
    if window is not None:
        return ("credentials", dag.connection or "", window), 1.0, background
    window = _window(hours, outages)
    if window is not None:
        return ("outage", dag.upstream or "", window), 0.95, background
    return None, 0.0, background


SPURIOUS_TEST_FAILURE = 0.005
OUTAGE_TEST_FAILURE = 0.95


def _failing_tests(rng: random.Random, dag: DagProfile, expired: bool, outage: bool) -> frozenset[str]:
    """The connections of ``dag`` whose test fails at the start of a run (see TruthRun)."""
    failing = set()
    for task, conn_ids in task_connections(dag).items():
        for conn_id in conn_ids:
            if all(_test_fails(rng, task, expired, outage) for _ in range(2)):  # a failure is tested again
                failing.add(conn_id)
    return frozenset(failing)


def _test_fails(rng: random.Random, task: str, expired: bool, outage: bool) -> bool:
    if task == "upload_to_s3" and expired:
        return True
    if task == "fetch_api" and outage and rng.random() < OUTAGE_TEST_FAILURE:
        return True
    return rng.random() < SPURIOUS_TEST_FAILURE


def _window(hours: float, windows: list[tuple[float, float]]) -> float | None:
    return next((a for a, b in windows if a <= hours < b), None)


def incidents_seen(runs: list[TruthRun]) -> dict[tuple[str, str, float], datetime]:
    """When a failure of each incident was first over (the first moment history can tell of it)."""
    seen: dict[tuple[str, str, float], datetime] = {}
    for truth in runs:
        if truth.incident is None or truth.cause not in {"bug", "credentials", "outage"}:
            continue
        end = truth.record.end or truth.record.start
        if truth.incident not in seen or end < seen[truth.incident]:
            seen[truth.incident] = end
    return seen


_TASK_OF = {
    "credentials": "upload_to_s3",
    "outage": "fetch_api",
    "timeout": "transform",
    "flaky": "extract",
    "bug": "transform",
}


def _record(
    rng: random.Random,
    dag: DagProfile,
    hours: float,
    version: int,
    duration: dict[str, float],
    timeout_s: float,
    cause: str | None,
    extract_tries: int,
) -> TruthRun:
    start = START + timedelta(hours=hours)
    tasks: list[TaskOutcome] = []
    failed_at = _TASK_OF.get(cause or "")
    for task_id in dag.tasks:
        if failed_at is not None and tasks and tasks[-1].state in {"failed", "upstream_failed"}:
            tasks.append(TaskOutcome(task_id, "upstream_failed", 0, None))
            continue
        if task_id == failed_at:
            spent = timeout_s if cause == "timeout" else duration[task_id] * rng.uniform(0.1, 1.0)
            message = _message(rng, cause or "", dag)
            tasks.append(TaskOutcome(task_id, "failed", dag.retries + 1, spent, None, message))
        else:
            tries = extract_tries if task_id == "extract" else 1
            tasks.append(TaskOutcome(task_id, "success", tries, duration[task_id]))
    total = sum(t.duration_s or 0.0 for t in tasks)
    record = RunRecord(
        dag.dag_id,
        f"scheduled__{start.isoformat()}",
        "failed" if cause else "success",
        start,
        start + timedelta(seconds=total),
        total,
        f"v{version}",
        tuple(tasks),
    )
    return TruthRun(record, cause, dict.fromkeys(dag.tasks, timeout_s), task_connections(dag))


def task_connections(dag: DagProfile) -> dict[str, frozenset[str]]:
    """What the DAG file says: the upload uses the AWS connection, the fetch the partner API's."""
    out = {}
    if dag.connection:
        out["upload_to_s3"] = frozenset({dag.connection})
    if dag.upstream:
        out["fetch_api"] = frozenset({"http_" + dag.upstream.split(".")[1].replace("-", "_")})
    return out


def generate(seed: int, dag_count: int = 12, *, flaky_per_run: bool = False) -> list[TruthRun]:
    """All runs of ``dag_count`` DAGs over DAYS days, in time order."""
    rng = random.Random(seed)
    dags = profiles(rng, dag_count)
    shared = incidents(rng)
    runs = [run for dag in dags for run in dag_history(rng, dag, shared, flaky_per_run=flaky_per_run)]
    return sorted(runs, key=lambda r: r.record.start)
