#!/usr/bin/env bash
# Deployment size of the catalog Lambda: builds it the way it deploys
# (`cargo lambda build --release -p catalog --output-format zip`, which
# writes target/lambda/catalog/bootstrap.zip) and prints the zip size
# (target < 5 MB) and the unzipped binary size. It prints figures; it never
# fails on them.
#
# cargo-lambda comes from PyPI into <repo>/.venv (created when absent).
# If that build fails or runs longer than LAMBDA_BUILD_TIMEOUT seconds
# (default 1800), it says so and falls back to zipping target/release/catalog
# (built with `cargo build --release -p catalog` when missing) with Python's
# zipfile, deflated as a deployment zip is. Set LAMBDA_SIZE_FALLBACK_ONLY=1
# to skip cargo-lambda and measure only that fallback.
#
# A clean release build of a Lambda takes ~6 minutes on a 2-core machine,
# and cargo lambda builds into its own target triple directory
# (target/x86_64-unknown-linux-gnu), so it does not reuse target/release.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
timeout_s="${LAMBDA_BUILD_TIMEOUT:-1800}"

mb() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.2f} MB ({int(sys.argv[1]) / 1048576:.2f} MiB)')" "$1"; }

# Prints the size of a zip and of the largest file in it.
report_zip() {
    local zip="$1" how="$2"
    local zip_bytes inner
    zip_bytes=$(stat -c %s "$zip")
    inner=$(python3 - "$zip" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    infos = z.infolist()
    big = max(infos, key=lambda i: i.file_size)
    methods = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
    print(big.filename, big.file_size, methods.get(big.compress_type, big.compress_type), len(infos))
EOF
)
    read -r name bytes method count <<<"$inner"
    echo "catalog Lambda ($how):"
    echo "  zip:      $zip"
    echo "  zip size: $(mb "$zip_bytes")   target < 5 MB: $(python3 -c "print('met' if $zip_bytes < 5e6 else 'MISSED')")"
    echo "  unzipped: $name $(mb "$bytes") ($method; $count file(s) in the zip)"
}

fallback() {
    local bin="$target_dir/release/catalog"
    if [[ ! -x "$bin" ]]; then
        echo "building $bin (cargo build --release -p catalog) ..."
        cargo build --release -p catalog
    fi
    local out="$target_dir/bench-lambda-size"
    rm -rf "$out" && mkdir -p "$out"
    cp "$bin" "$out/bootstrap"
    # `python3 -m zipfile -c` stores without compression; a deployment zip
    # (cargo lambda's, CDK's asset zips) is deflated, so deflate here too.
    (cd "$out" && python3 -c "
import zipfile
with zipfile.ZipFile('bootstrap.zip', 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write('bootstrap')
")
    report_zip "$out/bootstrap.zip" "FALLBACK: target/release/catalog zipped with Python zipfile (deflate), not cargo lambda"
}

if [[ "${LAMBDA_SIZE_FALLBACK_ONLY:-0}" == 1 ]]; then
    fallback
    exit 0
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv ..."
    python3 -m venv .venv
fi
if [[ ! -x .venv/bin/cargo-lambda ]]; then
    echo "installing cargo-lambda into .venv ..."
    .venv/bin/pip install --quiet cargo-lambda
fi
export PATH="$repo/.venv/bin:$PATH"
echo "cargo lambda: $(cargo lambda --version 2>&1 | head -n1)"

zip="$target_dir/lambda/catalog/bootstrap.zip"
rm -f "$zip"
start=$(date +%s)
set +e
timeout "$timeout_s" cargo lambda build --release -p catalog --output-format zip
status=$?
set -e
elapsed=$(( $(date +%s) - start ))
if [[ $status -eq 0 && -f "$zip" ]]; then
    echo "cargo lambda build took ${elapsed}s"
    report_zip "$zip" "cargo lambda build --release --output-format zip"
else
    if [[ $status -eq 124 ]]; then
        echo "cargo lambda build did not finish within ${timeout_s}s; falling back" >&2
    else
        echo "cargo lambda build failed (exit $status after ${elapsed}s); falling back" >&2
    fi
    fallback
fi
