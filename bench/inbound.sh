#!/usr/bin/env bash
# Inbound throughput: how fast `relay serve --roles smtp` says `250` when every 250 means "committed to
# PostgreSQL", next to a private Postfix whose 250 means "fsync'd queue file". Postfix's smtp-source
# drives both on loopback at a few session concurrencies; one line per run. See bench/README.md.
#   bench/inbound.sh                      (as root; env: MESSAGES, CONCURRENCIES, RELAY_BIN, SKIP_POSTFIX)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
bench_setup

messages=${MESSAGES:-2000}
concurrencies=${CONCURRENCIES:-1 8 32}
warmup=${WARMUP:-200}

bench_build
bench_start_pg

relay_port=$(bench_free_port)
# All load comes from one address, so the per-client connection limit (default 50, like Postfix's
# smtpd_client_connection_count_limit) is raised, as the Postfix baseline exempts $mynetworks from it.
# Relay counts a session until its end is recorded in PostgreSQL, after the client has its 221, so with
# one connection per message 32 client sessions can exceed 50 server sessions (smtp-source then dies on
# "421 4.7.0 too many connections"); PER_CLIENT_LIMIT=50 shows that.
bench_start_relay smtp "$bench_work/relay.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
  Relay__Smtp__ConnectionLimitPerClient="${PER_CLIENT_LIMIT:-1000}"
bench_wait_port "$relay_port" "relay"

failed=0
printf '%-8s %8s %8s %8s %8s %10s\n' server sessions messages seconds msg/s queued

# One run: smtp-source against PORT, then the queue count (COUNT_CMD) must have grown by exactly MESSAGES.
run() { # NAME PORT SESSIONS MESSAGES COUNT_CMD [print]
  local name=$1 port=$2 sessions=$3 n=$4 count=$5 print=${6:-}
  local before after start end rate
  before=$($count)
  start=$(bench_now)
  bench_smtp_source "$port" "$sessions" "$n" "$bench_work/smtp-source.log" || { bench_say "smtp-source against $name failed (exit $?)"; failed=1; }
  end=$(bench_now)
  after=$($count)
  [ $((after - before)) = "$n" ] || failed=1
  [ -n "$print" ] || return 0
  rate=$(bench_rate "$n" "$start" "$end")
  printf '%-8s %8s %8s %8s %8s %10s\n' "$name" "$sessions" "$n" ${rate% *} ${rate#* } "$((after - before))/$n"
}

relay_count() { bench_psql relay "select count(*) from messages"; }
run relay "$relay_port" 8 "$warmup" relay_count # JIT and connection-pool warm-up, not printed
for s in $concurrencies; do run relay "$relay_port" "$s" "$messages" relay_count print; done
bench_stop_pid "$relay_pid"
recipients=$(bench_psql relay "select count(*) from recipients where state = 'queued'")
bench_say "relay: $recipients recipients queued in PostgreSQL in total (warm-up included)"

if [ -z "${SKIP_POSTFIX:-}" ]; then
  # Baseline: every message is put on hold, so Postfix only accepts and commits (as Relay does with
  # delivery not running) and the hold queue can be counted afterwards. in_flow_delay is off: with
  # nothing being delivered it would otherwise pace acceptance by the (zero) delivery rate.
  pf_dir=$bench_work/postfix
  pf_port=$(bench_free_port)
  bench_start_postfix "$pf_dir" "$pf_port" \
    "smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject_unauth_destination" \
    "in_flow_delay = 0"
  postfix_count() { bench_postfix_queued "$pf_dir"; }
  run postfix "$pf_port" 8 "$warmup" postfix_count
  for s in $concurrencies; do run postfix "$pf_port" "$s" "$messages" postfix_count print; done
fi

if [ "$failed" != 0 ]; then
  bench_say "FAILED: a run did not queue every message it was sent (see the queued column; logs in $bench_work with RELAY_BENCH_KEEP=1)"
  tail -n 5 "$bench_work/smtp-source.log" >&2 || true
  exit 1
fi
