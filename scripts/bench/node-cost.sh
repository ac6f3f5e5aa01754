#!/usr/bin/env bash
# node-cost.sh — what one request costs tessera-node and redis-server, counted
# rather than timed, so a busy machine does not change the answer: system calls
# per request (strace -c attached to the running server) and user-space
# instructions per request (callgrind, counters zeroed after a warm-up), at
# pipeline depth 1 (redis-benchmark -P 1) with one client and with 50, for SET,
# GET and INCR.
#
# Usage: scripts/bench/node-cost.sh
# Environment (all optional): TESTS="set get incr"  CLIENTS="1 50"
#   N=20000 (requests traced)  NCG=20000 (requests under callgrind)
#   REDIS_SERVER (default redis-server)
#   NODE_BIN (default target/release/tessera-node, built if missing)
#   KEEP (a directory to copy the callgrind files to, for callgrind_annotate)
# Needs strace and valgrind (apt-get install strace valgrind).
# Output: per server, test and client count, system calls per request (all,
#   then by call) and user-space instructions per request (kernel work is not
#   counted).
set -euo pipefail
cd "$(dirname "$0")/../.."
TESTS=${TESTS:-"set get incr"}
CLIENTS=${CLIENTS:-"1 50"}
N=${N:-20000}
NCG=${NCG:-20000}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
[ -x "$NODE_BIN" ] || cargo build --release -p tessera-node --bins
for tool in "$REDIS_SERVER" redis-benchmark strace valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 1; }
done

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/node-cost.XXXXXX)
SERVER=
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(free_port)

# start WHO [COMMAND PREFIX...]: starts server WHO on $PORT (under the prefix),
# sets SERVER to its pid and waits until it answers
start() {
    local who=$1 bin=$NODE_BIN extra=(); shift
    [ "$who" = redis ] && { bin=$REDIS_SERVER; extra=(--daemonize no); }
    "$@" "$bin" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" "${extra[@]}" >"$WORK/$who.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 600); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.05; done
    echo "$who does not answer" >&2; exit 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
# dumped WHO TAG: the callgrind file of WHO dumped as TAG
dumped() { grep -l "^desc: Trigger: dump $2\$" "$WORK/callgrind.$1".* 2>/dev/null || true; }
bench() { # TEST CLIENTS REQUESTS
    redis-benchmark -p "$PORT" -c "$2" -P 1 -n "$3" -r 100000 -q -t "$1" >/dev/null 2>&1
}

for who in redis tessera; do
    start "$who"
    for c in $CLIENTS; do
        for t in $TESTS; do
            bench "$t" "$c" 1000
            strace -f -c -o "$WORK/strace" -p "$SERVER" 2>/dev/null &
            tracer=$!
            sleep 1 # attached to every thread
            bench "$t" "$c" "$N"
            sleep 0.3
            kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
            awk -v who="$who" -v t="$t" -v c="$c" -v n="$N" '
                $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = $4; all += $4 }
                END {
                    line = sprintf("%-8s %-4s -c %-3s syscalls/req %6.2f:", who, t, c, all / n)
                    for (k in calls) if (calls[k] / n >= 0.01) line = line sprintf(" %s=%.2f", k, calls[k] / n)
                    print line
                }' "$WORK/strace"
        done
    done
    stop
    start "$who" valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$who.%p"
    for c in $CLIENTS; do
        for t in $TESTS; do
            bench "$t" "$c" 1000
            callgrind_control -z "$SERVER" >/dev/null 2>&1
            bench "$t" "$c" "$NCG"
            callgrind_control -d "$t-$c" "$SERVER" >/dev/null 2>&1
            for _ in $(seq 1 100); do [ -n "$(dumped "$who" "$t-$c")" ] && break; sleep 0.1; done
            awk -v who="$who" -v t="$t" -v c="$c" -v n="$NCG" '/^summary:/ { printf "%-8s %-4s -c %-3s instructions/req %.0f\n", who, t, c, $2 / n }' "$(dumped "$who" "$t-$c")"
        done
    done
    [ -z "${KEEP:-}" ] || cp "$WORK"/callgrind.* "$KEEP"/
    stop
done
