#!/usr/bin/env bash
# failover.sh — high availability figures of a managed cluster (a manager,
# three agents, a proxy, a 2-shard replicated database) on this machine,
# for an `async` and a `sync` database:
#   - time from SIGKILL of a master shard to the first acknowledged write
#     through the proxy, over HA_KILLS kills (p50, p99, max), and the
#     acknowledged writes lost (0 expected for sync);
#   - SET throughput and latency through the proxy (redis-benchmark, 50
#     clients), sync against async in the same run.
#
# Usage: scripts/bench/failover.sh          (HA_KILLS=20 by default)
# Needs redis-cli and redis-benchmark; builds the workspace (release).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.."
export HA_KILLS=${HA_KILLS:-20}
cargo build --release -q -p tessera-node --bins -p tessera-proxy
OUT=$(mktemp /tmp/failover-bench.XXXXXX)
trap 'rm -f "$OUT"' EXIT
if ! cargo test --release -q -p tessera-manager --test it ha::failover_benchmark -- --ignored --nocapture >"$OUT" 2>&1; then
    tail -n 40 "$OUT"
    exit 1
fi
grep -E '^(async|sync):' "$OUT"
