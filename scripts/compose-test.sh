#!/usr/bin/env bash
# Tests the container images end to end: builds the base images when they
# are missing (no registry needed, scripts/docker-base.sh) and the Tessera
# image, starts docker-compose.yml, waits for every healthcheck, creates a
# database through the REST API (with the admin CLI in the manager's
# container), writes and reads through the proxy with redis-cli, kills the
# node container of the database's master and checks the data is served
# again, then removes everything (docker compose down -v).
#
# Failover is required: the data must be served again without that node.
# TESSERA_EXPECT_FAILOVER=0 accepts a database that is down until the node
# is back instead: the script then says so, starts the node again and checks
# the data came back with it.
#
# The image is built from this checkout's debug build of `tessera` (copied
# into docker/prebuilt/, which the Dockerfile uses when present): a release
# build inside Docker takes longer than CI allows on 2 cores.
# TESSERA_IMAGE_FROM_SOURCE=1 builds it in Docker as a user's `docker compose
# build` does.
#
# Usage: scripts/compose-test.sh     (host ports: 28080, 29115, 22000-22019)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
export COMPOSE_PROJECT_NAME=tessera-compose-test
export TESSERA_HTTP_PORT=28080 TESSERA_METRICS_PORT=29115 TESSERA_DB_PORTS=22000-22019
DB_PORT=22000

step() { printf '== %s (%ds)\n' "$*" $((SECONDS - started)); }
fail() { echo "FAIL: $*" >&2; "${compose[@]}" ps >&2 || true; "${compose[@]}" logs --tail 30 >&2 || true; exit 1; }
cleanup() {
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf docker/prebuilt
}
trap cleanup EXIT
tessera() { "${compose[@]}" exec -T manager docker-entrypoint "$@"; }
get() { redis-cli -p "$DB_PORT" GET "$1" 2>/dev/null || true; }
# Polls a shell condition for up to $1 seconds.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 1
    done
}

command -v redis-cli >/dev/null || fail "redis-cli is needed (apt-get install redis-tools)"
for image in debian:bookworm-slim rust:1-slim-bookworm; do
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        step "base images"
        scripts/docker-base.sh
        break
    fi
done

cleanup
if [ "${TESSERA_IMAGE_FROM_SOURCE:-0}" != 1 ]; then
    step "cargo build --bin tessera"
    cargo build -q --bin tessera
    install -D target/debug/tessera docker/prebuilt/tessera
fi
step "build the image"
"${compose[@]}" build -q manager
rm -rf docker/prebuilt
step "start the cluster"
"${compose[@]}" up -d

healthy() {
    local ids status
    ids=$("${compose[@]}" ps -q)
    [ "$(echo "$ids" | wc -w)" -eq 5 ] || return 1
    for id in $ids; do
        status=$(docker inspect --format '{{.State.Health.Status}}' "$id")
        [ "$status" = healthy ] || return 1
    done
}
wait_for 300 "health" healthy || fail "the containers did not become healthy"
nodes_active() { [ "$(tessera node list | grep -c ' active ')" -eq 3 ]; }
wait_for 120 "nodes" nodes_active || fail "3 active nodes expected"
step "all 5 containers healthy, 3 nodes active"

tessera db create compose --port 12000 --replication true --persistence aof >/dev/null \
    || fail "cannot create the database"
db_active() { tessera db show compose --json | grep -q '"status": "active"'; }
wait_for 120 "database" db_active || fail "the database did not become active"
step "database created through REST: active"

pong() { [ "$(redis-cli -p "$DB_PORT" PING 2>/dev/null)" = PONG ]; }
wait_for 60 "endpoint" pong || fail "the endpoint on port $DB_PORT does not answer PING"
for i in $(seq 1 100); do echo "SET key:$i value:$i"; done | redis-cli -p "$DB_PORT" >/dev/null
[ "$(redis-cli -p "$DB_PORT" DBSIZE)" = 100 ] || fail "100 keys expected after writing them"
[ "$(get key:42)" = value:42 ] || fail "cannot read back key:42"
step "wrote 100 keys and read them back through the proxy"

# The node container of the master shard.
master_node=$(tessera status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
db = next(b["uid"] for b in s["bdbs"] if b["name"] == "compose")
node = next(x["node_uid"] for x in s["shards"] if x["bdb_uid"] == db and x["role"] == "master")
print(next(n["addr"] for n in s["nodes"] if n["uid"] == node))')
step "killing $master_node (it runs the master shard)"
"${compose[@]}" kill "$master_node" >/dev/null
served() { [ "$(get key:42)" = value:42 ]; }
if wait_for 60 "failover" served; then
    [ "$(redis-cli -p "$DB_PORT" DBSIZE)" = 100 ] || fail "keys lost in the failover"
    step "after losing $master_node the data is served (failover)"
else
    [ "${TESSERA_EXPECT_FAILOVER:-1}" = 1 ] && fail "no failover: the data is not served without $master_node"
    step "NOT CHECKED (TESSERA_EXPECT_FAILOVER=0): the database is down without $master_node"
    "${compose[@]}" start "$master_node" >/dev/null
    wait_for 120 "restart" served || fail "the data is not served after $master_node came back"
    [ "$(redis-cli -p "$DB_PORT" DBSIZE)" = 100 ] || fail "keys lost across the node's restart"
    step "$master_node restarted: all 100 keys served again (AOF)"
fi

step "docker compose down -v"
cleanup
trap - EXIT
echo "compose test passed in $((SECONDS - started)) s"
