#!/usr/bin/env bash
# console.sh — server-side render time of the web console's pages with 100
# databases, against the REST API's JSON list of the same databases (the anchor:
# same data, same handlers, no HTML) in the same run. Starts a tessera-manager
# (release build) on a free port with a temporary data dir, registers two
# stand-in nodes (heartbeats from this script, no shards running), creates the
# databases through the REST API, signs in to the console with curl, then times
# interleaved GETs over loopback HTTP (curl's time_total: request parsing,
# handlers, rendering, loopback transfer).
#
# Usage: scripts/bench/console.sh
# Environment (all optional): DBS=100  N=50 (requests per page)
#   MANAGER_BIN (default: target/release/tessera-manager, built if missing)
# Output: per page the median and p90 in ms and the ratio to the anchor's median.
set -euo pipefail
cd "$(dirname "$0")/../.."
DBS=${DBS:-100}
N=${N:-50}
MANAGER_BIN=${MANAGER_BIN:-target/release/tessera-manager}
[ -x "$MANAGER_BIN" ] || cargo build --release --bin tessera-manager

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-bench-console.XXXXXX)
TOKEN=bench-cluster-token
PASSWORD=bench-admin-password
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
TESSERA_CLUSTER_TOKEN=$TOKEN TESSERA_ADMIN_PASSWORD=$PASSWORD RUST_LOG=error \
    "$MANAGER_BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/manager" >"$WORK/manager.log" 2>&1 &
MANAGER=$!
BEAT=
trap 'rc=$?; [ $rc -eq 0 ] || tail -5 "$WORK/manager.log" >&2; kill $MANAGER ${BEAT:+$BEAT} 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 500); do curl -sf "$URL/console/login" >/dev/null && break; sleep 0.02; done
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg); $DBS databases, $N requests per page"

internal() { curl -sf -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' "$URL$1" -d "$2"; }
# Two stand-in nodes, so replicated databases have somewhere to put replicas.
NODES=
for n in 1 2; do
    NODES="$NODES $(internal /v1/internal/nodes "{\"addr\":\"127.0.0.$n\",\"agent_url\":\"http://127.0.0.$n:9\",
      \"version\":\"bench\",\"total_memory\":1099511627776,\"cores\":2,\"free_disk\":1099511627776,
      \"shard_ports\":[30000,39999]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')"
done
beat() { for n in $NODES; do internal "/v1/internal/nodes/$n/heartbeat" \
  '{"node":{"cpu_percent":5,"used_memory":1000,"free_disk":1000000},"shards":[]}' >/dev/null; done; }
beat
(while sleep 1; do beat || true; done) &
BEAT=$!

BEARER=$(curl -sf -X POST -H 'content-type: application/json' "$URL/v1/users/authorize" \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for i in $(seq 1 "$DBS"); do
    curl -sf -X POST -H "authorization: Bearer $BEARER" -H 'content-type: application/json' "$URL/v1/bdbs" \
        -d "{\"name\":\"db$i\",\"memory_size\":104857600,\"replication\":true,\"shards_count\":2}" \
        >/dev/null || { echo "cannot create db$i" >&2; exit 1; }
done

JAR=$WORK/cookies
CSRF=$(curl -sf -c "$JAR" "$URL/console/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
curl -sf -b "$JAR" -c "$JAR" -o /dev/null "$URL/console/login" \
    --data-urlencode "csrf=$CSRF" --data-urlencode username=admin --data-urlencode "password=$PASSWORD"
LISTED=$(curl -sf -b "$JAR" "$URL/console/databases")
case $LISTED in *"db$DBS<"*) ;; *) echo "the console does not list db$DBS" >&2; exit 1 ;; esac

PAGES="/v1/bdbs /console /console/databases /console/databases/1"
for _ in $(seq 1 "$N"); do
    for p in $PAGES; do
        if [ "$p" = /v1/bdbs ]; then auth=(-H "authorization: Bearer $BEARER"); else auth=(-b "$JAR"); fi
        t=$(curl -sf "${auth[@]}" -o /dev/null -w '%{time_total}' "$URL$p")
        echo "$p $t"
    done
done >"$WORK/raw"
awk -v anchor=/v1/bdbs '
    { t[$1] = t[$1] " " $2 * 1000 }
    function sorted(s, a,   n, i, j, x) {
        n = split(s, a, " ")
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
        return n
    }
    END {
        n = sorted(t[anchor], a); base = a[int((n+1)/2)]
        printf "%-24s %9s %9s %8s\n", "page", "p50_ms", "p90_ms", "ratio"
        split("/v1/bdbs /console /console/databases /console/databases/1", order, " ")
        for (k = 1; k <= 4; k++) {
            p = order[k]; n = sorted(t[p], a)
            printf "%-24s %9.1f %9.1f %8.2f\n", p, a[int((n+1)/2)], a[int(n*0.9)], a[int((n+1)/2)] / base
        }
    }' "$WORK/raw"
