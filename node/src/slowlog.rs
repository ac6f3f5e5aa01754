//! The slow log (SLOWLOG): the most recent commands that took longer than
//! `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` of them. Entries keep a bounded copy of the arguments,
//! as Redis does: at most 32 arguments and 128 bytes per argument.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::client::Client;

/// Arguments kept per entry (the last one says how many were dropped).
const MAX_ARGC: usize = 32;
/// Bytes kept per argument.
const MAX_STRING: usize = 128;

/// One logged command.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Increasing id (not reset by SLOWLOG RESET).
    pub id: u64,
    /// Unix time, seconds, when the command was logged.
    pub time: i64,
    /// Execution time, microseconds.
    pub duration_us: u64,
    /// The arguments, truncated.
    pub args: Vec<Bytes>,
    /// The client's `ip:port`.
    pub addr: String,
    /// The client's name (empty when unnamed).
    pub name: Bytes,
}

/// The slow log.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Logs a command of `client` that took `duration_us`, keeping at most
    /// `max_len` entries; `redacted(i)` hides argument `i`.
    pub fn push(
        &mut self,
        args: &[Bytes],
        redacted: impl Fn(usize) -> bool,
        duration_us: u64,
        client: &Client,
        max_len: usize,
    ) {
        let kept = args.len().min(MAX_ARGC);
        let args = args[..kept]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if kept != args.len() && i == kept - 1 {
                    Bytes::from(format!("... ({} more arguments)", args.len() - kept + 1))
                } else if redacted(i) {
                    Bytes::from_static(b"(redacted)")
                } else if a.len() > MAX_STRING {
                    let mut s = BytesMut::from(&a[..MAX_STRING]);
                    s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
                    s.freeze()
                } else {
                    a.clone()
                }
            })
            .collect();
        self.entries.push_front(Entry {
            id: self.next_id,
            time: crate::server::unix_ms() / 1000,
            duration_us,
            args,
            addr: client.addr.to_string(),
            name: client.name.clone().unwrap_or_default(),
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }

    /// Entries, newest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every entry (ids keep increasing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        let addr = "127.0.0.1:5000".parse().expect("addr");
        Client::new(7, addr, addr, true)
    }

    #[test]
    fn truncates_like_redis() {
        let mut log = SlowLog::default();
        let mut args: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        args[1] = Bytes::from(vec![b'x'; 130]);
        log.push(&args, |i| i == 2, 5, &client(), 10);
        let e = log.entries().next().expect("an entry");
        assert_eq!(e.args.len(), 32);
        assert_eq!(&e.args[1][128..], b"... (2 more bytes)");
        assert_eq!(&e.args[2][..], b"(redacted)");
        assert_eq!(&e.args[31][..], b"... (9 more arguments)");
        assert_eq!(e.addr, "127.0.0.1:5000");
    }

    #[test]
    fn keeps_the_newest_max_len() {
        let mut log = SlowLog::default();
        for i in 0..5 {
            log.push(&[Bytes::from(i.to_string())], |_| false, 1, &client(), 3);
        }
        let ids: Vec<u64> = log.entries().map(|e| e.id).collect();
        assert_eq!(ids, vec![4, 3, 2]);
        log.reset();
        assert!(log.is_empty());
        log.push(&[Bytes::from_static(b"x")], |_| false, 1, &client(), 3);
        assert_eq!(log.entries().next().map(|e| e.id), Some(5));
    }
}
