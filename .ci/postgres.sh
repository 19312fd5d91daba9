#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite (the county platform's second backend).
#
#   dsn=$(.ci/postgres.sh start)      install if missing, start, print the DSN (stdout, one line)
#   .ci/postgres.sh stop              stop it and delete its files
#   .ci/postgres.sh status            print the DSN if it runs (exit 1 if not)
#
# Use it as:  export GRIDROOM_TEST_PG="$(.ci/postgres.sh start)"; trap '.ci/postgres.sh stop' EXIT
#
# The cluster lives in a temporary folder (its path is kept in $GRIDROOM_PG_STATE, default
# /tmp/gridroom-ci-pg.state), runs as a non-root user (the Debian "postgres" account when we are
# root, else ourselves), listens on 127.0.0.1 only, on a free port, with a random password
# (scram-sha-256), and trades durability for speed (fsync off): it holds nothing worth keeping.
# Everything but the DSN goes to stderr.
set -euo pipefail

STATE=${GRIDROOM_PG_STATE:-/tmp/gridroom-ci-pg.state}
DBNAME=gridroom_test
DBUSER=gridroom

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    return 1
  fi
  echo "$dir"
}

install_pg() {
  if pg_bin >/dev/null; then return 0; fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "PostgreSQL is missing and I cannot install it (not root, no sudo)"; exit 2; }
    sudo="sudo"
  fi
  log "installing PostgreSQL from Debian's packages"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  pg_bin >/dev/null || { log "PostgreSQL installed, but initdb was not found"; exit 2; }
}

# Run a command as the cluster's (non-root) owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

read_state() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  [ -n "${PGDIR:-}" ] && [ -d "$PGDIR" ]
}

running() {
  read_state || return 1
  as_owner "$(pg_bin)/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1
}

cmd_start() {
  if running; then
    log "already running"
    echo "$DSN"
    return 0
  fi
  if read_state; then
    # A cluster from an earlier run that died: clear its leftovers before starting afresh.
    rm -rf "$PGDIR"
    rm -f "$STATE"
  fi
  install_pg
  local bin dir port password
  bin=$(pg_bin)
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    log "no 'postgres' user to run the server as"; exit 2
  fi
  dir=$(mktemp -d /tmp/gridroom-ci-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U "$DBUSER" --pwfile="$dir/pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
    || as_owner "$bin/initdb" -D "$dir/data" -U "$DBUSER" --pwfile="$dir/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$dir/pwfile"
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U "$DBUSER" -d postgres -qAt \
    -c "CREATE DATABASE $DBNAME" >/dev/null
  local dsn="postgresql://$DBUSER:$password@127.0.0.1:$port/$DBNAME"
  umask 077
  printf 'PGDIR=%q\nDSN=%q\n' "$dir" "$dsn" > "$STATE"
  log "running in $dir on 127.0.0.1:$port"
  echo "$dsn"
}

cmd_stop() {
  if ! read_state; then
    log "not running"
    return 0
  fi
  as_owner "$(pg_bin)/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
  rm -f "$STATE"
  log "stopped"
}

cmd_status() {
  if running; then echo "$DSN"; else exit 1; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
