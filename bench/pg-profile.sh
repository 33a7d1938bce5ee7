#!/usr/bin/env bash
# Where the relay rate goes, from PostgreSQL's side: `relay serve --roles smtp,delivery` under run-all's relay load
# (smtp-source -d, 20 sessions, 4 KiB, relayed to smtp-sink on loopback), Relay alone, on a private cluster with
# pg_stat_statements (planning tracked) and auto_explain (plans of statements slower than AUTOEXPLAIN, default 40ms).
# Prints the relay and accept rates, the CPU seconds of Relay and of PostgreSQL while accepting and while draining, and
# writes to OUT (default /tmp/relay-pg-profile): statements.txt (the 25 costliest statements: calls, execution and
# planning ms, ms per call), timeline.txt (recipients by state every ~3 s after the load) and postgres.log (plans,
# autovacuum). Takes the build lock for the whole run (~1–2 min).
#   sudo bench/pg-profile.sh      (env: MESSAGES (20000), OUT, AUTOEXPLAIN, RELAY_BIN, RELAY_DB_EXTRA (appended to the
#                                 connection string, e.g. ";Options=-c plan_cache_mode=auto" to compare settings),
#                                 ROUNDS (1; more measure the last of that many loads, each after truncating, as run-all))
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
bench_setup

messages=${MESSAGES:-20000}
out=${OUT:-/tmp/relay-pg-profile}
mkdir -p "$out"
: >"$out/timeline.txt"

bench_build
bench_start_pg
cat >>"$bench_pg_dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_planning = on
session_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = '${AUTOEXPLAIN:-40ms}'
log_autovacuum_min_duration = 0
CONF
"$bench_root/scripts/pg-cluster.sh" stop "$bench_pg_dir"
"$bench_root/scripts/pg-cluster.sh" start "$bench_pg_dir" "$pg_port" >/dev/null || bench_die "PostgreSQL did not restart"
bench_psql relay "create extension pg_stat_statements" >/dev/null

undelivered() { bench_psql relay "select count(*) from recipients where state <> 'delivered'"; }
bench_relay_to_sink Relay__Database="$RELAY_DB${RELAY_DB_EXTRA:-}"
# ROUNDS > 1: the loads before the measured one leave the database as run-all does between its runs: every table
# truncated, its statistics kept from the last load, and a fresh relay process.
for _ in $(seq 2 "${ROUNDS:-1}"); do
  SOURCE_FLAGS=-d bench_smtp_source "$relay_port" 20 "$messages" "$bench_work/smtp-source.log" || bench_die "smtp-source failed"
  for _ in $(seq 600); do [ "$(undelivered)" = 0 ] && break; sleep 0.1; done
  bench_psql relay "truncate messages, recipients, delivery_attempts, attempt_recipients, peers, inbound_sessions restart identity cascade" >/dev/null
  bench_restart_relay_to_sink Relay__Database="$RELAY_DB${RELAY_DB_EXTRA:-}"
done
bench_psql relay "select pg_stat_statements_reset()" >/dev/null

read -r relay_cpu0 pg_cpu0 < <(bench_cpu_seconds "$relay_pid")
start=$(bench_now)
SOURCE_FLAGS=-d bench_smtp_source "$relay_port" 20 "$messages" "$bench_work/smtp-source.log" || bench_die "smtp-source failed"
accepted=$(bench_now)
read -r relay_cpu1 pg_cpu1 < <(bench_cpu_seconds "$relay_pid")
for tick in $(seq 600); do
  [ "$(undelivered)" = 0 ] && break
  sleep 0.1
  [ $((tick % 20)) = 0 ] && bench_psql relay "select to_char(clock_timestamp(), 'HH24:MI:SS') || ' ' ||
    string_agg(state || ' ' || n, ', ' order by state) from (select state, count(*) n from recipients group by state) s" >>"$out/timeline.txt"
done
end=$(bench_now)
read -r relay_cpu2 pg_cpu2 < <(bench_cpu_seconds "$relay_pid")
left=$(undelivered)
bench_psql relay "select calls, round(total_exec_time::numeric) exec_ms, round(total_plan_time::numeric) plan_ms,
    round(((total_exec_time + total_plan_time) / greatest(calls, 1))::numeric, 3) ms_per_call,
    left(regexp_replace(query, '\s+', ' ', 'g'), 120)
  from pg_stat_statements order by total_exec_time + total_plan_time desc limit 25" >"$out/statements.txt"
cp "$bench_pg_dir/data/server.log" "$out/postgres.log"

set -- $(bench_rate "$messages" "$start" "$end")
accept=$(bench_rate "$messages" "$start" "$accepted")
bench_say "relayed $messages messages in $1 s ($2 msg/s; $left not delivered when it stopped waiting); accepted in ${accept% *} s (${accept#* } msg/s)"
bench_say "CPU s while accepting: relay $(awk -v a="$relay_cpu0" -v b="$relay_cpu1" 'BEGIN{print b-a}'), postgres $(awk -v a="$pg_cpu0" -v b="$pg_cpu1" 'BEGIN{print b-a}');" \
  "while draining: relay $(awk -v a="$relay_cpu1" -v b="$relay_cpu2" 'BEGIN{print b-a}'), postgres $(awk -v a="$pg_cpu1" -v b="$pg_cpu2" 'BEGIN{print b-a}')"
bench_say "statements, timeline and the server log (plans slower than ${AUTOEXPLAIN:-40ms}) in $out"
