#!/usr/bin/env bash
# Builds Workq and runs its tests: first the unit tests (tests/Workq.UnitTests: no server, seconds; a
# failure there stops the run), then the integration tests (tests/Workq.Tests) against real RabbitMQ and
# PostgreSQL (installed and started by scripts/servers.sh), and the cluster collection against RabbitMQ
# nodes in containers (Docker and the images from scripts/images.sh).
# The integration tests run in two phases, by each class's Phase trait (tests/Workq.Tests/Infrastructure/
# TestPhase.cs): first the tests that mostly wait (containers, crons), in a process of their own, beside
# every test that shares the machine; then the tests that must run alone (they stop this machine's servers
# or measure time).
# Extra arguments go to one plain `dotnet test` run of each project instead, e.g.
# ./test.sh --filter "FullyQualifiedName~Emit"; a filter that matches nothing in one project is not a failure.
# WORKQ_TEST_CLUSTER=0 skips the container tests (reported as skipped) and
# their set-up, for a quicker local run; CI runs them.
# Exit code: non-zero if any run failed. The last line is "N passed, N failed, N skipped" (all runs
# summed) for CI to read.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

mkdir -p .run
UNIT_OUT=.run/test-unit-output.log
OUT=.run/test-output.log
BACKGROUND_OUT=.run/test-background-output.log
ALONE_OUT=.run/test-alone-output.log
rm -f "$UNIT_OUT" "$OUT" "$BACKGROUND_OUT" "$ALONE_OUT"

echo "[test] building (Release)"
dotnet build Workq.sln -c Release -nologo

# One project's run, its output kept live (tee) and in $1 for the summary below; its exit code.
# A hung test fails the run (with a dump) instead of eating CI's time. VSTest exits 0 when a filter
# matches nothing in a project, unless a runsettings file sets TreatNoTestsAsError: then too a filter
# meant for the other project does not fail the run.
run_tests() {
  local out=$1 project=$2 rc
  shift 2
  set +e
  dotnet test "$project" -c Release --no-build \
    --logger "console;verbosity=normal" --blame-hang-timeout 10m "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)) && grep -q "No test matches the given testcase filter" "$out" && ! grep -q "^Total tests:" "$out"; then
    rc=0
  fi
  return "$rc"
}

# The suite starts some 150 short-lived .NET processes (test hosts, services, runners, compilers): compiling their hot
# methods again at tier 1 costs more CPU than it saves in a process that lives a minute, on a machine the suite keeps
# busy. Measured: the unit tests 18 -> 13 CPU-seconds, the core event-path collection 38 -> 25. For the tests only:
# run.sh and the bench run the services with the runtime's defaults.
export DOTNET_TieredPGO=0 DOTNET_TC_CallCounting=0

echo "[test] unit tests"
rc=0
run_tests "$UNIT_OUT" tests/Workq.UnitTests/Workq.UnitTests.csproj "$@" || rc=$?
logs=("$UNIT_OUT")

if ((rc != 0)); then
  echo "[test] unit tests failed: the integration tests are not run"
