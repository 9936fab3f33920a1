from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.errors import UsageError
from assistant.generation.llm import spec_from_llm_text
from assistant.generation.spec import DagSpec, check_spec, spec_from_dict


def _task(task_id: str, kind: str = "python", upstream: list[str] | None = None, **params: object) -> dict:
    return {"task_id": task_id, "kind": kind, "upstream": upstream or [], "params": params}


def test_tasks_are_put_in_dependency_order() -> None:
    spec = spec_from_dict({"dag_id": "d", "tasks": [_task("b", upstream=["a"]), _task("a")]})
    assert [t.task_id for t in spec.tasks] == ["a", "b"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"dag_id": "d", "tasks": []}, "non-empty"),
        ({"dag_id": "Bad Id", "tasks": [_task("a")]}, "lower_snake_case"),
        ({"dag_id": "d", "tasks": [_task("a", "teleport")]}, "unknown kind"),
        ({"dag_id": "d", "tasks": [_task("a", upstream=["b"]), _task("b", upstream=["a"])]}, "cycle"),
        ({"dag_id": "d", "tasks": [_task("a", upstream=["zz"])]}, "unknown task"),
        ({"dag_id": "d", "tasks": [_task("a"), _task("a")]}, "used twice"),
        ({"dag_id": "d", "schedule": "sometimes", "tasks": [_task("a")]}, "cron"),
        ({"dag_id": "d", "retries": 99, "tasks": [_task("a")]}, "between"),
    ],
)
def test_malformed_specs_are_refused_with_the_reason(data: dict, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        spec_from_dict(data)
    assert words in caught.value.message


def test_unknown_params_are_dropped_and_known_ones_kept() -> None:
    spec = spec_from_dict({"dag_id": "d", "tasks": [_task("a", "bash", command="make", evil="x")]})
    assert spec.tasks[0].params == {"command": "make"}


def test_llm_answer_with_prose_around_the_json_is_read() -> None:
    text = 'Sure! {"dag_id": "x", "schedule": "@daily", "tasks": [{"task_id": "a", "kind": "bash"}]} Done.'
    spec = spec_from_llm_text(text, "desc")
    assert (spec.dag_id, spec.schedule, spec.description) == ("x", "@daily", "desc")


def test_llm_answer_without_json_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        spec_from_llm_text("I cannot do that", "desc")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: setattr(s, "timeout_minutes", 0), "between 1 and 1440"),
        (lambda s: setattr(s, "retries", 11), "between 0 and 10"),
        (lambda s: setattr(s.tasks[0], "timeout_minutes", 24 * 60 + 1), "between 1 and 1440"),
        (lambda s: setattr(s.tasks[0], "retries", -1), "between 0 and 10"),
        (lambda s: setattr(s, "owner", " "), "owner"),
        (lambda s: setattr(s, "tags", ["x"] * 21), "tags"),
    ],
)
def test_check_spec_refuses_values_out_of_range_whoever_set_them(
    change: Callable[[DagSpec], None], words: str
) -> None:
    spec = spec_from_dict({"dag_id": "d", "tasks": [_task("a")]})
    change(spec)
    with pytest.raises(UsageError) as caught:
        check_spec(spec)
    assert words in caught.value.message
