#!/usr/bin/env bash
# Local NATS servers with JetStream for tests, benchmarks and development, run as plain processes.
#
#   scripts/nats.sh install   install Debian's nats-server if it is missing
#   scripts/nats.sh start     start one node (or NATS_CLUSTER=3 nodes), wait until each answers healthy
#   scripts/nats.sh stop      SIGTERM the nodes this script started (their pid files) and wait for them
#   scripts/nats.sh status    exit 0 and print each node if all answer healthy, else exit 1
#
# Environment: NATS_CLUSTER (1 or 3, default 1), NATS_PORT (client port of node 0, default 14222),
# NATS_HTTP_PORT (monitoring port of node 0, default 18222), NATS_CLUSTER_PORT (route port of node 0,
# default 16222), NATS_HOME (default <project>/var/nats), NATS_START_TIMEOUT_S (default 30).
# Node i uses each port + i; its JetStream store is $NATS_HOME/node<i>/, its log $NATS_HOME/node<i>.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NATS_HOME:-$ROOT/var/nats}"
NODES="${NATS_CLUSTER:-1}"
PORT="${NATS_PORT:-14222}"
HTTP_PORT="${NATS_HTTP_PORT:-18222}"
CLUSTER_PORT="${NATS_CLUSTER_PORT:-16222}"
START_TIMEOUT_S="${NATS_START_TIMEOUT_S:-30}"

die() { echo "nats.sh: $*" >&2; exit 1; }

case "$NODES" in 1 | 3) ;; *) die "NATS_CLUSTER must be 1 or 3, not $NODES" ;; esac

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $*"
    fi
}

server_bin() {
    if command -v nats-server >/dev/null; then command -v nats-server
    elif [ -x /usr/sbin/nats-server ]; then echo /usr/sbin/nats-server
    else return 1; fi
}

install() {
    server_bin >/dev/null && return 0
    echo "installing nats-server" >&2
    as_root apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nats-server >/dev/null \
        || die "apt-get install nats-server failed"
    server_bin >/dev/null || die "nats-server is still missing after install"
}

pid_file() { echo "$HOME_DIR/node$1.pid"; }

running_pid() { # running_pid NODE
    local f pid
    f="$(pid_file "$1")"
    [ -f "$f" ] || return 1
    pid="$(cat "$f")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# The monitoring endpoint says {"status":"ok"} once the node (and its JetStream) is ready.
healthy() { # healthy NODE
    local url="http://127.0.0.1:$((HTTP_PORT + $1))/healthz"
    if command -v curl >/dev/null; then
        curl -sf --max-time 2 "$url" 2>/dev/null | grep -q '"ok"'
    else
        local reply
        reply="$(exec 3<>"/dev/tcp/127.0.0.1/$((HTTP_PORT + $1))" 2>/dev/null \
            && printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
            && timeout 2 cat <&3)" || return 1
        printf '%s' "$reply" | grep -q '"ok"'
    fi
}

routes() { # every node's route URL but this one's
    local i out=()
    for ((i = 0; i < NODES; i++)); do
        [ "$i" -eq "$1" ] || out+=("nats://127.0.0.1:$((CLUSTER_PORT + i))")
    done
    local IFS=,
    echo "${out[*]}"
}

start_node() { # start_node NODE BIN
    local n=$1 bin=$2
    if running_pid "$n" >/dev/null; then
        return 0
    fi
    if healthy "$n"; then
        die "something else already answers on monitoring port $((HTTP_PORT + n)) (not node $n of $HOME_DIR); set NATS_HTTP_PORT"
    fi
    mkdir -p "$HOME_DIR/node$n"
    local args=(-a 127.0.0.1 -p "$((PORT + n))" -m "$((HTTP_PORT + n))" -js -sd "$HOME_DIR/node$n"
        -n "tickring-$n" -l "$HOME_DIR/node$n.log")
    if [ "$NODES" -gt 1 ]; then
        args+=(--cluster_name tickring --cluster "nats://127.0.0.1:$((CLUSTER_PORT + n))" --routes "$(routes "$n")")
    fi
    "$bin" "${args[@]}" </dev/null >/dev/null 2>&1 &
    echo $! >"$(pid_file "$n")"
}

start() {
    local bin n
    bin="$(server_bin)" || { install; bin="$(server_bin)"; }
    mkdir -p "$HOME_DIR"
    for ((n = 0; n < NODES; n++)); do start_node "$n" "$bin"; done
    local deadline=$((SECONDS + START_TIMEOUT_S))
    for ((n = 0; n < NODES; n++)); do
        until healthy "$n"; do
            running_pid "$n" >/dev/null \
                || die "node $n exited during start-up; see $HOME_DIR/node$n.log: $(tail -n 5 "$HOME_DIR/node$n.log" 2>/dev/null | tr '\n' ' ')"
            [ "$SECONDS" -lt "$deadline" ] \
                || die "node $n did not answer healthy on port $((HTTP_PORT + n)) within ${START_TIMEOUT_S}s; see $HOME_DIR/node$n.log"
            sleep 0.1
        done
    done
    # A cluster takes streams once its JetStream meta group has elected a leader.
    if [ "$NODES" -gt 1 ] && command -v curl >/dev/null; then
        until curl -sf --max-time 2 "http://127.0.0.1:$HTTP_PORT/jsz" 2>/dev/null | grep -q '"leader": *"tickring-'; do
            [ "$SECONDS" -lt "$deadline" ] || die "the cluster elected no JetStream leader within ${START_TIMEOUT_S}s"
            sleep 0.1
        done
    fi
}

stop() {
    local n pid
    for ((n = 0; n < NODES; n++)); do
        pid="$(running_pid "$n")" || { rm -f "$(pid_file "$n")"; continue; }
        kill -TERM "$pid"
        local deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null; do
            [ "$SECONDS" -lt "$deadline" ] || die "node $n (pid $pid) did not exit within 30 s of SIGTERM"
            sleep 0.1
        done
        rm -f "$(pid_file "$n")"
    done
}

status() {
    local n ok=0
    for ((n = 0; n < NODES; n++)); do
        if healthy "$n"; then
            echo "nats node $n: nats://127.0.0.1:$((PORT + n)) healthy (pid $(running_pid "$n" || echo '?'))"
        else
            echo "nats node $n: not answering on monitoring port $((HTTP_PORT + n))" >&2
            ok=1
        fi
    done
    return "$ok"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: scripts/nats.sh install|start|stop|status" ;;
esac
