#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the multi-worker tests, and prints its URL.
#   .ci/postgres.sh start   -> prints postgresql://lstm_tuner:<password>@127.0.0.1:<port>/lstm_tuner_test
#   .ci/postgres.sh stop
# Installs the distribution's package when the server binaries are missing (needs root, as in CI).
set -euo pipefail
PGPORT="${LSTM_TUNER_PG_PORT:-54329}"
PGDATA="${LSTM_TUNER_PG_DATA:-/tmp/lstm_tuner_pgdata}"
PGPASS="ci-only-pw-7f3a"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    if [ -z "$(bindir)" ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    fi
    BIN="$(bindir)"
    as_pg "$BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
    as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust >/dev/null
    as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c max_connections=200" start >/dev/null
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc \
      "CREATE ROLE lstm_tuner LOGIN PASSWORD '$PGPASS'" >/dev/null
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc \
      "CREATE DATABASE lstm_tuner_test OWNER lstm_tuner" >/dev/null
    echo "postgresql://lstm_tuner:$PGPASS@127.0.0.1:$PGPORT/lstm_tuner_test"
    ;;
  stop)
    BIN="$(bindir)"
    [ -n "$BIN" ] && as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
    ;;
esac
