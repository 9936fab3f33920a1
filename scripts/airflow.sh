#!/usr/bin/env bash
# Install, start, stop and inspect the project-local Airflow 3.3 that the assistant talks to.
#
#   scripts/airflow.sh install   # venv with apache-airflow==3.3.* (skipped when present)
#   scripts/airflow.sh up        # configure, start in the background, wait for health (idempotent)
#   scripts/airflow.sh down      # stop the whole process group
#   scripts/airflow.sh status    # running? healthy?
#   scripts/airflow.sh env       # print the environment the assistant needs (eval-able)
#
# Settings (environment): AIRFLOW_DIR (default <repo>/.local/airflow), AIRFLOW_PORT (28080),
# AIRFLOW_ADMIN_USER (admin), AIRFLOW_ADMIN_PASSWORD (admin), AIRFLOW_VERSION_SPEC (3.3.*),
# AIRFLOW_PYTHON (python3.11 or python3).
set -euo pipefail
# pip warns about every find-links folder this machine lacks; keep real errors only.
quiet_pip() { grep -v "^WARNING: Location" || true; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIRFLOW_DIR="${AIRFLOW_DIR:-$ROOT/.local/airflow}"
AIRFLOW_PORT="${AIRFLOW_PORT:-28080}"
AIRFLOW_ADMIN_USER="${AIRFLOW_ADMIN_USER:-admin}"
AIRFLOW_ADMIN_PASSWORD="${AIRFLOW_ADMIN_PASSWORD:-admin}"
AIRFLOW_VERSION_SPEC="${AIRFLOW_VERSION_SPEC:-3.3.*}"
VENV="$AIRFLOW_DIR/venv"
HOME_DIR="$AIRFLOW_DIR/home"
DAGS_DIR="${AIRFLOW_DAGS_DIR:-$AIRFLOW_DIR/dags}"
PIDFILE="$AIRFLOW_DIR/airflow.pgid"
LOGFILE="$AIRFLOW_DIR/standalone.log"
URL="http://127.0.0.1:$AIRFLOW_PORT"

pick_python() {
  if [ -n "${AIRFLOW_PYTHON:-}" ]; then echo "$AIRFLOW_PYTHON"; return; fi
  for p in python3.11 python3.12 python3; do
    if command -v "$p" >/dev/null 2>&1; then echo "$p"; return; fi
  done
  echo "error: no python3 found; install Python 3.11 or set AIRFLOW_PYTHON" >&2
  exit 2
}

cmd_install() {
  if [ -x "$VENV/bin/airflow" ] && "$VENV/bin/python" -c "import airflow" 2>/dev/null; then
    echo "airflow: already installed in $VENV"
    return
  fi
  local started=$SECONDS
  echo "airflow: installing apache-airflow==$AIRFLOW_VERSION_SPEC into $VENV"
  mkdir -p "$AIRFLOW_DIR"
  "$(pick_python)" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "apache-airflow==$AIRFLOW_VERSION_SPEC" 2>&1 | quiet_pip
  echo "airflow: installed in $((SECONDS - started)) s"
}

write_env() {
  mkdir -p "$HOME_DIR" "$DAGS_DIR"
  # Known local credentials for the simple auth manager, written before start.
  printf '{"%s": "%s"}\n' "$AIRFLOW_ADMIN_USER" "$AIRFLOW_ADMIN_PASSWORD" > "$HOME_DIR/passwords.json"
  chmod 600 "$HOME_DIR/passwords.json"
  cat > "$AIRFLOW_DIR/env.sh" <<ENV
export AIRFLOW_HOME="$HOME_DIR"
export PATH="$VENV/bin:\$PATH"
export AIRFLOW__CORE__DAGS_FOLDER="$DAGS_DIR"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=4
export AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL=1
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True
# Lets the assistant ask Airflow to test the connections a DAG uses before it runs (pre-flight).
export AIRFLOW__CORE__TEST_CONNECTION=Enabled
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$AIRFLOW_ADMIN_USER:admin"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$HOME_DIR/passwords.json"
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=1
export AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL=1
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=5
export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1
export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=1
export AIRFLOW__API__PORT=$AIRFLOW_PORT
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__BASE_URL="$URL"
export AIRFLOW__API__WORKERS=1
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$URL/execution/"
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=$((AIRFLOW_PORT + 1))
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=$((AIRFLOW_PORT + 2))
ENV
}

running_pgid() {
  [ -f "$PIDFILE" ] || return 1
  local pgid; pgid="$(cat "$PIDFILE")"
  if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then echo "$pgid"; return 0; fi
  return 1
}

healthy() {
  curl -fsS -m 2 "$URL/api/v2/monitor/health" 2>/dev/null \
    | "$VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(d.get(k,{}).get("status")=="healthy" for k in ("metadatabase","scheduler","dag_processor")) else 1)' 2>/dev/null
}

cmd_up() {
  cmd_install
  if pgid="$(running_pgid)"; then
    echo "airflow: already running (process group $pgid) at $URL"
    wait_healthy
    return
  fi
  write_env
  # shellcheck disable=SC1091
  source "$AIRFLOW_DIR/env.sh"
  if curl -fsS -m 2 "$URL/api/v2/monitor/health" >/dev/null 2>&1; then
    echo "error: something else already answers on $URL; stop it or set AIRFLOW_PORT" >&2
    exit 1
  fi
  echo "airflow: starting at $URL (log: $LOGFILE)"
  setsid airflow standalone >"$LOGFILE" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  wait_healthy
}

wait_healthy() {
  local started=$SECONDS
  local deadline=$((SECONDS + ${AIRFLOW_START_TIMEOUT:-180}))
  until healthy; do
    if ! running_pgid >/dev/null; then
      echo "error: airflow exited during start; last lines of $LOGFILE:" >&2
      tail -n 30 "$LOGFILE" >&2 || true
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "error: airflow not healthy after ${AIRFLOW_START_TIMEOUT:-180}s; see $LOGFILE" >&2
      exit 1
    fi
    sleep 1
  done
  echo "airflow: healthy at $URL (after $((SECONDS - started)) s)"
}

cmd_down() {
  local pgid
  if ! pgid="$(running_pgid)"; then
    echo "airflow: not running"
    rm -f "$PIDFILE"
    return
  fi
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 -- "-$pgid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "airflow: stopped"
}

cmd_status() {
  if pgid="$(running_pgid)"; then
    if healthy; then echo "airflow: running and healthy at $URL (process group $pgid)"
    else echo "airflow: running (process group $pgid) but not healthy at $URL"; exit 1; fi
  else
    echo "airflow: not running (start it with: make airflow-up)"; exit 1
  fi
}

cmd_env() {
  echo "export ASSISTANT_AIRFLOW_URL=$URL"
  echo "export ASSISTANT_AIRFLOW_USERNAME=$AIRFLOW_ADMIN_USER"
  echo "export ASSISTANT_AIRFLOW_PASSWORD=$AIRFLOW_ADMIN_PASSWORD"
  echo "export ASSISTANT_DAGS_FOLDER=$DAGS_DIR"
  echo "export ASSISTANT_AIRFLOW_PYTHON=$VENV/bin/python"
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|up|down|status|env" >&2; exit 2 ;;
esac
