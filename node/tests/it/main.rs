//! Integration tests of `tessera-node`: real server processes, compared with
//! the reference `redis-server` where possible.
//!
//! - [`support`]: starting servers on free ports, a raw RESP client.
//! - [`agent`]: `tessera-agent` supervising real shards, with a stand-in
//!   manager; `/metrics` checked by `promtool`.
//! - [`aof`]: the append-only file and the propagated stream against
//!   redis-server, redis-check-aof, kill -9 and truncated files.
//! - [`diff`]: differential command scripts (`node/tests/scripts/*.txt`).
//! - [`protocol`]: raw and malformed protocol input, pipelining.
//! - [`random`]: seeded random command streams.
//! - [`clients`]: redis-cli, redis-benchmark and the `redis` crate.
//! - [`keys`]: full SCAN walks while the keyspace resizes.
//! - [`server`]: INFO, live CONFIG SET limits, AUTH, CLIENT KILL/PAUSE,
//!   MONITOR, SLOWLOG, SHUTDOWN, redis-cli interactive, redis-benchmark.
//! - [`sets`]: properties of SPOP, SRANDMEMBER and SSCAN walks.
//! - [`zsets`]: properties of ZRANDMEMBER, ZSCAN walks, a large sorted set
//!   against redis-server.
//! - [`blocking`]: blocking list and sorted-set pops between connections,
//!   CLIENT UNBLOCK.
//! - [`pubsub`]: pub/sub and keyspace notifications frame by frame, slow
//!   subscribers, the `redis` crate's async pub/sub.
//! - [`multi`]: seeded random interleavings of WATCH/MULTI/EXEC between
//!   connections.
//! - [`digest`]: DEBUG DIGEST and DIGEST-VALUE against redis-server.
//! - [`persistence`]: RDB files and DUMP payloads exchanged with
//!   redis-server and redis-check-rdb, BGSAVE, MISCONF, a crash during BGSAVE.
//! - [`eviction`]: maxmemory policies under write load, OOM errors, LRU/LFU
//!   and TTL eviction order.
//! - [`replication`]: master–replica replication with redis-server on either
//!   side, chains, PSYNC2 promotions, WAIT, min-replicas-to-write, a hostile
//!   master.
//!
//! Run with `cargo test -p tessera-node --test it`. Tests that need
//! `redis-server` print `skipping: redis-server not installed` and pass
//! when it is missing (`scripts/test.sh` installs it).

#[macro_use]
mod support;
mod agent;
mod aof;
mod blocking;
mod clients;
mod diff;
mod digest;
mod eviction;
mod hashes;
mod keys;
mod multi;
mod persistence;
mod protocol;
mod pubsub;
mod random;
mod replication;
mod server;
mod sets;
mod zsets;
