#!/usr/bin/env bash
# proxy-cpu.sh — what a proxy costs the machine, not just how fast it goes:
# CPU time (user + system) and voluntary context switches of twemproxy
# (nutcracker) and of tessera-proxy with 1 and with 2 worker threads, each
# in front of the same 3 tessera-node shards with one connection per shard,
# while redis-benchmark runs SET and GET at -P 1 through it.
#
# Usage: scripts/bench/proxy-cpu.sh
# Environment (optional): N=100000 (requests per test)  CLIENTS=50
#   NUTCRACKER (default nutcracker)  NODE_BIN / PROXY_BIN (default target/release/…)
# Output: one line per proxy: cpu_s, ctxt (context switches), ops/s of SET and GET.
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
WORK=$(mktemp -d /tmp/proxy-cpu.XXXXXX)
PROXY=
cleanup() {
    [ -z "$PROXY" ] || kill "$PROXY" 2>/dev/null || true
    stop_all "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT

SHARDS=()
for i in 1 2 3; do SHARDS+=("$(start_server shard$i "$WORK/shard$i" "$NODE_BIN")") || exit 1; done
PORT=$(free_port)
{
    echo "bind = \"127.0.0.1\""
    echo "backend_connections = 1"
    echo "[[databases]]"
    echo "name = \"bench\""
    echo "port = $PORT"
    echo "max_connections = 0"
    proxy_shards_toml "${SHARDS[@]}"
} >"$WORK/proxy.toml"
nutcracker_yml "$PORT" "${SHARDS[@]}" >"$WORK/nutcracker.yml"

ctxt() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-22s %7s %8s %9s %9s\n" proxy cpu_s ctxt set_ops get_ops
for who in twemproxy tessera-1 tessera-2; do
    case $who in
        twemproxy) "$NUTCRACKER" -c "$WORK/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$WORK/nutcracker.log" >/dev/null 2>&1 & ;;
        tessera-*) RUST_LOG=warn "$PROXY_BIN" --config "$WORK/proxy.toml" --threads "${who#tessera-}" >"$WORK/proxy.log" 2>&1 & ;;
    esac
    PROXY=$!
    for _ in $(seq 1 500); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.02; done
    c0=$(ctxt "$PROXY"); t0=$(ticks "$PROXY")
    ops=$(redis-benchmark -p "$PORT" -c "$CLIENTS" -n "$N" -r 100000 -t set,get --csv 2>/dev/null |
        awk -F, 'NR > 1 {gsub(/"/, ""); printf "%s ", $2}')
    c1=$(ctxt "$PROXY"); t1=$(ticks "$PROXY")
    kill "$PROXY"; wait "$PROXY" 2>/dev/null || true; PROXY=
    read -r set get <<<"$ops"
    printf "%-22s %7.2f %8d %9.0f %9.0f\n" "$who" "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)" $((c1 - c0)) "$set" "$get"
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
