#!/usr/bin/env bash
# Runs Workq locally: starts RabbitMQ and PostgreSQL (scripts/servers.sh),
# builds the solution, starts the four services from their build output, waits
# until each is ready, and keeps them running until Ctrl-C / SIGTERM.
# Logs: .run/logs/<service>.log
# As root, control, the emitter and the dispatcher run as the unprivileged
# system user "workq" that servers.sh makes; the worker service stays root, to
# give each canvas's runner a cgroup and a user of its own (docs/security.md).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$PWD"

log() { echo "[run] $*"; }

READY_TIMEOUT="${WORKQ_READY_TIMEOUT:-60}"

# name | project dir | assembly | port | runs as (as root: "service" = SERVICE_USER, "root")
SERVICES=(
  "control|services/control|Workq.Control|8080|service"
  "emitter|services/emitter|Workq.Emitter|8081|service"
  "dispatcher|services/dispatcher|Workq.Dispatcher|8082|service"
  "worker|services/worker|Workq.Worker|8083|root"
)
SERVICE_USER=workq

bash scripts/servers.sh
source scripts/credentials.sh
# The servers' administrator is for the tests and the bench: never in a service's environment
# (a shell that sourced .run/servers.env has it).
unset "${!WORKQ_SERVERS_@}"

# The admin token: yours if WORKQ_ADMIN_TOKEN is set, else one generated for this checkout on
# first run and kept in .run/admin-token (the services refuse a well-known token).
if [[ -z "${WORKQ_ADMIN_TOKEN:-}" ]]; then
  if [[ ! -s .run/admin-token ]]; then
    (umask 077 && tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 >.run/admin-token || true)
  fi
  WORKQ_ADMIN_TOKEN="$(cat .run/admin-token)"
fi
export WORKQ_ADMIN_TOKEN

log "building (Release)"
dotnet build Workq.sln -c Release -nologo

LOG_DIR="$ROOT/.run/logs"
mkdir -p "$LOG_DIR"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Refuse to start over a previous run that still holds the ports; the new
# services would fail to bind and the readiness checks would hit the old ones.
for s in "${SERVICES[@]}"; do
  IFS='|' read -r name _ _ port _ <<<"$s"
  if port_open "$port"; then
    echo "[run] ERROR: port $port ($name) is already in use; is another run.sh still running?" >&2
    exit 1
  fi
done

declare -A PIDS=()
STOPPED=0

# Stop every service we started: SIGTERM (graceful host shutdown), then
# SIGKILL whatever is still alive after 15 s.
stop_all() {
  ((STOPPED == 0)) || return 0
  STOPPED=1
  local name pid
  for name in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$name]}" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 15))
  for name in "${!PIDS[@]}"; do
    pid="${PIDS[$name]}"
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in time; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  log "all services stopped"
}

fail() {
  local name="$1" why="$2"
  echo "[run] ERROR: $name $why; last lines of $LOG_DIR/$name.log:" >&2
  tail -n 40 "$LOG_DIR/$name.log" >&2 || true
  stop_all
  exit 1
}

# Any exit (error, set -e) stops the services; signals stop them and exit 0.
trap stop_all EXIT
trap 'echo; log "stopping"; stop_all; exit 0' INT TERM HUP

# As root: the command prefix that drops to SERVICE_USER (no capabilities, no
# setuid gains; HOME a directory it cannot write, so nothing lands in root's),
# once that user can read the build output. A checkout it cannot reach (under
# /root, say) runs everything as root, and says so.
AS_SERVICE_USER=(setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups --no-new-privs -- env HOME=/nonexistent)
DROP=()
if [[ $(id -u) -eq 0 ]]; then
  unreadable=""
  for s in "${SERVICES[@]}"; do
    IFS='|' read -r _ dir asm _ runs_as <<<"$s"
    [[ "$runs_as" == service ]] || continue
    "${AS_SERVICE_USER[@]}" test -x "$ROOT/$dir" -a -r "$ROOT/$dir/bin/Release/net10.0/$asm.dll" || unreadable="$ROOT/$dir"
  done
  if [[ -n "$unreadable" ]]; then
    log "WARNING: user $SERVICE_USER cannot read $unreadable (a checkout under /root?): every service runs as root"
  else
    DROP=("${AS_SERVICE_USER[@]}")
  fi
fi

for s in "${SERVICES[@]}"; do
  IFS='|' read -r name dir asm port runs_as <<<"$s"
  dll="$dir/bin/Release/net10.0/$asm.dll"
  [[ -f "$dll" ]] || { echo "[run] ERROR: $dll not found after build" >&2; exit 1; }
  as=()
  user="$(id -un)"
  if [[ "$runs_as" == service && ${#DROP[@]} -gt 0 ]]; then
    as=("${DROP[@]}")
    user="$SERVICE_USER"
  fi
  # Working directory = the project directory, like `dotnet run`, so the
  # content root (appsettings.json, wwwroot for the dashboard) is found.
  # setsid: own session, so a terminal Ctrl-C reaches only this script, which
  # then stops the services itself (otherwise they would race it and look
  # like crashes). exec keeps $! = the service's pid.
  # The log file is opened here, by this script, so the service needs no right to .run/.
  (cd "$dir" && WORKQ_PORT="$port" exec setsid "${as[@]}" dotnet "bin/Release/net10.0/$asm.dll") \
    </dev/null >"$LOG_DIR/$name.log" 2>&1 &
  PIDS[$name]=$!
  log "started $name (pid ${PIDS[$name]}, port $port, user $user)"
done

# Poll every service's /readyz until all answer 200, within one deadline.
deadline=$((SECONDS + READY_TIMEOUT))
declare -A READY=()
while ((${#READY[@]} < ${#SERVICES[@]})); do
  for s in "${SERVICES[@]}"; do
    IFS='|' read -r name _ _ port _ <<<"$s"
    [[ -n "${READY[$name]:-}" ]] && continue
    kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name" "exited during startup"
    if curl -fsS -o /dev/null -m 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
      READY[$name]=1
      log "$name ready on :$port"
    fi
  done
  ((${#READY[@]} == ${#SERVICES[@]})) && break
  if ((SECONDS >= deadline)); then
    for s in "${SERVICES[@]}"; do
      IFS='|' read -r name _ _ _ <<<"$s"
      [[ -n "${READY[$name]:-}" ]] || fail "$name" "not ready after ${READY_TIMEOUT}s (GET /readyz)"
    done
  fi
  sleep 0.5
done

cat <<EOF

Workq is running.
  Dashboard:    http://127.0.0.1:8080/
  Emit:         POST http://127.0.0.1:8081/v1/canvases/{canvas}/workers/{worker}/events
  Admin token:  $WORKQ_ADMIN_TOKEN
  Logs:         $LOG_DIR/
Press Ctrl-C to stop.

EOF

# Wait for Ctrl-C/SIGTERM (the trap handles them) or for a service to die.
while true; do
  wait -n "${PIDS[@]}" 2>/dev/null || true
  for name in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name" "exited unexpectedly"
  done
done
