//! Persistence: RDB snapshots and the append-only file, in Redis 7.0's
//! formats. Encoding and decoding live here; the server decides when they run.
//!
//! - [`rdb`]: the pure encoder/decoder (files and DUMP payloads);
//!   [`lzf`] and [`crc64`]: its compression and checksum.
//! - [`snapshot`]: files on disk (atomic writes, load at start-up) and
//!   the server's save state (SAVE, BGSAVE in a forked child, save points).
//! - [`aof`]: the multi-part append-only file (manifest, base and
//!   incremental files, fsync policies, loading, BGREWRITEAOF).
//! - [`loading`]: the start-up load, while clients get `-LOADING`.
//! - [`digest`]: DEBUG DIGEST's dataset digest, as Redis computes it.
//! - [`fork`]: the one place with `unsafe` (fork, waitpid, `_exit`).

pub mod aof;
pub mod crc64;
pub mod digest;
pub mod fork;
pub mod loading;
pub mod lzf;
pub mod rdb;
pub mod snapshot;

/// Why writes are refused, as the error reply (Redis's
/// `writeCommandsDeniedByDiskError`): the last RDB save failed (with
/// `stop-writes-on-bgsave-error` and save points), or the AOF cannot be
/// written or fsynced.
pub fn disk_error(server: &crate::server::Server) -> Option<String> {
    if snapshot::denies_writes(server) {
        return Some(snapshot::MISCONF.to_owned());
    }
    aof::write_error(server)
}
