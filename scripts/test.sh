#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, property, cross-process and integration tests, and the
# loom model of the ring's cursor protocol.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The ClickHouse tests start the local server; stop it however the run ends.
trap 'scripts/clickhouse.sh stop || true' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p tickring-ipc --release --lib --locked loom
