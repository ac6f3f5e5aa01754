//! The reply a command builds: RESP2 or RESP3 bytes, appended to the
//! client's output buffer by the command, never written to a socket here.
//!
//! Commands call these methods in reply order; the shape changes with the
//! protocol the client chose with HELLO (maps, sets, doubles, booleans and
//! nulls are RESP3 types that degrade to RESP2 arrays, bulks and integers).

use bytes::BytesMut;
use resp::encode;

/// A reply under construction for one client.
#[derive(Debug)]
pub struct Reply<'a> {
    buf: &'a mut BytesMut,
    resp3: bool,
}

impl<'a> Reply<'a> {
    /// Writes into `buf` in RESP3 when `resp3`, else RESP2.
    pub fn new(buf: &'a mut BytesMut, resp3: bool) -> Self {
        Reply { buf, resp3 }
    }

    /// Whether the client speaks RESP3.
    pub fn resp3(&self) -> bool {
        self.resp3
    }

    /// Switches the protocol of what follows (HELLO and RESET reply in the
    /// protocol they select).
    pub fn set_resp3(&mut self, resp3: bool) {
        self.resp3 = resp3;
    }

    /// Bytes written so far into the underlying buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written after `len` (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// A reborrow, for writing nested replies through helper functions.
    pub fn reborrow(&mut self) -> Reply<'_> {
        Reply {
            buf: self.buf,
            resp3: self.resp3,
        }
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply.
    pub fn simple(&mut self, s: &str) {
        encode::simple(self.buf, s.as_bytes());
    }

    /// An error reply; `line` is the text after `-`.
    pub fn error(&mut self, line: &str) {
        encode::error(self.buf, line.as_bytes());
    }

    /// An integer reply.
    pub fn int(&mut self, n: i64) {
        encode::integer(self.buf, n);
    }

    /// A bulk string reply.
    pub fn bulk(&mut self, b: &[u8]) {
        encode::bulk(self.buf, b);
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa::Buffer::new().format(n).as_bytes());
    }

    /// A null bulk (`$-1` / `_`).
    pub fn null(&mut self) {
        encode::null(self.buf, self.resp3);
    }

    /// A null array (`*-1` / `_`).
    pub fn null_array(&mut self) {
        encode::null_array(self.buf, self.resp3);
    }

    /// An array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        encode::array_len(self.buf, n);
    }

    /// A map header of `n` pairs (RESP2: an array of 2n).
    pub fn map(&mut self, n: usize) {
        encode::map_len(self.buf, n, self.resp3);
    }

    /// A set header of `n` elements (RESP2: an array).
    pub fn set(&mut self, n: usize) {
        encode::set_len(self.buf, n, self.resp3);
    }

    /// A push header of `n` elements (RESP2: an array).
    pub fn push(&mut self, n: usize) {
        encode::push_len(self.buf, n, self.resp3);
    }

    /// A double (RESP2: its text as a bulk string, as Redis formats it).
    pub fn double(&mut self, f: f64) {
        encode::double(self.buf, f, self.resp3);
    }

    /// A boolean (RESP2: `:1` / `:0`).
    pub fn boolean(&mut self, b: bool) {
        encode::boolean(self.buf, b, self.resp3);
    }

    /// Verbatim text, e.g. INFO and CLIENT LIST (RESP2: a bulk string).
    pub fn verbatim(&mut self, text: &[u8]) {
        encode::verbatim(self.buf, text, self.resp3);
    }

    /// An array of bulk strings.
    pub fn bulks<B: AsRef<[u8]>>(&mut self, items: impl ExactSizeIterator<Item = B>) {
        self.array(items.len());
        for b in items {
            self.bulk(b.as_ref());
        }
    }
}
