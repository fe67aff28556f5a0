#!/usr/bin/env bash
# Installs (if missing), configures and starts the servers Workq needs, from
# Debian 12's own packages: RabbitMQ (+ management plugin) and PostgreSQL.
# Works as root on a fresh machine without systemd; idempotent (a second run
# only checks). Usage:
#   scripts/servers.sh [start]   # default: install/configure/start + checks
#   scripts/servers.sh stop      # stop both (to simulate a fresh CI machine)
#   scripts/servers.sh status    # report what is up
#   scripts/servers.sh forget-test-leftovers
#                                # drop the virtual hosts and databases that
#                                # killed test runs left (./test.sh does this)
# May also be sourced; then it runs in a subshell so it does not change the
# caller's shell options (it only honours start/stop/status as first arg,
# since a sourced script sees the caller's arguments).
#
# Tunables (env): WORKQ_SERVERS_TIMEOUT (seconds per wait, default 120);
# WORKQ_SERVERS_PG_MAX_CONNECTIONS (PostgreSQL's connection slots, default 300; a
# running server with fewer is restarted);
# WORKQ_SERVERS_USER and WORKQ_SERVERS_ADMIN, the two users' names below
# (default workq and workq_admin; kept in .run/servers.env once chosen), for a
# checkout whose services must stay apart from another's on the same servers.
#
# Credentials, each with a password generated on first use and kept in
# .run/servers.env (mode 600), which ./run.sh, ./test.sh and ./bench.sh read:
# - "workq", the services' user: on RabbitMQ, permissions on the "/" virtual
#   host and the management tag only (control lists that virtual host's queues
#   for the queue depth metric); on PostgreSQL, a role that may not create
#   databases or roles and owns the "workq" database.
# - "workq_admin", for the tests and the bench, which make a virtual host and a
#   database each for the services: a RabbitMQ administrator, and a PostgreSQL
#   role that may create databases and is a member of "workq" (so it can make
#   them owned by workq, and drop them). Never given to the services.
# A machine set up by an earlier version (workq an administrator with
# CREATEDB) is narrowed in place, password unchanged. RabbitMQ's default
# "guest" user is deleted, so no default credentials reach the broker or its
# management API.
# As root it also makes two system users without a login or a home: "workq",
# which ./run.sh starts control, the emitter and the dispatcher as, and
# "workq-runner", for the worker service's runner processes.

# Strict mode only when executed; when sourced, main runs in a subshell below.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
fi

_srv_log() { echo "[servers] $*"; }
_srv_die() { echo "[servers] ERROR: $*" >&2; exit 1; }

_SRV_TIMEOUT="${WORKQ_SERVERS_TIMEOUT:-120}"
# PostgreSQL connection slots (the suite runs several clusters of services, each service with its pool).
_SRV_PG_MAX_CONNECTIONS="${WORKQ_SERVERS_PG_MAX_CONNECTIONS:-300}"
_SRV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_SRV_ENV_FILE="$_SRV_ROOT/.run/servers.env"
# The services' user (broker user, database role and database) and the admin's
# (broker user and database role): names from _srv_load_credentials.
_SRV_USER=""
_SRV_RABBIT_PASSWORD=""
_SRV_PG_PASSWORD=""
_SRV_ADMIN=""
_SRV_ADMIN_RABBIT_PASSWORD=""
_SRV_ADMIN_PG_PASSWORD=""
# System users for ./run.sh as root: the services' and the runners'.
_SRV_OS_USER=workq
_SRV_OS_RUNNER_USER=workq-runner

# Poll a command until it succeeds or the deadline passes.
# Usage: _srv_wait_for <what> <timeout-seconds> <command...>
_srv_wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      _srv_die "timed out after ${timeout}s waiting for ${what}"
    fi
    sleep 0.5
  done
}

# Like _srv_wait_for but returns non-zero instead of exiting on timeout.
_srv_wait_for_quiet() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

_srv_tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# apt-get update runs at most once, and only when something must be installed.
_SRV_APT_UPDATED=0
_srv_apt_install() {
  [[ $(id -u) -eq 0 ]] || _srv_die "must run as root to install: $*"
  export DEBIAN_FRONTEND=noninteractive
  if ((_SRV_APT_UPDATED == 0)); then
    _srv_log "apt-get update"
    apt-get update -qq
    _SRV_APT_UPDATED=1
  fi
  _srv_log "apt-get install $*"
  # Keep the packages' postinst from starting the servers (policy-rc.d exit
  # 101 = "not allowed"): we start them below, after configuring them, the
  # same way whether or not this machine has an init system.
  local policy=/usr/sbin/policy-rc.d added=0 rc=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
  if ((added)); then rm -f "$policy"; fi
  ((rc == 0)) || _srv_die "apt-get install $* failed (exit $rc)"
}

