#!/usr/bin/env bash
# Runs every benchmark and prints the figures (see load/README.md):
#   (a) the catalog router on redb   cargo bench -p catalog --bench router --no-default-features
#   (b) Lambda init (cold start)     lambda-init --manifest: every artifact of scripts/build-lambdas
#   (c) deployment zip sizes         scripts/build-lambdas (x86_64)
# Benchmarks print figures; nothing here fails because a figure misses its
# target. Expect ~15-20 minutes on a 2-core machine from a cold target dir
# (one build of every Lambda binary, profile lambda).
#   RUNS=N            init runs for (b) (default 30)
#   SKIP_ROUTER=1     skip (a)
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

echo "== (c) every Lambda artifact, x86_64 (scripts/build-lambdas)"
"$repo/scripts/build-lambdas" --arch x86_64 2>&1 | tee "$logs/lambda-size.log"

echo "== (b) Lambda init: exec -> first invocation/next, $runs runs each"
# The harness itself builds in the dev profile: it only timestamps events
# milliseconds apart.
cargo build -p load --bin lambda-init
"$target_dir/debug/lambda-init" --runs "$runs" --manifest "$target_dir/lambda/manifest.json" 2>&1 | tee "$logs/lambda-init.log"

echo
echo "== figures ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
if [[ -f "$logs/router.log" && "${SKIP_ROUTER:-0}" != 1 ]]; then
    sed -n '/^catalog router medians/,$p' "$logs/router.log"
fi
sed -n '/^| function binary/,$p' "$logs/lambda-init.log" || echo "lambda-init: no figure (see $logs/lambda-init.log)"
