# Sourced by run.sh, test.sh and bench.sh after scripts/servers.sh: exports the broker and
# database settings with the credentials servers.sh generated (.run/servers.env). Settings
# already in the environment win, so a user can point Workq at servers of their own.
_creds_file="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run/servers.env"
[[ -f "$_creds_file" ]] || { echo "[credentials] $_creds_file is missing: run scripts/servers.sh" >&2; exit 1; }
_creds_rabbit="$(sed -n "s/^WORKQ_RABBITMQ_URL='\(.*\)'$/\1/p" "$_creds_file")"
_creds_management="$(sed -n "s/^WORKQ_RABBITMQ_MANAGEMENT_URL='\(.*\)'$/\1/p" "$_creds_file")"
_creds_postgres="$(sed -n "s/^WORKQ_POSTGRES='\(.*\)'$/\1/p" "$_creds_file")"
export WORKQ_RABBITMQ_URL="${WORKQ_RABBITMQ_URL:-$_creds_rabbit}"
export WORKQ_RABBITMQ_MANAGEMENT_URL="${WORKQ_RABBITMQ_MANAGEMENT_URL:-$_creds_management}"
export WORKQ_POSTGRES="${WORKQ_POSTGRES:-$_creds_postgres}"
unset _creds_file _creds_rabbit _creds_management _creds_postgres
