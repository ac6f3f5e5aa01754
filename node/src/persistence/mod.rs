//! Persistence: the append-only file and the child processes that write
//! snapshots of the dataset. Encoding and decoding live here; the server
//! decides when they run.

pub mod aof;
pub mod fork;
