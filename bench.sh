#!/usr/bin/env bash
# Benchmarks Workq against plain RabbitMQ.Client and MassTransit on this machine's RabbitMQ and
# PostgreSQL (installed and started by scripts/servers.sh), in one run. The bench starts the four
# services itself (Release, free ports, a fresh virtual host and database, removed afterwards).
# Prints a markdown table; writes bench/results/<yyyy-MM-dd>.json (and .md).
# Arguments go to the bench: ./bench.sh --quick, ./bench.sh --only raw,batch --workq-events 20000
# (see bench/Workq.Bench/BenchOptions.cs; each flag also reads WORKQ_BENCH_<FLAG>).
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "[bench] nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg) at start" >&2
bash scripts/servers.sh >&2
source scripts/credentials.sh admin
# The servers' administrator makes the run's virtual host and database; the services get the narrower user.
export WORKQ_BENCH_POSTGRES_ADMIN="${WORKQ_BENCH_POSTGRES_ADMIN:-$WORKQ_SERVERS_ADMIN_POSTGRES}"
export WORKQ_BENCH_RABBITMQ_ADMIN="${WORKQ_BENCH_RABBITMQ_ADMIN:-$WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL}"
export WORKQ_BENCH_POSTGRES="${WORKQ_BENCH_POSTGRES:-$WORKQ_POSTGRES}"
export WORKQ_BENCH_RABBITMQ_URL="${WORKQ_BENCH_RABBITMQ_URL:-$WORKQ_RABBITMQ_URL}"
export WORKQ_BENCH_RABBITMQ_MANAGEMENT_URL="${WORKQ_BENCH_RABBITMQ_MANAGEMENT_URL:-$WORKQ_RABBITMQ_MANAGEMENT_URL}"

echo "[bench] building (Release)" >&2
dotnet build Workq.sln -c Release -nologo -v quiet >&2

exec dotnet bench/Workq.Bench/bin/Release/net10.0/Workq.Bench.dll "$@"
