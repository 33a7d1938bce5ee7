#!/bin/sh
# Like the official image: POSTGRES_USER (a superuser), POSTGRES_PASSWORD_FILE, POSTGRES_DB, a cluster in
# /var/lib/postgresql/data made on the first start, password (scram) logins from the network.
set -eu
data=/var/lib/postgresql/data
mkdir -p "$data" /run/postgresql
chown postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  runuser -u postgres -- initdb -D "$data" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
  echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
    | runuser -u postgres -- postgres --single -D "$data" postgres >/dev/null
fi
exec runuser -u postgres -- postgres -D "$data" -c listen_addresses='*'
