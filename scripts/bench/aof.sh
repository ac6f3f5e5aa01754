#!/usr/bin/env bash
# aof.sh — SET throughput with the append-only file on, tessera-node relative to
# redis-server, for appendfsync everysec and always, measured with redis-benchmark
# in one run and interleaved (the order alternates per run) so that background load
# hits both alike. Starts all servers itself (127.0.0.1, free ports, temporary
# directories, the same AOF settings: RDB-preamble bases, the default) and stops
# them at exit.
#
# Usage: scripts/bench/aof.sh
# Environment (all optional):
#   POLICIES="everysec always"  PIPELINES="1 16"  ROUNDS=3  CLIENTS=50  DSIZE=64
#   KEYSPACE=100000  N1=100000 (requests per run at -P 1)  N16=500000 (at -P 16)
#   NALWAYS=20000 (requests per run with appendfsync always, where each write waits
#   for an fsync)  NODE_BIN (default: target/release/tessera-node, built if missing)
# Output: one raw line per run, then per policy and pipeline depth:
#   test P redis_ops tessera_ops ratio r_min r_max p50_redis p50_tessera p99_redis p99_tessera
# (test is SET_<policy>); medians over rounds, ratio = median of per-round
# tessera/redis ratios; then the geometric mean per depth.
set -euo pipefail
cd "$(dirname "$0")/../.."
POLICIES=${POLICIES:-"everysec always"}
PIPELINES=${PIPELINES:-"1 16"}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
DSIZE=${DSIZE:-64}
KEYSPACE=${KEYSPACE:-100000}
N1=${N1:-100000}
N16=${N16:-500000}
NALWAYS=${NALWAYS:-20000}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
[ -x "$NODE_BIN" ] || cargo build --release --bin tessera-node

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-bench-aof.XXXXXX)
trap 'stop_all "$WORK"; rm -rf "$WORK"' EXIT
echo "# redis: $(redis-server --version | cut -d' ' -f3); loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # PORT PIPELINE POLICY -> "rps p50 p99"
    local n=$N1
    [ "$2" = 1 ] || n=$N16
    [ "$3" = always ] && n=$NALWAYS
    redis-benchmark -p "$1" -c "$CLIENTS" -n "$n" -d "$DSIZE" -r "$KEYSPACE" -P "$2" -t set --csv 2>/dev/null |
        awk -F, 'NR>1 {gsub(/"/,""); print $2, $5, $7}'
}

RAW="$WORK/raw"
i=0
for policy in $POLICIES; do
    aof=(--appendonly yes --appendfsync "$policy" --auto-aof-rewrite-percentage 0)
    RP=$(start_server redis "$WORK/redis-$policy" redis-server "${aof[@]}") || exit 1
    TP=$(start_server tessera "$WORK/tessera-$policy" "$NODE_BIN" "${aof[@]}") || exit 1
    for r in $(seq 1 "$ROUNDS"); do
        for p in $PIPELINES; do
            i=$((i + 1))
            if [ $((i % 2)) = 0 ]; then order="redis tessera"; else order="tessera redis"; fi
            for who in $order; do
                port=$RP; [ "$who" = tessera ] && port=$TP
                line="r$r $who SET_$policy $p $(run "$port" "$p" "$policy")"
                echo "raw $line"
                echo "$line" >>"$RAW"
            done
        done
    done
    echo "# AOF sizes ($policy): redis $(du -sb "$WORK/redis-$policy/appendonlydir" | cut -f1) B, tessera $(du -sb "$WORK/tessera-$policy/appendonlydir" | cut -f1) B"
    stop_all "$WORK"
    rm -f "$WORK"/*/pid
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
summarize "$RAW"
