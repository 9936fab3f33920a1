"""Hand a credential to one git process through its environment, never through URLs or config.

HTTPS: ``GIT_ASKPASS`` points at a fixed helper script (it contains no secret) that prints the
username or password from environment variables of that git process only. SSH: the private key
is written to a 0600 file in a private temporary directory outside the assistant's home, used
through ``GIT_SSH_COMMAND`` and deleted when the call ends.

The user's own git credential helpers are switched off for these calls (``credential.helper``
reset through ``GIT_CONFIG_COUNT``): a helper such as ``store`` would otherwise save the token in
clear in ``~/.git-credentials`` after a successful call, and answer later calls made without a
credential with it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.secrets.store import Credential

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$ASSISTANT_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ASSISTANT_GIT_PASSWORD" ;;
esac
"""

BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GCM_INTERACTIVE": "never",
    "GIT_CONFIG_NOSYSTEM": "1",
    # A stalled HTTP transfer (a host that accepts the connection but never answers) is aborted.
    "GIT_HTTP_LOW_SPEED_LIMIT": "1",
    "GIT_HTTP_LOW_SPEED_TIME": "30",
}
_SSH_OPTIONS = (
    "-o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=20 "
    "-o ServerAliveInterval=15 -o ServerAliveCountMax=2"
)


def _config_env(settings: dict[str, str]) -> dict[str, str]:
    """``git -c key=value`` for every call, appended after any GIT_CONFIG_COUNT of the caller."""
    try:
        start = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    env = {}
    for offset, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    env["GIT_CONFIG_COUNT"] = str(start + len(settings))
    return env


def _known_hosts_option(known_hosts: Path | None) -> str:
    """Learn new host keys into ``known_hosts`` (the assistant's own), still trusting ~/.ssh's."""
    if known_hosts is None:
        return ""
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(known_hosts.parent, 0o700)
    files = f'"{known_hosts}" ~/.ssh/known_hosts'  # new keys go to the first file
    return " -o " + shlex.quote(f"UserKnownHostsFile={files}")


@contextmanager
def git_auth_env(credential: Credential | None, known_hosts: Path | None = None) -> Iterator[dict[str, str]]:
    """Yield extra environment variables for a git call; temporary files vanish on exit.

    ``known_hosts``: where ssh records the host keys it accepts on first contact; by default the
    user's ``~/.ssh/known_hosts`` (ssh takes ``~`` from the password database, not from $HOME).
    """
    env = dict(BASE_ENV)
    # An empty credential.helper clears every helper configured so far (global, per-URL ones too).
    env.update(_config_env({"credential.helper": ""}))
    ssh_options = _SSH_OPTIONS + _known_hosts_option(known_hosts)
    # Without a credential, never let git prompt (BatchMode); the user's own keys may still apply.
    env["GIT_SSH_COMMAND"] = f"ssh {ssh_options}"
    workdir = tempfile.mkdtemp(prefix="assistant-git-")
    try:
        os.chmod(workdir, 0o700)
        askpass = os.path.join(workdir, "askpass.sh")
        with open(askpass, "w") as fh:
            fh.write(_ASKPASS)
        os.chmod(askpass, 0o700)
        env["GIT_ASKPASS"] = askpass
        env["SSH_ASKPASS"] = askpass
        env["ASSISTANT_GIT_USERNAME"] = ""
        env["ASSISTANT_GIT_PASSWORD"] = ""
        if credential is not None and credential.kind in ("token", "basic"):
            # Token-only HTTPS: most providers accept any non-empty username with a token.
            env["ASSISTANT_GIT_USERNAME"] = credential.username or "x-access-token"
            env["ASSISTANT_GIT_PASSWORD"] = credential.secret
        elif credential is not None and credential.kind == "ssh_key":
            key_path = os.path.join(workdir, "id_key")
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            # OpenSSH rejects keys with CRLF line ends or without a final newline.
            key = credential.secret.replace("\r\n", "\n").strip("\n") + "\n"
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
            env["GIT_SSH_COMMAND"] = f"ssh -i {shlex.quote(key_path)} -o IdentitiesOnly=yes {ssh_options}"
        yield env
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
