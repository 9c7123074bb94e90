#!/usr/bin/env bash
# The benchmark in one command: builds Release, starts the mock upstream, a bare YARP proxy and Orchestrator pinned
# to one CPU, runs every scenario against the three of them (interleaved) from a load generator pinned to the other
# CPU, then the embedded engine (bench/Embedded: the engine in-process, on the servers' CPU, against the same mock),
# prints markdown tables and writes them to bench/results/. Stops exactly the processes it started.
#
#   bench/run.sh            full run (about 6 minutes)
#   bench/run.sh --smoke    every scenario, tiny (about 20 seconds); --quick is the same
#   options: --held N (held-stream count), --held-h2 N (the same for Orchestrator over HTTP/2 upstream; 0: not run),
#            --no-build, BENCH_PORT_BASE=18080 (uses the next four ports, and mock + 10 for its h2c port),
#            --only LIST (comma-separated scenario ids: 1,2,3,open,4,T,M,L,E; e.g. --only T: the warm-up, then only T)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mode=full held="" held_h2="" build=1 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke|--quick) mode=smoke ;;
    --held) held="$2"; shift ;;
    --held-h2) held_h2="$2"; shift ;;
    --no-build) build=0 ;;
    --only) only="$2"; shift ;;
    *) echo "unknown option: $1 (use --smoke, --held N, --held-h2 N, --no-build, --only LIST)" >&2; exit 2 ;;
  esac
  shift
done

# --only: E (the embedded engine) is run.sh's own; the other ids go to the load generator's suite, which checks them.
run_suite=1 run_embedded=1 run_metrics_off=1 suite_only=()
if [ -n "$only" ]; then
  ids=",${only// /},"
  case "$ids" in *,[Ee],*) ;; *) run_embedded=0 ;; esac
  case "$ids" in *,[Mm],*) ;; *) run_metrics_off=0 ;; esac
  rest=$(echo "$ids" | tr ',' '\n' | grep -v -x -i -e e -e '' | paste -sd, - || true)
  if [ -n "$rest" ]; then suite_only=(--only "$rest"); else run_suite=0; fi
fi

base=${BENCH_PORT_BASE:-18080}
mock_port=$((base + 1)) yarp_port=$((base + 2)) orch_port=$((base + 3)) orch_off_port=$((base + 4))
mock_h2_port=$((mock_port + 10))   # the mock's h2c listener
if ! command -v taskset >/dev/null; then
  echo "warning: taskset not found (util-linux); processes are not pinned" >&2
  taskset() { shift 2; "$@"; }
fi
cpus=$(nproc --all)
if [ "$cpus" -ge 2 ]; then server_cpu=0 load_cpu=1; else server_cpu=0 load_cpu=0; echo "warning: one CPU, nothing is isolated" >&2; fi

# Every held stream costs a proxy two sockets (client side and upstream side): stay under the open-file limit.
nofile=$(ulimit -n)
if [ -z "$held" ]; then
  held=10000
  if [ "$nofile" != unlimited ] && [ $(((nofile - 2500) / 2)) -lt "$held" ]; then
    held=$(((nofile - 2500) / 2 / 250 * 250))
    [ "$held" -lt 200 ] && held=200   # a tiny limit (CI's 1024): the smoke's 200 still fits
    echo "note: open-file limit $nofile, so held streams reduced to $held (10,000 needs ~22,500)" >&2
  fi
fi
# Orchestrator over an HTTP/2 upstream needs one socket per held stream (the client's; upstream, a few sockets carry
# every stream), so it holds 10,000 where the HTTP/1.1 targets fit fewer.
if [ -z "$held_h2" ]; then
  held_h2=10000
  if [ "$nofile" != unlimited ] && [ $((nofile - 2500)) -lt "$held_h2" ]; then
    held_h2=$(((nofile - 2500) / 250 * 250))
    [ "$held_h2" -lt 200 ] && held_h2=200
    echo "note: open-file limit $nofile, so held streams over h2 reduced to $held_h2 (10,000 needs ~12,500)" >&2
  fi
fi

out=bench/results
logs=$out/logs
mkdir -p "$logs"
if [ "$build" = 1 ]; then
  echo "building Release..." >&2
  dotnet build bench/bench.slnf -c Release -nologo -v q -clp:ErrorsOnly >&2
fi

