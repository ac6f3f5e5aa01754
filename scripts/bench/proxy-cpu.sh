#!/usr/bin/env bash
# proxy-cpu.sh — what a proxy costs the machine, not just how fast it goes:
# CPU time (user + system) and voluntary context switches of twemproxy
# (nutcracker) and of tessera-proxy with 1 and with 2 worker threads, and
# with 1 over TLS, each in front of the same 3 tessera-node shards with one
# connection per shard, while redis-benchmark runs SET and GET at -P 1
# through it. redis-benchmark's own CPU time is measured too: over TLS the
# single-threaded client can be what limits the rate.
#
# Usage: scripts/bench/proxy-cpu.sh
# Environment (optional): N=100000 (requests per test)  CLIENTS=50
#   NUTCRACKER (default nutcracker)  NODE_BIN / PROXY_BIN (default target/release/…)
# Output: one line per proxy: its CPU seconds and microseconds per request,
#   its voluntary context switches, the client's CPU seconds and
#   microseconds per request, ops/s of SET and GET.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}
CLIENTS=${CLIENTS:-50}
NUTCRACKER=${NUTCRACKER:-nutcracker}
NODE_BIN=${NODE_BIN:-target/release/tessera-node}
PROXY_BIN=${PROXY_BIN:-target/release/tessera-proxy}
[ -x "$NODE_BIN" ] && [ -x "$PROXY_BIN" ] || cargo build --release -p tessera-node -p tessera-proxy --bins
command -v "$NUTCRACKER" >/dev/null || { echo "nutcracker not installed (apt-get install nutcracker)" >&2; exit 1; }

. scripts/bench/lib.sh
proxy_bench proxy-cpu
TLS_PORT=$(free_port)
self_signed_cert "$WORK"
proxy_database_toml bench-tls "$TLS_PORT" "$WORK" "${SHARDS[@]}" >>"$WORK/proxy.toml"

ctxt() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

us_per_req() { echo "$1 * 1000000 / (2 * $N)" | bc -l; }
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-14s %7s %8s %8s %9s %10s %9s %9s\n" proxy cpu_s us_req ctxt client_s client_us set_ops get_ops
for who in twemproxy tessera-1 tessera-2 tessera-1-tls; do
    port=$PORT tls=()
    case $who in
        twemproxy) "$NUTCRACKER" -c "$WORK/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$WORK/nutcracker.log" >/dev/null 2>&1 & ;;
        tessera-1-tls) port=$TLS_PORT tls=(--tls --cacert "$WORK/server.pem") ;&
        tessera-*)
            threads=${who#tessera-}
            RUST_LOG=warn "$PROXY_BIN" --config "$WORK/proxy.toml" --threads "${threads%-tls}" >"$WORK/proxy.log" 2>&1 &
            ;;
    esac
    PROXY=$!
    for _ in $(seq 1 500); do [ "$(redis-cli -p "$port" "${tls[@]}" ping 2>/dev/null)" = PONG ] && break; sleep 0.02; done
    c0=$(ctxt "$PROXY"); t0=$(ticks "$PROXY")
    # bash's `time`: the client's user + system seconds on the last line of $out
    out=$({ TIMEFORMAT='%U %S'; time redis-benchmark -p "$port" "${tls[@]}" -c "$CLIENTS" -n "$N" -r 100000 -t set,get --csv 2>/dev/null; } 2>&1)
    c1=$(ctxt "$PROXY"); t1=$(ticks "$PROXY")
    kill "$PROXY"; wait "$PROXY" 2>/dev/null || true; PROXY=
    read -r set get <<<"$(echo "$out" | awk -F, '/^"[A-Z]/ {gsub(/"/, ""); printf "%s ", $2}')"
    client=$(echo "$out" | tail -1 | awk '{print $1 + $2}')
    cpu=$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)
    printf "%-14s %7.2f %8.1f %8d %9.2f %10.1f %9.0f %9.0f\n" "$who" "$cpu" "$(us_per_req "$cpu")" $((c1 - c0)) \
        "$client" "$(us_per_req "$client")" "$set" "$get"
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
