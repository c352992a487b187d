#!/bin/sh
# First start on an empty data directory: initdb with POSTGRES_USER as the superuser and its
# password, password logins over TCP, and the database POSTGRES_DB; then run the command.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
    user=${POSTGRES_USER:-postgres}
    pwfile=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
    # UTF8 as in the official image: on the default SQL_ASCII psycopg hands back bytes, not str
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "CREATE DATABASE \"${POSTGRES_DB:-$user}\";" | postgres --single -D "$PGDATA" -j postgres >/dev/null
    echo "postgres-entrypoint: initialised $PGDATA (user $user, database ${POSTGRES_DB:-$user})"
fi
exec "$@"
