//! Persistence: RDB snapshots in Redis 7.0's format.
//!
//! - [`rdb`]: the pure encoder/decoder (files and DUMP payloads);
//!   [`lzf`] and [`crc64`]: its compression and checksum.
//! - [`snapshot`]: files on disk (atomic writes, load at start-up) and
//!   the server's save state (SAVE, BGSAVE in a forked child, save points).
//! - [`fork`]: the one place with `unsafe` (fork, waitpid, `_exit`).

pub mod crc64;
pub mod fork;
pub mod lzf;
pub mod rdb;
pub mod snapshot;
