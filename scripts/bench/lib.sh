# lib.sh — helpers shared by the benchmark scripts: free ports, starting and
# stopping throw-away servers, and the ratio summary. Sourced, not run.

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME DIR BINARY [args...] -> prints the port; records the pid in DIR/pid for stop_all
start_server() {
    local name=$1 dir=$2 bin=$3 port i; shift 3
    mkdir -p "$dir"
    port=$(free_port)
    "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" "$@" >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/pid"
    for i in $(seq 1 500); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && { echo "$port"; return 0; }
        sleep 0.02
    done
    echo "$name did not start; log:" >&2; cat "$dir/$name.log" >&2
    return 1
}

# stop_all DIR: stops every server started with a data dir under DIR
stop_all() {
    local f
    for f in "$1"/*/pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    wait 2>/dev/null || true
}

# proxy_bench NAME: the set-up of the single-proxy scripts (proxy-cpu, proxy-cost):
# WORK (a fresh dir, removed at exit with every server started and the proxy whose
# pid is in PROXY), SHARDS (3 tessera-node shards of NODE_BIN), PORT, and in WORK
# proxy.toml (database "bench" on PORT, one connection per shard) and nutcracker.yml
# (the same shards on PORT); more databases can be appended to proxy.toml
proxy_bench() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    PROXY=
    trap '[ -z "$PROXY" ] || kill "$PROXY" 2>/dev/null || true; stop_all "$WORK"; rm -rf "$WORK"' EXIT
    SHARDS=()
    local i
    for i in 1 2 3; do SHARDS+=("$(start_server shard$i "$WORK/shard$i" "$NODE_BIN")") || exit 1; done
    PORT=$(free_port)
    {
        echo "bind = \"127.0.0.1\""
        echo "backend_connections = 1"
        proxy_database_toml bench "$PORT" "" "${SHARDS[@]}"
    } >"$WORK/proxy.toml"
    nutcracker_yml "$PORT" "${SHARDS[@]}" >"$WORK/nutcracker.yml"
}

# proxy_shards_toml SHARD_PORT...: the [[databases.shards]] tables of a
# tessera-proxy database, equal slot ranges in port order
proxy_shards_toml() {
    local n=$# i=0 port
    for port in "$@"; do
        echo "[[databases.shards]]"
        echo "slots = [$((i * 16384 / n)), $(((i + 1) * 16384 / n - 1))]"
        echo "master = \"127.0.0.1:$port\""
        i=$((i + 1))
    done
}

# proxy_database_toml NAME PORT CERT_DIR SHARD_PORT...: a tessera-proxy
# [[databases]] table over the shards; TLS with CERT_DIR's certificate unless
# CERT_DIR is empty
proxy_database_toml() {
    local name=$1 port=$2 certs=$3; shift 3
    echo "[[databases]]"
    echo "name = \"$name\""
    echo "port = $port"
    echo "max_connections = 0"
    if [ -n "$certs" ]; then
        echo "tls_mode = \"enabled\""
        echo "tls = { cert_file = \"$certs/server.pem\", key_file = \"$certs/server.key\" }"
    fi
    proxy_shards_toml "$@"
}

# self_signed_cert DIR: DIR/server.pem and DIR/server.key for 127.0.0.1
self_signed_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$1/server.key" -out "$1/server.pem" >/dev/null 2>&1
}

# nutcracker_yml LISTEN_PORT SHARD_PORT...: twemproxy's config for the same
# shards, as ../shared/bench/compare-proxy.sh sets it up (one connection each)
nutcracker_yml() {
    local i=0 port
    echo "bench:"
    echo "  listen: 127.0.0.1:$1"
    echo "  hash: fnv1a_64"
    echo "  distribution: ketama"
    echo "  redis: true"
    echo "  preconnect: true"
    echo "  auto_eject_hosts: false"
    echo "  timeout: 5000"
    echo "  server_connections: 1"
    echo "  servers:"
    shift
    for port in "$@"; do echo "   - 127.0.0.1:$port:1 shard$i"; i=$((i + 1)); done
}

# summarize RAWFILE: lines "rN who TEST P ops p50 p99"
summarize() {
    awk '
    function med(s,   a, n, i, j, x) {
        n = split(s, a, " "); if (n == 0) return 0
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
        return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    NF >= 7 {
        k = $3 " " $4; keys[k] = 1; order[k] = order[k] ? order[k] : ++nk; name[nk] = k
        v[$2, k, $1] = $5; p50[$2, k] = p50[$2, k] " " $6; p99[$2, k] = p99[$2, k] " " $7
        ops[$2, k] = ops[$2, k] " " $5; rounds[$1] = 1
    }
    END {
        printf "%-6s %3s %10s %10s %6s %6s %6s %8s %8s %8s %8s\n", "test", "P", "redis", "tessera", "ratio", "r_min", "r_max", "p50_r", "p50_t", "p99_r", "p99_t"
        for (i = 1; i <= nk; i++) {
            k = name[i]; rs = ""; mn = 1e9; mx = 0
            for (r in rounds) if (v["redis", k, r] > 0 && v["tessera", k, r] > 0) {
                x = v["tessera", k, r] / v["redis", k, r]; rs = rs " " x
                if (x < mn) mn = x; if (x > mx) mx = x
            }
            ratio = med(rs); split(k, kp, " ")
            printf "%-6s %3s %10.0f %10.0f %6.2f %6.2f %6.2f %8.3f %8.3f %8.3f %8.3f\n", kp[1], kp[2], med(ops["redis", k]), med(ops["tessera", k]), ratio, mn, mx, med(p50["redis", k]), med(p50["tessera", k]), med(p99["redis", k]), med(p99["tessera", k])
            if (ratio > 0) { gl[kp[2]] += log(ratio); gn[kp[2]]++ }
        }
        for (p in gn) printf "GEOMEAN P=%s tessera/redis = %.3f over %d tests\n", p, exp(gl[p]/gn[p]), gn[p]
    }' "$1"
}
