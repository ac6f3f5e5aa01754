#!/usr/bin/env bash
# proxy-cost.sh — what one request costs tessera-proxy and twemproxy (nutcracker),
# counted rather than timed, so a busy machine does not change the answer: system
# calls per request (strace -c attached to the running proxy) and user-space
# instructions per request (callgrind, counters zeroed after a warm-up), with one
# client at pipeline depth 1 (redis-benchmark -c 1 -P 1), for SET, GET and MGET of
# 10 keys, each proxy in front of the same 3 tessera-node shards with one
# connection per shard (tessera-proxy with one worker thread).
#
# Usage: scripts/bench/proxy-cost.sh
# Environment (all optional): TESTS="set get mget"  N=20000 (requests traced)
#   NCG=5000 (requests under callgrind)  NUTCRACKER (default nutcracker)
#   NODE_BIN / PROXY_BIN (default target/release/…, built if missing)
# Needs strace and valgrind (apt-get install strace valgrind).
# Output: per proxy and test, system calls per request (all, then by call) and
#   user-space instructions per request (kernel work is not counted).
set -euo pipefail
cd "$(dirname "$0")/../.."
TESTS=${TESTS:-"set get mget"}
N=${N:-20000}
NCG=${NCG:-5000}
NUTCRACKER=${NUTCRACKER:-nutcracker}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
PROXY_BIN=${PROXY_BIN:-target/release/tessera-proxy}
[ -x "$NODE_BIN" ] && [ -x "$PROXY_BIN" ] || cargo build --release -p tessera-node -p tessera-proxy --bins
for tool in "$NUTCRACKER" strace valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 1; }
done

. scripts/bench/lib.sh
proxy_bench proxy-cost

# start WHO [COMMAND PREFIX...]: starts proxy WHO on $PORT (under the prefix),
# sets PROXY to its pid and waits until it answers
start() {
    local who=$1; shift
    case $who in
        twemproxy) "$@" "$NUTCRACKER" -c "$WORK/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$WORK/nutcracker.log" >/dev/null 2>&1 & ;;
        tessera) RUST_LOG=warn "$@" "$PROXY_BIN" --config "$WORK/proxy.toml" --threads 1 >"$WORK/proxy.log" 2>&1 & ;;
    esac
    PROXY=$!
    for _ in $(seq 1 600); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.05; done
    echo "$who does not answer" >&2; exit 1
}
stop() { kill "$PROXY"; wait "$PROXY" 2>/dev/null || true; PROXY=; }
# dumped WHO TEST: the callgrind file of WHO dumped after TEST
dumped() { grep -l "^desc: Trigger: dump $2\$" "$WORK/callgrind.$1".* 2>/dev/null || true; }

MGET_ARGS=()
for _ in $(seq 1 10); do MGET_ARGS+=("key:__rand_int__"); done
bench() { # TEST REQUESTS
    local args=(-t "$1")
    [ "$1" = mget ] && args=(mget "${MGET_ARGS[@]}")
    redis-benchmark -p "$PORT" -c 1 -P 1 -n "$2" -r 100000 -q "${args[@]}" >/dev/null 2>&1
}

for who in twemproxy tessera; do
    start "$who"
    for t in $TESTS; do
        bench "$t" 1000
        strace -f -c -o "$WORK/strace" -p "$PROXY" 2>/dev/null &
        tracer=$!
        sleep 1 # attached to every thread
        bench "$t" "$N"
        sleep 0.3
        kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
        awk -v who="$who" -v t="$t" -v n="$N" '
            $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = $4; all += $4 }
            END {
                line = sprintf("%-9s %-4s syscalls/req %6.2f:", who, t, all / n)
                for (c in calls) if (calls[c] / n >= 0.01) line = line sprintf(" %s=%.2f", c, calls[c] / n)
                print line
            }' "$WORK/strace"
    done
    stop
    start "$who" valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$who.%p"
    for t in $TESTS; do
        bench "$t" 500
        callgrind_control -z "$PROXY" >/dev/null 2>&1
        bench "$t" "$NCG"
        callgrind_control -d "$t" "$PROXY" >/dev/null 2>&1
        for _ in $(seq 1 100); do [ -n "$(dumped "$who" "$t")" ] && break; sleep 0.1; done
        awk -v who="$who" -v t="$t" -v n="$NCG" '/^summary:/ { printf "%-9s %-4s instructions/req %.0f\n", who, t, $2 / n }' "$(dumped "$who" "$t")"
    done
    stop
done
