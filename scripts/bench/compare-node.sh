#!/usr/bin/env bash
# compare-node.sh — throughput and latency of tessera-node relative to redis-server,
# measured with redis-benchmark in one run, interleaved so that background load hits
# both alike. Starts both servers itself (127.0.0.1, free ports, no persistence) and
# stops them at exit.
#
# Usage: scripts/bench/compare-node.sh
# Environment (all optional):
#   TESTS="set get incr mset"  PIPELINES="1 16"  ROUNDS=3  CLIENTS=50  DSIZE=64
#   KEYSPACE=100000  N1=200000 (requests per run at -P 1)  N16=2000000 (at -P 16)
#   NODE_BIN (default: target/release/tessera-node, built if missing)
# Output: one raw line per run, then a table per test and pipeline depth:
#   test P redis_ops tessera_ops ratio r_min r_max p50_redis p50_tessera p99_redis p99_tessera
# with medians over rounds; ratio is the median of per-round tessera/redis ratios
# (r_min/r_max show the noise); then the geometric mean of the ratios per depth.
set -euo pipefail
cd "$(dirname "$0")/../.."
TESTS=${TESTS:-"set get incr mset"}
PIPELINES=${PIPELINES:-"1 16"}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
DSIZE=${DSIZE:-64}
KEYSPACE=${KEYSPACE:-100000}
N1=${N1:-200000}
N16=${N16:-2000000}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
[ -x "$NODE_BIN" ] || cargo build --release --bin tessera-node

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-bench.XXXXXX)
trap 'stop_all "$WORK"; rm -rf "$WORK"' EXIT

RP=$(start_server redis "$WORK/redis" redis-server) || exit 1
TP=$(start_server tessera "$WORK/tessera" "$NODE_BIN") || exit 1
echo "# redis: $(redis-server --version | cut -d' ' -f3) on port $RP; tessera-node on port $TP"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # PORT TEST PIPELINE -> "rps p50 p99"
    local n=$N1; [ "$3" = 1 ] || n=$N16
    redis-benchmark -p "$1" -c "$CLIENTS" -n "$n" -d "$DSIZE" -r "$KEYSPACE" -P "$3" -t "$2" --csv 2>/dev/null |
        awk -F, 'NR>1 {gsub(/"/,""); print $2, $5, $7}'
}

RAW="$WORK/raw"
i=0
for r in $(seq 1 "$ROUNDS"); do
    for p in $PIPELINES; do
        for t in $TESTS; do
            i=$((i + 1))
            if [ $((i % 2)) = 0 ]; then order="redis tessera"; else order="tessera redis"; fi
            for who in $order; do
                port=$RP; [ "$who" = tessera ] && port=$TP
                line="r$r $who $(echo "$t" | tr a-z A-Z) $p $(run "$port" "$t" "$p")"
                echo "raw $line"
                echo "$line" >>"$RAW"
            done
        done
    done
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
summarize "$RAW"
