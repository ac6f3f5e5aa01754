#!/usr/bin/env bash
# manager.sh — how fast the management layer turns a request into a database,
# and how the REST API holds up under concurrent readers. Starts a whole local
# cluster with `tessera up` (manager, 3 agents, proxy; release build) in a
# temporary data dir on free ports, then:
#   1. for 1 and 8 shards, ROUNDS times: POST /v1/bdbs, then poll until every
#      shard of the new database answers PING; prints the time from the POST to
#      the last PONG (target: <= 1 s for one shard), then deletes the database;
#   2. wrk with 50 connections on GET /v1/bdbs for 10 s: requests/s and latency
#      percentiles (p99 is the figure to watch).
#
# Usage: scripts/bench/manager.sh
# Environment (all optional): ROUNDS=5  SHARDS="1 8"  READERS=50  SECONDS_WRK=10
#   TESSERA_BIN (default: target/release/tessera, built if missing)
# Needs: redis-cli (redis-tools), wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
SHARDS=${SHARDS:-"1 8"}
READERS=${READERS:-50}
SECONDS_WRK=${SECONDS_WRK:-10}
TESSERA_BIN=${TESSERA_BIN:-target/release/tessera}
[ -x "$TESSERA_BIN" ] || cargo build --release --bin tessera
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-bench-manager.XXXXXX)
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
# Free ports for the default database, the 3 agents and 60 shard ports.
base=$(python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 50000)
    try:
        for q in range(p, p + 64):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass')
"$TESSERA_BIN" up --data-dir "$WORK/data" --port "$PORT" --db-port "$base" --agent-port $((base + 1)) \
    --shard-ports "$((base + 4))-$((base + 63))" >"$WORK/up.log" 2>&1 &
UP=$!
trap 'rc=$?; [ $rc -eq 0 ] || tail -20 "$WORK/up.log" >&2; kill -INT $UP 2>/dev/null; wait $UP 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 1500); do grep -q "Tessera is running" "$WORK/up.log" && break; sleep 0.1; done
grep -q "Tessera is running" "$WORK/up.log" || { echo "tessera up did not start" >&2; exit 1; }
PASSWORD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$WORK/data/cluster.json")
BEARER=$(curl -sf -X POST -H 'content-type: application/json' "$URL/v1/users/authorize" \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
api() { curl -sf -X "$1" -H "authorization: Bearer $BEARER" -H 'content-type: application/json' "$URL$2" ${3:+-d "$3"}; }
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
for shards in $SHARDS; do
    for r in $(seq 1 "$ROUNDS"); do
        t0=$(now)
        uid=$(api POST /v1/bdbs "{\"name\":\"bench$shards-$r\",\"memory_size\":$((shards * 64 << 20)),\"shards_count\":$shards,
            \"port\":$((base + 2))}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
        addrs=
        for _ in $(seq 1 3000); do
            addrs=$(api GET /v1/shards | python3 -c '
import json, sys
s = [x["addr"] for x in json.load(sys.stdin) if x["bdb_uid"] == int(sys.argv[1]) and x.get("addr")]
print(" ".join(s) if len(s) == int(sys.argv[2]) else "")' "$uid" "$shards")
            [ -n "$addrs" ] && break
            sleep 0.01
        done
        [ -n "$addrs" ] || { echo "the shards of bdb $uid got no address" >&2; exit 1; }
        for a in $addrs; do
            for _ in $(seq 1 3000); do
                [ "$(redis-cli -h "${a%:*}" -p "${a##*:}" ping 2>/dev/null)" = PONG ] && break
                sleep 0.01
            done
        done
        t1=$(now)
        echo "create $shards $(echo "$t1 - $t0" | bc)"
        api DELETE "/v1/bdbs/$uid" >/dev/null
        for _ in $(seq 1 3000); do api GET "/v1/bdbs/$uid" >/dev/null || break; sleep 0.05; done
    done
done | tee "$WORK/raw"
python3 - "$WORK/raw" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    _, shards, t = line.split()
    times.setdefault(int(shards), []).append(float(t))
print("shards  median_s  max_s")
for k in sorted(times):
    print(f"{k:<7} {statistics.median(times[k]):8.3f} {max(times[k]):6.3f}")
PY

echo "# REST: GET /v1/bdbs, $READERS connections, ${SECONDS_WRK}s"
wrk -t 2 -c "$READERS" -d "${SECONDS_WRK}s" --latency -H "authorization: Bearer $BEARER" "$URL/v1/bdbs" |
    sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
