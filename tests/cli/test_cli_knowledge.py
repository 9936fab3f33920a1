"""`assistant index` and `assistant search` end to end, in a subprocess with a fresh home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("assistant_home")


@pytest.fixture
def assistant_home(isolated_env: Path) -> Path:
    from tests.retrieval.conftest import link_export

    return link_export(isolated_env)


def test_index_then_search_json(run_cli, tmp_path: Path) -> None:
    docs = tmp_path / "team-docs"
    docs.mkdir()
    (docs / "oncall.md").write_text(
        "# On-call\n\n## Paging\n\nPage the data on-call engineer through PagerDuty when the nightly load fails.\n"
    )
    indexed = run_cli("index", str(docs))
    assert indexed.returncode == 0, indexed.stderr
    assert "1 new" in indexed.stdout

    found = run_cli("search", "who do I page when the nightly load breaks", "--json", "-k", "3")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["source"] == "team-docs/oncall.md"
    assert hits[0]["section"] == "Paging"
    assert set(hits[0]) == {"source", "section", "score", "text", "collection"}
    assert hits[0]["collection"] == "docs"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_builtin_knowledge_is_indexed_on_first_search(run_cli) -> None:
    found = run_cli("search", "how do I suppress a security scan finding", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and hits[0]["source"] == "knowledge/security-scan.md"


def test_json_lines_from_stdin_in_order(run_cli) -> None:
    queries = "how do I roll back a deployment\n\nwhat does a 401 from the github webhook mean\n"
    found = run_cli("search", "--json", "-k", "2", input=queries)
    assert found.returncode == 0, found.stderr
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == []
    assert lines[0][0]["source"] == "knowledge/rollback-and-history.md"
    assert lines[2][0]["source"] == "knowledge/webhooks.md"


def test_nothing_found_is_said_plainly(run_cli) -> None:
    found = run_cli("search", "best chocolate cake recipe with strawberries")
    assert found.returncode == 0
    assert "nothing relevant found" in found.stdout


def test_bad_input_gives_one_line_errors(run_cli, tmp_path: Path) -> None:
    missing = run_cli("index", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    no_query = run_cli("search")
    assert no_query.returncode == 2 and "hint:" in no_query.stderr
    bad_collection = run_cli("search", "x", "--collection", "nope")
    assert bad_collection.returncode != 0 and "Traceback" not in bad_collection.stderr
