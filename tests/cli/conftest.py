from __future__ import annotations

from tests.gitops.gitrepos import offline_assistant, remote

__all__ = ["offline_assistant", "remote"]  # fixtures shared with tests/gitops
