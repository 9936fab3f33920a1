"""The HTTP front end of `serve` (FastAPI): webhooks, the REST API under /api/v1 and the web chat."""
