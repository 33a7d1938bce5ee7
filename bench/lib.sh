# Shared pieces of the benchmark scripts (sourced, not run). Everything they start lives in one temp
# directory on loopback and is stopped by bench_cleanup, which the scripts install as their EXIT trap.
# No Debian system service is started or changed: PostgreSQL and Postfix run from our own directories.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_pids=()
bench_postfix_dirs=()
bench_pg_dir=
bench_work=

bench_say() { echo "$(basename "$0"): $*" >&2; }
bench_die() { bench_say "$*"; exit 1; }

# The machine has 2 cores shared with other people's builds and test runs: a benchmark holds the same
# lock as `dotnet build`/`dotnet test`, so neither disturbs the other's numbers. Re-executes the script
# under flock (bounded wait) unless it already holds the lock.
bench_lock() {
  [ -n "${RELAY_BENCH_LOCKED:-}" ] && return 0
  local lock=${RELAY_BENCH_LOCK:-/tmp/relay-build.lock} wait=${RELAY_BENCH_LOCK_WAIT:-900}
  flock -n "$lock" true 2>/dev/null || bench_say "waiting for $lock (at most ${wait}s)"
  RELAY_BENCH_LOCKED=1 exec flock -w "$wait" -E 75 "$lock" bash "$0" "$@"
}

bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid dir
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}"; do
    # Bounded: a process that ignores SIGTERM for 10 s is killed.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for dir in "${bench_postfix_dirs[@]}"; do
    timeout 30 /usr/sbin/postfix -c "$dir" stop >/dev/null 2>&1 || timeout 30 /usr/sbin/postfix -c "$dir" abort >/dev/null 2>&1 || true
  done
  [ -n "$bench_pg_dir" ] && { timeout 60 "$bench_root/scripts/pg-cluster.sh" stop "$bench_pg_dir" || true; }
  if [ -n "$bench_work" ] && [ -d "$bench_work" ]; then
    if [ -n "${RELAY_BENCH_KEEP:-}" ]; then bench_say "kept $bench_work"; else rm -rf "$bench_work"; fi
  fi
  exit "$status"
}

