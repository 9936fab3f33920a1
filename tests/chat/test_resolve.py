from __future__ import annotations

from assistant.airflow.models import DagInfo
from assistant.chat.resolve import resolve_dag


def _dags(*ids: str, **descriptions: str) -> list[DagInfo]:
    return [DagInfo(dag_id=i, is_paused=False, description=descriptions.get(i)) for i in ids]


def test_exact_id_in_any_case() -> None:
    assert resolve_dag("NIGHTLY_BACKUP", _dags("nightly_backup", "etl")).dag_id == "nightly_backup"


def test_description_words_pick_the_dag() -> None:
    dags = _dags("my_deployment", "etl_daily", "nightly_backup")
    assert resolve_dag("my deployment workflow", dags).dag_id == "my_deployment"
    assert resolve_dag("the backup pipeline", dags).dag_id == "nightly_backup"


def test_description_and_tags_count_less_than_the_id() -> None:
    dags = [
        DagInfo(dag_id="ship_it", is_paused=False, description="deploys the web app to production"),
        DagInfo(dag_id="etl_daily", is_paused=False, tags=("warehouse",)),
    ]
    assert resolve_dag("the warehouse job", dags).dag_id == "etl_daily"


def test_several_plausible_are_all_offered() -> None:
    found = resolve_dag("backup", _dags("backup_s3", "backup_gcs", "etl"))
    assert found.ambiguous
    assert found.candidates == ["backup_gcs", "backup_s3"]


def test_nothing_matching_gives_closest() -> None:
    found = resolve_dag("quantum teleport", _dags("etl_daily"))
    assert found.dag_id is None and not found.ambiguous


def test_vague_phrase_is_flagged() -> None:
    assert resolve_dag("run a dag", _dags("etl_daily")).vague
