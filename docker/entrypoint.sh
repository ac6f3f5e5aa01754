#!/bin/sh
# Entry point of the Tessera image: runs `tessera ARGS`. When /secrets is a
# volume, the cluster token and the admin password are generated there on
# first use (mode 0600) and exported, unless the environment gives them, so
# `docker compose up` is secure without any setup:
#   docker compose exec manager cat /secrets/admin-password
set -eu
dir=${TESSERA_SECRETS_DIR:-/secrets}
if [ -d "$dir" ] && [ -w "$dir" ]; then
    umask 077
    for name in cluster-token admin-password; do
        if [ ! -s "$dir/$name" ]; then
            head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$name.$$"
            mv -n "$dir/$name.$$" "$dir/$name" 2>/dev/null || true
            rm -f "$dir/$name.$$"
        fi
    done
    TESSERA_CLUSTER_TOKEN=${TESSERA_CLUSTER_TOKEN:-$(cat "$dir/cluster-token")}
    TESSERA_ADMIN_PASSWORD=${TESSERA_ADMIN_PASSWORD:-$(cat "$dir/admin-password")}
    TESSERA_PASSWORD=${TESSERA_PASSWORD:-$TESSERA_ADMIN_PASSWORD}
    export TESSERA_CLUSTER_TOKEN TESSERA_ADMIN_PASSWORD TESSERA_PASSWORD
fi
exec tessera "$@"
