#!/usr/bin/env bash
# Run a throw-away Matrix Synapse homeserver on 127.0.0.1 for integration tests.
#
# Usage:
#   Scripts/synapse.sh up [--stock] [--presence-off]
#                                                  fresh server; prints SYNAPSE_* lines. Every rate limit is
#                                                  raised out of reach (the benchmark's homeserver), or with
#                                                  --stock left as Synapse ships them (what a company runs)
#                                                  but for login and registration, which the test users need.
#                                                  --presence-off: `presence: enabled: false`, as large
#                                                  homeservers run (everyone reads as offline, no presence
#                                                  is streamed)
#   Scripts/synapse.sh register USER PASSWORD [admin]
#                                                  prints an access token for USER
#   Scripts/synapse.sh down                        stop it, remove the tmpfs data dir
#   Scripts/synapse.sh stop / start                stop and start again on the same data (outage tests)
#   Scripts/synapse.sh status                      "running ..." (exit 0) / "not running" (exit 1)
#
# Environment:
#   SYNAPSE_PORT      listen port on 127.0.0.1 (default 8008)
#   SYNAPSE_DATA_DIR  data dir (default /dev/shm/skillrelay-synapse, else .synapse/data)
#   SYNAPSE_PYTHON    interpreter used to create the venv (default python3)
#   SYNAPSE_STATE_DIR where this server's pid, env and data_dir files live (default <project>/.synapse); a
#                     second server beside the first needs its own (and its own SYNAPSE_PORT and
#                     SYNAPSE_DATA_DIR). The venv is shared: <project>/.synapse/venv.
#
# State lives in <project>/.synapse/ (or SYNAPSE_STATE_DIR): synapse.pid,
# env (SYNAPSE_URL, SYNAPSE_SHARED_SECRET, SYNAPSE_SERVER_NAME, SYNAPSE_RATE_LIMITS,
# SYNAPSE_PRESENCE; shell-sourceable), data_dir (where the running server keeps its files).
# Progress goes to stderr; stdout carries only the env lines (up) or the token
# (register), so `eval "$(Scripts/synapse.sh up)"` and
# `TOKEN=$(Scripts/synapse.sh register bob pw)` work.
set -euo pipefail

SYNAPSE_VERSION="1.163.2"
SERVER_NAME="localhost"
HOST="127.0.0.1"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${SYNAPSE_STATE_DIR:-$PROJECT_DIR/.synapse}"
VENV_DIR="$PROJECT_DIR/.synapse/venv"
VENV_PY="$VENV_DIR/bin/python"
PID_FILE="$STATE_DIR/synapse.pid"
ENV_FILE="$STATE_DIR/env"
DATA_DIR_FILE="$STATE_DIR/data_dir"
PORT="${SYNAPSE_PORT:-8008}"
MARKER=".skillrelay-synapse"

