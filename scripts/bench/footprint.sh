#!/usr/bin/env bash
# footprint.sh — memory per key of tessera-node relative to redis-server: loads the
# same kind of data into both with redis-benchmark (random key names from -r), then
# reports used_memory and RSS per key for each and the ratio.
#
# Usage: scripts/bench/footprint.sh [strings|hash|set|zset]
#   strings: KEYS string keys with DSIZE-byte values (SET)
#   hash:    KEYS small hashes of 5 fields (HSET)
#   set:     KEYS small sets of 5 short string members (SADD)
#   zset:    KEYS small sorted sets of 5 members (ZADD)
# Environment: KEYS=1000000 for strings, 100000 otherwise; DSIZE=64;
#   NODE_BIN (default target/release/tessera-node)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORKLOAD=${1:-strings}
case $WORKLOAD in
    strings) KEYS=${KEYS:-1000000}; CMD=() ;;
    hash) KEYS=${KEYS:-100000}; CMD=(HSET "h:__rand_int__" f1 v1 f2 v2 f3 v3 f4 v4 f5 v5) ;;
    set) KEYS=${KEYS:-100000}; CMD=(SADD "s:__rand_int__" m1 m2 m3 m4 m5) ;;
    zset) KEYS=${KEYS:-100000}; CMD=(ZADD "z:__rand_int__" 1 m1 2 m2 3 m3 4 m4 5 m5) ;;
    *) echo "usage: footprint.sh [strings|hash|set|zset]" >&2; exit 2 ;;
esac
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
    # -r KEYS draws key names from KEYS values; 4*KEYS requests reach ~98% of them.
    if [ ${#CMD[@]} -eq 0 ]; then
        redis-benchmark -p "$2" -t set -n $((KEYS * 4)) -r "$KEYS" -d "$DSIZE" -P 32 -c 20 -q >/dev/null
    else
        redis-benchmark -p "$2" -n $((KEYS * 4)) -r "$KEYS" -P 32 -c 20 -q "${CMD[@]}" >/dev/null
    fi
    keys=$(redis-cli -p "$2" dbsize)
    used=$(info_field "$2" used_memory); rss=$(info_field "$2" used_memory_rss)
    awk -v n="$1" -v k="$keys" -v u="$((used - base_used))" -v r="$((rss - base_rss))" \
        'BEGIN { printf "%-8s keys=%d used_memory/key=%.1f rss/key=%.1f\n", n, k, u / k, r / k }'
}

RP=$(start_server redis "$WORK/redis" redis-server)
TP=$(start_server tessera "$WORK/tessera" "$NODE_BIN")
R=$(measure redis "$RP"); echo "$R"
T=$(measure tessera "$TP"); echo "$T"
echo "# $WORKLOAD"
echo "$R $T" | awk '{ split($3, a, "="); split($4, b, "="); split($7, c, "="); split($8, d, "=");
    printf "ratio tessera/redis: used_memory %.2f, rss %.2f\n", c[2] / a[2], d[2] / b[2] }'