_srv_short_hostname() {
  hostname -s 2>/dev/null || uname -n | cut -d. -f1
}

# RabbitMQ's node name is rabbit@<short hostname>; the CLI tools and the
# server must be able to resolve that name, or everything fails with
# "unable to perform an operation on node".
_srv_ensure_hostname_resolves() {
  local h
  h="$(_srv_short_hostname)"
  if ! getent hosts "$h" >/dev/null 2>&1; then
    _srv_log "hostname '$h' does not resolve; adding it to /etc/hosts"
    echo "127.0.0.1 $h" >>/etc/hosts || _srv_die "cannot write /etc/hosts"
  fi
}

# ------------------------------------------------------------- credentials

# 24 characters of [A-Za-z0-9]: nothing to escape in a URI or a connection string.
_srv_new_password() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true; }

# A fresh machine has no file yet: then every value is empty (and not an error, which would end the
# script under set -e).
_srv_env_value() {
  [[ -f "$_SRV_ENV_FILE" ]] || return 0
  sed -n "/^$1=/{s/^$1=//p;q}" "$_SRV_ENV_FILE"
}

# Reuses the names and passwords of an earlier run of this checkout, or makes
# new ones; either way they are (re)applied to the servers below, so the file
# and the servers always agree. A password is reused only for the name it was
# made for.
_srv_load_credentials() {
  local file_user file_admin name
  file_user="$(_srv_env_value WORKQ_SERVERS_RABBITMQ_USER)"
  file_admin="$(_srv_env_value WORKQ_SERVERS_ADMIN_USER)"
  _SRV_USER="${WORKQ_SERVERS_USER:-${file_user:-workq}}"
  _SRV_ADMIN="${WORKQ_SERVERS_ADMIN:-${file_admin:-workq_admin}}"
  # Both names go into SQL and URIs unquoted.
  for name in "$_SRV_USER" "$_SRV_ADMIN"; do
    [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || _srv_die "user name '$name': use lower-case letters, digits and _"
  done
  [[ "$_SRV_USER" != "$_SRV_ADMIN" ]] || _srv_die "the services' user and the admin must differ (both '$_SRV_USER')"
  if [[ "$_SRV_USER" == "$file_user" ]]; then
    _SRV_RABBIT_PASSWORD="$(_srv_env_value WORKQ_SERVERS_RABBITMQ_PASSWORD)"
    _SRV_PG_PASSWORD="$(_srv_env_value WORKQ_SERVERS_POSTGRES_PASSWORD)"
  fi
  if [[ "$_SRV_ADMIN" == "$file_admin" ]]; then
    _SRV_ADMIN_RABBIT_PASSWORD="$(_srv_env_value WORKQ_SERVERS_ADMIN_RABBITMQ_PASSWORD)"
    _SRV_ADMIN_PG_PASSWORD="$(_srv_env_value WORKQ_SERVERS_ADMIN_POSTGRES_PASSWORD)"
  fi
  [[ -n "$_SRV_RABBIT_PASSWORD" ]] || _SRV_RABBIT_PASSWORD="$(_srv_new_password)"
  [[ -n "$_SRV_PG_PASSWORD" ]] || _SRV_PG_PASSWORD="$(_srv_new_password)"
  [[ -n "$_SRV_ADMIN_RABBIT_PASSWORD" ]] || _SRV_ADMIN_RABBIT_PASSWORD="$(_srv_new_password)"
  [[ -n "$_SRV_ADMIN_PG_PASSWORD" ]] || _SRV_ADMIN_PG_PASSWORD="$(_srv_new_password)"
}

_srv_write_credentials() {
  mkdir -p "$(dirname "$_SRV_ENV_FILE")"
  (umask 077 && cat >"$_SRV_ENV_FILE" <<EOF
# Written by scripts/servers.sh: this machine's credentials for Workq. Keep it private.
WORKQ_SERVERS_RABBITMQ_USER=$_SRV_USER
WORKQ_SERVERS_RABBITMQ_PASSWORD=$_SRV_RABBIT_PASSWORD
WORKQ_SERVERS_POSTGRES_USER=$_SRV_USER
WORKQ_SERVERS_POSTGRES_PASSWORD=$_SRV_PG_PASSWORD
WORKQ_SERVERS_ADMIN_USER=$_SRV_ADMIN
WORKQ_SERVERS_ADMIN_RABBITMQ_PASSWORD=$_SRV_ADMIN_RABBIT_PASSWORD
WORKQ_SERVERS_ADMIN_POSTGRES_PASSWORD=$_SRV_ADMIN_PG_PASSWORD
# The services' settings (scripts/credentials.sh). PostgreSQL is on this machine's loopback, so without TLS (which
# was a sixth of the server's CPU under load, and the services' too): a remote database keeps Npgsql's default.
WORKQ_RABBITMQ_URL='amqp://$_SRV_USER:$_SRV_RABBIT_PASSWORD@127.0.0.1:5672/'
WORKQ_RABBITMQ_MANAGEMENT_URL='http://$_SRV_USER:$_SRV_RABBIT_PASSWORD@127.0.0.1:15672/'
WORKQ_POSTGRES='Host=127.0.0.1;Port=5432;Username=$_SRV_USER;Password=$_SRV_PG_PASSWORD;Database=$_SRV_USER;SSL Mode=Disable'
# The servers' administrator, for the tests and the bench only (never the services'):
WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL='http://$_SRV_ADMIN:$_SRV_ADMIN_RABBIT_PASSWORD@127.0.0.1:15672/'
WORKQ_SERVERS_ADMIN_POSTGRES='Host=127.0.0.1;Port=5432;Username=$_SRV_ADMIN;Password=$_SRV_ADMIN_PG_PASSWORD;Database=postgres;SSL Mode=Disable'
EOF
  )
}

# ------------------------------------------------------------ system users

# ./run.sh as root starts control, the emitter and the dispatcher as
# $_SRV_OS_USER; the worker service starts its runners as $_SRV_OS_RUNNER_USER.
# Neither can log in or has a home.
_srv_os_users() {
  if [[ $(id -u) -ne 0 ]]; then
    _srv_log "not root: system users $_SRV_OS_USER and $_SRV_OS_RUNNER_USER not checked"
    return 0
  fi
  local name
  for name in "$_SRV_OS_USER" "$_SRV_OS_RUNNER_USER"; do
    id -u "$name" >/dev/null 2>&1 && continue
    _srv_log "creating system user $name"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name"
  done
}

# ---------------------------------------------------------------- RabbitMQ

# rabbitmqctl with a hard time limit: <seconds> <args...>. Debian's
# /usr/sbin/rabbitmqctl wrapper re-runs itself via `su rabbitmq`, which puts
# the CLI in a new session that `timeout` cannot kill (the CLI's Erlang VM
# would linger), so as root call the real CLI as the rabbitmq user with
# runuser, which stays in timeout's process group.
_srv_rabbitmqctl() {
  local limit="$1"; shift
  if [[ $(id -u) -eq 0 && -x /usr/lib/rabbitmq/bin/rabbitmqctl ]] && id rabbitmq >/dev/null 2>&1; then
    (cd /var/lib/rabbitmq && timeout -k 5 "$limit" \
      runuser -u rabbitmq -- /usr/lib/rabbitmq/bin/rabbitmqctl "$@" </dev/null)
  else
    timeout -k 5 "$limit" rabbitmqctl "$@" </dev/null
  fi
}

# `ping` (node up and reachable) rather than `status`: status also sums the
# node's memory use and was seen to hang for minutes on a broker with a stuck
# vhost deletion.
_srv_rabbit_running() { _srv_rabbitmqctl 30 -q -t 20 ping >/dev/null 2>&1; }

# A node registered with epmd but not answering ping is up-but-unresponsive
# (or still booting); starting another would only fail on the name clash.
_srv_rabbit_registered() { epmd -names 2>/dev/null | grep -q '^name rabbit at port'; }

_srv_rabbit_mgmt_up() {
  curl -fsS -m 5 -u "$_SRV_USER:$_SRV_RABBIT_PASSWORD" http://127.0.0.1:15672/api/overview >/dev/null 2>&1
}

# Creates the user, or sets its password: <users listed> <user> <password>.
_srv_rabbit_user() {
  if grep -qx "$2" <<<"$1"; then
    _srv_rabbitmqctl 30 -q -t 20 change_password "$2" "$3" >/dev/null
  else
    _srv_log "creating rabbitmq user $2"
    _srv_rabbitmqctl 30 -q -t 20 add_user "$2" "$3" >/dev/null
  fi
}

# The services' user: everything on the "/" virtual host and nothing anywhere
# else; the management tag, the least that lets control list that host's
# queues (other hosts answer 401, and users, vhosts and permissions cannot be
# changed). The admin: administrator (the tests and the bench create a virtual
# host each and open it to the services' user), no permissions of its own.
# No guest user at all.
_srv_rabbit_users() {
  local listed users
  listed="$(_srv_rabbitmqctl 30 -q -t 20 list_users 2>/dev/null)"
  users="$(awk '{print $1}' <<<"$listed")"
  if grep -qE "^$_SRV_USER[[:space:]].*administrator" <<<"$listed"; then
    _srv_log "narrowing rabbitmq user $_SRV_USER: administrator -> management"
  fi
  _srv_rabbit_user "$users" "$_SRV_USER" "$_SRV_RABBIT_PASSWORD"
  _srv_rabbitmqctl 30 -q -t 20 set_user_tags "$_SRV_USER" management >/dev/null
  _srv_rabbitmqctl 30 -q -t 20 set_permissions -p / "$_SRV_USER" '.*' '.*' '.*' >/dev/null
  _srv_rabbit_user "$users" "$_SRV_ADMIN" "$_SRV_ADMIN_RABBIT_PASSWORD"
  _srv_rabbitmqctl 30 -q -t 20 set_user_tags "$_SRV_ADMIN" administrator >/dev/null
  if grep -qx guest <<<"$users"; then
    _srv_log "deleting rabbitmq's default guest user"
    _srv_rabbitmqctl 30 -q -t 20 delete_user guest >/dev/null
  fi
}

_srv_rabbit_stats_interval() {
  _srv_rabbitmqctl 30 -q -t 20 eval 'application:get_env(rabbit, collect_statistics_interval).' 2>/dev/null \
    | tr -d ' \n'
}

# RabbitMQ sizes its file handle cache from the open-files limit it boots with. Started through su, it gets PAM's
# default soft limit, 1024 here: with a few hundred quorum queues (a machine's test runs) every handle is taken
# during recovery and the node hangs in "booting" for ever. Debian's systemd unit sets 65536; without systemd,
# limits.d does the same for the rabbitmq user, capped at what this machine allows (pam_limits drops a value
# above the hard limit, leaving 1024).
_srv_rabbit_file_limit() {
  [[ $(id -u) -eq 0 ]] || return 0
  local want=65536 hard file=/etc/security/limits.d/workq-rabbitmq.conf
  hard="$(ulimit -Hn)"
  if [[ "$hard" != unlimited ]] && ((hard < want)); then want=$hard; fi
  local line="rabbitmq - nofile $want"
  if [[ "$(cat "$file" 2>/dev/null)" != "$line" ]]; then
    _srv_log "open files for rabbitmq: $want ($file)"
    mkdir -p "$(dirname "$file")"
    echo "$line" >"$file"
  fi
}

_srv_rabbit_start() {
  command -v rabbitmq-server >/dev/null 2>&1 || _srv_apt_install rabbitmq-server
  command -v curl >/dev/null 2>&1 || _srv_apt_install curl ca-certificates
  _srv_ensure_hostname_resolves
  _srv_rabbit_file_limit

  # Management UI/API stats every 1 s instead of the default 5 s, so the
  # dashboard and tests see queue rates quickly. rabbitmq.conf (sysctl
  # format) is read at boot; only add the line if it is not there yet.
  local conf=/etc/rabbitmq/rabbitmq.conf
  mkdir -p /etc/rabbitmq
  if ! grep -qsE '^[[:space:]]*collect_statistics_interval[[:space:]]*=' "$conf"; then
    _srv_log "setting collect_statistics_interval = 1000 in $conf"
    echo "collect_statistics_interval = 1000" >>"$conf"
  fi

  if ! _srv_rabbit_running && _srv_rabbit_registered; then
    _srv_log "rabbit node registered but not answering yet; waiting"
    _srv_wait_for_quiet "$_SRV_TIMEOUT" _srv_rabbit_running \
      || _srv_die "rabbit node is registered with epmd but does not answer rabbitmqctl ping; check /var/log/rabbitmq/"
  fi

  if _srv_rabbit_running; then
    _srv_log "rabbitmq already running"
    # The node may be up with the app still booting (or stopped by stop_app).
    _srv_rabbitmqctl $((_SRV_TIMEOUT + 10)) -q -t "$_SRV_TIMEOUT" await_startup >/dev/null \
      || _srv_die "rabbitmq node is up but the rabbit app did not start (try: $0 stop; $0)"
    # Running node: enable the plugin online (no-op when already enabled).
    if ! grep -qs rabbitmq_management /etc/rabbitmq/enabled_plugins; then
      _srv_log "enabling rabbitmq_management (online)"
      # (Debian's wrapper runs rabbitmq-plugins as root, without su.)
      timeout -k 5 120 rabbitmq-plugins -q enable rabbitmq_management >/dev/null
    fi
  else
    # Offline enable writes /etc/rabbitmq/enabled_plugins without a node.
    if ! grep -qs rabbitmq_management /etc/rabbitmq/enabled_plugins; then
      _srv_log "enabling rabbitmq_management (offline)"
      rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null
    fi
    _srv_log "starting rabbitmq"
    # The Debian wrapper switches to the rabbitmq user and logs to
    # /var/log/rabbitmq/startup_{log,err}.
    rabbitmq-server -detached
    # await_startup fails at once if the node is not up yet; retry it.
    if ! _srv_wait_for_quiet "$_SRV_TIMEOUT" _srv_rabbitmqctl 20 -q -t 10 await_startup; then
      tail -n 30 /var/log/rabbitmq/startup_log /var/log/rabbitmq/startup_err 2>/dev/null >&2 || true
      tail -n 5 /var/log/rabbitmq/rabbit@*.log 2>/dev/null | cut -c1-300 >&2 || true
      local pid
      pid="$(pgrep -u rabbitmq -f beam.smp | head -n 1)"
      [[ -z "$pid" ]] || grep -s "open files" "/proc/$pid/limits" >&2 || true
      _srv_die "rabbitmq did not start within ${_SRV_TIMEOUT}s (boot state: $(_srv_rabbitmqctl 20 -q -t 10 eval \
        'rabbit_boot_state:get().' 2>&1 | head -n 1))"
    fi
  fi

  _srv_wait_for "AMQP port 5672" "$_SRV_TIMEOUT" _srv_tcp_open 127.0.0.1 5672
  _srv_rabbit_users
  _srv_wait_for "management API on 15672" "$_SRV_TIMEOUT" _srv_rabbit_mgmt_up

  # A node started before the conf line existed still has the default
  # (5000); set it at runtime so new channels/queues use 1 s. A restart
  # makes it apply to everything.
  local interval
  interval="$(_srv_rabbit_stats_interval)"
  if [[ "$interval" != "{ok,1000}" ]]; then
    _srv_log "collect_statistics_interval is $interval; setting 1000 at runtime (restart for full effect)"
    _srv_rabbitmqctl 30 -q -t 20 eval 'application:set_env(rabbit, collect_statistics_interval, 1000).' >/dev/null
  fi
  _srv_log "rabbitmq ready (amqp :5672, management :15672, users $_SRV_USER and $_SRV_ADMIN, stats interval 1000 ms)"
}

_srv_rabbit_stop() {
  if command -v rabbitmqctl >/dev/null 2>&1 && _srv_rabbit_running; then
    _srv_log "stopping rabbitmq"
    _srv_rabbitmqctl 180 -q -t 120 stop >/dev/null
  else
    _srv_log "rabbitmq not running"
  fi
}

# -------------------------------------------------------------- PostgreSQL

_srv_pg_version() {
  # Highest installed server major version.
  local v
  v="$(ls -1 /usr/lib/postgresql/*/bin/postgres 2>/dev/null \
    | sed -E 's#^/usr/lib/postgresql/([0-9]+)/bin/postgres$#\1#' | sort -n | tail -n 1)"
  echo "$v"
}

# Run SQL (from $1, via stdin) as the postgres superuser over the local
# socket; cd / so su does not complain about the working directory.
_srv_psql_admin() {
  (cd / && su postgres -s /bin/sh -c 'psql -X -q -v ON_ERROR_STOP=1 -tA') <<<"$1"
}

# A password login over TCP, as the services and the tests make: <role> <password> <database>.
_srv_pg_check_login() {
  PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 psql -X -h 127.0.0.1 -U "$1" -d "$3" -tAc 'select 1' 2>&1
}

# Creates the role, or sets its attributes and password: <role> <attributes> <password>.
_srv_pg_role() {
  local verb=alter
  if [[ "$(_srv_psql_admin "select 1 from pg_roles where rolname = '$1'")" != 1 ]]; then
    _srv_log "creating role $1"
    verb=create
  fi
  _srv_psql_admin "$verb role $1 $2 password '$3'"
}

# The services' role may log in and nothing more; it owns its database (so it
# creates its tables and the trusted pg_trgm extension there). The admin may
# create databases and is a member of the services' role: it makes the tests'
# and the bench's databases owned by that role, and drops them.
_srv_pg_roles() {
  if [[ "$(_srv_psql_admin "select rolcreatedb or rolcreaterole from pg_roles where rolname = '$_SRV_USER'")" == t ]]; then
    _srv_log "narrowing role $_SRV_USER: no longer creates databases or roles"
  fi
  _srv_pg_role "$_SRV_USER" "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls" "$_SRV_PG_PASSWORD"
  _srv_pg_role "$_SRV_ADMIN" "login nosuperuser createdb nocreaterole noreplication nobypassrls inherit" "$_SRV_ADMIN_PG_PASSWORD"
  if [[ "$(_srv_psql_admin "select pg_has_role('$_SRV_ADMIN', '$_SRV_USER', 'member')")" != t ]]; then
    _srv_psql_admin "grant $_SRV_USER to $_SRV_ADMIN"
  fi
  local owner
  owner="$(_srv_psql_admin "select pg_get_userbyid(datdba) from pg_database where datname = '$_SRV_USER'")"
  if [[ -z "$owner" ]]; then
    _srv_log "creating database $_SRV_USER"
    _srv_psql_admin "create database $_SRV_USER owner $_SRV_USER"
  elif [[ "$owner" != "$_SRV_USER" ]]; then
    _srv_log "database $_SRV_USER was owned by $owner; now by $_SRV_USER"
    _srv_psql_admin "alter database $_SRV_USER owner to $_SRV_USER"
  fi
}

_srv_pg_start() {
  local ver
  ver="$(_srv_pg_version)"
  if [[ -z "$ver" ]] || ! command -v pg_lsclusters >/dev/null 2>&1; then
    _srv_apt_install postgresql
    ver="$(_srv_pg_version)"
    [[ -n "$ver" ]] || _srv_die "postgresql installed but no server binary found"
  fi

  # The package normally creates <ver>/main; create it if it is missing.
  if ! pg_lsclusters -h "$ver" main 2>/dev/null | grep -q .; then
    _srv_log "creating postgresql cluster $ver/main"
    pg_createcluster "$ver" main >/dev/null
  fi

  # Connection slots: every service keeps a pool, and the test suite runs several clusters of services at once; the
  # default 100 ran out under the full suite. A running server with fewer is restarted to take the setting.
  local conf="/etc/postgresql/$ver/main/conf.d/workq.conf"
  local wanted="max_connections = $_SRV_PG_MAX_CONNECTIONS"
  if [[ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]]; then
    mkdir -p "$(dirname "$conf")"
    echo "$wanted" >"$conf"
  fi

  # pg_lsclusters -h: no header; column 4 is the status (online/down).
  local status
  status="$(pg_lsclusters -h "$ver" main | awk '{print $4}')"
  if [[ "$status" == online* ]] \
    && (("$(_srv_psql_admin "show max_connections")" < _SRV_PG_MAX_CONNECTIONS)); then
    _srv_log "restarting postgresql $ver/main for max_connections = $_SRV_PG_MAX_CONNECTIONS"
    pg_ctlcluster "$ver" main restart
    status=online
  elif [[ "$status" == online* ]]; then
    _srv_log "postgresql $ver/main already running"
  else
    _srv_log "starting postgresql $ver/main"
    pg_ctlcluster "$ver" main start
  fi
  _srv_wait_for "postgresql on 127.0.0.1:5432" "$_SRV_TIMEOUT" pg_isready -q -h 127.0.0.1 -p 5432

  # Roles and database: created when missing, else (re)set, so roles created
  # elsewhere or by an earlier version end up as described above.
  _srv_pg_roles

  # Debian's pg_hba allows password (scram) logins on 127.0.0.1, which is
  # what the services and the tests use. If a customised pg_hba rejects one,
  # add an explicit rule for that role at the top and reload.
  local login role password db out hba
  for login in "$_SRV_USER:$_SRV_PG_PASSWORD:$_SRV_USER" "$_SRV_ADMIN:$_SRV_ADMIN_PG_PASSWORD:postgres"; do
    IFS=: read -r role password db <<<"$login"
    if ! out="$(_srv_pg_check_login "$role" "$password" "$db")"; then
      hba="$(_srv_psql_admin "show hba_file")"
      _srv_log "password login of $role on 127.0.0.1 failed ($out); adding a rule to $hba"
      sed -i "1i host all $role 127.0.0.1/32 scram-sha-256" "$hba"
      pg_ctlcluster "$ver" main reload
      out="$(_srv_pg_check_login "$role" "$password" "$db")" || _srv_die "psql -h 127.0.0.1 -U $role still fails: $out"
    fi
  done
  _srv_log "postgresql $ver ready (127.0.0.1:5432, roles $_SRV_USER (owns database $_SRV_USER) and $_SRV_ADMIN, passwords in .run/servers.env)"
}

_srv_pg_stop() {
  local ver
  ver="$(_srv_pg_version)"
  if [[ -n "$ver" ]] && pg_lsclusters -h "$ver" main 2>/dev/null | awk '{print $4}' | grep -q '^online'; then
    _srv_log "stopping postgresql $ver/main"
    pg_ctlcluster "$ver" main stop
  else
    _srv_log "postgresql not running"
  fi
}

# -------------------------------------------------------------------- main

_srv_status() {
  if command -v rabbitmqctl >/dev/null 2>&1 && _srv_rabbit_running; then
    _srv_log "rabbitmq: running"
  else
    _srv_log "rabbitmq: down"
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    _srv_log "postgresql: running"
  else
    _srv_log "postgresql: down"
  fi
}

# The worker runs handler code in runner processes inside bubblewrap (docs/security.md, "The OS wall"); libseccomp2,
# with which it builds the sandbox's seccomp filter, comes with apt itself on Debian 12.
_srv_sandbox_tools() {
  command -v bwrap >/dev/null 2>&1 || _srv_apt_install bubblewrap
}

# The tests make a virtual host workq-test-<id> and a database workq_test_<id> each, and drop them when they end;
# a run that was killed leaves them, and their queues slow every later boot of the broker. Not for a machine where
# another test run is under way.
_srv_forget_test_leftovers() {
  local name count=0
  while read -r name; do
    [[ "$name" =~ ^workq-test-[0-9a-f]+$ ]] || continue
    _srv_rabbitmqctl 120 -q -t 110 delete_vhost "$name" >/dev/null
    count=$((count + 1))
  done < <(_srv_rabbitmqctl 30 -q -t 20 list_vhosts name 2>/dev/null)
  while read -r name; do
    [[ "$name" =~ ^workq_test_[0-9a-f]+$ ]] || continue
    _srv_psql_admin "drop database if exists $name with (force)"
    count=$((count + 1))
  done < <(_srv_psql_admin "select datname from pg_database where datname like 'workq\\_test\\_%'")
  _srv_log "test leftovers dropped: $count"
}

_srv_main() {
  case "${1:-start}" in
    start)
      local t0=$SECONDS
      _srv_sandbox_tools
      _srv_load_credentials
      _srv_os_users
      _srv_rabbit_start
      _srv_pg_start
      _srv_write_credentials
      _srv_log "all servers ready ($((SECONDS - t0))s)"
      ;;
    stop)
      _srv_rabbit_stop
      _srv_pg_stop
      ;;
    status) _srv_status ;;
    forget-test-leftovers) _srv_forget_test_leftovers ;;
    *) _srv_die "usage: $0 [start|stop|status|forget-test-leftovers]" ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  _srv_main "$@"
else
  # Sourced: strict mode and exits stay inside the subshell.
  case "${1:-}" in
    start | stop | status | forget-test-leftovers) (set -euo pipefail; _srv_main "$1") ;;
    *) (set -euo pipefail; _srv_main start) ;;
  esac
fi
