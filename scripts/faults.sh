#!/usr/bin/env bash
# The fault scenarios, against real processes (ingest, both sinks, ClickHouse servers): a producer takeover
# while the writer is down, kill -9 of ingest mid-write, the writer frozen past the heartbeat with a lapped
# ring, ClickHouse stopped 30 s, ingest restarted with renumbered instruments, kill -9 of the writer twice,
# `up` started twice. Prints one row per scenario; exits non-zero if any scenario fails.
#
#   scripts/faults.sh        (CI runs the same tests inside scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/clickhouse.sh start >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --test journal_faults --test sink_clickhouse --test up_cli -- --nocapture --test-threads=1 \
    >"$log" 2>&1 || status=$?
{
    printf 'scenario\tpublished\tstored\tduplicates\tlost\tverdict\n'
    # With --nocapture a row may share its line with the test's name.
    grep -o 'FAULT.*' "$log" | cut -f2-
} | column -t -s $'\t'
grep -E 'test result:|FAILED' "$log" | sed 's/^/  /'
if [ "$status" -ne 0 ]; then
    echo "faults.sh: a scenario failed; the full log follows" >&2
    tail -n 200 "$log" >&2
fi
exit "$status"
