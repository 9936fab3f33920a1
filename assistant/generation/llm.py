"""The optional LLM spec proposer: a local Ollama model writes the spec as JSON.

Used only when ``config.ollama_host`` is set. The model's JSON goes through the same schema check
as the parser's spec (:func:`assistant.generation.spec.spec_from_dict`); an unreachable server or
an answer that does not fit the schema makes the caller fall back to the parser, saying why.
"""

from __future__ import annotations

import json
import re
from typing import Protocol

from assistant.errors import NotAvailable, UsageError
from assistant.generation.spec import KINDS, PARAMS, DagSpec, spec_from_dict

PROMPT = """You turn a workflow description into a JSON spec for an Apache Airflow DAG.
Answer with one JSON object only, no prose, with these fields:
  dag_id: lower_snake_case string
  schedule: cron expression (5 fields), an Airflow preset like "@daily", or null for manual runs
  tasks: list, in execution order, of objects with
    task_id: lower_snake_case string, unique
    kind: one of {kinds}
    summary: the words of the description this task does
    params: object, only these keys per kind: {params}
    upstream: list of task_ids this task runs after (usually the previous task)
Only use values the description gives; leave a parameter out rather than invent it.

A draft from a rule-based parser (fix it where it misread the description):
{draft}

Description: {description}
JSON:"""


class SpecProposer(Protocol):
    def propose(self, description: str, draft: DagSpec) -> DagSpec: ...


def spec_from_llm_text(text: str, description: str) -> DagSpec:
    """The spec in an LLM's answer (the first JSON object in it), checked against the schema."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        raise UsageError(
            "the language model did not answer with JSON", "the rule-based parser is used instead"
        )
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"the language model's JSON is malformed ({exc.msg})", "the rule-based parser is used"
        ) from None
    if isinstance(data, dict):
        data.setdefault("description", description)
    return spec_from_dict(data)


class OllamaSpecProposer:
    """Asks one Ollama model for the spec, in JSON mode."""

    def __init__(self, host: str, model: str, *, timeout_s: float = 120.0) -> None:
        self.host = host
        self.model = model
        self.timeout_s = timeout_s

    def propose(self, description: str, draft: DagSpec) -> DagSpec:
        import ollama

        prompt = PROMPT.format(
            kinds=", ".join(KINDS),
            params=json.dumps({kind: sorted(keys) for kind, keys in PARAMS.items()}),
            draft=json.dumps(draft.to_dict()),
            description=description,
        )
        try:
            response = ollama.Client(host=self.host, timeout=self.timeout_s).generate(
                model=self.model, prompt=prompt, format="json", options={"temperature": 0}
            )
        except Exception as exc:  # httpx connection errors, ollama.ResponseError (missing model), ...
            raise NotAvailable(
                f"the language model at {self.host} did not answer ({type(exc).__name__})",
                f"start Ollama and pull the model (ollama pull {self.model}), or unset ASSISTANT_OLLAMA_HOST",
            ) from None
        spec = spec_from_llm_text(str(getattr(response, "response", "") or ""), description)
        spec.owner, spec.tags = draft.owner, spec.tags or draft.tags
        return spec
