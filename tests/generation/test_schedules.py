from __future__ import annotations

import pytest

from assistant.generation.schedules import extract_schedule


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        ("every hour fetch the API", "@hourly"),
        ("daily at 2am run the export", "0 2 * * *"),
        ("every sunday email the report", "0 0 * * 0"),
        ("every 5 minutes ping the service", "*/5 * * * *"),
        ("weekdays at 6pm send the summary", "0 18 * * 1-5"),
        ("every saturday at 10pm vacuum the db", "0 22 * * 6"),
        ("every wednesday at 9:15am run x", "15 9 * * 3"),
        ("load data every day at 14:30", "30 14 * * *"),
        ("on the 1st of every month at 9am bill", "0 9 1 * *"),
        ("every 2 hours sync", "0 */2 * * *"),
        ("twice a day sync the crm", "0 0,12 * * *"),
        ("at midnight back up", "0 0 * * *"),
        ('cron "15 4 * * 1": run it', "15 4 * * 1"),
        ("weekly, export the orders", "@weekly"),
    ],
)
def test_schedule_phrases_become_cron(text: str, schedule: str) -> None:
    found, rest, phrase = extract_schedule(text)
    assert found == schedule
    assert phrase is not None and phrase.lower() not in rest.lower()


def test_no_schedule_phrase_means_manual_runs() -> None:
    assert extract_schedule("wait for the file then load it") == (
        None,
        "wait for the file then load it",
        None,
    )


def test_words_inside_urls_and_names_are_not_schedules() -> None:
    assert extract_schedule("copy gs://drop/daily to gs://lake/x")[0] is None
    assert extract_schedule("run the nightly batch")[0] is None


def test_explicit_schedule_beats_an_adjective_earlier_in_the_text() -> None:
    found, _rest, _phrase = extract_schedule("send the weekly report after the load, every monday at 7am")
    assert found == "0 7 * * 1"


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        ("kick off the attribution run at 8:45 on weekdays: run the sql", "45 8 * * 1-5"),
        ("monthly at 6am: run the invoice job", "0 6 1 * *"),
        ("monthly, run the invoice job at 6am", "0 6 1 * *"),
        ("every friday 4:30pm: train the model", "30 16 * * 5"),
        ("hourly at half past ping the service", "30 * * * *"),
        ("on the first of each month at 2am archive the files", "0 2 1 * *"),
        ("run the daily incremental sql, then slack #data. every night at 11pm", "0 23 * * *"),
    ],
)
def test_a_time_and_a_day_said_apart_make_one_schedule(text: str, schedule: str) -> None:
    assert extract_schedule(text)[0] == schedule


@pytest.mark.parametrize(
    "text",
    [
        "refresh the materialized view reporting.daily_sales in postgres",
        "branch on whether today is a business day",
        "compute hourly averages per device, then upload them",
        "send the weekly_kpis table to finance",
    ],
)
def test_names_conditions_and_adjectives_of_things_are_not_schedules(text: str) -> None:
    assert extract_schedule(text)[0] is None


def test_run_as_the_name_of_a_job_stays_in_the_text() -> None:
    found, rest, _phrase = extract_schedule("kick off the attribution run at 8:45")
    assert found == "45 8 * * *"
    assert rest == "kick off the attribution run"


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        ("eod job @ 23:30 every day: rsync the exports", "30 23 * * *"),
        ("Sundays at 10pm: send a heads-up email", "0 22 * * 0"),
        ("email the statements. Monthly on the 1st at 6am.", "0 6 1 * *"),
        ("compute offline precision@10 in python", None),
    ],
)
def test_more_ways_to_say_when(text: str, schedule: str | None) -> None:
    assert extract_schedule(text)[0] == schedule
