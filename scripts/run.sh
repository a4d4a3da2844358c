#!/usr/bin/env bash
# Runs the whole product on local defaults: a local ClickHouse server, the simulator feed into the ring, and
# both sinks, supervised by `tickring up`. Ctrl-C stops everything in order.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked
exec target/release/tickring up "$@"
