"""Local state: one SQLite database in the assistant's home, with numbered migrations."""

from __future__ import annotations

from assistant.state.db import open_state

__all__ = ["open_state"]
