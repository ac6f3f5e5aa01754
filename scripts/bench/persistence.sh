#!/usr/bin/env bash
# persistence.sh — RDB persistence of tessera-node against redis-server, with the
# same dataset of KEYS mixed keys (70% strings, 10% hashes of 5 fields, 10%
# lists of 5 elements, 5% intsets/sets, 5% sorted sets):
#   - BGSAVE wall time (BGSAVE until rdb_bgsave_in_progress:0),
#   - RDB file size,
#   - start-up load time (process start until PING answers),
#   - p99 GET latency (redis-benchmark, 50 clients) idle and while a BGSAVE runs.
# Prints one line per measure with the tessera/redis ratio, and for each
# server the p99 during BGSAVE over the idle p99.
#
# Usage: scripts/bench/persistence.sh      (KEYS=1000000 by default)
# Needs redis-server, redis-cli, redis-benchmark, python3; builds tessera-node (release).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
KEYS=${KEYS:-1000000}
GETS=${GETS:-200000}
cd "$HERE/../.."
cargo build --release -q -p tessera-node
TESSERA=$PWD/target/release/tessera-node
WORK=$(mktemp -d /tmp/persistence-bench.XXXXXX)
trap 'stop_all "$WORK"; rm -rf "$WORK"' EXIT

python3 - "$KEYS" >"$WORK/data.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
def cmd(*a):
    out.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in (s.encode() for s in a)))
for i in range(n):
    k = i % 20
    if k < 14:
        cmd("SET", f"key:{i:012d}", f"value-{i}-" + "x" * (i % 40))
    elif k < 16:
        cmd("HSET", f"hash:{i}", "a", str(i), "b", "bee", "c", "sea", "d", str(i * 3), "e", "e" * 10)
    elif k < 18:
        cmd("RPUSH", f"list:{i}", "one", "two", str(i), "four", "five")
    elif k == 18:
        cmd("SADD", f"set:{i}", str(i), str(i + 1), str(i + 2), "m" if i % 2 else str(i + 3))
    else:
        cmd("ZADD", f"zset:{i}", "1", "a", "2.5", "b", str(i), "c")
PY

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else 'n/a')"; }
p99_get() { # PORT -> p99 ms of GET
    redis-benchmark -p "$1" -t get -n "$GETS" -c 50 -r 1000000 --csv 2>/dev/null |
        awk -F'","' '/^"GET"/ {print $7}'
}
bgsave_time() { # PORT -> seconds
    local t0 t1
    t0=$(now)
    redis-cli -p "$1" bgsave >/dev/null
    while redis-cli -p "$1" info persistence | grep -q 'rdb_bgsave_in_progress:1'; do sleep 0.01; done
    t1=$(now)
    elapsed "$t0" "$t1"
}

declare -A R
for who in redis tessera; do
    bin=redis-server; [ "$who" = tessera ] && bin=$TESSERA
    port=$(start_server "$who" "$WORK/$who" "$bin")
    redis-cli -p "$port" --pipe <"$WORK/data.resp" >/dev/null
    R[$who.keys]=$(redis-cli -p "$port" dbsize)
    R[$who.idle_p99]=$(p99_get "$port")
    R[$who.bgsave]=$(bgsave_time "$port")
    # GET latency while a BGSAVE runs (the snapshot is repeated if it ends first).
    redis-cli -p "$port" bgsave >/dev/null
    R[$who.bgsave_p99]=$(p99_get "$port")
    while redis-cli -p "$port" info persistence | grep -q 'rdb_bgsave_in_progress:1'; do sleep 0.01; done
    R[$who.size]=$(stat -c %s "$WORK/$who/dump.rdb")
    kill "$(cat "$WORK/$who/pid")"; wait "$(cat "$WORK/$who/pid")" 2>/dev/null || true
    t0=$(now)
    port=$(start_server "$who" "$WORK/$who" "$bin")
    until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do sleep 0.01; done
    t1=$(now)
    R[$who.load]=$(elapsed "$t0" "$t1")
    [ "$(redis-cli -p "$port" dbsize)" = "${R[$who.keys]}" ] || { echo "$who lost keys after reload" >&2; exit 1; }
    kill "$(cat "$WORK/$who/pid")"
done

printf '%-22s %14s %14s %8s\n' measure redis tessera ratio
for m in keys bgsave size load idle_p99 bgsave_p99; do
    printf '%-22s %14s %14s %8s\n' "$m" "${R[redis.$m]}" "${R[tessera.$m]}" "$(ratio "${R[tessera.$m]}" "${R[redis.$m]}")"
done
for who in redis tessera; do
    echo "$who p99 during BGSAVE / idle p99: $(ratio "${R[$who.bgsave_p99]}" "${R[$who.idle_p99]}")"
done
