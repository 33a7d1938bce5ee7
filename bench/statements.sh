#!/usr/bin/env bash
# What Relay asks of PostgreSQL per relayed message, and where the time goes between the client's 250 and delivery.
#   sudo bench/statements.sh             (a few minutes; env: RELAY_BIN, MESSAGES (300), RATE (100), RELAY_BENCH_KEEP)
# Runs the latency load of bench/run-all (sessions.py latency: one connection per message at a fixed rate, to a Python
# sink) against `relay serve --roles smtp,delivery` on a private cluster that logs every statement with a millisecond
# timestamp (log_min_duration_statement = 0), then prints the statements per message by kind (and their share of the
# server's statement time) and the p50 of each stage of a message's path, taken from the log: enqueue commit → claim →
# message load → attempt record. Holds the build lock for the whole run (bench_lock). Not part of the test run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_lock "$@"
messages=${MESSAGES:-300}
rate=${RATE:-100}
here=$(cd "$(dirname "$0")" && pwd)
bench_setup
bench_build
bench_start_pg
bench_psql postgres "alter system set log_min_duration_statement = 0" >/dev/null
bench_psql postgres "alter system set log_line_prefix = '%m [%p] '" >/dev/null
bench_psql postgres "select pg_reload_conf()" >/dev/null
relay_port=$(bench_free_port) sink_port=$(bench_free_port)
bench_start_relay smtp,delivery "$bench_work/relay.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
  Relay__Smtp__ConnectionLimitPerClient=1000 "Relay__Routes__bench.test=[127.0.0.1]:$sink_port"
bench_wait_port "$relay_port" relay
# A discarded warm-up (JIT, pools), then the measured load between two markers in the server log.
python3 "$here/sessions.py" latency --port "$relay_port" --sink-port "$sink_port" --rate "$rate" --count 100 --timeout 60 >/dev/null
sleep 1
bench_psql relay "select 'bench-start'" >/dev/null
out=$(python3 "$here/sessions.py" latency --port "$relay_port" --sink-port "$sink_port" --rate "$rate" --count "$messages" --timeout 60)
sleep 1
bench_psql relay "select 'bench-end'" >/dev/null
echo "latency (p50 ms, p99 ms, delivered/sent): $out"
python3 - "$bench_pg_dir/data/server.log" "$messages" <<'PY'
import re, sys, statistics, datetime
log, n = sys.argv[1], int(sys.argv[2])
line_re = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \w+ \[(\d+)\] LOG:  duration: ([\d.]+) ms  (statement|execute [^:]*|bind [^:]*|parse [^:]*): (.*)")
entries, inside, current = [], False, None
for raw in open(log, errors="replace"):
    m = line_re.match(raw)
    if m:
        ts, pid, dur, step, text = m.groups()
        if step.startswith(("parse", "bind")): current = None; continue  # the execute line counts the statement
        if "'bench-start'" in text: inside = True; continue
        if "'bench-end'" in text: break
        if not inside: current = None; continue
        current = [datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f"), int(pid), float(dur), text]
        entries.append(current)
    elif current is not None and raw.startswith(("\t", " ")):
        current[3] += " " + raw.strip()

def kind(text):
    t = " ".join(text.lower().split())
    rules = [("claim", "set lease_owner"), ("claim (sync off)", "set_config('synchronous_commit', 'off'"),
             ("load messages", "from unnest(@ids) with ordinality"), ("load messages", "with ordinality as wanted"),
             ("next due", "min(greatest(next_attempt_at"), ("renew leases", "set lease_expires_at = now() +"),
             ("enqueue", "insert into messages"), ("attempt statement", "insert into delivery_attempts"),
             ("policies", "from destination_policies"), ("peer history", "from peers"), ("sts", "mta_sts"),
             ("inbound session", "inbound_sessions"), ("notify", "pg_notify"), ("notify", "notify "),
             ("discard all", "discard all"), ("begin", "begin transaction"), ("commit", "commit"), ("set", "set "),
             ("listen", "listen ")]
    for name, needle in rules:
        if needle in t: return name
    return "other: " + t[:70]

counts, time_by = {}, {}
for ts, pid, dur, text in entries:
    k = kind(text)
    counts[k] = counts.get(k, 0) + 1
    time_by[k] = time_by.get(k, 0.0) + dur
total = sum(time_by.values()) or 1
print(f"\nstatements logged while {n} messages were relayed: {len(entries)} ({len(entries)/n:.2f} per message)")
print(f"{'kind':40} {'per msg':>8} {'ms/stmt':>8} {'share':>6}")
for k in sorted(counts, key=lambda k: -counts[k]):
    print(f"{k:40} {counts[k]/n:8.2f} {time_by[k]/counts[k]:8.3f} {100*time_by[k]/total:5.1f}%")

# Stage gaps: each enqueue (its end) followed by the next claim, load and attempt statement, in log order.
ends = lambda e: e[0]  # the log line is written when the statement ends
gaps = {"enqueue end → claim end": [], "claim end → load end": [], "load end → attempt end": []}
stage_names = ["enqueue", "claim", "load messages", "attempt statement"]
seq = [(kind(e[3]), e[0]) for e in entries]
i = 0
while i < len(seq):
    if seq[i][0] == "enqueue":
        found, t, j = [seq[i][1]], None, i + 1
        for want in stage_names[1:]:
            while j < len(seq) and seq[j][0] != want: j += 1
            if j >= len(seq): break
            found.append(seq[j][1]); j += 1
        if len(found) == 4:
            for (name, a, b) in zip(gaps, found, found[1:]):
                gaps[name].append((b - a).total_seconds() * 1000)
    i += 1
print("\nstage gaps (p50 / p90 ms, over enqueues followed by a claim, load and record; concurrent messages blur it):")
for name, values in gaps.items():
    if values:
        values.sort()
        print(f"  {name:30} {statistics.median(values):7.2f} / {values[int(0.9*len(values))]:7.2f}  (n={len(values)})")
PY
