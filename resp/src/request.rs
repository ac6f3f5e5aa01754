//! Server-side request parsing: turns the bytes a client sends into command
//! argument vectors, exactly as Redis 7.0's `processInputBuffer`,
//! `processMultibulkBuffer` and `processInlineBuffer` do.
//!
//! This module owns [`RequestDecoder`], [`Request`], [`Limits`] and
//! [`ProtocolError`].
//!
//! # Behaviour (matches Redis 7.0)
//!
//! - A request starting with `*` is a multibulk request; anything else is an
//!   inline command line.
//! - Multibulk: the count line runs up to the first `\r`; the byte after that
//!   `\r` is skipped without being checked, and so are the two bytes after
//!   each bulk payload (Redis does not verify the trailing CRLF either).
//!   Counts and lengths are parsed with Redis's strict `string2ll` (no `+`,
//!   no leading zeros, no `-0`, at most 20 characters).
//! - `*0`, `*-1` (any count `<= 0`), an empty inline line and a line of only
//!   whitespace are skipped: nothing is returned for them.
//! - Inline: the line runs up to the first `\n`; one `\r` before it is
//!   dropped, and the rest is split like Redis's `sdssplitargs`.
//! - Like Redis, which searches the query buffer with C's `strchr`, a NUL
//!   byte before the end of a line (before the `\r` of a count line, before
//!   the `\n` of an inline line) hides the terminator: that request never
//!   completes, and fails with "too big ..." once more than
//!   [`Limits::max_inline_len`] bytes are buffered.
//! - Every error is fatal for the connection: the server writes the error
//!   reply ([`ProtocolError::write_reply`]) and closes, as Redis does. Commands
//!   decoded before the error are still returned (and executed) first.
//!
//! # One deliberate difference
//!
//! Redis checks the 64 KiB line limit against whatever one `read()` happened
//! to leave in its buffer, so a line somewhat longer than the limit can pass
//! when it arrives at once. Here the limit applies to the line itself, which
//! gives the same answer however the bytes are split across reads: a line
//! (or count line) whose terminator is not within the first
//! `max_inline_len + 1` bytes is rejected, exactly what Redis does when the
//! bytes trickle in.

use bytes::{Buf, Bytes, BytesMut};

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline line / count line.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Redis's default `proto-max-bulk-len`.
pub const PROTO_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Redis 7.0's hard limit on a multibulk count (`INT_MAX`).
pub const PROTO_MAX_MULTIBULK_LEN: usize = i32::MAX as usize;
/// Redis's `PROTO_MBULK_BIG_ARG`: from this length on, the decoder asks the
/// buffer to grow ahead of the payload.
pub const PROTO_MBULK_BIG_ARG: usize = 32 * 1024;
/// Largest multibulk count an unauthenticated client may send.
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// Largest bulk length an unauthenticated client may send.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;

/// Never pre-size the argument vector beyond this many entries, whatever
/// count the client declares (Redis uses the same bound).
const MAX_ARGV_PREALLOC: usize = 1024;
/// Never reserve more than this much buffer space ahead of a bulk payload,
/// whatever length the client declares.
const MAX_BULK_RESERVE: usize = 1024 * 1024;

/// Size limits applied while parsing requests.
///
/// The defaults are Redis 7.0's: `proto-max-bulk-len` (512 MiB),
/// `PROTO_INLINE_MAX_SIZE` (64 KiB) and, for the multibulk count, Redis 7.0's
/// hard limit of `INT_MAX` (Redis 7.0 accepts `*2000000`; the 1 MiB count
/// limit belongs to older versions). The unauthenticated limits (10
/// arguments, 16 KiB bulks) are applied by [`RequestDecoder::decode`] when its
/// `authenticated` argument is false.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted bulk argument (`proto-max-bulk-len`). A replica
    /// parsing its master's stream can set `usize::MAX` (Redis exempts the
    /// master link from this limit).
    pub max_bulk_len: usize,
    /// Largest accepted multibulk count.
    pub max_multibulk_len: usize,
    /// Longest inline line, and longest `*N` / `$N` count line.
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: PROTO_MAX_BULK_LEN,
            max_multibulk_len: PROTO_MAX_MULTIBULK_LEN,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
        }
    }
}

/// A protocol error. Its `Display` is the exact text Redis puts after `-`
/// in the reply (for example `ERR Protocol error: invalid multibulk
/// length`); [`ProtocolError::write_reply`] writes the whole reply line
/// byte-exactly, including a non-ASCII byte in "expected '$', got 'X'".
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*` count that is not a number, or exceeds the limit.
    #[error("ERR Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$` length that is not a number, is negative, or exceeds the limit.
    #[error("ERR Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A bulk header that does not start with `$`. Holds the byte Redis
    /// prints (`\r` and `\n` already replaced by a space, as Redis does).
    #[error("ERR Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    /// More than 10 arguments before authentication.
    #[error("ERR Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A bulk longer than 16 KiB before authentication.
    #[error("ERR Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// Inline line longer than [`Limits::max_inline_len`].
    #[error("ERR Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// `*` count line longer than [`Limits::max_inline_len`].
    #[error("ERR Protocol error: too big mbulk count string")]
    TooBigMultibulkCountString,
    /// `$` length line longer than [`Limits::max_inline_len`].
    #[error("ERR Protocol error: too big bulk count string")]
    TooBigBulkCountString,
    /// Inline line with an unterminated quote, or a closing quote not
    /// followed by a space.
    #[error("ERR Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A malformed *reply* (only [`crate::FrameDecoder`] returns this).
    #[error("ERR Protocol error: {0}")]
    InvalidFrame(&'static str),
}

