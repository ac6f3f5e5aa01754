//! Integration tests of `tessera-proxy`: three real `tessera-node` shards
//! behind a real proxy process.
//!
//! - [`support`]: processes on free ports, a raw RESP client.
//! - [`routing`]: differential pipelines (proxy vs one node), cross-shard
//!   multi-key commands, fan-out, unsupported commands.
//! - [`transactions`]: MULTI/EXEC/WATCH on one slot, CROSSSLOT.
//! - [`blocking`]: blocking pops woken by other clients.
//! - [`pubsub`]: classic and sharded pub/sub across connections and shards.
//! - [`replicas`]: `read_policy = "replica"` with a real master and replica.
//! - [`auth`]: AUTH, HELLO, RESP3, password hashes.
//! - [`tls`]: TLS endpoints with redis-cli and client certificates.
//! - [`hostile`]: malformed input, limits, clients that never read.
//! - [`manager`]: following a topology endpoint, master switch.
//! - [`cli`]: `--check`, `--help`, `/metrics`.

#[macro_use]
mod support;
mod auth;
mod blocking;
mod cli;
mod hostile;
mod manager;
mod pubsub;
mod replicas;
mod routing;
mod tls;
mod transactions;
