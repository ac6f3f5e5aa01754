//! The replication backlog: the most recent bytes of the replication
//! stream, addressed by stream offset, as Redis's `repl_backlog`.
//!
//! Offsets are Redis's: the stream's first byte has offset 1 and
//! [`Backlog::end`] is the offset of the last byte written
//! (`master_repl_offset`). A replica that has processed up to offset `R`
//! asks for `R + 1` (PSYNC), and a partial resync is possible while that
//! byte is still held (or is the next byte to come).
//!
//! As Redis 7.0's shared replication buffer, the backlog is also what every
//! connected replica is sent from: it keeps at least `repl-backlog-size`
//! bytes, and more while a replica still needs older ones. It does no I/O.

use std::collections::VecDeque;

/// The backlog.
#[derive(Debug)]
pub struct Backlog {
    buf: VecDeque<u8>,
    /// Offset of the last byte appended.
    end: i64,
}

impl Backlog {
    /// An empty backlog whose next byte will have offset `end + 1`.
    pub fn new(end: i64) -> Self {
        Backlog {
            buf: VecDeque::new(),
            end,
        }
    }

    /// Offset of the last byte appended (`master_repl_offset`).
    pub fn end(&self) -> i64 {
        self.end
    }

    /// Offset of the oldest byte held (`repl_backlog_first_byte_offset`).
    pub fn first_byte_offset(&self) -> i64 {
        self.end - self.buf.len() as i64 + 1
    }

    /// Bytes held (`repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.buf.len()
    }

    /// Appends stream bytes.
    pub fn append(&mut self, data: &[u8]) {
        self.buf.extend(data);
        self.end += data.len() as i64;
    }

    /// Whether the stream from offset `next` on can be served: it is held,
    /// or it is the next byte to come.
    pub fn serves(&self, next: i64) -> bool {
        next >= self.first_byte_offset() && next <= self.end + 1
    }

    /// Copies up to `max` bytes starting at offset `next` into `out`;
    /// returns how many. Nothing when `next` is not held.
    pub fn read(&self, next: i64, max: usize, out: &mut Vec<u8>) -> usize {
        if !self.serves(next) {
            return 0;
        }
        let from = (next - self.first_byte_offset()) as usize;
        let to = (from + max).min(self.buf.len());
        let (a, b) = self.buf.as_slices();
        let before = out.len();
        if from < a.len() {
            out.extend_from_slice(&a[from..to.min(a.len())]);
        }
        if to > a.len() {
            out.extend_from_slice(&b[from.saturating_sub(a.len())..to - a.len()]);
        }
        out.len() - before
    }

    /// Drops the oldest bytes beyond `keep`, but none at or after offset
    /// `needed_from` (the oldest byte a connected replica still needs).
    pub fn trim(&mut self, keep: usize, needed_from: Option<i64>) {
        let mut drop = self.buf.len().saturating_sub(keep);
        if let Some(needed) = needed_from {
            let needed_index = (needed - self.first_byte_offset()).max(0) as usize;
            drop = drop.min(needed_index);
        }
        if drop > 0 {
            self.buf.drain(..drop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_redis() {
        let mut b = Backlog::new(0);
        assert_eq!((b.first_byte_offset(), b.end(), b.histlen()), (1, 0, 0));
        assert!(b.serves(1) && !b.serves(2));
        b.append(b"hello");
        assert_eq!((b.first_byte_offset(), b.end()), (1, 5));
        let mut out = Vec::new();
        assert_eq!(b.read(3, 10, &mut out), 3);
        assert_eq!(out, b"llo");
        assert!(b.serves(6) && !b.serves(7));
    }

    #[test]
    fn trimming_keeps_what_replicas_need() {
        let mut b = Backlog::new(100);
        b.append(b"0123456789");
        b.trim(4, Some(103));
        assert_eq!(b.first_byte_offset(), 103);
        b.trim(4, None);
        assert_eq!(b.first_byte_offset(), 107);
        assert!(!b.serves(106));
        let mut out = Vec::new();
        b.read(107, 100, &mut out);
        assert_eq!(out, b"6789");
    }

    #[test]
    fn reads_across_the_ring_boundary() {
        let mut b = Backlog::new(0);
        b.append(&[1; 6]);
        b.trim(2, None);
        b.append(&[2; 6]);
        let mut out = Vec::new();
        assert_eq!(b.read(5, 100, &mut out), 8);
        assert_eq!(out, [1, 1, 2, 2, 2, 2, 2, 2]);
    }
}
