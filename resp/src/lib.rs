//! The Redis serialization protocol (RESP2 and RESP3) for Tessera, plus the
//! Redis Cluster hash-slot function.
//!
//! The crate is I/O free: every decoder works on a caller-owned
//! [`bytes::BytesMut`] that the caller fills from a socket, and every encoder
//! appends to a `BytesMut` that the caller writes out.
//!
//! # Layout
//!
//! - [`request`]: the server side. [`RequestDecoder`] turns the bytes a client
//!   sends (multibulk `*N\r\n$L\r\n...` and inline `SET k v\n` commands) into
//!   argument vectors, with the exact protocol-error replies, limits and
//!   quirks of Redis 7.0's `networking.c`; [`RequestDecoder::decode_request`]
//!   also gives each [`Request`]'s original bytes, for a proxy to forward
//!   unchanged. [`Limits`] holds the size limits
//!   and [`ProtocolError`] the error replies.
//! - [`frame`]: the [`Frame`] enum covering every RESP2 and RESP3 type, its
//!   encoder and [`FrameDecoder`], an incremental decoder for *replies* (used by
//!   proxies, replicas, cluster links and tests).
//! - [`encode`]: allocation-free reply writers the server uses on its hot path
//!   (`bulk`, `integer`, `array_len`, RESP2/RESP3-aware `map_len`, `double`,
//!   ...), and [`encode::format_double`], Redis 7.0's `%.17g` rendering of
//!   doubles.
//! - [`slot`]: [`key_slot`], CRC16-XMODEM with `{hash tag}` handling, and
//!   [`SLOTS`].
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use resp::{Limits, RequestDecoder};
//!
//! let mut decoder = RequestDecoder::new(Limits::default());
//! let mut buf = BytesMut::from(&b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n"[..]);
//! let echo = decoder.decode(&mut buf, true).unwrap().unwrap();
//! assert_eq!(echo, vec![&b"ECHO"[..], &b"hi"[..]]);
//! let ping = decoder.decode(&mut buf, true).unwrap().unwrap();
//! assert_eq!(ping, vec![&b"PING"[..]]);
//! assert_eq!(decoder.decode(&mut buf, true).unwrap(), None);
//!
//! let mut out = BytesMut::new();
//! resp::encode::bulk(&mut out, b"hi");
//! assert_eq!(&out[..], b"$2\r\nhi\r\n");
//! ```

pub mod encode;
pub mod frame;
pub mod request;
pub mod slot;

pub use frame::{Frame, FrameDecoder};
pub use request::{Limits, ProtocolError, Request, RequestDecoder, parse_i64, repr, split_args};
pub use slot::{SLOTS, key_slot};
