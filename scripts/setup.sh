#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test tickring (system packages, the chart
# page's library, a browser for its test). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install a Rust toolchain (1.89 or newer) first" >&2
  exit 1
fi
command -v npm >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
# Debian's ClickHouse server (started per run by scripts/clickhouse.sh, data under var/).
scripts/clickhouse.sh install
# The chart page's charting library and the browser for its test.
scripts/setup-web.sh
