# Sourced by run.sh, test.sh and bench.sh after scripts/servers.sh: exports the services' broker and
# database settings with the credentials servers.sh generated (.run/servers.env). Settings already in
# the environment win, so a user can point Workq at servers of their own.
# `source scripts/credentials.sh admin` (test.sh, bench.sh) also exports the servers' administrator,
# which makes the tests' and the bench's virtual hosts and databases and is never the services':
# WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL and WORKQ_SERVERS_ADMIN_POSTGRES (on the "postgres"
# database). Where the services' setting was given and the admin's was not, the admin is the services'
# user (servers of one's own, with one user for both).
_creds_file="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run/servers.env"
[[ -f "$_creds_file" ]] || { echo "[credentials] $_creds_file is missing: run scripts/servers.sh" >&2; exit 1; }
_creds_value() { sed -n "s/^$1='\(.*\)'$/\1/p" "$_creds_file"; }
if [[ "${1:-}" == admin ]]; then
  if [[ -n "${WORKQ_RABBITMQ_MANAGEMENT_URL:-}" ]]; then
    _creds_admin_management="${WORKQ_RABBITMQ_MANAGEMENT_URL%%,*}"
  else
    _creds_admin_management="$(_creds_value WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL)"
  fi
  if [[ -n "${WORKQ_POSTGRES:-}" ]]; then
    _creds_admin_postgres="${WORKQ_POSTGRES/Database=workq/Database=postgres}"
  else
    _creds_admin_postgres="$(_creds_value WORKQ_SERVERS_ADMIN_POSTGRES)"
  fi
  export WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL="${WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL:-$_creds_admin_management}"
  export WORKQ_SERVERS_ADMIN_POSTGRES="${WORKQ_SERVERS_ADMIN_POSTGRES:-$_creds_admin_postgres}"
  if [[ -z "$WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL" || -z "$WORKQ_SERVERS_ADMIN_POSTGRES" ]]; then
    echo "[credentials] $_creds_file has no admin user (written by an older scripts/servers.sh): run scripts/servers.sh" >&2
    exit 1
  fi
fi
export WORKQ_RABBITMQ_URL="${WORKQ_RABBITMQ_URL:-$(_creds_value WORKQ_RABBITMQ_URL)}"
export WORKQ_RABBITMQ_MANAGEMENT_URL="${WORKQ_RABBITMQ_MANAGEMENT_URL:-$(_creds_value WORKQ_RABBITMQ_MANAGEMENT_URL)}"
export WORKQ_POSTGRES="${WORKQ_POSTGRES:-$(_creds_value WORKQ_POSTGRES)}"
unset -f _creds_value
unset _creds_file _creds_admin_management _creds_admin_postgres
