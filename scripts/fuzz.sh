#!/usr/bin/env bash
# Fuzzes the RESP decoders (request parser and reply frame decoder) and the
# RDB loader / RESTORE payload decoder (target `rdb`) for a bounded time
# each. Installs cargo-fuzz when missing. Uses the stable toolchain with
# RUSTC_BOOTSTRAP=1 (cargo fuzz needs -Z flags).
#
# Usage: scripts/fuzz.sh [SECONDS per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in $(cargo fuzz list); do
    echo "fuzzing $target for ${secs}s"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$secs" -rss_limit_mb=4096
done