bin() { echo "$1/bin/Release/net10.0/$2.dll"; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in $mock_port $mock_h2_port $yarp_port $orch_port $orch_off_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set BENCH_PORT_BASE" >&2; exit 1; fi
done

echo "starting mock :$mock_port (h2c :$mock_h2_port), YARP :$yarp_port, Orchestrator :$orch_port on CPU $server_cpu; load generator on CPU $load_cpu" >&2
taskset -c "$server_cpu" dotnet "$(bin bench/MockUpstream MockUpstream)" --urls "http://127.0.0.1:$mock_port" \
  --h2-urls "http://127.0.0.1:$mock_h2_port" >"$logs/mock.log" 2>&1 &
pids+=($!); mock_pid=$!
taskset -c "$server_cpu" dotnet "$(bin bench/YarpProxy YarpProxy)" --urls "http://127.0.0.1:$yarp_port" \
  --destination "http://127.0.0.1:$mock_port" >"$logs/yarp.log" 2>&1 &
pids+=($!); yarp_pid=$!
export BENCH_LEDGER_DB="$logs/ledger-$$.db"
rm -f "$BENCH_LEDGER_DB"*
BENCH_MOCK_URL="http://127.0.0.1:$mock_port/v1" BENCH_MOCK_H2_URL="http://127.0.0.1:$mock_h2_port/v1" taskset -c "$server_cpu" dotnet "$(bin src/Orchestrator Orchestrator)" \
  --config bench/orchestrator-bench.conf --urls "http://127.0.0.1:$orch_port" >"$logs/orchestrator.log" 2>&1 &
pids+=($!); orch_pid=$!
# The same relay with telemetry.metrics = off, for scenario M (metrics on vs off); idle while the others run.
metrics_off_args=()
if [ "$run_metrics_off" = 1 ]; then
  sed 's/^    metrics = on$/    metrics = off/' bench/orchestrator-bench.conf >"$logs/orchestrator-bench-metrics-off.conf"
  grep -q '^    metrics = off$' "$logs/orchestrator-bench-metrics-off.conf" || { echo "bench/orchestrator-bench.conf: no 'metrics = on' line to turn off" >&2; exit 1; }
  rm -f "$logs/ledger-metrics-off-$$.db"*   # its own ledger file: two processes never share one
  BENCH_LEDGER_DB="$logs/ledger-metrics-off-$$.db" BENCH_MOCK_URL="http://127.0.0.1:$mock_port/v1" BENCH_MOCK_H2_URL="http://127.0.0.1:$mock_h2_port/v1" taskset -c "$server_cpu" dotnet "$(bin src/Orchestrator Orchestrator)" \
    --config "$logs/orchestrator-bench-metrics-off.conf" --urls "http://127.0.0.1:$orch_off_port" >"$logs/orchestrator-metrics-off.log" 2>&1 &
  pids+=($!); orch_off_pid=$!
  metrics_off_args=(--orchestrator-metrics-off "http://127.0.0.1:$orch_off_port" --orchestrator-metrics-off-pid "$orch_off_pid")
fi

results="$out/$(date -u +%Y%m%d-%H%M%S)-$mode${only:+-only-${only//[^A-Za-z0-9]/-}}.md"
smoke_flag=()
[ "$mode" = smoke ] && smoke_flag=(--smoke)
# In the background and waited for, so a TERM or Ctrl-C reaches the trap at once (bash defers traps while a
# foreground child runs).
status=0
if [ "$run_suite" = 1 ]; then
  taskset -c "$load_cpu" dotnet "$(bin bench/LoadGen LoadGen)" suite "${smoke_flag[@]}" "${suite_only[@]}" --held "$held" --held-h2 "$held_h2" \
    --direct "http://127.0.0.1:$mock_port" --direct-pid "$mock_pid" \
    --yarp "http://127.0.0.1:$yarp_port" --yarp-pid "$yarp_pid" \
    --orchestrator "http://127.0.0.1:$orch_port" --orchestrator-pid "$orch_pid" --key sk-local-1 --ledger-admin-key bench-admin-key \
    "${metrics_off_args[@]}" \
    --out "$results" &
  loadgen_pid=$!
  pids=("$loadgen_pid" "${pids[@]}")
  wait "$loadgen_pid" || status=$?
fi

# The embedded engine: one process hosting the engine (services.AddOrchestrator) and calling it in-process, pinned
# with the servers (the mock shares its CPU, as it does with YARP and Orchestrator); its section is appended.
if [ "$status" = 0 ] && [ "$run_embedded" = 1 ]; then
  echo "embedded engine (in-process) against the mock, on CPU $server_cpu" >&2
  BENCH_LEDGER_DB="$logs/ledger-embedded-$$.db" BENCH_MOCK_URL="http://127.0.0.1:$mock_port/v1" BENCH_MOCK_H2_URL="http://127.0.0.1:$mock_h2_port/v1" taskset -c "$server_cpu" \
    dotnet "$(bin bench/Embedded Embedded)" "${smoke_flag[@]}" --mock "http://127.0.0.1:$mock_port" \
    --config bench/orchestrator-bench.conf --out "$results" &
  embedded_pid=$!
  pids=("$embedded_pid" "${pids[@]}")
  wait "$embedded_pid" || status=$?
fi
if [ "$status" != 0 ]; then
  names=(mock yarp orchestrator); [ "$run_metrics_off" = 1 ] && names+=(orchestrator-metrics-off)
  for name in "${names[@]}"; do echo "--- $logs/$name.log (last lines)" >&2; tail -n 20 "$logs/$name.log" >&2; done
fi
exit $status
