#!/usr/bin/env bash
# One command to run Relay locally on a fresh Debian 12 machine:
#   installs what is missing (PostgreSQL, unbound), starts a private PostgreSQL cluster and a validating
#   unbound under .relay-local/ on loopback, migrates, and runs `relay serve` with SMTP on
#   127.0.0.1:2525 and the web UI on http://127.0.0.1:8080. Ctrl-C stops everything it started.
# No system service is started or changed beyond package installation.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
state=$root/.relay-local
mkdir -p "$state"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in postgresql unbound dns-root-data openssl python3 postfix; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | sudo_if_needed debconf-set-selections
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "run.sh: building"
dotnet build Relay.Server/Relay.Server.csproj -c Release -nologo -clp:ErrorsOnly -o "$state/bin" >/dev/null
relay="$state/bin/relay"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$root/scripts/pg-cluster.sh" stop "$state/pg"
  echo "run.sh: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_port=${RELAY_PG_PORT:-55432}
admin=$("$root/scripts/pg-cluster.sh" start "$state/pg" "$pg_port")
psql "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" -tAc "select 1 from pg_database where datname = 'relay'" | grep -q 1 \
  || psql "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" -qc "create database relay"
echo "run.sh: PostgreSQL on 127.0.0.1:$pg_port (${admin%%;Database*};Database=relay)"

# A validating resolver of our own: DNSSEC status (the AD bit) is only trusted from it.
dns_port=${RELAY_DNS_PORT:-5353}
mkdir -p "$state/unbound"
cat >"$state/unbound/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$dns_port
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$state/unbound"
  pidfile: "$state/unbound/unbound.pid"
  use-syslog: no
  logfile: "$state/unbound/unbound.log"
  access-control: 127.0.0.0/8 allow
  trust-anchor-file: "/usr/share/dns/root.key"
  val-log-level: 1
CONF
/usr/sbin/unbound -c "$state/unbound/unbound.conf" &
pids+=($!)
echo "run.sh: validating unbound on 127.0.0.1:$dns_port"

# A local peer for the hosted domain, so accepted mail has somewhere to go: Postfix's smtp-sink
# (no STARTTLS, so the UI shows an honest `cleartext (starttls-not-offered)` for it).
sink_port=${RELAY_SINK_PORT:-2625}
/usr/sbin/smtp-sink -u "$(id -un)" -c "127.0.0.1:$sink_port" 100 &
pids+=($!)
echo "run.sh: example.test is routed to an smtp-sink on 127.0.0.1:$sink_port"

config="$state/relay.json"
if [ ! -f "$config" ]; then
  password=${RELAY_ADMIN_PASSWORD:-$(openssl rand -base64 12)}
  hash=$(printf '%s' "$password" | "$relay" web hash-password)
  cat >"$config" <<JSON
{
  "Relay": {
    "Hostname": "relay.localhost",
    "Database": "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=relay",
    "Smtp": { "Listen": [ "127.0.0.1:2525" ] },
    "Web": { "Listen": [ "127.0.0.1:8080" ], "AdminUser": "admin", "AdminPasswordHash": "$hash" },
    "Domains": [ "example.test" ],
    "Routes": { "example.test": "[127.0.0.1]:$sink_port" },
    "TrustedNetworks": [ "127.0.0.0/8" ],
    "Dns": { "Servers": [ "127.0.0.1:$dns_port" ] },
    "DataDirectory": "$state/data"
  }
}
JSON
  echo "run.sh: web login admin / $password (only shown now; the hash is in $config)"
fi

"$relay" migrate --config "$config"
echo "run.sh: SMTP on 127.0.0.1:2525, web UI on http://127.0.0.1:8080 — Ctrl-C stops everything"
"$relay" serve --config "$config" &
pids+=($!)
wait "${pids[-1]}"
