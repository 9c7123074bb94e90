#!/usr/bin/env bash
# The chaos soak in one command (bench/Soak; README "Reliability"): builds Release, then runs the soak, which starts
# a fault-injecting upstream in its own process and the relay as a child process, drives clients at it, checks the
# end state and writes a markdown report to bench/results/soak-<time>-<mode>.md. Exit 1 when a check fails. It stops
# exactly the relay process it started (by PID).
#
#   bench/soak.sh            full: 500 concurrent clients, 3 minutes of chaos (about 4 minutes in all)
#   bench/soak.sh --short    CI: 100 concurrent clients, 20 s of chaos (about a minute)
#   options: --duration SECONDS, --concurrency N, --warm-up SECONDS (after --short to change it), --no-build
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build=1 args=()
for arg in "$@"; do
  if [ "$arg" = --no-build ]; then build=0; else args+=("$arg"); fi
done
if [ "$build" = 1 ]; then
  echo "building Release..." >&2
  dotnet build bench/Soak -c Release -nologo -v q -clp:ErrorsOnly >&2
fi
exec dotnet bench/Soak/bin/Release/net10.0/Soak.dll "${args[@]}"
