"""Run `serve`: the GitOps daemon plus uvicorn on loopback (by default): webhooks, the REST API and
the web chat on one port."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import TYPE_CHECKING

from assistant.errors import AssistantError, UsageError
from assistant.tools.run_watch import RunWatcher
from assistant.web.auth import ensure_token

if TYPE_CHECKING:
    from assistant.service import Assistant


def serve(
    assistant: Assistant,
    *,
    host: str | None = None,
    port: int | None = None,
    poll_interval_s: float | None = None,
    webhooks: bool = True,
) -> None:
    import uvicorn

    from assistant.web.app import create_app

    config = assistant.config
    host = host or config.serve_host
    port = config.serve_port if port is None else port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = ensure_token(config) if webhooks else None  # a bad token setting fails before anything starts
    daemon = assistant.gitops_daemon(poll_interval_s=poll_interval_s).start()
    watcher = RunWatcher(assistant.ingest_runs, daemon.poller.interval_s or config.poll_interval_s).start()
    try:
        if token is None:  # --no-webhooks: no HTTP server at all
            logging.getLogger("assistant.web").info(
                "webhooks off: polling every %gs", daemon.poller.interval_s
            )
            stopped = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            with contextlib.suppress(KeyboardInterrupt):
                stopped.wait()
            return
        app = create_app(daemon, assistant=assistant, api_token=token.value)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        )
        log = logging.getLogger("assistant.web")
        log.info("listening on http://%s:%d (web chat at /, REST API at /api/v1)", host, port)
        log.info("%s", token.where())
        if not _is_loopback(host):
            log.warning(
                "listening beyond loopback over plain HTTP: put a TLS proxy in front, or the API token "
                "travels in clear"
            )
        threading.Thread(target=_warm_up, args=(assistant,), name="chat-warm-up", daemon=True).start()
        server.run()
        if not server.started:
            raise UsageError(
                f"cannot listen on {host}:{port}", "pick another --port (or ASSISTANT_SERVE_PORT)"
            )
    finally:
        watcher.stop()
        daemon.stop()


def _warm_up(assistant: Assistant) -> None:
    """Load the chat's intent router now, so the first chat message does not wait for it."""
    try:
        assistant.route("help")
    except AssistantError as exc:
        logging.getLogger("assistant.web").warning("the chat is not ready: %s (%s)", exc.message, exc.hint)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
