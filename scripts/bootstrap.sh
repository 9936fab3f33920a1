#!/usr/bin/env bash
# Create the assistant's virtualenv (.venv) and install the project with its test tools.
# Idempotent: re-running only installs what changed.
set -euo pipefail
# pip warns about every find-links folder this machine lacks; keep real errors only.
quiet_pip() { grep -v "^WARNING: Location" || true; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ASSISTANT_VENV:-$ROOT/.venv}"
PY="${ASSISTANT_PYTHON:-$(command -v python3.11 || command -v python3)}"
# The SSH credential tests start a throwaway sshd on 127.0.0.1 (they skip without one): install
# openssh-server when it is missing and we are root on a Debian-like system. Installing it may
# start and enable the system's own sshd on port 22; nothing here needs that one, so it is
# stopped and disabled again (it was not there before).
if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt_install() { apt-get install -y -q --no-install-recommends openssh-server >/dev/null 2>&1; }
    if apt_install || { apt-get update -q >/dev/null 2>&1 && apt_install; }; then
      if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now ssh.service >/dev/null 2>&1 || true
      fi
      echo "assistant: installed openssh-server (for the SSH tests; its system service is left off)"
    else
      echo "assistant: could not install openssh-server; the SSH credential tests will skip"
    fi
  else
    echo "assistant: no sshd; the SSH credential tests will skip (install openssh-server as root)"
  fi
fi
stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "assistant: environment up to date in $VENV"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip 2>&1 | quiet_pip
# torch first and pinned: a CPU build; unpinned, a dependency would pull a multi-GB CUDA build.
"$VENV/bin/pip" install -q --disable-pip-version-check "torch==2.13.0" 2>&1 | quiet_pip
"$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[embed-torch,dev]" 2>&1 | quiet_pip
rm -f "$VENV"/.installed-*
touch "$stamp"
echo "assistant: installed into $VENV"
