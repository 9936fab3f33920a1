"""Run `serve`: the GitOps daemon plus uvicorn on loopback (by default)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import TYPE_CHECKING

from assistant.errors import UsageError
from assistant.tools.run_watch import RunWatcher

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
    daemon = assistant.gitops_daemon(poll_interval_s=poll_interval_s).start()
    watcher = RunWatcher(assistant.ingest_runs, daemon.poller.interval_s or config.poll_interval_s).start()
    try:
        if not webhooks:
            logging.getLogger("assistant.web").info(
                "webhooks off: polling every %gs", daemon.poller.interval_s
            )
            stopped = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            with contextlib.suppress(KeyboardInterrupt):
                stopped.wait()
            return
        app = create_app(daemon)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        )
        logging.getLogger("assistant.web").info("listening on http://%s:%d", host, port)
        server.run()
        if not server.started:
            raise UsageError(
                f"cannot listen on {host}:{port}", "pick another --port (or ASSISTANT_SERVE_PORT)"
            )
    finally:
        watcher.stop()
        daemon.stop()