log() { printf 'synapse.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

default_data_dir() {
    if [ -n "${SYNAPSE_DATA_DIR:-}" ]; then
        printf '%s\n' "$SYNAPSE_DATA_DIR"
    elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
        # A second server (its own SYNAPSE_STATE_DIR) never shares, and so never wipes, the first one's data.
        if [ -n "${SYNAPSE_STATE_DIR:-}" ]; then
            printf '%s\n' "/dev/shm/skillrelay-synapse-$(basename "$STATE_DIR")"
        else
            printf '%s\n' /dev/shm/skillrelay-synapse
        fi
    else
        printf '%s\n' "$STATE_DIR/data"
    fi
}

# Data dir of the server that is (or was last) running.
current_data_dir() {
    if [ -s "$DATA_DIR_FILE" ]; then cat "$DATA_DIR_FILE"; else default_data_dir; fi
}

# Prints the PID if the PID file names a live Synapse process.
running_pid() {
    [ -s "$PID_FILE" ] || return 1
    local pid
    pid="$(tr -dc '0-9' <"$PID_FILE")"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled PID: it must really be our homeserver.
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'synapse.app.homeserver' || return 1
    fi
    printf '%s\n' "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Wipe a data dir, refusing to touch a non-empty dir this script did not create.
wipe_data_dir() {
    local dir="$1"
    if [ -z "$dir" ] || [ "$dir" = "/" ]; then die "refusing to wipe data dir '$dir'"; fi
    if [ -d "$dir" ]; then
        if [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/$MARKER" ]; then
            die "$dir is not empty and was not made by this script; not removing it"
        fi
        rm -rf "$dir"
    fi
}

venv_ok() {
    [ -x "$VENV_PY" ] || return 1
    "$VENV_PY" -I - "$SYNAPSE_VERSION" <<'PY' >/dev/null 2>&1
import sys, importlib.metadata as md
assert md.version("matrix-synapse") == sys.argv[1]
import synapse  # noqa: F401
PY
}

ensure_venv() {
    mkdir -p "$STATE_DIR" "$PROJECT_DIR/.synapse"
    if venv_ok; then
        log "reusing venv $VENV_DIR (matrix-synapse $SYNAPSE_VERSION)"
        return
    fi
    local python="${SYNAPSE_PYTHON:-python3}"
    command -v "$python" >/dev/null || die "$python not found"
    if [ -d "$VENV_DIR" ] && ! "$VENV_PY" -I -c 'import sys' >/dev/null 2>&1; then
        log "venv $VENV_DIR is broken; recreating it"
        rm -rf "$VENV_DIR"
    fi
    if [ ! -x "$VENV_PY" ]; then
        "$python" -m venv "$VENV_DIR" \
            || die "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
    fi
    log "installing matrix-synapse==$SYNAPSE_VERSION into $VENV_DIR ..."
    local start=$SECONDS
    "$VENV_PY" -I -m pip install --disable-pip-version-check --no-input -q \
        "matrix-synapse==$SYNAPSE_VERSION" </dev/null >&2 \
        || die "pip install matrix-synapse==$SYNAPSE_VERSION failed"
    venv_ok || die "matrix-synapse $SYNAPSE_VERSION not importable after install"
    log "installed matrix-synapse $SYNAPSE_VERSION in $((SECONDS - start)) s"
}

write_log_config() {
    local data="$1"
    cat >"$data/log.config" <<EOF
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $data/homeserver.log
    encoding: utf8
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
EOF
}

# Every rate limiter that synapse/config/ratelimiting.py (1.163.2) reads, raised
# far out of reach — or, for the stock profile, only login and registration (the
# tests register and log in many users at once) and everything else as shipped.
# A per_second of 0 does NOT disable a limiter (it only stops refilling), so use
# huge values instead.
write_overrides() {
    local data="$1" secret="$2" profile="$3" presence="$4"
    local rl="{per_second: 10000, burst_count: 100000}"
    cat >"$data/overrides.yaml" <<EOF
# Generated by Scripts/synapse.sh; passed after homeserver.yaml (top-level keys replace).
server_name: "$SERVER_NAME"
pid_file: $data/homeserver.pid
listeners:
  - port: $PORT
    bind_addresses: ['$HOST']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: $data/homeserver.db
log_config: $data/log.config
media_store_path: $data/media_store
signing_key_path: $data/$SERVER_NAME.signing.key
registration_shared_secret: "$secret"
enable_registration: false
report_stats: false
suppress_key_server_warning: true
trusted_key_servers: []
caches:
  sync_response_cache_duration: 0
presence:
  enabled: $([ "$presence" = "off" ] && echo false || echo true)
  # Defaults: sync_online_timeout 30s, idle_timeout 5m, last_active_granularity 60s.
  # Raised so a user set "online" by PUT /presence (without syncing) stays online
  # (and currently_active) for well over 10 minutes.
  sync_online_timeout: 1h
  idle_timeout: 2h
  last_active_granularity: 1h

rc_registration: $rl
rc_registration_token_validity: $rl
rc_login:
  address: $rl
  account: $rl
  failed_attempts: $rl
EOF
    [ "$profile" = "stock" ] && return
    cat >>"$data/overrides.yaml" <<EOF
rc_message: $rl
rc_admin_redaction: $rl
rc_joins:
  local: $rl
  remote: $rl
rc_joins_per_room: $rl
rc_key_requests: $rl
rc_3pid_validation: $rl
rc_invites:
  per_room: $rl
  per_user: $rl
  per_issuer: $rl
rc_third_party_invite: $rl
rc_media_create: $rl
rc_presence:
  per_user: $rl
rc_delayed_event_mgmt: $rl
rc_room_creation: $rl
rc_reports: $rl
rc_user_directory: $rl
rc_profile: $rl
rc_federation:
  window_size: 1000
  sleep_limit: 100000
  sleep_delay: 0
  reject_limit: 100000
  concurrent: 10000
federation_rr_transactions_per_room_per_second: 10000
EOF
}

launch() {
    # Starts Synapse on an existing data dir and waits until it answers; exits 1 (after showing the logs) if not.
    local data="$1"
    log "starting synapse on http://$HOST:$PORT"
    # Spawned by Python with close_fds and a new session: the server must not inherit any descriptor of its caller
    # (a test runner's or CI's pipes), or the caller would wait for the server to exit before seeing EOF.
    local pid
    pid="$(cd "$data" && "$VENV_PY" -I -c '
import subprocess, sys
out = open(sys.argv[1], "ab")
server = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=out, close_fds=True, start_new_session=True)
print(server.pid)
' "$data/synapse.out" "$VENV_PY" -I -m synapse.app.homeserver -c "$data/homeserver.yaml" -c "$data/overrides.yaml" </dev/null)"
    printf '%s\n' "$pid" >"$PID_FILE"

    local url="http://$HOST:$PORT" code="" deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "synapse exited during startup"
            break
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "$url/_matrix/client/versions" 2>/dev/null || true)"
        [ "$code" = "200" ] && break
        sleep 0.25
    done
    if [ "$code" != "200" ]; then
        log "synapse not ready: no 200 from $url/_matrix/client/versions (last: ${code:-none}, limit 60 s)"
        log "--- tail $data/synapse.out"
        tail -n 40 "$data/synapse.out" >&2 2>/dev/null || true
        log "--- tail $data/homeserver.log"
        tail -n 40 "$data/homeserver.log" >&2 2>/dev/null || true
        stop_server
        exit 1
    fi

}

cmd_up() {
    local profile="raised" presence="on"
    while [ $# -gt 0 ]; do
        case "$1" in
            --stock) profile="stock" ;;
            --presence-off) presence="off" ;;
            *) die "usage: $0 up [--stock] [--presence-off]" ;;
        esac
        shift
    done
    # A fresh server every time: stop whatever we ran before.
    cmd_down
    ensure_venv

    if port_in_use "$PORT"; then
        die "port $HOST:$PORT is already in use (set SYNAPSE_PORT to use another)"
    fi

    local data secret
    data="$(default_data_dir)"
    wipe_data_dir "$data"
    mkdir -p "$data"
    : >"$data/$MARKER"
    printf '%s\n' "$data" >"$DATA_DIR_FILE"

    log "generating config in $data"
    (cd "$data" && "$VENV_PY" -I -m synapse.app.homeserver \
        --server-name "$SERVER_NAME" \
        --config-path "$data/homeserver.yaml" \
        --generate-config --report-stats=no \
        --data-directory "$data" </dev/null >"$data/generate.log" 2>&1) \
        || { cat "$data/generate.log" >&2; die "config generation failed"; }

    secret="$("$VENV_PY" -I -c 'import secrets; print(secrets.token_hex(32))')"
    write_log_config "$data"
    write_overrides "$data" "$secret" "$profile" "$presence"
    log "rate limits: $profile; presence: $presence"

    launch "$data"

    local url="http://$HOST:$PORT"
    umask 077
    cat >"$ENV_FILE" <<EOF
