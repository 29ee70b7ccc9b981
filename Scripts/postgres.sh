#!/usr/bin/env bash
# Run a throw-away PostgreSQL (Debian's postgresql-15) on 127.0.0.1 for the tests: a fresh cluster in a temporary
# directory on a free port, run as an unprivileged user (initdb refuses root).
#
# Usage:
#   Scripts/postgres.sh up      fresh cluster; prints SKILLRELAY_TEST_POSTGRES_URL=postgres://… (shell-sourceable)
#   Scripts/postgres.sh down    stop it and remove its directory
#   Scripts/postgres.sh stop / start
#                               stop and start again on the same data and port (a database that restarts)
#   Scripts/postgres.sh status  "running …" (exit 0) / "not running" (exit 1)
#
# Environment:
#   POSTGRES_STATE_DIR  where the cluster's env and data_dir files live (default <project>/.postgres); a second
#                       cluster beside the first needs its own
#   POSTGRES_PORT       listen port (default: one the system says is free)
#   POSTGRES_OS_USER    the unprivileged account that runs the server when this script runs as root (default
#                       skillrelay-pg, created if missing)
#
# The database role is `skillrelay` with password `skillrelay`, a superuser of this throw-away cluster (the tests
# create a database for each test). Progress goes to stderr; stdout carries only the env line.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${POSTGRES_STATE_DIR:-$PROJECT_DIR/.postgres}"
ENV_FILE="$STATE_DIR/env"
DATA_DIR_FILE="$STATE_DIR/data_dir"
OS_USER="${POSTGRES_OS_USER:-skillrelay-pg}"
ROLE="skillrelay"
PASSWORD="skillrelay"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bin_dir() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { printf '%s\n' "$dir"; return; }
    done
    die "PostgreSQL is not installed (apt-get install postgresql-15; .ci/run does it)"
}

# Runs a command as the unprivileged account when this script runs as root, else as the caller.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$OS_USER" -- "$@"
    else
        "$@"
    fi
}

ensure_os_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    id "$OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
}

free_port() {
    # Below the ephemeral range, which outgoing connections take their ports from (see the script).
    "$SCRIPT_DIR/free-port"
}

data_dir() { [ -f "$DATA_DIR_FILE" ] && cat "$DATA_DIR_FILE"; }

is_running() {
    local dir
    dir="$(data_dir)" || return 1
    [ -n "$dir" ] && [ -d "$dir/data" ] && as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start_server() {
    local dir="$1"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { tail -n 30 "$dir/server.log" >&2 || true; die "PostgreSQL did not start"; }
}

cmd_up() {
    if is_running; then
        log "a cluster is already running; stopping it first"
        cmd_down
    fi
    ensure_os_user
    local bin dir port
    bin="$(bin_dir)"
    port="${POSTGRES_PORT:-$(free_port)}"
    dir="$(mktemp -d /tmp/skillrelay-postgres.XXXXXX)"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$OS_USER" "$dir"
    mkdir -p "$STATE_DIR"
    printf '%s\n' "$dir" > "$DATA_DIR_FILE"
    printf '%s\n' "$PASSWORD" > "$dir/pwfile"
    [ "$(id -u)" -eq 0 ] && chown "$OS_USER" "$dir/pwfile"
    log "initdb in $dir"
    as_owner "$bin/initdb" -D "$dir/data" -U "$ROLE" --pwfile="$dir/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >/dev/null
    # Loopback only, its own socket directory, and settings for a test cluster that is thrown away: no fsync.
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    start_server "$dir"
    local url="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/postgres?sslmode=disable"
    printf 'SKILLRELAY_TEST_POSTGRES_URL=%s\n' "$url" > "$ENV_FILE"
    log "running on 127.0.0.1:$port"
    cat "$ENV_FILE"
}

cmd_down() {
    local dir
    dir="$(data_dir || true)"
    if [ -n "$dir" ] && [ -d "$dir/data" ]; then
        as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in /tmp/skillrelay-postgres.*) rm -rf "$dir" ;; esac
    rm -f "$DATA_DIR_FILE" "$ENV_FILE"
    log "stopped"
}

cmd_stop() {
    local dir
    dir="$(data_dir)" || die "no cluster"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

cmd_start() {
    local dir
    dir="$(data_dir)" || die "no cluster"
    start_server "$dir"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    stop) cmd_stop ;;
    start) cmd_start ;;
    status)
        if is_running; then echo "running $(cat "$ENV_FILE" 2>/dev/null)"; else echo "not running"; exit 1; fi
        ;;
    *) die "usage: $0 up|down|stop|start|status" ;;
esac
