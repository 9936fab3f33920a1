"""Learning from runs: failure templates, failure prediction, advice, reports and doc proposals.

The core (``templates``, ``history``, ``predictor``, ``advisor``, ``reporter``, ``pages``) is
pure functions over the plain records of :mod:`assistant.learning.records`, so the benchmark can
replay synthetic histories without Airflow. ``store`` and ``ingest`` connect it to SQLite and
Airflow; ``api`` is what the service calls.
"""
