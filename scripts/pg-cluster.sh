#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory of ours, on loopback: no system service is touched.
#   pg-cluster.sh start DIR [PORT]   initialises DIR if needed, starts, prints the admin connection string
#   pg-cluster.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR [PORT]}
dir=$(realpath -m "${2:?usage: pg-cluster.sh start|stop DIR [PORT]}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-cluster.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "'$bin/initdb' -D '$dir/data' -A trust -U postgres -E UTF8 --no-sync >'$dir/initdb.log' 2>&1" \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=${3:-$(free_port)}
    as_owner "'$bin/pg_ctl' -D '$dir/data' -w -t 60 -l '$dir/data/server.log' -o \"-p $port -k '$dir' -h 127.0.0.1 -c max_connections=300\" start >/dev/null" \
      || { tail -n 20 "$dir/data/server.log" >&2; exit 1; }
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    ;;
  *) echo "pg-cluster.sh: unknown command '$cmd' (start|stop)" >&2; exit 2 ;;
esac
