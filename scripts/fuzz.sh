#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for SECONDS (default 20), seeded from the test
# fixtures, the shipped tuning.toml, journals written by the real writer (fuzz/seeds) and every input that
# ever crashed a target (fuzz/regressions). Prints executions per second per target; exits non-zero if any
# target crashed (the input is left in fuzz/artifacts/TARGET/: fix the bug, then move it to
# fuzz/regressions/TARGET/ and add a unit test beside the fixed code).
#
#   scripts/fuzz.sh [SECONDS]          every target
#   FUZZ_TARGETS="tuning ws_request" scripts/fuzz.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-20}

if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
# libFuzzer needs nightly flags (-Z sanitizer): the nightly toolchain where installed, else stable with
# RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
  echo "toolchain: nightly ($(rustc +nightly --version))"
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
  echo "toolchain: stable with RUSTC_BOOTSTRAP=1 ($(rustc --version))"
fi
# The fuzzed crates run the versions the main workspace locks.
[[ -f fuzz/Cargo.lock ]] || cp Cargo.lock fuzz/Cargo.lock

targets=(${FUZZ_TARGETS:-lseg_frame lseg_dump canonical_lines csv_lines ws_request tuning journal_segment})

# Seed corpora. fuzz/corpus/TARGET keeps what earlier runs found (not committed).
seed() { # seed TARGET FILE...
  local dir=fuzz/corpus/$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [[ -f $f ]] && cp "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  return 0
}
fixtures=engine/tests/fixtures/lseg
seed lseg_dump "$fixtures"/*.dump.jsonl
seed canonical_lines "$fixtures"/canonical.jsonl "$fixtures"/*.expected.jsonl tests/fixtures/ingest/*.jsonl
seed csv_lines "$fixtures"/*.csv
seed tuning tuning.toml engine/mappings/lseg.toml
seed ws_request fuzz/seeds/ws_request/*
seed journal_segment fuzz/seeds/journal_segment/*
# lseg_frame takes the frames of a dump (one per line): each frame alone, and each dump's frames together.
mkdir -p fuzz/corpus/lseg_frame
for dump in "$fixtures"/*.dump.jsonl; do
  name=$(basename "$dump" .dump.jsonl)
  sed -E 's/^\{"recv(_ns)?":("[^"]*"|[0-9]+),"frame":(.*)\}$/\3/' "$dump" > "fuzz/corpus/lseg_frame/seed-$name"
  n=0
  while IFS= read -r frame; do
    n=$((n + 1))
    printf '%s' "$frame" > "fuzz/corpus/lseg_frame/seed-$name-$n"
  done < "fuzz/corpus/lseg_frame/seed-$name"
done
for t in "${targets[@]}"; do
  [[ -d fuzz/regressions/$t ]] && seed "$t" fuzz/regressions/"$t"/*
done

build_start=$(date +%s)
cargo "${toolchain[@]}" fuzz build --release --debug-assertions
echo "built in $(( $(date +%s) - build_start )) s"

failed=()
printf '\n%-16s %10s %12s %8s  %s\n' target seconds execs execs/s result
for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  log=fuzz/artifacts/$t/last-run.log
  status=0
  # -rss_limit_mb: the journal target reads 1 MiB at a time; anything near 2 GiB is a leak or a bomb.
  cargo "${toolchain[@]}" fuzz run --release --debug-assertions "$t" "$root/fuzz/corpus/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$root/fuzz/artifacts/$t/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [[ $status -eq 0 ]]; then
    result=ok
  else
    result="CRASH (exit $status): $(ls -t "fuzz/artifacts/$t" | grep -v last-run.log | head -1); log $log"
    failed+=("$t")
  fi
  printf '%-16s %10s %12s %8s  %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$result"
done
if ((${#failed[@]})); then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
echo "no crashes"
