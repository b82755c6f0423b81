#!/bin/sh
# The entrypoint of the outpost-postgres image: PostgreSQL 15 for a self-contained HQ trial.
# First start (an empty PGDATA): initdb with POSTGRES_USER as the superuser and POSTGRES_PASSWORD as its password
# (scram-sha-256 from any address), then the database POSTGRES_DB. Every start: PostgreSQL in the foreground (exec).
# The image stops it with SIGINT, PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data/pgdata}
POSTGRES_USER=${POSTGRES_USER:-outpost}
POSTGRES_DB=${POSTGRES_DB:-outpost}
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "outpost-postgres: POSTGRES_PASSWORD is not set (in the manifests: the Secret outpost-postgres, key password)" >&2
    exit 2
  fi
  # The password reaches initdb through a pipe, never a file. "locale: not found" from initdb is expected: the C locale
  # needs no locale files.
  printf '%s\n' "$POSTGRES_PASSWORD" | "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/dev/stdin -A scram-sha-256 \
    -E UTF8 --locale=C --no-instructions >/dev/null
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  echo "CREATE DATABASE \"$POSTGRES_DB\"" | "$bin/postgres" --single -D "$PGDATA" -c unix_socket_directories= postgres >/dev/null
  echo "outpost-postgres: initialised $PGDATA with database $POSTGRES_DB"
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses="${POSTGRES_LISTEN:-*}" -c port="${POSTGRES_PORT:-5432}" \
  -c unix_socket_directories= -c jit=off -c logging_collector=off "$@"
