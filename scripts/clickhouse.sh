#!/usr/bin/env bash
# A local ClickHouse server for tests, benchmarks and development, run as a plain process.
#
#   scripts/clickhouse.sh install   install the Debian packages if the server is missing
#   scripts/clickhouse.sh start     write the config, start the server, wait until it answers (no-op if running)
#   scripts/clickhouse.sh stop      SIGTERM the server and wait for it to exit (no-op if stopped)
#   scripts/clickhouse.sh status    exit 0 and print the version if it answers, else exit 1
#
# Environment: CLICKHOUSE_HTTP_PORT (default 18123), CLICKHOUSE_TCP_PORT (default 19000),
# CLICKHOUSE_HOME (default <project>/var/clickhouse), CLICKHOUSE_START_TIMEOUT_S (default 30).
# Data lives under $CLICKHOUSE_HOME/data/, the log in $CLICKHOUSE_HOME/server.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${CLICKHOUSE_HOME:-$ROOT/var/clickhouse}"
HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-18123}"
TCP_PORT="${CLICKHOUSE_TCP_PORT:-19000}"
START_TIMEOUT_S="${CLICKHOUSE_START_TIMEOUT_S:-30}"
CONFIG="$HOME_DIR/config.xml"
PID_FILE="$HOME_DIR/server.pid"
LOG_FILE="$HOME_DIR/server.log"
URL="http://127.0.0.1:$HTTP_PORT/"

die() { echo "clickhouse.sh: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $*"
    fi
}

server_bin() {
    if command -v clickhouse-server >/dev/null; then command -v clickhouse-server
    elif [ -x /usr/sbin/clickhouse-server ]; then echo /usr/sbin/clickhouse-server
    else return 1; fi
}

install() {
    if server_bin >/dev/null && command -v clickhouse-client >/dev/null; then
        return 0
    fi
    echo "installing clickhouse-server and clickhouse-client" >&2
    as_root apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client >/dev/null \
        || die "apt-get install clickhouse-server clickhouse-client failed"
    server_bin >/dev/null || die "clickhouse-server is still missing after install"
}

answers() {
    # `SELECT 1` over HTTP; curl when present, else bash's /dev/tcp.
    if command -v curl >/dev/null; then
        [ "$(curl -sf --max-time 2 "${URL}?query=SELECT%201" 2>/dev/null)" = "1" ]
    else
        local reply
        reply="$(exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" 2>/dev/null \
            && printf 'GET /?query=SELECT%%201 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
            && timeout 2 cat <&3)" || return 1
        [ "$(printf '%s' "$reply" | tail -n 1 | tr -d '\r')" = "1" ]
    fi
}

running_pid() {
    [ -f "$PID_FILE" ] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
    mkdir -p "$HOME_DIR/data" "$HOME_DIR/tmp"
    # Every element below is required by ClickHouse 18.16; newer servers accept the same file.
    cat >"$CONFIG" <<XML
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HTTP_PORT</http_port>
  <tcp_port>$TCP_PORT</tcp_port>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$HOME_DIR/data/</path>
  <tmp_path>$HOME_DIR/tmp/</tmp_path>
  <profiles><default/></profiles>
  <users><default><password/><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default/></quotas>
</yandex>
XML
}

start() {
    if running_pid >/dev/null && answers; then
        return 0
    fi
    if answers; then
        die "something else already answers on port $HTTP_PORT (not the server of $PID_FILE); set CLICKHOUSE_HTTP_PORT"
    fi
    local bin
    bin="$(server_bin)" || { install; bin="$(server_bin)"; }
    write_config
    : >"$LOG_FILE"
    (cd "$HOME_DIR" && exec "$bin" --config-file="$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null) &
    echo $! >"$PID_FILE"
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until answers; do
        if ! running_pid >/dev/null; then
            die "clickhouse-server exited during start-up; see $LOG_FILE: $(tail -n 5 "$LOG_FILE" | tr '\n' ' ')"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            die "clickhouse-server did not answer SELECT 1 on $URL within ${START_TIMEOUT_S}s; see $LOG_FILE"
        fi
        sleep 0.1
    done
}

stop() {
    local pid
    pid="$(running_pid)" || { rm -f "$PID_FILE"; return 0; }
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || die "clickhouse-server (pid $pid) did not exit within 60 s of SIGTERM; see $LOG_FILE"
        sleep 0.1
    done
    rm -f "$PID_FILE"
}

status() {
    if answers; then
        if command -v curl >/dev/null; then
            echo "clickhouse $(curl -sf "${URL}?query=SELECT%20version()") on $URL (pid $(running_pid || echo '?'))"
        else
            echo "clickhouse answers on $URL (pid $(running_pid || echo '?'))"
        fi
    else
        echo "clickhouse not answering on $URL" >&2
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 install|start|stop|status" ;;
esac
