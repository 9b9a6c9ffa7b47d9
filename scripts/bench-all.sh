#!/usr/bin/env bash
# Runs every benchmark and prints the figures (see load/README.md):
#   (a) the catalog router on redb   cargo bench -p catalog --bench router --no-default-features
#   (b) Lambda init (cold start)     lambda-init on target/release/catalog
#   (c) deployment zip size          scripts/bench-lambda-size.sh
# Benchmarks print figures; nothing here fails because a figure misses its
# target. Expect ~15-20 minutes on a 2-core machine from a cold target dir
# (two release builds of the Lambda: target/release and cargo lambda's).
#   RUNS=N            init runs for (b) (default 30)
#   SKIP_ROUTER=1     skip (a);  SKIP_SIZE=1  skip (c)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
logs="$target_dir/bench-logs"
mkdir -p "$logs"
runs="${RUNS:-30}"

if [[ "${SKIP_ROUTER:-0}" != 1 ]]; then
    echo "== (a) catalog router on redb (criterion)"
    cargo bench -p catalog --bench router --no-default-features 2>&1 | tee "$logs/router.log"
fi

echo "== release build of the catalog Lambda (cargo build --release -p catalog)"
cargo build --release -p catalog

echo "== (b) Lambda init: exec -> first invocation/next, $runs runs"
# The harness itself builds in the dev profile: it only timestamps events
# milliseconds apart, and that keeps one release build out of the run.
cargo build -p load --bin lambda-init
"$target_dir/debug/lambda-init" --runs "$runs" "$target_dir/release/catalog" 2>&1 | tee "$logs/lambda-init.log"

if [[ "${SKIP_SIZE:-0}" != 1 ]]; then
    echo "== (c) deployment size"
    "$repo/scripts/bench-lambda-size.sh" 2>&1 | tee "$logs/lambda-size.log"
fi

echo
echo "== figures ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
if [[ -f "$logs/router.log" && "${SKIP_ROUTER:-0}" != 1 ]]; then
    sed -n '/^catalog router medians/,$p' "$logs/router.log"
fi
grep '^exec -> first invocation/next' "$logs/lambda-init.log" || echo "lambda-init: no figure (see $logs/lambda-init.log)"
if [[ "${SKIP_SIZE:-0}" != 1 ]]; then
    grep -E '^catalog Lambda|zip size|unzipped' "$logs/lambda-size.log" || true
fi
