"""A conversational assistant that runs Apache Airflow 3 workflows from Git."""

from __future__ import annotations

__version__ = "0.1.0"
