#!/usr/bin/env bash
# compare-proxy.sh — cost of tessera-proxy: redis-benchmark SET, GET and MGET (10 keys)
# at -P 1 and -P 16 through tessera-proxy -> 3 tessera-node shards, through twemproxy
# (nutcracker) -> the same 3 shards, and against one shard directly, in one run,
# rotating the order per test so background load hits all three alike; and through
# tessera-proxy with TLS (a second endpoint on the same shards, redis-benchmark --tls),
# next to the anchor for TLS: one redis-server over plaintext and over TLS (its
# tls-port), which shows what TLS costs this client and machine without a proxy.
# Starts everything itself on free 127.0.0.1 ports (no persistence) and stops it at exit.
#
# Usage: scripts/bench/compare-proxy.sh
# Environment (all optional):
#   TESTS="set get mget"  PIPELINES="1 16"  ROUNDS=3  CLIENTS=50  DSIZE=64
#   KEYSPACE=100000  N1=100000 (requests per run at -P 1)  N16=400000 (at -P 16)
#   NUTCRACKER (default nutcracker)  BACKEND_CONNECTIONS=1 (tessera-proxy links per shard)
#   PROXY_THREADS=1 (tessera-proxy worker threads; twemproxy has one, and one
#   server connection per shard)
#   NODE_BIN / PROXY_BIN (default target/release/…, built if missing)
#   REDIS_SERVER (default redis-server; the TLS anchor)
# Output: raw lines "rN who TEST P ops p50 p99", then per test and depth the medians
#   over rounds: ops of direct, twemproxy, tessera-proxy and tessera-proxy over TLS,
#   the ratios tessera/twemproxy, tessera/direct and tls/tessera, p50 latencies (ms)
#   of direct, twemproxy and tessera, tessera's added p50 over direct (µs), and
#   redis-server's own tls/plaintext. TLS=0 leaves the TLS endpoints out.
set -euo pipefail
cd "$(dirname "$0")/../.."
TESTS=${TESTS:-"set get mget"}
PIPELINES=${PIPELINES:-"1 16"}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
DSIZE=${DSIZE:-64}
KEYSPACE=${KEYSPACE:-100000}
N1=${N1:-100000}
N16=${N16:-400000}
NUTCRACKER=${NUTCRACKER:-nutcracker}
BACKEND_CONNECTIONS=${BACKEND_CONNECTIONS:-1}
PROXY_THREADS=${PROXY_THREADS:-1}
TLS=${TLS:-1}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
PROXY_BIN=${PROXY_BIN:-target/release/tessera-proxy}
[ -x "$NODE_BIN" ] && [ -x "$PROXY_BIN" ] || cargo build --release -p tessera-node -p tessera-proxy --bins
command -v "$NUTCRACKER" >/dev/null || { echo "nutcracker not installed (apt-get install nutcracker)" >&2; exit 1; }

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/compare-proxy.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_all "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT

SHARD_PORTS=()
for i in 1 2 3; do
    SHARD_PORTS+=("$(start_server shard$i "$WORK/shard$i" "$NODE_BIN")") || exit 1
done
DIRECT=$(start_server direct "$WORK/direct" "$NODE_BIN") || exit 1
if [ "$TLS" = 1 ]; then
    self_signed_cert "$WORK"
    RS_TLS=$(free_port)
    RS=$(start_server redis "$WORK/redis" "$REDIS_SERVER" --tls-port "$RS_TLS" --tls-auth-clients no \
        --tls-cert-file "$WORK/server.pem" --tls-key-file "$WORK/server.key") || exit 1
fi

# tessera-proxy: three equal slot ranges; the same database over TLS on a second port
TP=$(free_port)
TLSP=$(free_port)
{
    echo "bind = \"127.0.0.1\""
    echo "backend_connections = $BACKEND_CONNECTIONS"
    proxy_database_toml bench "$TP" "" "${SHARD_PORTS[@]}"
    if [ "$TLS" = 1 ]; then
        proxy_database_toml bench-tls "$TLSP" "$WORK" "${SHARD_PORTS[@]}"
    fi
} >"$WORK/proxy.toml"
"$PROXY_BIN" --config "$WORK/proxy.toml" --check >/dev/null
RUST_LOG=warn "$PROXY_BIN" --config "$WORK/proxy.toml" --threads "$PROXY_THREADS" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)

# twemproxy: the set-up of ../shared/bench/compare-proxy.sh
NP=$(free_port); STATS=$(free_port)
nutcracker_yml "$NP" "${SHARD_PORTS[@]}" >"$WORK/nutcracker.yml"
"$NUTCRACKER" -c "$WORK/nutcracker.yml" -s "$STATS" -a 127.0.0.1 -o "$WORK/nutcracker.log" >/dev/null 2>&1 &
PIDS+=($!)

