#!/usr/bin/env bash
# Profiles `relay serve --roles smtp,delivery` under the relay-rate load of bench/run-all (smtp-source -d, 20 sessions,
# 4 KiB, relayed to smtp-sink on loopback), or with LOAD=accept `relay serve --roles smtp` under run-all's accept load
# with one message per session (smtp-source without -d): dotnet-counters for the runtime's counters and dotnet-trace's sampled thread time (collect's CPU sampling needs perf_events)
# for where the time goes, written to OUT (default /tmp/relay-profile). Takes the build lock for the whole run (~1 min).
# bench/busy-stacks.py then reads the trace's busy samples (those not waiting) as a CPU profile.
#   sudo bench/profile.sh         (env: LOAD (relay), MESSAGES (20000), WARMUP (accept: 2000), TRACE_PROFILE (dotnet-sampled-thread-time; gc-verbose for allocations), OUT, TOOLS (directory with dotnet-trace and dotnet-counters), RELAY_BIN)
# The tools are NuGet global tools: dotnet tool install --tool-path /tmp/tools dotnet-trace (and dotnet-counters).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
bench_setup

messages=${MESSAGES:-20000}
out=${OUT:-/tmp/relay-profile}
tools=${TOOLS:-/tmp/tools}
for tool in dotnet-trace dotnet-counters; do [ -x "$tools/$tool" ] || bench_die "$tools/$tool not found (see the comment at the top)"; done
mkdir -p "$out"

load=${LOAD:-relay}
case $load in relay|accept) ;; *) bench_die "LOAD=$load: expected relay or accept" ;; esac

bench_build
bench_start_pg
if [ "$load" = relay ]; then
  bench_relay_to_sink
  source_flags=-d
else
  relay_port=$(bench_free_port)
  bench_start_relay smtp "$bench_work/relay.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
    Relay__Smtp__ConnectionLimitPerClient=1000
  bench_wait_port "$relay_port" "relay"
  bench_smtp_source "$relay_port" 20 "${WARMUP:-2000}" "$bench_work/smtp-source.log" # warm-up (20000 reaches the JIT's steady state)
  source_flags=
fi

"$tools/dotnet-counters" collect -p "$relay_pid" --format csv -o "$out/counters.csv" --refresh-interval 1 --duration 00:00:00:20 \
  --counters System.Runtime,Microsoft.AspNetCore.Server.Kestrel,System.Net.Sockets >"$bench_work/counters.log" 2>&1 &
counters_pid=$!
bench_pids+=("$counters_pid")
"$tools/dotnet-trace" collect -p "$relay_pid" --profile "${TRACE_PROFILE:-dotnet-sampled-thread-time}" -o "$out/relay.nettrace" --duration 00:00:00:15 \
  >"$bench_work/trace.log" 2>&1 &
trace_pid=$!
start=$(bench_now)
SOURCE_FLAGS=$source_flags bench_smtp_source "$relay_port" 20 "$messages" "$bench_work/smtp-source.log" || bench_die "smtp-source failed"
if [ "$load" = relay ]; then
  for _ in $(seq 600); do
    [ "$(bench_psql relay "select count(*) from recipients where state <> 'delivered'")" = 0 ] && break
    sleep 0.1
  done
fi
end=$(bench_now)
wait "$trace_pid" || { cat "$bench_work/trace.log" >&2; bench_die "dotnet-trace failed"; }
wait "$counters_pid" 2>/dev/null || true # --duration ends it (it ignores SIGINT when not on a terminal)
set -- $(bench_rate "$messages" "$start" "$end")
bench_say "$messages messages $([ "$load" = relay ] && echo relayed || echo accepted) in $1 s ($2 msg/s) while profiled; trace and counters in $out"