impl ProtocolError {
    /// Writes the complete error reply, `-ERR Protocol error: ...\r\n`, with
    /// exactly the bytes Redis sends.
    pub fn write_reply(&self, out: &mut BytesMut) {
        out.extend_from_slice(b"-");
        match self {
            ProtocolError::ExpectedDollar(byte) => {
                out.extend_from_slice(b"ERR Protocol error: expected '$', got '");
                out.extend_from_slice(&[*byte]);
                out.extend_from_slice(b"'");
            }
            other => {
                use std::fmt::Write as _;
                let mut text = String::new();
                // Writing into a String cannot fail.
                let _ = write!(text, "{other}");
                out.extend_from_slice(text.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses a whole slice as a signed 64-bit integer with the rules of Redis's
/// `string2ll`: non-empty, shorter than 21 bytes, optional `-`, no `+`, no
/// leading zeros, no `-0`, no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if value > i64::MAX as u64 + 1 {
            return None;
        }
        Some((value as i64).wrapping_neg())
    } else {
        i64::try_from(value).ok()
    }
}

/// Index of the first `a` or `b` in `hay`; a short hand loop first, since
/// most protocol lines are a few bytes long, then SIMD `memchr2`.
#[inline]
pub(crate) fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    const SHORT: usize = 24;
    let head = hay.len().min(SHORT);
    for (i, &c) in hay[..head].iter().enumerate() {
        if c == a || c == b {
            return Some(i);
        }
    }
    if hay.len() > SHORT {
        memchr::memchr2(a, b, &hay[SHORT..]).map(|i| i + SHORT)
    } else {
        None
    }
}

/// C's `isspace` in the "C" locale.
#[inline]
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Bytes that end an unquoted token in `sdssplitargs` (NUL cannot occur
/// here: a line never contains one).
#[inline]
fn ends_token(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `bytes` quoted like Redis's `sdscatrepr` (the inverse of
/// [`split_args`]): double quotes, `\\ \" \n \r \t \a \b` escapes,
/// printable ASCII as is, any other byte as `\xHH`.
pub fn repr(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &c in bytes {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'x', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
            }
        }
    }
    out.push(b'"');
}

/// Splits an inline line like Redis's `sdssplitargs`. Unquoted tokens are
/// zero-copy slices of `line`; quoted tokens are unescaped into new buffers.
/// `None` means unbalanced quotes.
pub fn split_args(line: &Bytes) -> Option<Vec<Bytes>> {
    let s: &[u8] = line;
    let len = s.len();
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < len && is_c_space(s[p]) {
            p += 1;
        }
        if p >= len {
            return Some(args);
        }
        let start = p;
        while p < len && !ends_token(s[p]) && s[p] != b'"' && s[p] != b'\'' {
            p += 1;
        }
        if p >= len || ends_token(s[p]) {
            args.push(line.slice(start..p));
            continue;
        }
        // A quote: unescape the rest of the token into its own buffer.
        let mut token = s[start..p].to_vec();
        p = split_quoted(s, p, &mut token)?;
        args.push(Bytes::from(token));
    }
}

/// The quoted part of `sdssplitargs`: `p` is at an opening quote; appends
/// the token's bytes to `token` and returns the position after the token.
fn split_quoted(s: &[u8], mut p: usize, token: &mut Vec<u8>) -> Option<usize> {
    #[derive(PartialEq)]
    enum Mode {
        Plain,
        Double,
        Single,
    }
    let len = s.len();
    let at = |i: usize| s.get(i).copied();
    let mut mode = Mode::Plain;
    loop {
        let c = at(p);
        let mut done = false;
        match mode {
            Mode::Double => match c {
                None => return None,
                Some(b'\\') => {
                    let hex = match (at(p + 1), at(p + 2).and_then(hex_value), at(p + 3).and_then(hex_value)) {
                        (Some(b'x'), Some(hi), Some(lo)) => Some(hi * 16 + lo),
                        _ => None,
                    };
                    if let Some(byte) = hex {
                        token.push(byte);
                        p += 3;
                    } else if let Some(next) = at(p + 1) {
                        p += 1;
                        token.push(match next {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    } else {
                        token.push(b'\\');
                    }
                }
                Some(b'"') => {
                    if at(p + 1).is_some_and(|n| !is_c_space(n)) {
                        return None;
                    }
                    done = true;
                }
                Some(other) => token.push(other),
            },
            Mode::Single => match c {
                None => return None,
                Some(b'\\') if at(p + 1) == Some(b'\'') => {
                    p += 1;
                    token.push(b'\'');
                }
                Some(b'\'') => {
                    if at(p + 1).is_some_and(|n| !is_c_space(n)) {
                        return None;
                    }
                    done = true;
                }
                Some(other) => token.push(other),
            },
            Mode::Plain => match c {
                None => done = true,
                Some(c) if ends_token(c) => done = true,
                Some(b'"') => mode = Mode::Double,
                Some(b'\'') => mode = Mode::Single,
                Some(other) => token.push(other),
            },
        }
        if p < len {
            p += 1;
        }
        if done {
            return Some(p);
        }
    }
}

/// Outcome of reading a `*N` header.
enum Header {
    Incomplete,
    /// `N <= 0`: Redis skips the request.
    Empty,
    Started,
}

/// What [`RequestDecoder::decode_inner`] found complete.
enum Parsed {
    /// An inline request, already split off the buffer.
    Inline(Request),
    /// A multibulk request: the front `parsed` bytes of the buffer, its
    /// arguments at the decoder's `args` ranges.
    Multibulk,
}

/// One complete request: its arguments and the exact bytes it arrived as.
///
/// A proxy routes by `args` and forwards `bytes` unchanged (no re-encoding);
/// a server runs `args`. Both are zero-copy views of the caller's buffer,
/// except inline arguments that needed unquoting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The command name and its arguments; never empty.
    pub args: Vec<Bytes>,
    /// The whole request as received: the multibulk from its `*` to the two
    /// bytes after its last payload, or the inline line with its `\n`.
    /// Requests Redis skips (`*0`, blank lines) before it are not included.
    pub bytes: Bytes,
}

/// Stateful, incremental request parser for one client connection.
///
/// Like Redis's per-client query-buffer state, it remembers how many
/// arguments the multibulk request in progress still needs, the length of
/// the bulk being received, where the arguments parsed so far lie, and how
/// far the current line was already searched. A partial request stays at
/// the front of the caller's buffer, so a complete one is split off whole
/// (see [`Request::bytes`]). A command arriving over many reads therefore
/// costs linear time overall, however it is split.
///
/// The caller owns the buffer: it appends what it reads from the socket and
/// passes the same buffer to every [`decode`](Self::decode) call, without
/// otherwise modifying it.
///
/// Arguments are zero-copy [`Bytes`] slices of the caller's buffer; a caller
/// that keeps one for long (e.g. as a stored value) should copy it
/// (`Bytes::copy_from_slice`) so it does not pin the whole read buffer.
#[derive(Debug)]
pub struct RequestDecoder {
    limits: Limits,
    /// Bulks the multibulk request in progress still needs; 0 when idle.
    multibulk_len: usize,
    /// Declared length of the bulk whose payload is awaited.
    bulk_len: Option<usize>,
    /// `(offset, length)` in the buffer of each argument of the request in
    /// progress; kept between requests so its allocation is reused.
    args: Vec<(usize, usize)>,
    /// Bytes of the request in progress parsed so far (still at the front
    /// of the buffer): where the next line or payload starts.
    parsed: usize,
    /// Length of the current line's prefix already searched without finding
    /// its terminator.
    scanned: usize,
    /// A NUL byte precedes the current line's terminator, which Redis's
    /// `strchr` therefore never finds.
    blocked: bool,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        RequestDecoder::new(Limits::default())
    }
}

