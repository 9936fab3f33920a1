"""A stand-in for a search hit: what the conventions of similar DAGs and of the docs read of one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hit:
    source: str
    text: str
    section: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
