from __future__ import annotations

import pytest

from assistant.generation.parser import parse_description
from assistant.generation.steps import split_steps


def kinds(description: str) -> list[str]:
    return [task.kind for task in parse_description(description).tasks]


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("call https://a.example/x -> sleep 10 minutes -> copy it to gs://b/", 3),
        ("1) wait for the ingest_events DAG to finish 2) aggregate in python 3) notify #a in slack", 3),
        ("clean the orders with pandas (drop nulls and dedupe), load them into postgres", 2),
        ("pull https://api.example.gov/points/31,80/forecast, then load it into postgres", 2),
        ("build and push the docker image with `make image`, then slack #deploys", 2),
    ],
)
def test_separators_lists_asides_and_urls(text: str, steps: int) -> None:
    assert len(split_steps(text)) == steps


def test_a_heading_before_a_colon_is_not_a_step_but_a_condition_is() -> None:
    assert kinds("Nightly feature pipeline: wait for the raw_clicks DAG, then run `make x`") == [
        "dag_sensor",
        "bash",
    ]
    assert kinds("Once the nightly_ingest dag is done: run dbt snapshot; run dbt test") == [
        "dag_sensor",
        "bash",
        "bash",
    ]


def test_after_the_step_before_adds_no_step() -> None:
    assert kinds("load it into the Snowflake table RAW.ORDERS and email ops@x.com when it's loaded") == [
        "sql",
        "email",
    ]
    assert kinds("spark-submit jobs/s.py, and once that's done run `OPTIMIZE events.sessions`") == [
        "bash",
        "sql",
    ]


def test_before_and_first_put_a_step_where_it_runs() -> None:
    text = (
        "Before loading the CSV into the mysql table customers, validate its schema in python. "
        "The CSV gets dropped at /sftp/crm/customers.csv so wait for it first."
    )
    assert kinds(text) == ["file_sensor", "python", "sql"]


