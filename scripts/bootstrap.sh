#!/usr/bin/env bash
# Create the assistant's virtualenv (.venv) and install the project with its test tools.
# Idempotent: re-running only installs what changed.
set -euo pipefail
# pip warns about every find-links folder this machine lacks; keep real errors only.
quiet_pip() { grep -v "^WARNING: Location" || true; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ASSISTANT_VENV:-$ROOT/.venv}"
PY="${ASSISTANT_PYTHON:-$(command -v python3.11 || command -v python3)}"
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