impl RequestDecoder {
    /// A decoder with the given limits, waiting for the start of a request.
    pub fn new(limits: Limits) -> Self {
        RequestDecoder {
            limits,
            multibulk_len: 0,
            bulk_len: None,
            args: Vec::new(),
            parsed: 0,
            scanned: 0,
            blocked: false,
        }
    }

    /// Replaces the limits (e.g. after `CONFIG SET proto-max-bulk-len`);
    /// they apply to the lines parsed from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Parses one request from the front of `buf`, consuming its bytes
    /// once it is complete; its arguments only (see
    /// [`decode_request`](Self::decode_request), which also gives its bytes).
    ///
    /// - `Ok(Some(args))`: a complete command; `args` is never empty and its
    ///   entries are zero-copy slices split off `buf`.
    /// - `Ok(None)`: more input is needed; the partial request stays at the
    ///   front of `buf`.
    /// - `Err(e)`: a protocol error. The caller replies with
    ///   [`ProtocolError::write_reply`] (`-{e}\r\n`) and closes the
    ///   connection; the decoder is reset.
    ///
    /// Empty requests (an empty or blank inline line, `*0`, `*-1`) are
    /// skipped, as Redis ignores them. With `authenticated == false`,
    /// Redis's pre-authentication limits apply: a count above 10 gives
    /// "Protocol error: unauthenticated multibulk length" and a bulk above
    /// 16384 bytes "Protocol error: unauthenticated bulk length".
    pub fn decode(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        Ok(match self.next(buf, authenticated)? {
            None => None,
            Some(Parsed::Inline(request)) => Some(request.args),
            Some(Parsed::Multibulk) => {
                // Each argument split off on its own: no view of the whole
                // request is made just to be dropped.
                let mut args = Vec::with_capacity(self.args.len());
                let mut at = 0;
                for (start, len) in self.args.drain(..) {
                    buf.advance(start - at);
                    args.push(buf.split_to(len).freeze());
                    at = start + len;
                }
                buf.advance(std::mem::take(&mut self.parsed) - at);
                self.request_done();
                Some(args)
            }
        })
    }

    /// Like [`decode`](Self::decode), but gives the complete request with
    /// the bytes it arrived as ([`Request::bytes`], split off `buf`), so a
    /// proxy can forward it without encoding it again.
    ///
    /// # Errors
    ///
    /// A protocol error, as for [`decode`](Self::decode).
    pub fn decode_request(
        &mut self,
        buf: &mut BytesMut,
        authenticated: bool,
    ) -> Result<Option<Request>, ProtocolError> {
        Ok(match self.next(buf, authenticated)? {
            None => None,
            Some(Parsed::Inline(request)) => Some(request),
            Some(Parsed::Multibulk) => {
                let bytes = buf.split_to(std::mem::take(&mut self.parsed)).freeze();
                let args = self
                    .args
                    .drain(..)
                    .map(|(start, len)| bytes.slice(start..start + len))
                    .collect();
                self.request_done();
                Some(Request { args, bytes })
            }
        })
    }

    /// Parses up to the end of the next request; resets on error.
    fn next(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<Parsed>, ProtocolError> {
        let result = self.decode_inner(buf, authenticated);
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// The multibulk request's arguments were taken.
    fn request_done(&mut self) {
        if self.args.capacity() > MAX_ARGV_PREALLOC {
            // One huge request does not pin a huge vector for the connection's life.
            self.args = Vec::new();
        }
    }

    /// Bytes of the partial request that the decoder has already parsed
    /// (its headers and complete arguments, still at the front of the
    /// caller's buffer).
    pub fn pending_bytes(&self) -> usize {
        self.parsed
    }

    /// Everything received and not yet returned as a command (the
    /// request's share of the query buffer, for `client-query-buffer-limit`
    /// and `CLIENT LIST qbuf`): the whole buffer, since a partial request
    /// stays in it.
    pub fn query_buffer_len(&self, buf: &BytesMut) -> usize {
        buf.len()
    }

    /// True while a multibulk request is partly parsed (a connection closing
    /// now would drop a partial command).
    pub fn in_progress(&self) -> bool {
        self.multibulk_len > 0
    }

    /// Forgets the request in progress.
    pub fn reset(&mut self) {
        self.multibulk_len = 0;
        self.bulk_len = None;
        self.args = Vec::new();
        self.parsed = 0;
        self.scanned = 0;
        self.blocked = false;
    }

    fn decode_inner(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<Parsed>, ProtocolError> {
        loop {
            if self.multibulk_len == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first == b'*' {
                    match self.multibulk_header(buf, authenticated)? {
                        Header::Incomplete => return Ok(None),
                        Header::Empty => continue,
                        Header::Started => {}
                    }
                } else {
                    match self.inline(buf)? {
                        None => return Ok(None),
                        Some(request) if request.args.is_empty() => continue,
                        Some(request) => return Ok(Some(Parsed::Inline(request))),
                    }
                }
            }
            while self.multibulk_len > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => match self.bulk_header(buf, authenticated)? {
                        Some(len) => len,
                        None => return Ok(None),
                    },
                };
                // The payload plus the two bytes after it (not checked, as in Redis).
                let needed = len.saturating_add(2);
                let have = buf.len() - self.parsed;
                if have < needed {
                    if len >= PROTO_MBULK_BIG_ARG {
                        buf.reserve((needed - have).min(MAX_BULK_RESERVE));
                    }
                    return Ok(None);
                }
                self.args.push((self.parsed, len));
                self.parsed += needed;
                self.bulk_len = None;
                self.multibulk_len -= 1;
            }
            return Ok(Some(Parsed::Multibulk));
        }
    }

