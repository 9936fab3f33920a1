"""What `serve` runs besides HTTP: the sync queue, the poller and the webhook handler, wired."""

from __future__ import annotations

import logging

from assistant.errors import AssistantError
from assistant.gitops.deployer import Deployer
from assistant.gitops.git import GitRemote
from assistant.gitops.models import Repo, SyncOutcome
from assistant.gitops.poller import Poller
from assistant.gitops.queue import SyncQueue
from assistant.gitops.webhooks import WebhookHandler

log = logging.getLogger("assistant.gitops")


class GitOpsDaemon:
    def __init__(self, deployer: Deployer, poll_interval_s: float, workers: int = 2) -> None:
        self.deployer = deployer
        self.queue = SyncQueue(self._sync, workers=workers)
        self.poller = Poller(deployer.store.list, self._poll_remote, self.queue.request, poll_interval_s)
        self.webhooks = WebhookHandler(deployer.store.list, self._webhook_secret, self.queue.request)
        self.polling = poll_interval_s > 0

    def start(self) -> GitOpsDaemon:
        hold_open = getattr(self.deployer.validator, "hold_open", None)
        if hold_open is not None:  # keep the validation sandbox warm between deployments
            hold_open()
        self.queue.start()
        if self.polling:
            self.poller.start()
        return self

    def stop(self) -> None:
        self.poller.stop()
        self.queue.stop()
        close = getattr(self.deployer.validator, "close", None)
        if close is not None:
            close()

    def _sync(self, name: str) -> SyncOutcome | None:
        if not self.deployer.store.exists(name):
            return None
        outcome = self.deployer.sync(name)
        log.info("sync of %s: %s %s", name, outcome.result, outcome.message)
        return outcome

    def _poll_remote(self, repo: Repo) -> GitRemote:
        credential = self.deployer.credentials.get(repo.credential) if repo.credential else None
        return GitRemote(repo.url, credential, retries=1, known_hosts=self.deployer.known_hosts)

    def _webhook_secret(self, repo: Repo) -> str | None:
        if not repo.webhook_credential:
            return None
        try:
            return self.deployer.credentials.get(repo.webhook_credential).secret
        except AssistantError:
            log.warning("repo %s: its webhook credential %r is missing", repo.name, repo.webhook_credential)
            return None
