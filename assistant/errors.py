"""The one error tree of the assistant.

Every error the user can see is an ``AssistantError``: a one-line message saying what went wrong
and a ``hint`` saying how to fix it. Third-party exceptions (HTTP, git, Chroma, sqlite) are
translated into these at the adapter that calls the library; nothing above the adapters catches
a third-party exception.

    AssistantError
    ├── ConfigError            bad or missing configuration
    ├── UsageError             bad input from the user (malformed JSON, unknown option value)
    ├── StateError             the local SQLite state is unreadable or from a newer version
    ├── AirflowError           anything Airflow said or failed to say
    │   ├── AirflowUnavailable     cannot connect / not healthy
    │   ├── AirflowAuthError       401/403, wrong credentials
    │   ├── DagNotFound            unknown DAG id (with close matches)
    │   ├── RunNotFound            unknown run id
    │   └── RunTimeout             a run did not finish in time
    ├── ValidationFailed       a DAG did not pass the validation pipeline
    ├── GitError               clone/fetch/push failed
    │   └── RepoNotFound           unknown registered repo
    ├── CredentialError        a stored credential is missing or cannot be decrypted
    ├── RetrievalError         the index or the embedding model failed
    └── NotAvailable           the capability is not built or not configured
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(AssistantError):
    exit_code = 2


class UsageError(AssistantError):
    exit_code = 2


class StateError(AssistantError):
    pass


class AirflowError(AssistantError):
    pass


class AirflowUnavailable(AirflowError):
    pass


class AirflowAuthError(AirflowError):
    pass


class DagNotFound(AirflowError):
    def __init__(self, dag_id: str, close_matches: list[str] | None = None) -> None:
        self.dag_id = dag_id
        self.close_matches = close_matches or []
        if self.close_matches:
            hint = "did you mean " + ", ".join(self.close_matches) + "?"
        else:
            hint = "list deployed DAGs with `assistant dags`"
        super().__init__(f"no DAG named {dag_id!r} in Airflow", hint)


class RunNotFound(AirflowError):
    pass


class RunTimeout(AirflowError):
    pass


class ValidationFailed(AssistantError):
    pass


class GitError(AssistantError):
    pass


class RepoNotFound(GitError):
    pass


class CredentialError(AssistantError):
    pass


class RetrievalError(AssistantError):
    pass


class NotAvailable(AssistantError):
    pass
