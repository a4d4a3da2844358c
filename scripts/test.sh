#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, property, cross-process and integration tests, and the
# loom model of the ring's cursor protocol.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The ClickHouse tests start local servers (the outage test its own on 18124); stop them however the run ends.
stop_servers() {
  scripts/clickhouse.sh stop || true
  CLICKHOUSE_HTTP_PORT=18124 CLICKHOUSE_TCP_PORT=19001 CLICKHOUSE_HOME="$PWD/var/clickhouse-18124" \
    scripts/clickhouse.sh stop || true
  # The journal's outage test (tests/journal_faults.rs) stops and starts its own on 18126.
  CLICKHOUSE_HTTP_PORT=18126 CLICKHOUSE_TCP_PORT=19003 CLICKHOUSE_HOME="$PWD/var/clickhouse-18126" \
    scripts/clickhouse.sh stop || true
}
trap stop_servers EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p tickring-ipc --release --lib --locked loom
