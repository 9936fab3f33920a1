"""The one service every front end (CLI, REPL, web) adapts: ``Assistant``.

It holds the lazily built components and exposes each capability as a method. It knows nothing
of terminals or HTTP: methods take plain arguments and return plain data or raise
:class:`assistant.errors.AssistantError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.tools import doctor, runs

if TYPE_CHECKING:
    from assistant.airflow.models import DagInfo, DagRunInfo
    from assistant.chat.engine import Conversation
    from assistant.compose import Components
    from assistant.config import Config


class Assistant:
    def __init__(self, components: Components) -> None:
        self.components = components

    @property
    def config(self) -> Config:
        return self.components.config

    # -- DAGs and runs ------------------------------------------------------------------------

    def dags(self, namespace: str | None = None) -> list[DagInfo]:
        return runs.list_dags(self.components.airflow, namespace)

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> DagRunInfo:
        return runs.trigger(self.components.airflow, dag_id, conf)

    def wait(self, run: DagRunInfo, timeout_s: float = 300.0) -> runs.RunReport:
        return runs.wait(self.components.airflow, run, timeout_s)

    def status(self, dag_id: str | None = None, limit: int = 10) -> list[DagRunInfo]:
        return runs.status(self.components.airflow, dag_id, limit)

    def logs(
        self, dag_id: str, run_id: str | None = None, task_id: str | None = None
    ) -> tuple[DagRunInfo, list[runs.TaskLog]]:
        return runs.logs(self.components.airflow, dag_id, run_id, task_id)

    # -- conversation -------------------------------------------------------------------------

    def conversation(self, *, assume_yes: bool = False, wait_timeout_s: float = 600.0) -> Conversation:
        """A new chat session: the engine behind the REPL, `ask` and scripted chats."""
        from assistant.chat.engine import Conversation
        from assistant.chat.handlers import HANDLERS, Context

        return Conversation(
            self, dict(HANDLERS), assume_yes=assume_yes, context=Context(wait_timeout_s=wait_timeout_s)
        )

    # -- health -------------------------------------------------------------------------------

    def doctor(self) -> list[doctor.Check]:
        return doctor.run_checks(self.components)
