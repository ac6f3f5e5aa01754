#!/usr/bin/env bash
# schemathesis.sh — property-based tests of the REST API against its own
# OpenAPI document (/v1/openapi.json): schemathesis generates valid and invalid
# requests for every operation and fails on a 500, or on a status code, content
# type or body that the document does not describe. Starts a tessera-manager on
# a free port with a throw-away data dir and stops it at exit.
#
# Usage: scripts/schemathesis.sh
# Environment (optional): MAX_TIME=120 (seconds of generation)
#   MANAGER_BIN (default: target/debug/tessera-manager, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_TIME=${MAX_TIME:-120}
MANAGER_BIN=${MANAGER_BIN:-target/debug/tessera-manager}
VERSION=4.32.5
[ "$(schemathesis --version 2>/dev/null)" = "schemathesis, version $VERSION" ] ||
    pip install -q "schemathesis==$VERSION"
[ -x "$MANAGER_BIN" ] || cargo build --bin tessera-manager

. scripts/bench/lib.sh
WORK=$(mktemp -d /tmp/tessera-schemathesis.XXXXXX)
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
PASSWORD=schemathesis-admin-password
TESSERA_CLUSTER_TOKEN=schemathesis-token TESSERA_ADMIN_PASSWORD=$PASSWORD RUST_LOG=warn \
    "$MANAGER_BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/manager" >"$WORK/manager.log" 2>&1 &
MANAGER=$!
trap 'rc=$?; [ $rc -eq 0 ] || tail -20 "$WORK/manager.log" >&2; kill $MANAGER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 500); do curl -sf "$URL/v1/openapi.json" >/dev/null && break; sleep 0.02; done

# A 500 or an undocumented answer fails the run; so does the manager dying.
# Run from the throw-away dir: schemathesis keeps a cache in the working directory.
# One worker: with two threads, CPython 3.11's ast module can race inside
# hypothesis's description of a strategy and abort the run with "SystemError:
# AST constructor recursion depth mismatch" (python/cpython#106905), a failure
# of the tool, not of the API.
(cd "$WORK" && schemathesis run "$URL/v1/openapi.json" --auth "admin:$PASSWORD" --max-time "$MAX_TIME" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --workers 1 --request-timeout 30 --seed 1)
kill -0 $MANAGER || { echo "tessera-manager died during the run" >&2; exit 1; }
