from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval.chunking import chunk_text, kind_of

MARKDOWN = """# Deploying

Intro paragraph about deploying.

## Rollback

To roll back, run the command below.

```bash
assistant rollback my-repo

assistant status
```

### Details

More detail here.
"""

RST = """ .. Licensed to the Apache Software Foundation (ASF) under one
    or more contributor license agreements.

.. _concepts-xcom:

XComs
=====

XComs let tasks talk to each other.

.. note::
    They are stored in the metadata database.

Pushing
-------

Push a value like this::

    def push(ti):
        ti.xcom_push(key="k", value=1)

        return 2

.. code-block:: python

    pull = ti.xcom_pull(key="k")

.. image:: /img/xcom.png
"""

PYTHON = '''"""Module doc of the ETL DAG."""
import datetime

DEFAULT = {"retries": 2}


@task
def extract():
    return 1


class Loader:
    def load(self):
        return 2
'''


def test_markdown_sections_follow_heading_path_and_keep_code_whole() -> None:
    chunks = chunk_text(MARKDOWN, "knowledge/deploy.md", "markdown", max_chars=60)
    assert {c.title for c in chunks} == {"Deploying"}
    sections = [c.section for c in chunks]
    assert "Rollback" in sections and "Rollback > Details" in sections
    code = [c for c in chunks if "```bash" in c.text]
    assert len(code) == 1
    assert "assistant rollback my-repo\n\nassistant status\n```" in code[0].text
    assert all(c.source == "knowledge/deploy.md" for c in chunks)


def test_rst_titles_code_and_noise() -> None:
    chunks = chunk_text(RST, "xcoms.rst", "rst")
    text = "\n".join(c.text for c in chunks)
    assert chunks[0].title == "XComs"
    assert "Licensed" not in text and ".. _concepts-xcom" not in text and "xcom.png" not in text
    assert "stored in the metadata database" in text  # admonition bodies are content
    pushing = [c for c in chunks if c.section == "Pushing"]
    assert pushing, [c.section for c in chunks]
    # the literal block after "::" is one block, blank line inside included
    assert any('ti.xcom_push(key="k", value=1)\n\n        return 2' in c.text for c in pushing)
    assert any("xcom_pull" in c.text for c in pushing)


def test_python_is_cut_at_top_level_definitions() -> None:
    chunks = chunk_text(PYTHON, "dags/etl.py", "python")
    by_section = {c.section: c.text for c in chunks}
    assert by_section["def extract"].startswith("@task\ndef extract():")
    assert "def load" in by_section["class Loader"]
    assert "Module doc of the ETL DAG." in by_section["module"]
    assert 'DEFAULT = {"retries": 2}' in by_section["module"]


def test_python_with_a_syntax_error_is_chunked_as_text() -> None:
    chunks = chunk_text("def broken(:\n    pass\n", "bad.py", "python")
    assert chunks and "def broken" in chunks[0].text


def test_long_prose_is_split_below_the_limit_but_code_is_not() -> None:
    prose = " ".join(f"Sentence number {i} explains something." for i in range(200))
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(300)) + "\n```"
    chunks = chunk_text(f"# T\n\n{prose}\n\n{code}\n", "t.md", "markdown", max_chars=500)
    prose_chunks = [c for c in chunks if "Sentence number" in c.text]
    assert len(prose_chunks) > 5 and all(len(c.text) <= 500 for c in prose_chunks)
    assert sum("x299 = 299" in c.text and "x0 = 0" in c.text for c in chunks) == 1


def test_positions_are_sequential_and_title_falls_back_to_file_name() -> None:
    chunks = chunk_text("first para\n\nsecond para", "notes/my_notes.txt", "text", max_chars=12)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert chunks[0].title == "my notes"


@pytest.mark.parametrize(
    ("name", "kind"), [("a.md", "markdown"), ("b.RST", "rst"), ("c.py", "python"), ("d.png", None)]
)
def test_kind_of(name: str, kind: str | None) -> None:
    assert kind_of(Path(name)) == kind