for port in "$TP" "$NP"; do
    for _ in $(seq 1 500); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
        sleep 0.02
    done
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || { echo "proxy on $port does not answer" >&2; exit 1; }
done
if [ "$TLS" = 1 ]; then
    for _ in $(seq 1 500); do
        [ "$(redis-cli -p "$TLSP" --tls --cacert "$WORK/server.pem" ping 2>/dev/null)" = PONG ] && break
        sleep 0.02
    done
fi
echo "# shards ${SHARD_PORTS[*]}; direct $DIRECT; tessera-proxy $TP (TLS $TLSP; $PROXY_THREADS thread(s), $BACKEND_CONNECTIONS link(s) per shard); twemproxy $NP ($("$NUTCRACKER" --version 2>&1 | head -1))"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"

MGET_ARGS=()
for _ in $(seq 1 10); do MGET_ARGS+=("key:__rand_int__"); done

run() { # PORT TEST PIPELINE [TLS options] -> "rps p50 p99"
    local n=$N1 args
    [ "$3" = 1 ] || n=$N16
    if [ "$2" = mget ]; then args=(mget "${MGET_ARGS[@]}"); else args=(-t "$2"); fi
    redis-benchmark -p "$1" "${@:4}" -c "$CLIENTS" -n "$n" -d "$DSIZE" -r "$KEYSPACE" -P "$3" --csv "${args[@]}" 2>/dev/null |
        awk -F, 'NR>1 {gsub(/"/,""); print $2, $5, $7; exit}'
}

RAW="$WORK/raw"
i=0
for r in $(seq 1 "$ROUNDS"); do
    for p in $PIPELINES; do
        for t in $TESTS; do
            i=$((i + 1))
            case $((i % 3)) in
                0) order="direct twemproxy tessera" ;;
                1) order="twemproxy tessera direct" ;;
                *) order="tessera direct twemproxy" ;;
            esac
            [ "$TLS" = 1 ] && order="$order tls redis redis-tls"
            for who in $order; do
                tls=()
                case $who in
                    direct) port=$DIRECT ;;
                    twemproxy) port=$NP ;;
                    tessera) port=$TP ;;
                    tls) port=$TLSP tls=(--tls --cacert "$WORK/server.pem") ;;
                    redis) port=$RS ;;
                    redis-tls) port=$RS_TLS tls=(--tls --cacert "$WORK/server.pem") ;;
                esac
                line="r$r $who $(echo "$t" | tr a-z A-Z) $p $(run "$port" "$t" "$p" "${tls[@]}")"
                echo "raw $line"
                echo "$line" >>"$RAW"
            done
        done
    done
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# twemproxy errors logged: $(grep -ciE 'error|fail' "$WORK/nutcracker.log" 2>/dev/null || true)"
awk '
function med(s,   a, n, i, j, x) {
    n = split(s, a, " "); if (n == 0) return 0
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
    return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
NF >= 7 {
    k = $3 " " $4; if (!(k in seen)) { seen[k] = 1; name[++nk] = k }
    ops[$2, k] = ops[$2, k] " " $5; p50[$2, k] = p50[$2, k] " " $6
}
END {
    printf "%-5s %3s %9s %9s %9s %9s %7s %8s %7s %8s %8s %8s %7s %9s\n", "test", "P", "direct", "twemproxy", "tessera", "tls", "t/twem", "t/direct", "tls/t", "p50_dir", "p50_twem", "p50_tes", "+p50us", "rs_tls/rs"
    for (i = 1; i <= nk; i++) {
        k = name[i]; split(k, kp, " ")
        d = med(ops["direct", k]); w = med(ops["twemproxy", k]); t = med(ops["tessera", k]); s = med(ops["tls", k])
        r = med(ops["redis", k]); rt = med(ops["redis-tls", k])
        printf "%-5s %3s %9.0f %9.0f %9.0f %9.0f %7.2f %8.2f %7.2f %8.3f %8.3f %8.3f %7.0f %9.2f\n", kp[1], kp[2], d, w, t, s, (w > 0 ? t / w : 0), (d > 0 ? t / d : 0), (t > 0 ? s / t : 0), med(p50["direct", k]), med(p50["twemproxy", k]), med(p50["tessera", k]), (med(p50["tessera", k]) - med(p50["direct", k])) * 1000, (r > 0 ? rt / r : 0)
    }
}' "$RAW"
