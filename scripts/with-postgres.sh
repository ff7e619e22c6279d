#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: Debian's server binaries, a temporary
# directory, a free loopback port. Exports SAMKONSULT_TEST_POSTGRES_URL and stops the cluster
# (and removes its files) when the command ends, however it ends.
set -euo pipefail

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PG_BIN" ]; then
  echo "PostgreSQL server binaries not found; run scripts/install-system-packages.sh" >&2
  exit 1
fi
DATA_DIR=$(mktemp -d /tmp/samkonsult-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
RUN=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: run the cluster as the postgres system user.
  chown postgres:postgres "$DATA_DIR"
  RUN=(runuser -u postgres --)
fi
cleanup() {
  "${RUN[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT INT TERM

"${RUN[@]}" "$PG_BIN/initdb" -D "$DATA_DIR/data" -U samkonsult --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -l "$DATA_DIR/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PORT -k $DATA_DIR -c fsync=off -c max_connections=300" start >/dev/null
export SAMKONSULT_TEST_POSTGRES_URL="postgresql+asyncpg://samkonsult@127.0.0.1:$PORT/postgres"
echo "throwaway PostgreSQL on 127.0.0.1:$PORT"
set +e
"$@"
status=$?
set -e
exit $status
