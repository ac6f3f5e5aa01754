#!/usr/bin/env bash
# Builds, without any image registry, the two base images the Dockerfile
# starts from, under the names a registry would give them:
#   debian:bookworm-slim       Debian bookworm (debootstrap --variant=minbase)
#   rust:1-slim-bookworm       the same plus gcc, this machine's Rust toolchain
#                              and its CA certificates
# An image that already exists is kept. A machine whose Docker can pull
# images does not need this script.
#
# Usage: scripts/docker-base.sh   (root, needs debootstrap: apt-get install debootstrap)
set -euo pipefail

MIRROR=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /var/tmp/tessera-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! command -v debootstrap >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

if ! have debian:bookworm-slim; then
    echo "== debian:bookworm-slim (debootstrap from $MIRROR)"
    debootstrap --variant=minbase bookworm "$work/debian" "$MIRROR" >"$work/debian.log" \
        || { tail -20 "$work/debian.log"; exit 1; }
    rm -rf "$work/debian"/var/cache/apt/archives/*.deb "$work/debian"/var/lib/apt/lists/*
    tar -C "$work/debian" -c . | docker import - debian:bookworm-slim >/dev/null
fi

if ! have rust:1-slim-bookworm; then
    echo "== rust:1-slim-bookworm (bookworm + gcc + $(rustc --version))"
    debootstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates bookworm "$work/rust" "$MIRROR" \
        >"$work/rust.log" || { tail -20 "$work/rust.log"; exit 1; }
    rm -rf "$work/rust"/var/cache/apt/archives/*.deb "$work/rust"/var/lib/apt/lists/*
    sysroot=$(rustc --print sysroot)
    mkdir -p "$work/rust/usr/local/rust/lib" "$work/rust/usr/local/cargo/bin"
    cp -a "$sysroot/bin" "$work/rust/usr/local/rust/"
    cp -a "$sysroot"/lib/lib* "$work/rust/usr/local/rust/lib/"
    mkdir -p "$work/rust/usr/local/rust/lib/rustlib"
    cp -a "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu" "$work/rust/usr/local/rust/lib/rustlib/"
    # The machine's trust store: crates.io may be reached through a local CA.
    cp /etc/ssl/certs/ca-certificates.crt "$work/rust/etc/ssl/certs/ca-certificates.crt"
    for b in cargo rustc rustdoc; do ln -s "/usr/local/rust/bin/$b" "$work/rust/usr/local/cargo/bin/$b"; done
    tar -C "$work/rust" -c . | docker import \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - rust:1-slim-bookworm >/dev/null
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(debian:bookworm-slim|rust:1-slim-bookworm) '
