"""The LLM paths through the real `ollama` client, against a loopback server speaking Ollama's API.

No Ollama weights can be had here, so the server answers what a model would; what is tested is
ours: the prompt we send (passages only, the draft spec), and what we do with the answer (the
same schema check, rendering and validation as without an LLM; a fallback when it fails).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.compose import build_assistant


class FakeOllama:
    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.reply = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.prompts.append(body.get("prompt", ""))
                data = json.dumps({"model": body["model"], "response": fake.reply, "done": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def ollama_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOllama]:
    fake = FakeOllama()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ASSISTANT_OLLAMA_HOST", f"http://127.0.0.1:{server.server_address[1]}")
    yield fake
    server.shutdown()


def test_answers_are_written_by_the_llm_from_the_retrieved_passages_only(ollama_server: FakeOllama) -> None:
    ollama_server.reply = "Pass a JSON object as the run's conf [1]."
    answer = build_assistant().answer("how do I pass parameters to a DAG run?")
    assert answer.found
    assert answer.text.startswith("Pass a JSON object as the run's conf [1].")
    assert answer.citations, "the sources of the passages are still cited"
    prompt = ollama_server.prompts[-1]
    assert "using only the numbered passages" in prompt
    assert "[1]" in prompt and "Question: how do I pass parameters to a DAG run?" in prompt


def test_a_generated_spec_from_the_llm_is_checked_rendered_and_validated(ollama_server: FakeOllama) -> None:
    ollama_server.reply = json.dumps(
        {
            "dag_id": "llm_nightly_report",
            "schedule": "0 2 * * *",
            "tasks": [
                {"task_id": "extract", "kind": "bash", "params": {"command": "echo extract"}},
                {"task_id": "report", "kind": "python", "upstream": ["extract"]},
            ],
        }
    )
    result = build_assistant().generate("every night at 2am extract the data, then build a report")
    data = result.to_dict()
    assert data["dag_id"] == "llm_nightly_report"
    assert [t["task_id"] for t in data["tasks"]] == ["extract", "report"]
    assert data["validation"]["ok"] is True, data["validation"]
    assert data["ok"] is True
    assert "every night at 2am" in ollama_server.prompts[-1]


def test_an_llm_spec_that_breaks_the_schema_falls_back_to_the_parser(ollama_server: FakeOllama) -> None:
    ollama_server.reply = '{"dag_id": "x", "tasks": [{"task_id": "a", "kind": "teleport"}]}'
    result = build_assistant().generate("every hour run a bash script, then send an email")
    data = result.to_dict()
    assert data["ok"] is True
    assert [t["kind"] for t in data["tasks"]] == ["bash", "email"]
    assert "parser" in data["summary"] or "fell back" in data["summary"].lower()
