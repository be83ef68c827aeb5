#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the multi-worker tests, and prints its URL.
#   .ci/postgres.sh start   -> prints postgresql://lstm_tuner:<password>@127.0.0.1:<port>/lstm_tuner_test
#   .ci/postgres.sh stop
# The data directory is LSTM_TUNER_PG_DATA (a fresh mktemp -d by default) and the port a free one
# (or LSTM_TUNER_PG_PORT). Installs the distribution's package when the server binaries are missing
# (needs root, as in CI).
set -euo pipefail
STATE="${TMPDIR:-/tmp}/lstm_tuner_pg.state"
PGPASS="ci-only-pw-7f3a"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

case "${1:-start}" in
  start)
    if [ -z "$(bindir)" ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    fi
    BIN="$(bindir)"
    PGDATA="${LSTM_TUNER_PG_DATA:-$(mktemp -d)}"
    PGPORT="${LSTM_TUNER_PG_PORT:-$(free_port)}"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
    printf '%s %s\n' "$BIN" "$PGDATA" > "$STATE"
    as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
    as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c max_connections=200" start >/dev/null
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc \
      "CREATE ROLE lstm_tuner LOGIN PASSWORD '$PGPASS'" >/dev/null
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc \
      "CREATE DATABASE lstm_tuner_test OWNER lstm_tuner" >/dev/null
    echo "postgresql://lstm_tuner:$PGPASS@127.0.0.1:$PGPORT/lstm_tuner_test"
    ;;
  stop)
    if [ -f "$STATE" ]; then
      read -r BIN PGDATA < "$STATE"
      as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
      rm -rf "$PGDATA" "$STATE"
    fi
    ;;
esac