def test_the_arms_of_a_branch_said_in_words() -> None:
    text = (
        "branch on whether today is a business day: if it is, run the settlement query in snowflake; "
        "if not, post 'no settlement today' to #treasury in slack"
    )
    spec = parse_description(text)
    assert [t.kind for t in spec.tasks] == ["branch", "sql", "slack"]
    assert spec.tasks[2].upstream == [spec.tasks[0].task_id]
    assert spec.schedule is None
    assert kinds(
        "parse the report, and if there are any, open a ticket via the Jira REST API; if there aren't, post 'ok' to #sec"
    ) == [
        "python",
        "branch",
        "http",
        "slack",
    ]
    assert kinds(
        "check if today is month end; if yes run the close sql in snowflake, if not just run the daily sql"
    ) == [
        "branch",
        "sql",
        "sql",
    ]


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        ("truncate the table in redshift, then reload it from staging.products", ["sql", "sql"]),
        ("build the P&L summary in python", ["python"]),
        ("then post to #sales-ops", ["slack"]),
        (
            "When a new manifest shows up at /ingest/videos/manifest.json, run `make x`",
            ["file_sensor", "bash"],
        ),
        (
            "Notify #release on slack and email r@corp.com that the release branch has been cut",
            ["slack", "email"],
        ),
        ("wait until the partner_feed dag finishes and then wait 15 more minutes", ["dag_sensor", "wait"]),
    ],
)
def test_kinds_from_the_words_of_a_step(step: str, kind: list[str]) -> None:
    assert kinds(step) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3 backup of `/var/lib/grafana` nightly", ["s3_copy"]),
        ("load the result into the `clinical.adt_events` table in Postgres", ["sql"]),
        (
            "waits for teh `orders_raw` dag to finsh, then runs `CALL refresh_facts();` on postgres",
            ["dag_sensor", "sql"],
        ),
        (
            "hit `https://game.example.net/rebuild`, sleep 10 min, then run `./bin/snap.sh`",
            ["http", "wait", "bash"],
        ),
        ("build audience segments from the logs, upload the CSV to `gs://a/b/`", ["python", "gcs_copy"]),
        (
            "Kick off the compaction as a k8s job, give it 15 minutes to settle, then run `SELECT 1`",
            ["kubernetes", "wait", "sql"],
        ),
        (
            "run anomaly detection on them (z-score on API call counts), then email soc@corp.example",
            ["python", "email"],
        ),
    ],
)
def test_names_in_backticks_are_not_commands_and_asides_do_not_decide(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


def test_summaries_purposes_and_passive_voice() -> None:
    text = (
        "Claims pipeline. The 837 claims file is expected at `/mnt/edi/837.txt` every weekday morning. "
        "Once it shows up, parse the EDI segments into rows. The valid claims are loaded into Snowflake "
        "`CLAIMS.STG_837`. Runs weekdays at 8:00."
    )
    spec = parse_description(text)
    assert [t.kind for t in spec.tasks] == ["file_sensor", "python", "sql"]
    assert spec.schedule == "0 8 * * 1-5"
    goal = parse_description(
        "Goal: apply infra changes every night at 11pm. Run `terraform plan`, then post the outcome to #infra on Slack."
    )
    assert [t.kind for t in goal.tasks] == ["bash", "slack"]
    assert goal.schedule == "0 23 * * *"
    assert kinds(
        "We retrain the churn model weekly. The model artifact is then uploaded to `s3://m/churn/`."
    ) == ["s3_copy"]


def test_a_step_said_before_its_time_and_again_later_is_one_step() -> None:
    text = (
        "Prior to refreshing the pricing table, the price feed must be fetched from `https://feeds.example/v1`. "
        "The prices are then cleaned in Python. Lastly the `pricing.prices` table in Postgres is refreshed."
    )
    assert kinds(text) == ["http", "python", "sql"]


def test_a_heading_that_sums_up_the_steps_after_its_colon() -> None:
    assert kinds(
        "rotate db creds: call vault `POST https://vault.internal/v1/rotate`, wait 2 min, run `./verify.sh`"
    ) == [
        "http",
        "wait",
        "bash",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "wait for the solar_ingest pipeline to finish, then drop the results in #solar-ops",
            ["dag_sensor", "slack"],
        ),
        (
            "Build the docker image for the ticketing-api (`docker build -t t:latest .`), then email a@b.io",
            ["bash", "email"],
        ),
        (
            "query sales.bookings for yesterday => build a PDF revenue report => email it to cfo@x.com",
            ["sql", "python", "email"],
        ),
        (
            "transcribe it in python, then save the transcript metadata to media.podcast_transcripts",
            ["python", "sql"],
        ),
        (
            "It queries attendance.raw_swipes and aggregates into attendance.hourly. Then it calls https://d.k12.us/api/refresh",
            ["sql", "http"],
        ),
        (
            "call POST https://p.example.com/exports, then flatten the JSON into rows. Manual trigger only.",
            ["http", "python"],
        ),
        ("refresh the extract via their REST api? no schedule needed, we'll trigger it by hand", ["http"]),
    ],
)
def test_round_five_phrasings(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


def test_the_dag_is_named_by_name_or_by_a_quoted_id() -> None:
    assert (
        parse_description("Name: podcast_ingest\n- watch for /m/in/e.mp3\n- upload it to s3://p/").dag_id
        == "podcast_ingest"
    )
    spec = parse_description("AC: DAG `edu_rollup` runs hourly. It queries attendance.raw for the last hour.")
    assert spec.dag_id == "edu_rollup"
    assert [t.kind for t in spec.tasks] == ["sql"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Hi Priya,\n\nCould you build a workflow for the permits data? It should wait for the file x.xml to show "
            "up in /mnt/sftp/city/, convert it to parquet, and copy the parquet to s3://gov/permits/. Once that's "
            "done please notify #open-data in Slack. Monthly is fine.\n\nThanks,\nMarcus",
            ["file_sensor", "python", "s3_copy", "slack"],
        ),
        (
            "JIRA BILL-482: Invoice run. Steps: (1) run the usage query from billing.usage_events into billing.monthly "
            "(2) generate the invoice PDFs with python (3) email finance@saasco.io a summary",
            ["sql", "python", "email"],
        ),
        (
            "weekly sunday backup - pg_dump the prod db with our bash script, push the dump to s3://b/pg/ and when done message #infra",
            ["bash", "s3_copy", "slack"],
        ),
        (
            "## churn_training\n\nThis DAG retrains the churn model. It first pulls the features with a SQL query, then uploads the model to gs://ml/churn/.",
            ["sql", "gcs_copy"],
        ),
        (
            "To make sure the data is complete, first wait for the file /lab/run_manifest.json. Then validate it in Python.",
            ["file_sensor", "python"],
        ),
        (
            "(context: readings land in s3://iot/raw/ every hour)\n- pull the latest hour down from that bucket\n- anomalies -> slack #fleet",
            ["s3_copy", "slack"],
        ),
        (
            "daily at 7am copy the statements from s3://bank/mt940/ parse them load balances into treasury.balances",
            ["s3_copy", "python", "sql"],
        ),
        (
            "upon completion of the `warehouse_scans` workflow, reconcile pallets vs manifests in python",
            ["dag_sensor", "python"],
        ),
        (
            "call https://c.internal/api/expiring, and if any certs come back post them in #sec-ops, if not do nothing",
            ["http", "branch", "slack"],
        ),
        (
            "run the protein folding job in a kubernetes pod with image af:2.3, nothing more, trigger manually",
            ["kubernetes"],
        ),
    ],
)
def test_round_six_phrasings(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


def test_a_heading_names_the_dag_and_settings_lines_are_settings() -> None:
    spec = parse_description(
        "## churn_training\n\nThis DAG retrains the churn model. It first pulls the features with SQL."
    )
    assert spec.dag_id == "churn_training"


@pytest.mark.parametrize(
    ("text", "expected", "schedule"),
    [
        (
            "[ENG-1] As a payroll admin, I want overtime computed from the timesheets, so that payslips are right.\n"
            "Acceptance criteria:\n- query raw hours from hr.timesheets\n- compute overtime per employee\n"
            "- update hr.payslip_lines with the amounts",
            ["sql", "python", "sql"],
            None,
        ),
        (
            "I'm looking for something that runs every Monday at 8am and emails the KPI link to ops@x.com.",
            ["email"],
            "0 8 * * 1",
        ),
        (
            "hey, could we get a thing that runs every morning at 6, queries lms.enrollments and posts it in #edu on slack?",
            ["sql", "slack"],
            "0 6 * * *",
        ),
        (
            "Is need to sleep 2 minute and after restart the service with `sudo systemctl restart kc`",
            ["wait", "bash"],
            None,
        ),
        (
            "Each hour the shipment ETAs are fetched from https://api.fleet.com/etas and stored in logistics.etas.",
            ["http", "sql"],
            "@hourly",
        ),
        (
            "every 4h: s3://ad-logs/bids/ → local → parse bid logs → write to bidding.win_rate → slack #bidding",
            ["s3_copy", "python", "sql", "slack"],
            "0 */4 * * *",
        ),
        (
            "Irrigation procedure (runs daily 05:15):\n1. Call the weather API https://w.example/f\n2. Compute the schedule",
            ["http", "python"],
            "15 5 * * *",
        ),
        (
            "The model is retrained on the latest ratings and the results are pushed via POST https://recs.tv/api. The process is triggered manually by the ML team.",
            ["python", "http"],
            None,
        ),
    ],
)
def test_round_seven_phrasings(text: str, expected: list[str], schedule: str | None) -> None:
    spec = parse_description(text)
    assert [t.kind for t in spec.tasks] == expected
    assert spec.schedule == schedule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "If the count is low, email a@b.org; otherwise go ahead and run the aggregation query into r.daily.",
            ["branch", "email", "sql"],
        ),
        (
            "if the A/B test for the new landing page has reached significance, POST to https://f.io/api, otherwise post to #exp",
            ["branch", "http", "slack"],
        ),
        (
            "Run the scoring job in a kubernetes pod, then write the scores into a.scores with an INSERT ... SELECT from staging.",
            ["kubernetes", "sql"],
        ),
        (
            "If the new build passed QA, deploy it with ./deploy.sh prod. If it didnt, post to #releases that it is blocked.",
            ["branch", "bash", "slack"],
        ),
        (
            "Wait for the sensor dump to finish (it drops /mnt/iot/done.flag), then ping #iot-ops on slack.",
            ["file_sensor", "slack"],
        ),
    ],
)
def test_round_eight_phrasings(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected
