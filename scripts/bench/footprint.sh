#!/usr/bin/env bash
# footprint.sh — memory per key of tessera-node relative to redis-server: loads the
# same N string keys (16-byte names, 64-byte values, via redis-benchmark's SET with
# -r) into both, then reports used_memory and RSS per key for each and the ratio.
#
# Usage: scripts/bench/footprint.sh
# Environment: KEYS=1000000  DSIZE=64  NODE_BIN (default target/release/tessera-node)
set -euo pipefail
cd "$(dirname "$0")/../.."
KEYS=${KEYS:-1000000}
DSIZE=${DSIZE:-64}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
[ -x "$NODE_BIN" ] || cargo build --release --bin tessera-node

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-footprint.XXXXXX)
trap 'stop_all "$WORK"; rm -rf "$WORK"' EXIT

info_field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'; }

measure() { # NAME PORT -> "name keys used_per_key rss_per_key"
    local base_used base_rss used rss keys
    base_used=$(info_field "$2" used_memory); base_rss=$(info_field "$2" used_memory_rss)
    # __rand_int__ with -r KEYS gives keys key:000000000000..; repeat until the key count is reached.
    redis-benchmark -p "$2" -t set -n $((KEYS * 4)) -r "$KEYS" -d "$DSIZE" -P 32 -c 20 -q >/dev/null
    keys=$(redis-cli -p "$2" dbsize)
    used=$(info_field "$2" used_memory); rss=$(info_field "$2" used_memory_rss)
    awk -v n="$1" -v k="$keys" -v u="$((used - base_used))" -v r="$((rss - base_rss))" \
        'BEGIN { printf "%-8s keys=%d used_memory/key=%.1f rss/key=%.1f\n", n, k, u / k, r / k }'
}

RP=$(start_server redis "$WORK/redis" redis-server)
TP=$(start_server tessera "$WORK/tessera" "$NODE_BIN")
R=$(measure redis "$RP"); echo "$R"
T=$(measure tessera "$TP"); echo "$T"
echo "$R $T" | awk '{ split($3, a, "="); split($4, b, "="); split($7, c, "="); split($8, d, "=");
    printf "ratio tessera/redis: used_memory %.2f, rss %.2f\n", c[2] / a[2], d[2] / b[2] }'
