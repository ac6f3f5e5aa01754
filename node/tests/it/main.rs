//! Integration tests of `tessera-node`: real server processes, compared with
//! the reference `redis-server` where possible.
//!
//! - [`support`]: starting servers on free ports, a raw RESP client.
//! - [`diff`]: differential command scripts (`node/tests/scripts/*.txt`).
//! - [`protocol`]: raw and malformed protocol input, pipelining.
//! - [`random`]: seeded random command streams.
//! - [`clients`]: redis-cli, redis-benchmark and the `redis` crate.
//! - [`keys`]: full SCAN walks while the keyspace resizes.
//!
//! Run with `cargo test -p tessera-node --test it`. Tests that need
//! `redis-server` print `skipping: redis-server not installed` and pass
//! when it is missing (`scripts/test.sh` installs it).

#[macro_use]
mod support;
mod clients;
mod diff;
mod keys;
mod protocol;
mod random;
