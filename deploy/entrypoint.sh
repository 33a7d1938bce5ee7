#!/bin/bash
# bash, not sh: dash drops variables whose names are not shell names from the environment it passes on, and
# Relay__Routes__example.org (a domain in the key) is one.
# The relay image's entrypoint: Docker secrets as files. For every variable NAME_FILE, NAME is set to that file's
# content (its final newline dropped) and NAME_FILE removed, e.g. PGPASSWORD_FILE=/run/secrets/db_password (Npgsql
# reads PGPASSWORD when the connection string has no password) or
# Relay__Web__AdminPasswordHash_FILE=/run/secrets/admin_password_hash. Then runs relay with the arguments given.
set -eu
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_FILE=.*$/\1/p'); do
  file=$(printenv "${name}_FILE")
  if [ ! -r "$file" ]; then
    echo "relay: ${name}_FILE: cannot read '$file' (is the secret mounted and readable by uid $(id -u)?)" >&2
    exit 2
  fi
  value=$(cat "$file")
  export "$name=$value"
  unset "${name}_FILE"
done
exec dotnet /opt/relay/relay.dll "$@"