else
  bash scripts/servers.sh
  # Virtual hosts and databases of earlier runs that were killed: their queues slow the broker's every boot.
  bash scripts/servers.sh forget-test-leftovers
  source scripts/credentials.sh admin
  bash scripts/chromium.sh   # for the dashboard's browser tests
  if [[ "${WORKQ_TEST_CLUSTER:-1}" != 0 ]]; then
    bash scripts/images.sh   # Docker, and the RabbitMQ image the cluster tests start three of
  fi
  # Testcontainers' resource reaper image cannot be pulled here; the tests remove their own containers.
  export TESTCONTAINERS_RYUK_DISABLED=true

  # The tests start the services from the build output themselves; these tell
  # them where the servers are (with the credentials servers.sh generated). The
  # servers' administrator (the *_ADMIN pair) makes each Workq's virtual host and
  # database; the services get the narrower user, which owns that database.
  export WORKQ_TEST_POSTGRES_ADMIN="${WORKQ_TEST_POSTGRES_ADMIN:-$WORKQ_SERVERS_ADMIN_POSTGRES}"
  export WORKQ_TEST_RABBITMQ_ADMIN="${WORKQ_TEST_RABBITMQ_ADMIN:-$WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL}"
  export WORKQ_TEST_POSTGRES="${WORKQ_TEST_POSTGRES:-$WORKQ_POSTGRES}"
  export WORKQ_TEST_RABBITMQ_URL="${WORKQ_TEST_RABBITMQ_URL:-$WORKQ_RABBITMQ_URL}"
  export WORKQ_TEST_RABBITMQ_MANAGEMENT_URL="${WORKQ_TEST_RABBITMQ_MANAGEMENT_URL:-$WORKQ_RABBITMQ_MANAGEMENT_URL}"

  rm -f .run/reliability.md .run/cluster.md .run/resurrection.md .run/durable.md
  if (($# > 0)); then
    echo "[test] integration tests"
    run_tests "$OUT" tests/Workq.Tests/Workq.Tests.csproj "$@" || rc=$?
    logs+=("$OUT")
  else
    # The background tests mostly wait (through faults' lengths, for minute boundaries): beside the shared tests
    # they cost little time.
    echo "[test] integration tests, phase 1: the shared tests, and beside them the background ones ($BACKGROUND_OUT)"
    run_tests "$BACKGROUND_OUT" tests/Workq.Tests/Workq.Tests.csproj --filter "Phase=Background" >/dev/null &
    background=$!
    run_tests "$OUT" tests/Workq.Tests/Workq.Tests.csproj --filter "Phase!=Background&Phase!=Alone" || rc=$?
    wait "$background" || rc=$?
    echo "[test] the background tests' output:"
    cat "$BACKGROUND_OUT"
    echo "[test] integration tests, phase 2: the tests that run alone"
    run_tests "$ALONE_OUT" tests/Workq.Tests/Workq.Tests.csproj --filter "Phase=Alone" || rc=$?
    logs+=("$OUT" "$BACKGROUND_OUT" "$ALONE_OUT")
  fi
fi

# Counts from VSTest's summary. With the "normal" console logger it is a block
#   Total tests: 14 /  Passed: 11 /  Failed: 1 /  Skipped: 2 / Total time: ...
# (one line each); at "minimal" verbosity one line per test assembly:
#   Failed!  - Failed:     1, Passed:    11, Skipped:     2, Total:    14, ...
# Either is summed over all occurrences in every run's output; the block wins when both appear.
summary="$(awk '
  /^Total tests: +[0-9]+/ { inblock = 1; found_b = 1; next }
  inblock && /^ *Total time:/ { inblock = 0; next }
  inblock && /^ *Passed: +[0-9]+ *$/  { bp += $2 }
  inblock && /^ *Failed: +[0-9]+ *$/  { bf += $2 }
  inblock && /^ *Skipped: +[0-9]+ *$/ { bs += $2 }
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
    line = $0; sub(/.*Failed: +/, "", line); lf += line + 0
    line = $0; sub(/.*Passed: +/, "", line); lp += line + 0
    line = $0; sub(/.*Skipped: +/, "", line); ls += line + 0
    found_l = 1
  }
  END {
    if (found_b)      printf "%d passed, %d failed, %d skipped\n", bp, bf, bs
    else if (found_l) printf "%d passed, %d failed, %d skipped\n", lp, lf, ls
  }
' "${logs[@]}")"

# The ten slowest tests of all runs, from the console logger's per-test times: "  Passed Name [1 m 2 s]"
# (also "[< 1 ms]", "[450 ms]", "[6 s]", "[1 h 2 m]"). Fixture start-up is in no test's time.
slowest="$(awk '
  /^  (Passed|Failed|Skipped) / && match($0, / \[(< )?[0-9]+ ms\]$| \[[0-9]+ s\]$| \[[0-9]+ m [0-9]+ s\]$| \[[0-9]+ h [0-9]+ m\]$/) {
    name = substr($0, 1, RSTART - 1); sub(/^  [A-Za-z]+ /, "", name)
    n = split(substr($0, RSTART + 2, RLENGTH - 3), part, " "); seconds = 0
    for (i = 1; i < n; i += 2) {
      if (part[i] == "<") i++
      unit = part[i + 1]
      seconds += part[i] * (unit == "ms" ? 0.001 : unit == "s" ? 1 : unit == "m" ? 60 : 3600)
    }
    printf "%10.1f s  %s\n", seconds, name
  }
' "${logs[@]}" | sort -rn | awk 'NR <= 10')"   # not head: under pipefail, sort's SIGPIPE would end the script

# The fault suites' tables: every fault scenario, and where each accepted event ended.
if [[ -f .run/reliability.md ]]; then
  echo; echo "Reliability (events with a 202, and where they ended):"; cat .run/reliability.md
fi
if [[ -f .run/cluster.md ]]; then
  echo; echo "RabbitMQ cluster faults (events with a 202, and where they ended):"; cat .run/cluster.md
fi
if [[ -f .run/durable.md ]]; then
  echo; echo "Durable handlers (each step's effect, counted at an HTTP sink):"; cat .run/durable.md
fi
if [[ -f .run/resurrection.md ]]; then
  echo; echo "Deleted and created again (what reached the new one):"; cat .run/resurrection.md
fi

if [[ -n "$slowest" ]]; then
  echo; echo "Ten slowest tests (all runs):"; echo "$slowest"
fi

# Each failed test with its message and first frames, last, where a reader of the output's tail finds them.
failures="$(awk '
  /^  Failed / { shown = 0; block = 1; print; next }
  block && /^  (Passed|Skipped) |^Results File|^Test Run|^Total tests/ { block = 0 }
  block && shown < 12 { print; shown++ }
' "${logs[@]}" | awk 'NR <= 60')"
if [[ -n "$failures" ]]; then
  echo; echo "Failed tests (message and first frames):"; echo "$failures"
fi

echo
if [[ -n "$summary" ]]; then
  echo "$summary"
elif ((rc == 0)); then
  echo "0 passed, 0 failed, 0 skipped"   # ran fine but found no tests
else
  # Crash/abort before a summary: say so rather than invent counts.
  echo "[test] dotnet test exited $rc without a summary (see ${logs[*]})"
fi
exit "$rc"