SYNAPSE_URL=$url
SYNAPSE_SHARED_SECRET=$secret
SYNAPSE_SERVER_NAME=$SERVER_NAME
SYNAPSE_RATE_LIMITS=$profile
SYNAPSE_PRESENCE=$presence
EOF
    log "synapse is up (pid $(running_pid), data $data)"
    cat "$ENV_FILE"
}

stop_server() {
    # Stops the running Synapse by its PID (SIGTERM, then SIGKILL after 10 s); keeps its data.
    local pid
    if pid="$(running_pid)"; then
        log "stopping synapse (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 40; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "synapse did not stop within 10 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$PID_FILE"
}

cmd_down() {
    stop_server
    rm -f "$ENV_FILE"
    local data
    data="$(current_data_dir)"
    case "$data" in
        /dev/shm/*) wipe_data_dir "$data" ;;
    esac
    rm -f "$DATA_DIR_FILE"
}

cmd_stop() {
    # Stops the server but keeps its data, users and rooms, for `start` (tests of an outage).
    stop_server
}

cmd_start() {
    # Starts the server stopped by `stop`, on the same data.
    local data
    data="$(current_data_dir)"
    [ -n "$data" ] && [ -f "$data/homeserver.yaml" ] || die "nothing to start: run up first"
    running_pid >/dev/null && { log "already running"; return 0; }
    launch "$data"
    log "synapse is up again (data $data)"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        local url="http://$HOST:$PORT"
        [ -s "$ENV_FILE" ] && url="$(sed -n 's/^SYNAPSE_URL=//p' "$ENV_FILE")"
        echo "running (pid $pid, $url, data $(current_data_dir))"
    else
        echo "not running"
        return 1
    fi
}

cmd_register() {
    if [ $# -lt 2 ] || [ $# -gt 3 ]; then die "usage: $0 register USER PASSWORD [admin]"; fi
    local admin="false"
    if [ $# -eq 3 ]; then
        [ "$3" = "admin" ] || die "third argument must be 'admin'"
        admin="true"
    fi
    [ -s "$ENV_FILE" ] || die "no $ENV_FILE; run '$0 up' first"
    running_pid >/dev/null || die "synapse is not running; run '$0 up' first"
    local url secret
    url="$(sed -n 's/^SYNAPSE_URL=//p' "$ENV_FILE")"
    secret="$(sed -n 's/^SYNAPSE_SHARED_SECRET=//p' "$ENV_FILE")"
    local py="python3"
    [ -x "$VENV_PY" ] && py="$VENV_PY"
    "$py" -I -c '
import hashlib, hmac, json, sys, urllib.error, urllib.request

url, secret, user, password, admin = sys.argv[1:6]
admin = admin == "true"

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}

status, body = call("GET", "/_synapse/admin/v1/register")
if status != 200:
    sys.exit(f"GET nonce failed: {status} {body}")
nonce = body["nonce"]
msg = "\x00".join([nonce, user, password, "admin" if admin else "notadmin"])
mac = hmac.new(secret.encode(), msg.encode(), hashlib.sha1)
status, body = call("POST", "/_synapse/admin/v1/register", {
    "nonce": nonce, "username": user, "password": password,
    "admin": admin, "mac": mac.hexdigest(),
})
if status == 200:
    print(body["access_token"])
    sys.exit(0)
if body.get("errcode") != "M_USER_IN_USE":
    sys.exit(f"register failed: {status} {body}")
status, body = call("POST", "/_matrix/client/v3/login", {
    "type": "m.login.password",
    "identifier": {"type": "m.id.user", "user": user},
    "password": password,
})
if status != 200:
    sys.exit(f"user exists and login failed: {status} {body}")
print(body["access_token"])
' "$url" "$secret" "$1" "$2" "$admin" </dev/null
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    start) shift; cmd_start "$@" ;;
    status) shift; cmd_status "$@" ;;
    register) shift; cmd_register "$@" ;;
    *)
        echo "usage: $0 {up [--stock] [--presence-off]|down|stop|start|status|register USER PASSWORD [admin]}" >&2
        exit 2
        ;;
esac
