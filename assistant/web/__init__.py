"""The HTTP front end of `serve` (FastAPI): webhooks now, the API and UI later."""
