"""Hand a credential to one git process through its environment, never through URLs or config.

HTTPS: ``GIT_ASKPASS`` points at a fixed helper script (it contains no secret) that prints the
username or password from environment variables of that git process only. SSH: the private key
is written to a 0600 file in a private temporary directory outside the assistant's home, used
through ``GIT_SSH_COMMAND`` and deleted when the call ends.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

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
}


@contextmanager
def git_auth_env(credential: Credential | None) -> Iterator[dict[str, str]]:
    """Yield extra environment variables for a git call; temporary files vanish on exit."""
    env = dict(BASE_ENV)
    # Without a credential, never let git fall back to a user's helper or an SSH agent prompt.
    env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
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
            with os.fdopen(fd, "w") as fh:
                fh.write(credential.secret if credential.secret.endswith("\n") else credential.secret + "\n")
            env["GIT_SSH_COMMAND"] = (
                f"ssh -i {shlex.quote(key_path)} -o IdentitiesOnly=yes -o BatchMode=yes "
                "-o StrictHostKeyChecking=accept-new"
            )
        yield env
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
