"""The Airflow adapter: the assistant talks to Airflow only through its REST API v2."""

from __future__ import annotations

from assistant.airflow.models import DagInfo, DagRunInfo, Health, ImportErrorInfo, TaskInstanceInfo
from assistant.airflow.port import AirflowPort

__all__ = ["AirflowPort", "DagInfo", "DagRunInfo", "Health", "ImportErrorInfo", "TaskInstanceInfo"]
