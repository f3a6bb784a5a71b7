#!/usr/bin/env bash
# Local Azure Storage emulator (Azurite 3.35.0, pinned in package.json) for
# tests and the standalone host.
#
#   scripts/azurite.sh start    install if needed, start in the background, wait until ready
#   scripts/azurite.sh stop     stop the instance this script started
#   scripts/azurite.sh status   show the ports and the pid; exit 0 only when all ports answer
#
# Blob 10000, queue 10001, table 10002 on 127.0.0.1. Workspace and log live in
# .azurite/ at the repo root. AZURITE_WAIT_SECONDS bounds the start-up wait (default 60).
# A private instance (the pipeline benchmark's): AZURITE_PORTS="blob queue table"
# and AZURITE_DIR (workspace, log and pid file) select other ports and folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST=127.0.0.1
read -r -a PORTS <<<"${AZURITE_PORTS:-10000 10001 10002}"
NAMES=(blob queue table)
DIR="${AZURITE_DIR:-$ROOT/.azurite}"
PIDFILE="$DIR/pid"
LOG="$DIR/azurite.log"
BIN="$ROOT/node_modules/.bin/azurite"
WAIT="${AZURITE_WAIT_SECONDS:-60}"

open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# count_open prints how many of the three ports accept connections.
count_open() {
  local n=0 p
  for p in "${PORTS[@]}"; do
    if open "$p"; then n=$((n + 1)); fi
  done
  echo "$n"
}

# pid_alive: the recorded pid still runs and is still Azurite (not a reused pid).
pid_alive() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q azurite
  fi
}

install() {
  [[ -x "$BIN" ]] && return 0
  command -v npm >/dev/null || { echo "azurite.sh: npm not found; install Node.js 20+" >&2; exit 1; }
  echo "azurite.sh: installing azurite from package.json" >&2
  if [[ -f "$ROOT/package-lock.json" ]]; then
    (cd "$ROOT" && npm ci --no-audit --no-fund >&2)
  else
    (cd "$ROOT" && npm install --no-audit --no-fund >&2)
  fi
  [[ -x "$BIN" ]] || { echo "azurite.sh: $BIN missing after install" >&2; exit 1; }
}

start() {
  mkdir -p "$DIR"
  # Concurrent test packages may all call start; one does the work.
  exec 9>"$DIR/lock"
  flock 9
  local up
  up="$(count_open)"
  if [[ "$up" == 3 ]]; then
    echo "azurite.sh: already answering on $HOST:${PORTS[0]}-${PORTS[2]}"
    return 0
  fi
  if [[ "$up" != 0 ]] && ! pid_alive; then
    echo "azurite.sh: only $up of ports ${PORTS[*]} answer on $HOST and it is not ours; free them or stop that process" >&2
    exit 1
  fi
  if ! pid_alive; then
    install
    # setsid: the emulator outlives the shell (and test binary) that started it.
    setsid nohup "$BIN" --skipApiVersionCheck --silent --disableTelemetry \
      --location "$DIR" \
      --blobHost "$HOST" --blobPort "${PORTS[0]}" \
      --queueHost "$HOST" --queuePort "${PORTS[1]}" \
      --tableHost "$HOST" --tablePort "${PORTS[2]}" \
      >"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
  fi
  local deadline=$((SECONDS + WAIT))
  while [[ "$(count_open)" != 3 ]]; do
    if ! pid_alive; then
      echo "azurite.sh: azurite exited during start-up; last lines of $LOG:" >&2
      tail -n 20 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "azurite.sh: ports ${PORTS[*]} not all open after ${WAIT}s (pid $(cat "$PIDFILE")); see $LOG" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "azurite.sh: started (pid $(cat "$PIDFILE")) on $HOST:${PORTS[0]}-${PORTS[2]}"
}

stop() {
  if ! pid_alive; then
    rm -f "$PIDFILE"
    if [[ "$(count_open)" != 0 ]]; then
      echo "azurite.sh: something answers on the Azurite ports but was not started by this script; left alone" >&2
    else
      echo "azurite.sh: not running"
    fi
    return 0
  fi
  local pid
  pid="$(cat "$PIDFILE")"
  kill "$pid"
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "azurite.sh: pid $pid did not exit after SIGTERM; sending SIGKILL" >&2
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
  echo "azurite.sh: stopped (pid $pid)"
}

status() {
  local i all=0
  for i in 0 1 2; do
    if open "${PORTS[$i]}"; then
      echo "${NAMES[$i]} $HOST:${PORTS[$i]} up"
    else
      echo "${NAMES[$i]} $HOST:${PORTS[$i]} down"
      all=1
    fi
  done
  if pid_alive; then echo "pid $(cat "$PIDFILE")"; else echo "pid none (not started by this script)"; fi
  return "$all"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
