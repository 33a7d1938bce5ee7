#!/usr/bin/env bash
# A/B of Relay builds or settings on run-all's accept load with one message per session (smtp-source, 20 sessions,
# 4 KiB, a new connection per message), `relay serve --roles smtp`, variants alternated round by round, each on a fresh
# process and an emptied queue. Prints per run the rate and the CPU seconds of Relay and of PostgreSQL during the load.
#   sudo VARIANTS="old:BIN=/path/to/old/relay new" bench/ab.sh
#   sudo VARIANTS="pgo-on:DOTNET_TieredPGO=1 pgo-off" bench/ab.sh
# A variant is NAME or NAME:SETTING,SETTING,... where a setting is BIN=PATH (that relay executable) or NAME=VALUE
# (environment, e.g. Relay__Smtp__IdleTimeout=00:01:00). Env: ROUNDS (2), MESSAGES (20000), WARMUP (200, as run-all;
# 20000 reaches the JIT's steady state), SOURCE_FLAGS (-d: many messages per session), RELAY_BIN (the default build).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
bench_setup
[ -n "${VARIANTS:-}" ] || bench_die "VARIANTS is empty (see the comment at the top)"
bench_build
default_relay=$relay
bench_start_pg

messages=${MESSAGES:-20000}
for round in $(seq "${ROUNDS:-2}"); do
  for variant in $VARIANTS; do
    name=${variant%%:*}
    relay=$default_relay settings=()
    if [ "$variant" != "$name" ]; then
      IFS=, read -ra parts <<<"${variant#*:}"
      for part in "${parts[@]}"; do
        case $part in
          BIN=*) relay=${part#BIN=}; [ -x "$relay" ] || bench_die "$name: $relay is not executable" ;;
          *=*) settings+=("$part") ;;
          *) bench_die "$name: setting '$part' is neither BIN=PATH nor NAME=VALUE" ;;
        esac
      done
    fi
    bench_psql relay "truncate messages, recipients, delivery_attempts, attempt_recipients, peers, inbound_sessions restart identity cascade" >/dev/null
    relay_port=$(bench_free_port)
    bench_start_relay smtp "$bench_work/relay-$name.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
      Relay__Smtp__ConnectionLimitPerClient=1000 ${settings[@]+"${settings[@]}"}
    bench_wait_port "$relay_port" relay
    bench_smtp_source "$relay_port" 20 "${WARMUP:-200}" "$bench_work/warm-up.log" || bench_die "$name: warm-up failed"
    set -- $(bench_cpu_seconds "$relay_pid"); relay0=$1 pg0=$2
    start=$(bench_now)
    bench_smtp_source "$relay_port" 20 "$messages" "$bench_work/smtp-source.log" || bench_die "$name: smtp-source failed"
    end=$(bench_now)
    set -- $(bench_cpu_seconds "$relay_pid"); relay1=$1 pg1=$2
    set -- $(bench_rate "$messages" "$start" "$end")
    echo "round $round $name: $2 msg/s, Relay $(awk -v a="$relay0" -v b="$relay1" 'BEGIN { printf "%.1f", b - a }') CPU s," \
      "PostgreSQL $(awk -v a="$pg0" -v b="$pg1" 'BEGIN { printf "%.1f", b - a }') CPU s"
    bench_stop_pid "$relay_pid"
  done
done
