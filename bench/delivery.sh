#!/usr/bin/env bash
# Outbound throughput: N queued messages for a routed domain (bench.test -> Postfix's smtp-sink on
# loopback), time until every one is delivered by `relay serve --roles delivery`, next to a private
# Postfix delivering the same load to the same kind of sink. See bench/README.md.
#   bench/delivery.sh                     (as root; env: MESSAGES, RELAY_BIN, SKIP_POSTFIX)
#
# Both are measured the same way: the messages are first queued and held (Relay: recipients in state
# 'held'; Postfix: the hold queue), the sender is already running, and the clock starts at the release
# (`relay queue release` does the same update + NOTIFY; Postfix: postsuper -H + postqueue -f).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
bench_setup

messages=${MESSAGES:-5000}
limit=${RELAY_BENCH_RUN_TIMEOUT:-120}

bench_build
bench_start_pg

sink_port=$(bench_free_port)
# -u: drop root after binding; 256: listen backlog. The sink accepts everything and keeps nothing.
smtp-sink -u nobody "127.0.0.1:$sink_port" 256 >"$bench_work/sink.log" 2>&1 &
bench_pids+=($!)
bench_wait_port "$sink_port" "smtp-sink"

failed=0
printf '%-8s %8s %8s %8s %10s\n' server messages seconds msg/s delivered

# Enqueue through the relay's own SMTP listener (16 sessions), then stop the listener.
relay_port=$(bench_free_port)
bench_start_relay smtp "$bench_work/relay-smtp.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
  Relay__Smtp__ConnectionLimitPerClient=1000 # one client address; see inbound.sh
bench_wait_port "$relay_port" "relay"
bench_smtp_source "$relay_port" 16 "$messages" "$bench_work/smtp-source.log" || bench_die "smtp-source against relay failed"
bench_stop_pid "$relay_pid"
queued=$(bench_psql relay "update recipients set state = 'held' where state = 'queued' returning 1" | wc -l)
[ "$queued" = "$messages" ] || bench_die "relay queued $queued of $messages messages"

bench_start_relay delivery "$bench_work/relay-delivery.log" Relay__Domains__0=bench.test \
  "Relay__Routes__bench.test=[127.0.0.1]:$sink_port"
for _ in $(seq 300); do grep -q 'role delivery started' "$bench_work/relay-delivery.log" && break; sleep 0.1; done
grep -q 'role delivery started' "$bench_work/relay-delivery.log" || { cat "$bench_work/relay-delivery.log" >&2; bench_die "relay delivery role did not start within 30 s"; }
sleep 1 # let it settle into its idle wait on LISTEN

start=$(bench_now)
bench_psql relay "update recipients set state = 'queued', next_attempt_at = now(), updated_at = now() where state = 'held'; select pg_notify('relay_queue', '')" >/dev/null
left=$messages
deadline=$(( $(date +%s) + limit ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  left=$(bench_psql relay "select count(*) from recipients where state <> 'delivered'")
  [ "$left" = 0 ] && break
  sleep 0.1
done
end=$(bench_now)
delivered=$(bench_psql relay "select count(*) from recipients where state = 'delivered'")
[ "$delivered" = "$messages" ] || { failed=1; bench_say "relay: $left recipients not delivered after ${limit}s: $(bench_psql relay "select state || '=' || count(*) from recipients group by state" | tr '\n' ' ')"; }
rate=$(bench_rate "$messages" "$start" "$end")
printf '%-8s %8s %8s %8s %10s\n' relay "$messages" ${rate% *} ${rate#* } "$delivered/$messages"
bench_stop_pid "$relay_pid"

if [ -z "${SKIP_POSTFIX:-}" ]; then
  pf_dir=$bench_work/postfix
  pf_port=$(bench_free_port)
  bench_start_postfix "$pf_dir" "$pf_port" \
    "smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject_unauth_destination" \
    "in_flow_delay = 0" \
    "transport_maps = inline:{ bench.test=relay:[127.0.0.1]:$sink_port }"
  bench_smtp_source "$pf_port" 16 "$messages" "$bench_work/smtp-source.log" || bench_die "smtp-source against Postfix failed"
  held=$(bench_postfix_queued "$pf_dir" hold)
  [ "$held" = "$messages" ] || bench_die "Postfix held $held of $messages messages"

  start=$(bench_now)
  timeout 60 postsuper -c "$pf_dir" -H ALL 2>/dev/null
  timeout 60 postqueue -c "$pf_dir" -f
  left=$messages
  deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    left=$(bench_postfix_queued "$pf_dir")
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  end=$(bench_now)
  # The log is written asynchronously (postlogd): wait at most 10 s for the last "status=sent" lines.
  for _ in $(seq 100); do
    sent=$(grep -c 'status=sent' "$pf_dir/maillog" || true)
    [ "$sent" -ge "$messages" ] && break
    sleep 0.1
  done
  [ "$left" = 0 ] && [ "$sent" = "$messages" ] || { failed=1; bench_say "postfix: $left messages still queued, $sent sent"; }
  rate=$(bench_rate "$messages" "$start" "$end")
  printf '%-8s %8s %8s %8s %10s\n' postfix "$messages" ${rate% *} ${rate#* } "$sent/$messages"
fi

[ "$failed" = 0 ] || bench_die "FAILED: not every message was delivered (logs in $bench_work with RELAY_BENCH_KEEP=1)"