    /// Searches the current line (`line`, from the start of the line to the
    /// end of the buffer) for `needle` the way Redis's `strchr` does: a NUL
    /// byte ends the search for good. Only the first `max_inline_len + 1`
    /// bytes are searched, and never twice.
    fn find_line_end(&mut self, line: &[u8], needle: u8) -> Option<usize> {
        if self.blocked {
            return None;
        }
        let window = line.len().min(self.limits.max_inline_len.saturating_add(1));
        let start = self.scanned.min(window);
        match find2(needle, 0, &line[start..window]) {
            Some(i) if line[start + i] == needle => {
                self.scanned = start + i;
                Some(start + i)
            }
            Some(_) => {
                self.blocked = true;
                None
            }
            None => {
                self.scanned = window;
                None
            }
        }
    }

    /// The current line was parsed: the next search starts afresh.
    fn line_done(&mut self) {
        self.scanned = 0;
        self.blocked = false;
    }

    /// Reads `*N` at the front of `buf` (no request is in progress).
    fn multibulk_header(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Header, ProtocolError> {
        let Some(cr) = self.find_line_end(buf, b'\r') else {
            if buf.len() > self.limits.max_inline_len {
                return Err(ProtocolError::TooBigMultibulkCountString);
            }
            return Ok(Header::Incomplete);
        };
        // Redis wants one more byte after the '\r' (and does not look at it).
        if buf.len() < cr + 2 {
            return Ok(Header::Incomplete);
        }
        let count = match parse_i64(&buf[1..cr]) {
            Some(n) if n <= 0 || n as u64 <= self.limits.max_multibulk_len as u64 => n,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if count > UNAUTH_MAX_MULTIBULK_LEN && !authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.line_done();
        if count <= 0 {
            buf.advance(cr + 2);
            return Ok(Header::Empty);
        }
        // `count` is positive and bounded by a usize limit.
        let count = count as usize;
        self.multibulk_len = count;
        self.args.reserve(count.min(MAX_ARGV_PREALLOC));
        self.parsed = cr + 2;
        Ok(Header::Started)
    }

    /// Reads `$L` at offset `parsed` of `buf`.
    fn bulk_header(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<usize>, ProtocolError> {
        let line = &buf[self.parsed..];
        let Some(cr) = self.find_line_end(line, b'\r') else {
            if line.len() > self.limits.max_inline_len {
                return Err(ProtocolError::TooBigBulkCountString);
            }
            return Ok(None);
        };
        if line.len() < cr + 2 {
            return Ok(None);
        }
        match line[0] {
            b'$' => {}
            b'\r' | b'\n' => return Err(ProtocolError::ExpectedDollar(b' ')),
            other => return Err(ProtocolError::ExpectedDollar(other)),
        }
        let len = match parse_i64(&line[1..cr]) {
            Some(n) if n >= 0 && n as u64 <= self.limits.max_bulk_len as u64 => n,
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        if len > UNAUTH_MAX_BULK_LEN && !authenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        self.line_done();
        self.parsed += cr + 2;
        // Non-negative and bounded by a usize limit.
        let len = len as usize;
        self.bulk_len = Some(len);
        Ok(Some(len))
    }

    /// Reads an inline line at the front of `buf`; a blank one gives a
    /// request without arguments, which the caller skips.
    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        let Some(newline) = self.find_line_end(buf, b'\n') else {
            if buf.len() > self.limits.max_inline_len {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(None);
        };
        let end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let bytes = buf.split_to(newline + 1).freeze();
        self.line_done();
        let args = if end == 0 {
            Vec::new()
        } else {
            split_args(&bytes.slice(..end)).ok_or(ProtocolError::UnbalancedQuotes)?
        };
        Ok(Some(Request { args, bytes }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Small deterministic PRNG (xorshift64*), so tests need no dependency.
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtocolError>);

    /// Feeds `input` in the given chunk sizes (cycled), collecting every
    /// command until the first error.
    fn run_chunked(input: &[u8], limits: &Limits, authenticated: bool, chunk: &mut dyn FnMut() -> usize) -> Outcome {
        let mut decoder = RequestDecoder::new(limits.clone());
        let mut buf = BytesMut::new();
        let mut cmds = Vec::new();
        let mut fed = 0;
        loop {
            loop {
                match decoder.decode(&mut buf, authenticated) {
                    Ok(Some(args)) => cmds.push(args.iter().map(|a| a.to_vec()).collect()),
                    Ok(None) => break,
                    Err(e) => return (cmds, Some(e)),
                }
            }
            if fed == input.len() {
                return (cmds, None);
            }
            let n = chunk().clamp(1, input.len() - fed);
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
        }
    }

    fn run(input: &[u8]) -> Outcome {
        run_chunked(input, &Limits::default(), true, &mut || usize::MAX)
    }

    fn run_unauth(input: &[u8]) -> Outcome {
        run_chunked(input, &Limits::default(), false, &mut || usize::MAX)
    }

    fn cmds(list: &[&[&[u8]]]) -> Vec<Vec<Vec<u8>>> {
        list.iter().map(|c| c.iter().map(|a| a.to_vec()).collect()).collect()
    }

    fn err_text(input: &[u8]) -> String {
        run(input).1.map(|e| e.to_string()).unwrap_or_default()
    }

    /// Every way of splitting gives the same outcome as a single chunk.
    fn assert_split_invariant(input: &[u8], limits: &Limits, authenticated: bool) {
        let whole = run_chunked(input, limits, authenticated, &mut || usize::MAX);
        let bytewise = run_chunked(input, limits, authenticated, &mut || 1);
        assert_eq!(
            whole,
            bytewise,
            "byte-by-byte differs for {:?}",
            String::from_utf8_lossy(input)
        );
        let mut rng = Rng::new(input.len() as u64);
        for _ in 0..20 {
            let max = 1 + rng.below(40);
            let mut chunk = || 1 + rng.below(max);
            let random = run_chunked(input, limits, authenticated, &mut chunk);
            assert_eq!(whole, random);
        }
    }

    /// Feeds `input` in chunks of `chunk` bytes through `decode_request`,
    /// collecting every request until the first error.
    fn requests_chunked(input: &[u8], chunk: usize) -> (Vec<Request>, Option<ProtocolError>) {
        let mut decoder = RequestDecoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode_request(&mut buf, true) {
                    Ok(Some(request)) => out.push(request),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn request_bytes_are_the_input_slice() {
        let set = &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"[..];
        let mut buf = BytesMut::from(set);
        let request = RequestDecoder::default()
            .decode_request(&mut buf, true)
            .unwrap()
            .unwrap();
        assert_eq!(&request.bytes[..], set);
        assert_eq!(request.args, vec![&b"SET"[..], b"k", b"value"]);
        assert!(buf.is_empty());
        // The arguments are views of the request's bytes, not copies.
        let range = request.bytes.as_ptr_range();
        assert!(request.args.iter().all(|a| range.contains(&a.as_ptr())));
        // Unchecked bytes after a count line or a payload are kept as sent.
        let odd = &b"*2\r\n$4\r\nECHOxx$2\rXhi\r\n"[..];
        let (got, err) = requests_chunked(odd, usize::MAX);
        assert_eq!(err, None);
        assert_eq!(&got[0].bytes[..], odd);
        assert_eq!(got[0].args, vec![&b"ECHO"[..], b"hi"]);
    }

    #[test]
    fn request_bytes_of_pipelined_partial_and_inline_input() {
        let pieces: &[&[u8]] = &[
            b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n",
            b"PING\r\n",
            b"SET \"a b\" 'c'\n",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
            b"ECHO x\r\n",
        ];
        let stream = pieces.concat();
        for chunk in [usize::MAX, 1, 2, 3, 7, 13] {
            let (got, err) = requests_chunked(&stream, chunk);
            assert_eq!(err, None);
            let bytes: Vec<&[u8]> = got.iter().map(|r| &r.bytes[..]).collect();
            assert_eq!(bytes, pieces, "chunk {chunk}");
        }
        let (got, _) = requests_chunked(&stream, 1);
        assert_eq!(got[2].args, vec![&b"SET"[..], b"a b", b"c"]);
        assert_eq!(got[3].args, vec![&b"SET"[..], b"k", b""]);
        // A partial request stays in the buffer until it is complete.
        let mut decoder = RequestDecoder::default();
        let mut buf = BytesMut::from(&pieces[0][..10]);
        assert_eq!(decoder.decode_request(&mut buf, true), Ok(None));
        assert_eq!(buf.len(), 10);
        assert_eq!(decoder.query_buffer_len(&buf), 10);
        buf.extend_from_slice(&pieces[0][10..]);
        let request = decoder.decode_request(&mut buf, true).unwrap().unwrap();
        assert_eq!(&request.bytes[..], pieces[0]);
        assert!(buf.is_empty());
    }

    #[test]
    fn skipped_requests_are_not_in_the_next_requests_bytes() {
        let (got, err) = requests_chunked(b"*0\r\n\r\n  \n*-1\r\nPING\n*0\r\n", usize::MAX);
        assert_eq!(err, None);
        assert_eq!(got.len(), 1);
        assert_eq!(&got[0].bytes[..], b"PING\n");
    }

    #[test]
    fn request_bytes_concatenate_to_the_stream() {
        // Random valid requests, no skipped ones: the requests' bytes, in
        // order, are the whole stream, however it is split.
        let mut rng = Rng::new(11);
        for _ in 0..200 {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for _ in 0..1 + rng.below(6) {
                let args: Vec<Vec<u8>> = (0..1 + rng.below(4))
                    .map(|_| (0..1 + rng.below(40)).map(|_| b'a' + rng.below(26) as u8).collect())
                    .collect();
                if rng.below(3) == 0 {
                    stream.extend_from_slice(&args.join(&b' '));
                    stream.extend_from_slice(b"\r\n");
                } else {
                    stream.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
                    for a in &args {
                        stream.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                        stream.extend_from_slice(a);
                        stream.extend_from_slice(b"\r\n");
                    }
                }
                expected.push(args);
            }
            let (got, err) = requests_chunked(&stream, 1 + rng.below(9));
            assert_eq!(err, None);
            assert_eq!(got.iter().flat_map(|r| r.bytes.to_vec()).collect::<Vec<u8>>(), stream);
            let args: Vec<Vec<Vec<u8>>> = got
                .iter()
                .map(|r| r.args.iter().map(|a| a.to_vec()).collect())
                .collect();
            assert_eq!(args, expected);
            // decode() gives the same arguments.
            assert_eq!(run(&stream), (expected, None));
        }
    }

    #[test]
    fn multibulk_basic_and_pipelined() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n";
        assert_eq!(run(input), (cmds(&[&[b"SET", b"k", b"value"], &[b"PING"]]), None));
    }

    #[test]
    fn args_are_binary_safe_and_zero_length_allowed() {
        let input = b"*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$4\r\n\0\r\n\xff\r\n";
        assert_eq!(run(input), (cmds(&[&[b"ECHO", b"", b"\0\r\n\xff"]]), None));
    }

    #[test]
    fn empty_requests_are_skipped() {
        let input = b"*0\r\n*-1\r\n*-5\r\n*-9223372036854775808\r\n\r\n\n   \t\r\n\x0b\x0c\n*1\r\n$4\r\nPING\r\n";
        assert_eq!(run(input), (cmds(&[&[b"PING"]]), None));
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*0\r\n\r\n"[..]);
        assert_eq!(d.decode(&mut buf, true), Ok(None));
        assert!(buf.is_empty());
    }

    #[test]
    fn trailing_bytes_after_payload_and_count_are_not_checked() {
        // Redis skips the two bytes after a payload and the byte after the
        // count's '\r' without looking at them.
        assert_eq!(
            run(b"*1\r\n$4\r\nPINGxx*1\rX$4\r\nPING\r\n"),
            (cmds(&[&[b"PING"], &[b"PING"]]), None)
        );
    }

    #[test]
    fn multibulk_error_strings() {
        let invalid_mbulk = "ERR Protocol error: invalid multibulk length";
        for input in [
            &b"*2147483648\r\n"[..],
            b"*-0\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*\r\n",
            b"*x\r\n",
            b"*1\n$4\r\nPING\r\n",
            b"*9223372036854775808\r\n",
            b"*12345678901234567890\r\n",
            b"*-12345678901234567890\r\n",
        ] {
            assert_eq!(err_text(input), invalid_mbulk, "{:?}", String::from_utf8_lossy(input));
        }
        let invalid_bulk = "ERR Protocol error: invalid bulk length";
        for input in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$x\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$9223372036854775807\r\n",
            b"*1\r\n$+1\r\n",
        ] {
            assert_eq!(err_text(input), invalid_bulk, "{:?}", String::from_utf8_lossy(input));
        }
        assert_eq!(
            err_text(b"*1\r\nX4\r\nPING\r\n"),
            "ERR Protocol error: expected '$', got 'X'"
        );
        assert_eq!(err_text(b"*1\r\n*4\r\n"), "ERR Protocol error: expected '$', got '*'");
        // '\r' and '\n' are printed as a space, as Redis does.
        assert_eq!(run(b"*1\r\n\r\r\n").1, Some(ProtocolError::ExpectedDollar(b' ')));
        assert_eq!(run(b"*1\r\n\n\r\n").1, Some(ProtocolError::ExpectedDollar(b' ')));
        assert_eq!(
            run(b"*2\r\n$1\r\na\r\n\r\n").1,
            Some(ProtocolError::ExpectedDollar(b' '))
        );
    }

    #[test]
    fn limits_at_the_edge() {
        // The largest values Redis 7.0 accepts just wait for more input.
        assert_eq!(run(b"*2147483647\r\n"), (vec![], None));
        assert_eq!(run(b"*2000000\r\n"), (vec![], None));
        assert_eq!(run(b"*1\r\n$536870912\r\n"), (vec![], None));
        let small = Limits {
            max_bulk_len: 5,
            max_multibulk_len: 3,
            max_inline_len: 16,
        };
        let go = |input: &[u8]| run_chunked(input, &small, true, &mut || usize::MAX);
        assert_eq!(go(b"*3\r\n$5\r\naaaaa\r\n"), (vec![], None));
        assert_eq!(go(b"*4\r\n").1, Some(ProtocolError::InvalidMultibulkLength));
        assert_eq!(go(b"*1\r\n$6\r\n").1, Some(ProtocolError::InvalidBulkLength));
        // Inline: the '\n' must come within the first 17 bytes.
        // The '\r' counts: Redis looks for the '\n' within the limit + 1 bytes.
        assert_eq!(go(b"PING 1234567890\r\n"), (cmds(&[&[b"PING", b"1234567890"]]), None));
        assert_eq!(go(b"PING 12345678901\r\n").1, Some(ProtocolError::TooBigInlineRequest));
        assert_eq!(go(b"0123456789abcdef"), (vec![], None));
        assert_eq!(go(b"0123456789abcdefg").1, Some(ProtocolError::TooBigInlineRequest));
    }

    #[test]
    fn default_limits_are_redis_7_0() {
        let limits = Limits::default();
        assert_eq!(limits.max_bulk_len, 512 * 1024 * 1024);
        assert_eq!(limits.max_multibulk_len, 2_147_483_647);
        assert_eq!(limits.max_inline_len, 64 * 1024);
    }

    #[test]
    fn set_limits_applies_to_following_lines() {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*1\r\n$10\r\n0123456789\r\n"[..]);
        assert!(d.decode(&mut buf, true).unwrap().is_some());
        d.set_limits(Limits {
            max_bulk_len: 9,
            ..Limits::default()
        });
        assert_eq!(d.limits().max_bulk_len, 9);
        let mut buf = BytesMut::from(&b"*1\r\n$10\r\n0123456789\r\n"[..]);
        assert_eq!(d.decode(&mut buf, true), Err(ProtocolError::InvalidBulkLength));
    }

    #[test]
    fn too_big_count_strings_and_inline() {
        let max = PROTO_INLINE_MAX_SIZE;
        let mut long = vec![b'*'];
        long.extend(std::iter::repeat_n(b'1', 70_000));
        assert_eq!(err_text(&long), "ERR Protocol error: too big mbulk count string");
        let mut long = b"*1\r\n$".to_vec();
        long.extend(std::iter::repeat_n(b'1', 70_000));
        assert_eq!(err_text(&long), "ERR Protocol error: too big bulk count string");
        let mut long = b"*1\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'X', 70_000));
        assert_eq!(err_text(&long), "ERR Protocol error: too big bulk count string");
        assert_eq!(
            err_text(&vec![b'a'; 70_000]),
            "ERR Protocol error: too big inline request"
        );
        // Exactly the limit without a newline still waits, one more fails.
        assert_eq!(run(&vec![b'a'; max]), (vec![], None));
        assert_eq!(run(&vec![b'a'; max + 1]).1, Some(ProtocolError::TooBigInlineRequest));
        // A line of exactly the limit is accepted.
        let mut line = b"ECHO ".to_vec();
        line.extend(std::iter::repeat_n(b'x', max - 5));
        line.push(b'\n');
        assert_eq!(run(&line).0.len(), 1);
        // Commands before the oversized one are still returned.
        let mut input = b"*1\r\n$4\r\nPING\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'a', 70_000));
        assert_eq!(
            run(&input),
            (cmds(&[&[b"PING"]]), Some(ProtocolError::TooBigInlineRequest))
        );
    }

    #[test]
    fn nul_hides_the_terminator_like_strchr() {
        // Redis 7.0 never answers these: the line never ends.
        for input in [
            &b"*1\0\r\n$4\r\nPING\r\n"[..],
            b"*1\r\n\0$4\r\nPING\r\n",
            b"ECHO a\0b\r\n",
            b"\0\n",
        ] {
            assert_eq!(run(input), (vec![], None));
        }
        // ... until the limit is crossed.
        let mut input = b"ECHO a\0b\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'z', 70_000));
        assert_eq!(run(&input).1, Some(ProtocolError::TooBigInlineRequest));
        let mut input = b"*1\0\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'z', 70_000));
        assert_eq!(run(&input).1, Some(ProtocolError::TooBigMultibulkCountString));
        // A NUL inside a bulk payload is data.
        assert_eq!(run(b"*1\r\n$1\r\n\0\r\n"), (cmds(&[&[b"\0"]]), None));
    }

    #[test]
    fn unauthenticated_limits() {
        assert_eq!(
            run_unauth(b"*11\r\n").1.unwrap().to_string(),
            "ERR Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            run_unauth(b"*10\r\n$16385\r\n").1.unwrap().to_string(),
            "ERR Protocol error: unauthenticated bulk length"
        );
        assert_eq!(run_unauth(b"*10\r\n$16384\r\n"), (vec![], None));
        // Syntax errors win over the authentication check.
        assert_eq!(run_unauth(b"*x\r\n").1, Some(ProtocolError::InvalidMultibulkLength));
        assert_eq!(run_unauth(b"*1\r\n$x\r\n").1, Some(ProtocolError::InvalidBulkLength));
        // Inline requests have no such limit.
        let line = b"a b c d e f g h i j k l\r\n";
        assert_eq!(run_unauth(line).0[0].len(), 12);
        assert_eq!(run(b"*11\r\n$1\r\n").1, None);
    }

    #[test]
    fn inline_splitting() {
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"PING\r\n", &[b"PING"]),
            (b"PING\n", &[b"PING"]),
            (b"  SET  k   v  \r\n", &[b"SET", b"k", b"v"]),
            (b"ECHO a\rb\r\n", &[b"ECHO", b"a", b"b"]),
            (b"ECHO a\r\r\n", &[b"ECHO", b"a"]),
            (b"ECHO a\x0bb\r\n", &[b"ECHO", b"a\x0bb"]),
            (b"\x0bECHO\x0b a\r\n", &[b"ECHO\x0b", b"a"]),
            (b"ECHO \"ab\"\x0b\r\n", &[b"ECHO", b"ab"]),
            (b"ECHO \"\\x4g\"\r\n", &[b"ECHO", b"x4g"]),
            (b"ECHO \"\\x4F\\q\"\r\n", &[b"ECHO", b"Oq"]),
            (b"ECHO \"\" ''\r\n", &[b"ECHO", b"", b""]),
            (b"ECHO a\"b c\"\r\n", &[b"ECHO", b"ab c"]),
            (b"ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\"\n", &[b"ECHO", b"\n\r\t\x08\x07\\\""]),
            (b"ECHO \"\\x00\\xff\\xAb\"\n", &[b"ECHO", b"\x00\xff\xab"]),
            (b"ECHO 'a\\'b' 'c\\n'\n", &[b"ECHO", b"a'b", b"c\\n"]),
            (b"ECHO 'it''s'x\n", &[]),
            (b"SET \"k v\" 'x y'\t\"z\"\n", &[b"SET", b"k v", b"x y", b"z"]),
            (b"ECHO \"a\"\tb\n", &[b"ECHO", b"a", b"b"]),
            (b"ECHO \"\xc3\xa9\"\n", &[b"ECHO", b"\xc3\xa9"]),
            (b"\xff\xfe x\n", &[b"\xff\xfe", b"x"]),
        ];
        for (input, expected) in cases {
            let (got, err) = run(input);
            if expected.is_empty() {
                assert_eq!(
                    err,
                    Some(ProtocolError::UnbalancedQuotes),
                    "{:?}",
                    String::from_utf8_lossy(input)
                );
            } else {
                assert_eq!(err, None, "{:?}", String::from_utf8_lossy(input));
                assert_eq!(got, cmds(&[expected]), "{:?}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn inline_unbalanced_quotes() {
        for input in [
            &b"ECHO \"abc\"d\r\n"[..],
            b"ECHO 'abc\r\n",
            b"ECHO \"abc\r\n",
            b"ECHO \"a\\\r\n",
            b"ECHO \"a\"\"b\"\r\n",
            b"ECHO 'a'b\n",
            b"\"\n",
        ] {
            assert_eq!(
                err_text(input),
                "ERR Protocol error: unbalanced quotes in request",
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn inline_and_multibulk_mixed() {
        let input = b"PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO y\n";
        assert_eq!(
            run(input),
            (cmds(&[&[b"PING"], &[b"ECHO", b"x"], &[b"ECHO", b"y"]]), None)
        );
        // A '$' line is inline when not inside a multibulk request.
        assert_eq!(run(b"$3\r\n"), (cmds(&[&[b"$3"]]), None));
    }

    #[test]
    fn split_anywhere_gives_identical_results() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n");
        stream.extend_from_slice(b"PING\r\n\r\n*0\r\nECHO \"a b\" 'c'\n");
        stream.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*-1\r\n");
        let mut big = b"*2\r\n$3\r\nSET\r\n$40000\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'v', 40_000));
        big.extend_from_slice(b"\r\n");
        stream.extend_from_slice(&big);
        stream.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let (all, err) = run(&stream);
        assert_eq!(err, None);
        assert_eq!(all.len(), 6);
        assert_split_invariant(&stream, &Limits::default(), true);
        // Streams that end in each error kind.
        let limits = Limits {
            max_inline_len: 20,
            ..Limits::default()
        };
        for tail in [
            &b"*x\r\n"[..],
            b"*1\r\nX\r\n",
            b"*1\r\n$-3\r\n",
            b"ECHO \"a\n",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"*111111111111111111111111",
            b"*1\r\n$1111111111111111111111111",
            b"*1\r\n\x001111111111111111111111",
            b"*11\r\n",
            b"*1\r\n$16385\r\n",
        ] {
            let mut input = b"*1\r\n$4\r\nPING\r\nPING\r\n".to_vec();
            input.extend_from_slice(tail);
            assert_split_invariant(&input, &limits, false);
            let (got, err) = run_chunked(&input, &limits, false, &mut || usize::MAX);
            assert_eq!(got.len(), 2);
            assert!(err.is_some(), "{:?}", String::from_utf8_lossy(tail));
        }
    }

    #[test]
    fn random_streams_split_invariant() {
        let pieces: &[&[u8]] = &[
            b"*",
            b"$",
            b"\r",
            b"\n",
            b"\r\n",
            b"1",
            b"2",
            b"0",
            b"-",
            b"3",
            b"a",
            b" ",
            b"\"",
            b"'",
            b"\\",
            b"x",
            b"\0",
            b"*1\r\n$1\r\na\r\n",
            b"*2\r\n",
            b"$3\r\n",
            b"foo",
            b"PING\r\n",
        ];
        let limits = Limits {
            max_bulk_len: 64,
            max_multibulk_len: 16,
            max_inline_len: 24,
        };
        let mut rng = Rng::new(7);
        for _ in 0..3000 {
            let mut input = Vec::new();
            for _ in 0..rng.below(30) {
                input.extend_from_slice(pieces[rng.below(pieces.len())]);
            }
            let auth = rng.below(2) == 0;
            let whole = run_chunked(&input, &limits, auth, &mut || usize::MAX);
            let bytewise = run_chunked(&input, &limits, auth, &mut || 1);
            assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(&input));
            let mut chunk = || 1 + rng.below(8);
            assert_eq!(whole, run_chunked(&input, &limits, auth, &mut chunk));
        }
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$536870912\r\nabc"[..]);
        assert_eq!(d.decode(&mut buf, true), Ok(None));
        assert!(d.args.capacity() <= MAX_ARGV_PREALLOC);
        assert!(buf.capacity() <= MAX_BULK_RESERVE + 64, "capacity {}", buf.capacity());
        assert!(d.in_progress());
        // Many empty arguments: the vector grows only with actual data.
        let mut input = b"*1000000\r\n".to_vec();
        for _ in 0..3000 {
            input.extend_from_slice(b"$0\r\n\r\n");
        }
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(d.decode(&mut buf, true), Ok(None));
        assert_eq!(d.args.len(), 3000);
        assert!(d.args.capacity() < 10_000);
    }

    #[test]
    fn pending_bytes_track_the_partial_request() {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$5\r\nab"[..]);
        assert_eq!(d.decode(&mut buf, true), Ok(None));
        assert_eq!(d.pending_bytes(), 4 + 4 + 5 + 4);
        assert_eq!(d.query_buffer_len(&buf), 4 + 4 + 5 + 4 + 2);
        assert!(d.in_progress());
        buf.extend_from_slice(b"cde\r\n");
        assert_eq!(d.decode(&mut buf, true).unwrap().unwrap().len(), 2);
        assert_eq!(d.pending_bytes(), 0);
        assert!(!d.in_progress());
    }

    #[test]
    fn decoder_resets_after_error() {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n!"[..]);
        buf.extend_from_slice(b"\r\n");
        assert_eq!(d.decode(&mut buf, true), Err(ProtocolError::ExpectedDollar(b'!')));
        assert!(!d.in_progress());
        assert_eq!(d.pending_bytes(), 0);
        let mut buf = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(
            d.decode(&mut buf, true).unwrap().unwrap(),
            vec![Bytes::from_static(b"PING")]
        );
    }

    #[test]
    fn write_reply_is_byte_exact() {
        let mut out = BytesMut::new();
        ProtocolError::ExpectedDollar(0xff).write_reply(&mut out);
        assert_eq!(&out[..], b"-ERR Protocol error: expected '$', got '\xff'\r\n");
        // Display cannot hold a raw byte: it shows the Latin-1 character.
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).to_string(),
            "ERR Protocol error: expected '$', got '\u{ff}'"
        );
        let mut out = BytesMut::new();
        ProtocolError::InvalidBulkLength.write_reply(&mut out);
        assert_eq!(&out[..], b"-ERR Protocol error: invalid bulk length\r\n");
        let all = [
            (
                ProtocolError::InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::ExpectedDollar(b'X'),
                "ERR Protocol error: expected '$', got 'X'",
            ),
            (
                ProtocolError::UnauthenticatedMultibulkLength,
                "ERR Protocol error: unauthenticated multibulk length",
            ),
            (
                ProtocolError::UnauthenticatedBulkLength,
                "ERR Protocol error: unauthenticated bulk length",
            ),
            (
                ProtocolError::TooBigInlineRequest,
                "ERR Protocol error: too big inline request",
            ),
            (
                ProtocolError::TooBigMultibulkCountString,
                "ERR Protocol error: too big mbulk count string",
            ),
            (
                ProtocolError::TooBigBulkCountString,
                "ERR Protocol error: too big bulk count string",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (ProtocolError::InvalidFrame("bad"), "ERR Protocol error: bad"),
        ];
        for (err, text) in all {
            assert_eq!(err.to_string(), text);
            let mut out = BytesMut::new();
            err.write_reply(&mut out);
            assert_eq!(out, format!("-{text}\r\n").as_bytes());
        }
    }

    #[test]
    fn strict_integer_parsing() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"000000000000000000001",
            b"18446744073709551616",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn find2_short_and_long() {
        assert_eq!(find2(b'\r', 0, b"12\r"), Some(2));
        assert_eq!(find2(b'\r', 0, b"12"), None);
        let mut long = vec![b'a'; 100];
        assert_eq!(find2(b'\r', 0, &long), None);
        long[77] = 0;
        assert_eq!(find2(b'\r', 0, &long), Some(77));
        long[30] = b'\r';
        assert_eq!(find2(b'\r', 0, &long), Some(30));
    }

    #[test]
    fn large_bulk_arriving_in_pieces_is_linear() {
        // A 4 MiB argument fed 1 KiB at a time: each call only looks at new
        // data, so this finishes quickly even in debug builds.
        let len = 4 * 1024 * 1024;
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(format!("*2\r\n$3\r\nSET\r\n${len}\r\n").as_bytes());
        let payload = vec![b'x'; 1024];
        let mut sent = 0;
        while sent < len {
            assert_eq!(d.decode(&mut buf, true), Ok(None));
            buf.extend_from_slice(&payload);
            sent += payload.len();
        }
        buf.extend_from_slice(b"\r\n");
        let args = d.decode(&mut buf, true).unwrap().unwrap();
        assert_eq!(args[1].len(), len);
        // A long inline line arriving byte by byte is searched once.
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::new();
        for _ in 0..60_000 {
            buf.extend_from_slice(b"a");
            assert_eq!(d.decode(&mut buf, true), Ok(None));
        }
        buf.extend_from_slice(b"\n");
        assert_eq!(d.decode(&mut buf, true).unwrap().unwrap()[0].len(), 60_000);
    }

    #[test]
    fn repr_escapes_like_sdscatrepr_and_splits_back() {
        let nasty = b"a b\"\\\n\r\t\x07\x08\x00\xff~";
        let mut out = Vec::new();
        repr(&mut out, nasty);
        assert_eq!(out, b"\"a b\\\"\\\\\\n\\r\\t\\a\\b\\x00\\xff~\"".to_vec());
        assert_eq!(split_args(&Bytes::from(out)), Some(vec![Bytes::from_static(nasty)]));
    }
}