bench_setup() {
  for tool in smtp-source smtp-sink postfix psql python3 flock; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || bench_die "$tool not found (apt-get install postfix postgresql python3 util-linux)"
  done
  [ "$(id -u)" = 0 ] || bench_die "run as root: the private Postfix master needs it (PostgreSQL runs as postgres)"
  export PATH=$PATH:/usr/sbin DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  bench_work=$(mktemp -d /tmp/relay-bench.XXXXXX)
  chmod 755 "$bench_work" # the postgres user must reach its cluster directory inside
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# The relay executable: RELAY_BIN if given, else a Release build into the temp directory (we hold the
# build lock already, so no nested flock).
bench_build() {
  if [ -n "${RELAY_BIN:-}" ]; then relay=$RELAY_BIN; [ -x "$relay" ] || bench_die "RELAY_BIN=$relay is not executable"; return; fi
  bench_say "building Relay.Server (Release)"
  timeout 600 dotnet build "$bench_root/Relay.Server/Relay.Server.csproj" -c Release -nologo -clp:ErrorsOnly \
    -o "$bench_work/bin" >"$bench_work/build.log" 2>&1 || { tail -n 30 "$bench_work/build.log" >&2; bench_die "build failed"; }
  relay=$bench_work/bin/relay
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (at most 30 s) until something accepts connections on 127.0.0.1:PORT.
bench_wait_port() {
  local port=$1 what=$2
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  bench_die "$what did not listen on 127.0.0.1:$port within 30 s"
}

# A private PostgreSQL cluster with a migrated `relay` database; sets pg_port and RELAY_DB.
bench_start_pg() {
  bench_pg_dir=$bench_work/pg
  local admin
  admin=$("$bench_root/scripts/pg-cluster.sh" start "$bench_pg_dir") || bench_die "PostgreSQL did not start"
  pg_port=${admin#*Port=}; pg_port=${pg_port%%;*}
  bench_psql postgres "create database relay" >/dev/null
  RELAY_DB="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=relay"
  Relay__Database=$RELAY_DB timeout 60 "$relay" migrate >"$bench_work/migrate.log" 2>&1 \
    || { cat "$bench_work/migrate.log" >&2; bench_die "relay migrate failed"; }
}

bench_psql() { # DB SQL
  PGCONNECT_TIMEOUT=10 timeout 30 psql "host=127.0.0.1 port=$pg_port user=postgres dbname=$1" -v ON_ERROR_STOP=1 -tAqc "$2"
}

# `relay serve --roles ROLES` in the background with the given extra environment (NAME=VALUE ...);
# env(1) because route keys contain dots (Relay__Routes__bench.test), which `export` cannot name.
bench_start_relay() { # ROLES LOG NAME=VALUE...
  local roles=$1 log=$2; shift 2
  env Relay__Database="$RELAY_DB" Relay__Hostname=relay.bench.test Relay__DataDirectory="$bench_work/data" "$@" \
    "$relay" serve --roles "$roles" >"$log" 2>&1 &
  relay_pid=$!
  bench_pids+=("$relay_pid")
}

# The relay-rate set-up of profile.sh and pg-profile.sh: an smtp-sink, `relay serve --roles smtp,delivery` with
# bench.test routed to it (extra NAME=VALUE settings after the defaults win), and a warm-up of 500 messages.
# Sets sink_port, relay_port and relay_pid; bench_restart_relay_to_sink starts a fresh relay process the same way.
bench_relay_to_sink() { # NAME=VALUE...
  sink_port=$(bench_free_port)
  smtp-sink -u nobody "127.0.0.1:$sink_port" 1024 >"$bench_work/sink.log" 2>&1 &
  bench_pids+=($!)
  bench_wait_port "$sink_port" "smtp-sink"
  relay_port=$(bench_free_port)
  bench_restart_relay_to_sink "$@"
}
bench_restart_relay_to_sink() { # NAME=VALUE...
  [ -z "${relay_pid:-}" ] || bench_stop_pid "$relay_pid"
  bench_start_relay smtp,delivery "$bench_work/relay.log" Relay__Smtp__Listen__0="127.0.0.1:$relay_port" Relay__Domains__0=bench.test \
    Relay__Smtp__ConnectionLimitPerClient=1000 "Relay__Routes__bench.test=[127.0.0.1]:$sink_port" "$@"
  bench_wait_port "$relay_port" "relay"
  SOURCE_FLAGS=-d bench_smtp_source "$relay_port" 8 500 "$bench_work/smtp-source.log" # warm-up
}

bench_stop_pid() { # PID: SIGTERM, at most 30 s to drain, then SIGKILL
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# A private Postfix from its own config directory DIR with its own queue, one smtpd on 127.0.0.1:PORT,
# logging to DIR/maillog (no syslog). Extra main.cf lines follow. Needs root, like any Postfix master.
bench_start_postfix() { # DIR PORT MAIN.CF-LINE...
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir/queue" "$dir/data"
  chown postfix "$dir/data"
  {
    cat <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = postfix.bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = bench.test
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
alias_maps =
alias_database =
local_recipient_maps =
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtp_host_lookup = native
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CF
    printf '%s\n' "$@"
  } >"$dir/main.cf"
  cat >"$dir/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
tlsproxy  unix  -       -       n       -       0       tlsproxy
CF
  bench_postfix_dirs+=("$dir")
  timeout 60 /usr/sbin/postfix -c "$dir" start >"$dir/start.log" 2>&1 || { cat "$dir/start.log" "$dir/maillog" >&2 2>/dev/null; bench_die "Postfix did not start"; }
  bench_wait_port "$port" "Postfix smtpd"
}

bench_postfix_queued() { # DIR [SUBQUEUE...]: message files in those queues (default: all that hold mail)
  local dir=$1; shift
  local queues=("$@"); [ ${#queues[@]} -gt 0 ] || queues=(maildrop incoming active deferred hold)
  local q n=0
  for q in "${queues[@]}"; do
    [ -d "$dir/queue/$q" ] && n=$((n + $(find "$dir/queue/$q" -type f | wc -l)))
  done
  echo "$n"
}

# CPU seconds (user + system, with reaped children) of the relay process PID and of every postgres process: "RELAY PG".
bench_cpu_seconds() { # PID
  python3 - "$1" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK"); relay = postgres = 0.0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try: stat = open(f"/proc/{pid}/stat").read()
    except OSError: continue
    fields = stat[stat.rindex(")") + 2:].split()
    seconds = sum(int(f) for f in fields[11:15]) / tick
    if pid == sys.argv[1]: relay += seconds
    elif stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"): postgres += seconds
print(f"{relay:.2f} {postgres:.2f}")
PY
}
bench_now() { date +%s.%N; }
bench_rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { s = b - a; printf "%.2f %.0f", s, (s > 0 ? n / s : 0) }'; }

# smtp-source: one SMTP session per message (as the internet connects), 4 KiB bodies, bounded in time.
# SOURCE_FLAGS adds smtp-source options, e.g. SOURCE_FLAGS=-d (many messages per session).
bench_smtp_source() { # PORT SESSIONS MESSAGES LOG
  # shellcheck disable=SC2086 # SOURCE_FLAGS is a list of options
  timeout --foreground "${RELAY_BENCH_RUN_TIMEOUT:-120}" smtp-source ${SOURCE_FLAGS:-} -l "${RELAY_BENCH_SIZE:-4096}" -m "$3" -s "$2" \
    -f from@bench.test -t to@bench.test -M client.bench.test "127.0.0.1:$1" >>"$4" 2>&1
}
