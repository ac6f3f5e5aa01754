#!/usr/bin/env bash
# replication.sh — master→replica replication of tessera-node against a
# redis-server master→replica pair, in the same run:
#   - full sync time of KEYS string keys (REPLICAOF until the replica's link
#     is up with every key loaded), diskless on both sides, no sync delay;
#   - replication lag (master_repl_offset − the replica's offset, bytes),
#     sampled every 5 ms while redis-benchmark runs SET on the master
#     (50 clients, pipeline 16, 64-byte values): p50, p99, max;
#   - the benchmark's throughput.
# Prints one line per measure with the tessera/redis ratio.
#
# Usage: scripts/bench/replication.sh      (KEYS=1000000, SETS=2000000 by default)
# Needs redis-server, redis-cli, redis-benchmark, python3; builds tessera-node (release).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
KEYS=${KEYS:-1000000}
SETS=${SETS:-2000000}
cd "$HERE/../.."
cargo build --release -q -p tessera-node
TESSERA=$PWD/target/release/tessera-node
WORK=$(mktemp -d /tmp/replication-bench.XXXXXX)
trap 'stop_all "$WORK"; rm -rf "$WORK"' EXIT

python3 - "$KEYS" >"$WORK/data.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    k, v = b"key:%012d" % i, b"value-%d-" % i + b"x" * (i % 40)
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY

now() { date +%s.%N; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else 'n/a')"; }

# lag MASTER_PORT REPLICA_PORT -> "p50 p99 max ops": samples the offsets while
# redis-benchmark writes to the master.
lag() {
    python3 - "$1" "$2" "$SETS" <<'PY'
import socket, subprocess, sys, time
mport, rport, sets = sys.argv[1], sys.argv[2], sys.argv[3]
def conn(port):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
def info(s, field):
    s.sendall(b"INFO replication\r\n")
    data = b""
    while True:
        data += s.recv(65536)
        head, _, rest = data.partition(b"\r\n")
        if len(rest) >= int(head[1:]) + 2:
            break
    for line in rest.decode().split("\r\n"):
        if line.startswith(field + ":"):
            return int(line.split(":")[1])
m, r = conn(mport), conn(rport)
bench = subprocess.Popen(["redis-benchmark", "-p", mport, "-t", "set", "-n", sets, "-c", "50",
                          "-P", "16", "-d", "64", "-r", "1000000", "-q", "--csv"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
lags = []
while bench.poll() is None:
    mo = info(m, "master_repl_offset")
    ro = info(r, "slave_repl_offset")
    lags.append(max(mo - ro, 0))
    time.sleep(0.005)
out = bench.stdout.read()
ops = next((l.split('","')[1] for l in out.splitlines() if l.startswith('"SET"')), "0")
lags.sort()
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else 0
print(pick(0.5), pick(0.99), lags[-1] if lags else 0, ops.strip('"'))
PY
}

declare -A R
for who in redis tessera; do
    bin=redis-server; [ "$who" = tessera ] && bin=$TESSERA
    opts=(--repl-diskless-sync yes --repl-diskless-sync-delay 0)
    mport=$(start_server "$who-master" "$WORK/$who-master" "$bin" "${opts[@]}")
    rport=$(start_server "$who-replica" "$WORK/$who-replica" "$bin" "${opts[@]}")
    redis-cli -p "$mport" --pipe <"$WORK/data.resp" >/dev/null
    keys=$(redis-cli -p "$mport" dbsize)
    t0=$(now)
    redis-cli -p "$rport" replicaof 127.0.0.1 "$mport" >/dev/null
    until redis-cli -p "$rport" info replication | grep -q 'master_link_status:up' &&
        [ "$(redis-cli -p "$rport" dbsize)" = "$keys" ]; do sleep 0.01; done
    t1=$(now)
    R[$who.sync_secs]=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
    read -r p50 p99 max ops < <(lag "$mport" "$rport")
    R[$who.lag_p50_bytes]=$p50
    R[$who.lag_p99_bytes]=$p99
    R[$who.lag_max_bytes]=$max
    R[$who.set_ops_per_sec]=$ops
    # The replica must end up with the master's data.
    until [ "$(redis-cli -p "$rport" dbsize)" = "$(redis-cli -p "$mport" dbsize)" ]; do sleep 0.05; done
    kill "$(cat "$WORK/$who-master/pid")" "$(cat "$WORK/$who-replica/pid")"
    rm -f "$WORK/$who-master/pid" "$WORK/$who-replica/pid"
done

printf '%-18s %14s %14s %8s\n' measure redis tessera ratio
for m in sync_secs lag_p50_bytes lag_p99_bytes lag_max_bytes set_ops_per_sec; do
    printf '%-18s %14s %14s %8s\n' "$m" "${R[redis.$m]}" "${R[tessera.$m]}" "$(ratio "${R[tessera.$m]}" "${R[redis.$m]}")"
done
