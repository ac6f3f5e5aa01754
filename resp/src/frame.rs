//! Whole RESP2/RESP3 values: this module owns the [`Frame`] enum, its
//! encoders, and [`FrameDecoder`], an incremental decoder for *replies*
//! (what a server sends: used by proxies, replicas, cluster links and tests).
//! Client requests are parsed by [`crate::RequestDecoder`] instead.
//!
//! # Decoding rules
//!
//! - Every RESP2 and RESP3 type is accepted: `+ - : $ *` and `_ , # ( ! = %
//!   ~ > |`. RESP3 streamed strings and aggregates (`$?`, `*?`, `;`, `.`),
//!   which Redis never sends, are rejected.
//! - `$-1` and `_` both decode to [`Frame::Null`], `*-1` to
//!   [`Frame::NullArray`]; other negative lengths are errors.
//! - Attributes (`|n`) are kept: an attribute and the value that follows it
//!   decode to one [`Frame::Attribute`] holding both, wherever they occur (at
//!   the top level or inside an aggregate, where the pair counts as one
//!   element).
//! - Lines end with CRLF; a bulk payload must be followed by CRLF. Numbers
//!   follow Redis's strict integer syntax.
//! - Limits: bulk payloads up to `max_bulk_len`, aggregate counts up to
//!   `max_multibulk_len`, simple lines up to `max_inline_len` bytes, and at
//!   most `max_depth` nested aggregates (so `*1\r\n*1\r\n...` cannot
//!   overflow the stack). Declared counts never pre-allocate: a frame is
//!   only built once all of its bytes have arrived.

use crate::encode;
use crate::request::{Limits, ProtocolError, parse_i64};
use bytes::{Bytes, BytesMut};

/// One RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text` status reply.
    Simple(Bytes),
    /// `-text` error reply (text without the `-`).
    Error(Bytes),
    /// `:n`.
    Integer(i64),
    /// `$len` bulk string.
    Bulk(Bytes),
    /// RESP2 null bulk `$-1` or RESP3 null `_`.
    Null,
    /// RESP2 null array `*-1`.
    NullArray,
    /// `*n`.
    Array(Vec<Frame>),
    /// RESP3 `%n` map, pairs in wire order.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~n` set.
    Set(Vec<Frame>),
    /// RESP3 `,` double.
    Double(f64),
    /// RESP3 `#t` / `#f`.
    Boolean(bool),
    /// RESP3 `(` big number, its decimal text.
    BigNumber(Bytes),
    /// RESP3 `=` verbatim string: a three-byte format (`txt`, `mkd`) and the
    /// text after the `:`.
    Verbatim {
        /// The format, e.g. `*b"txt"`.
        format: [u8; 3],
        /// The text.
        text: Bytes,
    },
    /// RESP3 `>n` out-of-band push message.
    Push(Vec<Frame>),
    /// RESP3 `!len` blob error.
    BlobError(Bytes),
    /// RESP3 `|n` attributes and the value they annotate.
    Attribute {
        /// The attribute map's pairs.
        attrs: Vec<(Frame, Frame)>,
        /// The annotated value.
        data: Box<Frame>,
    },
}

/// How [`Frame::encode_mode`] spells types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Each type in its own syntax; nulls as `$-1` / `*-1`.
    Native,
    /// RESP3 syntax throughout; both nulls as `_`.
    Resp3,
    /// Redis's downgrade of RESP3 types for RESP2 clients.
    Resp2,
}

impl Frame {
    /// Parses `data` as exactly one frame (with [`FrameDecoder`]'s default
    /// limits), such as the bytes [`FrameDecoder::next_raw`] returned.
    ///
    /// # Errors
    ///
    /// A malformed frame, or `data` holding less or more than one frame.
    pub fn parse(data: &Bytes) -> Result<Frame, ProtocolError> {
        match FrameDecoder::new().scan(data)? {
            Some(len) if len == data.len() => build_whole(data),
            _ => Err(ProtocolError::InvalidFrame("not exactly one frame")),
        }
    }

    /// Appends the frame's wire form: each type in its own syntax (RESP3
    /// types in RESP3, attributes included), with [`Frame::Null`] written as
    /// `$-1` and [`Frame::NullArray`] as `*-1`. `\r`/`\n` inside simple
    /// strings and errors are written as spaces.
    pub fn encode(&self, out: &mut BytesMut) {
        self.encode_mode(out, Mode::Native);
    }

    /// Appends the frame as Redis would send it to a client of the given
    /// protocol: with `resp3` both nulls are `_`; without it RESP3 types are
    /// downgraded as Redis 7.0 does (map to a flat array, set and push to an
    /// array, double to a bulk string, boolean to `:1`/`:0`, big number and
    /// verbatim to bulk strings, blob error to a simple error, attributes
    /// dropped).
    pub fn encode_as(&self, out: &mut BytesMut, resp3: bool) {
        self.encode_mode(out, if resp3 { Mode::Resp3 } else { Mode::Resp2 });
    }

    /// The [`encode`](Self::encode)d bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }

    fn encode_mode(&self, out: &mut BytesMut, mode: Mode) {
        let resp3 = mode != Mode::Resp2;
        match self {
            Frame::Simple(text) => encode::simple(out, text),
            Frame::Error(text) => encode::error(out, text),
            Frame::Integer(n) => encode::integer(out, *n),
            Frame::Bulk(data) => encode::bulk(out, data),
            Frame::Null => encode::null(out, mode == Mode::Resp3),
            Frame::NullArray => encode::null_array(out, mode == Mode::Resp3),
            Frame::Array(items) => {
                encode::array_len(out, items.len());
                items.iter().for_each(|f| f.encode_mode(out, mode));
            }
            Frame::Set(items) => {
                encode::set_len(out, items.len(), resp3);
                items.iter().for_each(|f| f.encode_mode(out, mode));
            }
            Frame::Push(items) => {
                encode::push_len(out, items.len(), resp3);
                items.iter().for_each(|f| f.encode_mode(out, mode));
            }
            Frame::Map(pairs) => {
                encode::map_len(out, pairs.len(), resp3);
                for (key, value) in pairs {
                    key.encode_mode(out, mode);
                    value.encode_mode(out, mode);
                }
            }
            Frame::Double(value) => encode::double(out, *value, resp3),
            Frame::Boolean(value) => encode::boolean(out, *value, resp3),
            Frame::BigNumber(digits) => encode::big_number(out, digits, resp3),
            Frame::Verbatim { format, text } => encode::verbatim_with_format(out, format, text, resp3),
            Frame::BlobError(text) => encode::blob_error(out, text, resp3),
            Frame::Attribute { attrs, data } => {
                if resp3 {
                    encode::attribute_len(out, attrs.len());
                    for (key, value) in attrs {
                        key.encode_mode(out, mode);
                        value.encode_mode(out, mode);
                    }
                }
                data.encode_mode(out, mode);
            }
        }
    }
}

/// Default limits for replies: 512 MiB bulks, simple lines up to the same
/// size (long Lua error messages are legal), aggregates up to `INT_MAX`.
pub const REPLY_LIMITS: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    max_multibulk_len: i32::MAX as usize,
    max_inline_len: 512 * 1024 * 1024,
};

/// Default maximum nesting of aggregates.
pub const DEFAULT_MAX_DEPTH: usize = 128;

const CORRUPT: ProtocolError = ProtocolError::InvalidFrame("internal decoder inconsistency");

/// Incremental decoder for replies.
///
/// [`next_frame`](Self::next_frame) validates the buffered bytes without
/// consuming them and remembers how far it got (the end of the last
/// complete element and the open aggregates), so a large reply arriving
/// over many reads is scanned once overall. Once a whole frame is
/// buffered, its bytes are split off the buffer and the frame is built
/// with zero-copy slices of them.
///
/// [`FrameDecoder::decode`] is the stateless form: it decodes with the
/// default limits and rescans from the start on every call.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    limits: Limits,
    max_depth: usize,
    /// End of the last complete element of the frame in progress.
    pos: usize,
    /// Elements still expected by each open aggregate, outermost first.
    stack: Vec<u64>,
    /// Bytes after the current element's type byte already searched for
    /// `\r`.
    scanned: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder with [`REPLY_LIMITS`] and [`DEFAULT_MAX_DEPTH`].
    pub fn new() -> Self {
        FrameDecoder::with_limits(REPLY_LIMITS)
    }

    /// A decoder with the given limits and [`DEFAULT_MAX_DEPTH`].
    pub fn with_limits(limits: Limits) -> Self {
        FrameDecoder {
            limits,
            max_depth: DEFAULT_MAX_DEPTH,
            pos: 0,
            stack: Vec::new(),
            scanned: 0,
        }
    }

    /// Sets the maximum number of nested aggregates.
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Stateless decoding with the default limits: parses one frame from the
    /// front of `buf`, consuming its bytes. `Ok(None)` (nothing consumed)
    /// means more input is needed.
    pub fn decode(buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        FrameDecoder::new().next_frame(buf)
    }

    /// Parses one frame from the front of `buf`, consuming its bytes once it
    /// is complete. `Ok(None)` means more input is needed: `buf` is left
    /// untouched and the progress made is remembered, so the caller must
    /// append to the same buffer and call again (or [`reset`](Self::reset)
    /// first when switching buffers). On error the decoder is reset; the
    /// stream cannot be resynchronised.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let Some(data) = self.next_raw(buf)? else {
            return Ok(None);
        };
        build_whole(&data).map(Some)
    }

    /// Like [`next_frame`](Self::next_frame), but gives the complete frame's
    /// bytes as received, checked and not built into a [`Frame`]: for a
    /// proxy passing a reply on unchanged. [`Frame::parse`] builds it later
    /// when needed.
    pub fn next_raw(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, ProtocolError> {
        if self.pos > buf.len() {
            self.reset();
        }
        match self.scan(buf) {
            Ok(Some(len)) => {
                self.reset();
                Ok(Some(buf.split_to(len).freeze()))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// Forgets the progress on a partial frame.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.stack.clear();
        self.scanned = 0;
    }

    /// Validates elements from `self.pos` on. `Ok(Some(len))`: a complete
    /// frame occupies `buf[..len]`.
    fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        loop {
            let start = self.pos;
            let Some(&kind) = buf.get(start) else {
                return Ok(None);
            };
            if !matches!(
                kind,
                b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' | b'$' | b'!' | b'=' | b'*' | b'%' | b'~' | b'>' | b'|'
            ) {
                return Err(ProtocolError::InvalidFrame("invalid reply type byte"));
            }
            let text_start = start + 1;
            // The line's '\r' must come within max_inline_len bytes.
            let limit_end = text_start.saturating_add(self.limits.max_inline_len).saturating_add(1);
            let window_end = buf.len().min(limit_end);
            let from = text_start.saturating_add(self.scanned).min(window_end);
            let cr = match memchr::memchr(b'\r', &buf[from..window_end]) {
                Some(i) => from + i,
                None => {
                    if buf.len() >= limit_end {
                        return Err(ProtocolError::InvalidFrame("line too long"));
                    }
                    self.scanned = window_end - text_start;
                    return Ok(None);
                }
            };
            self.scanned = cr - text_start;
            let Some(&lf) = buf.get(cr + 1) else {
                return Ok(None);
            };
            if lf != b'\n' {
                return Err(ProtocolError::InvalidFrame("expected CRLF"));
            }
            let line = &buf[text_start..cr];
            let after = cr + 2;
            let end = match kind {
                b'+' | b'-' => after,
                b':' => {
                    parse_i64(line).ok_or(ProtocolError::InvalidFrame("invalid integer"))?;
                    after
                }
                b'_' => {
                    if !line.is_empty() {
                        return Err(ProtocolError::InvalidFrame("invalid null"));
                    }
                    after
                }
                b'#' => {
                    if line != b"t" && line != b"f" {
                        return Err(ProtocolError::InvalidFrame("invalid boolean"));
                    }
                    after
                }
                b',' => {
                    parse_double(line).ok_or(ProtocolError::InvalidFrame("invalid double"))?;
                    after
                }
                b'(' => {
                    if !is_big_number(line) {
                        return Err(ProtocolError::InvalidFrame("invalid big number"));
                    }
                    after
                }
                b'$' | b'!' | b'=' => {
                    let invalid = ProtocolError::InvalidFrame("invalid bulk length");
                    let n = parse_i64(line).ok_or(invalid.clone())?;
                    if n == -1 && kind == b'$' {
                        after
                    } else {
                        if n < 0 || n as u64 > self.limits.max_bulk_len as u64 {
                            return Err(invalid);
                        }
                        let n = usize::try_from(n).map_err(|_| invalid.clone())?;
                        if kind == b'=' && n < 4 {
                            return Err(ProtocolError::InvalidFrame("invalid verbatim string"));
                        }
                        let payload_end = after.checked_add(n).ok_or(invalid.clone())?;
                        let end = payload_end.checked_add(2).ok_or(invalid)?;
                        let Some(tail) = buf.get(payload_end..end) else {
                            return Ok(None);
                        };
                        if tail != b"\r\n" {
                            return Err(ProtocolError::InvalidFrame("expected CRLF after bulk payload"));
                        }
                        if kind == b'=' && buf.get(after + 3) != Some(&b':') {
                            return Err(ProtocolError::InvalidFrame("invalid verbatim string"));
                        }
                        end
                    }
                }
                b'*' | b'%' | b'~' | b'>' | b'|' => {
                    let invalid = ProtocolError::InvalidFrame("invalid multibulk length");
                    let n = parse_i64(line).ok_or(invalid.clone())?;
                    if n == -1 && kind == b'*' {
                        after
                    } else {
                        if n < 0 || n as u64 > self.limits.max_multibulk_len as u64 {
                            return Err(invalid);
                        }
                        let n = n as u64;
                        let children = match kind {
                            b'%' => n * 2,
                            b'|' => n * 2 + 1,
                            _ => n,
                        };
                        if children == 0 {
                            after
                        } else {
                            if self.stack.len() >= self.max_depth {
                                return Err(ProtocolError::InvalidFrame("too many nested aggregates"));
                            }
                            self.stack.push(children);
                            self.pos = after;
                            self.scanned = 0;
                            continue;
                        }
                    }
                }
                _ => return Err(ProtocolError::InvalidFrame("invalid reply type byte")),
            };
            self.pos = end;
            self.scanned = 0;
            // One element is complete: close every aggregate it completes.
            loop {
                match self.stack.last_mut() {
                    None => return Ok(Some(self.pos)),
                    Some(remaining) => {
                        *remaining -= 1;
                        if *remaining > 0 {
                            break;
                        }
                        self.stack.pop();
                    }
                }
            }
        }
    }
}

/// RESP3 double text: what Redis prints (`1.5`, `1e+20`, `inf`, `-inf`,
/// `nan`) and any other decimal or exponent form.
fn parse_double(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// `[+-]?[0-9]+`.
fn is_big_number(text: &[u8]) -> bool {
    let digits = match text.first() {
        Some(b'-' | b'+') => &text[1..],
        _ => text,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Builds the frame starting at `*pos` in already validated `data`,
/// advancing `*pos` past it. Recursion is bounded by the decoder's depth
/// limit, enforced while scanning.
/// Builds the frame that `data`, already checked by [`FrameDecoder::scan`],
/// holds exactly.
fn build_whole(data: &Bytes) -> Result<Frame, ProtocolError> {
    let mut pos = 0;
    let frame = build(data, &mut pos)?;
    if pos != data.len() {
        return Err(CORRUPT);
    }
    Ok(frame)
}

fn build(data: &Bytes, pos: &mut usize) -> Result<Frame, ProtocolError> {
    let start = *pos;
    let kind = *data.get(start).ok_or(CORRUPT)?;
    // The type byte is never '\r', so the line's '\r' comes after it.
    let text = data.get(start + 1..).ok_or(CORRUPT)?;
    let cr = memchr::memchr(b'\r', text).ok_or(CORRUPT)? + start + 1;
    let line = data.slice(start + 1..cr);
    let after = cr + 2;
    *pos = after;
    let count = |line: &Bytes| parse_i64(line).ok_or(CORRUPT);
    Ok(match kind {
        b'+' => Frame::Simple(line),
        b'-' => Frame::Error(line),
        b':' => Frame::Integer(count(&line)?),
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(&line[..] == b"t"),
        b',' => Frame::Double(parse_double(&line).ok_or(CORRUPT)?),
        b'(' => Frame::BigNumber(line),
        b'$' | b'!' | b'=' => {
            let Ok(n) = usize::try_from(count(&line)?) else {
                return Ok(Frame::Null);
            };
            let end = after.checked_add(n).ok_or(CORRUPT)?;
            let next = end.checked_add(2).filter(|&next| next <= data.len()).ok_or(CORRUPT)?;
            let payload = data.slice(after..end);
            *pos = next;
            match kind {
                b'$' => Frame::Bulk(payload),
                b'!' => Frame::BlobError(payload),
                _ => match &payload[..] {
                    [a, b, c, b':', ..] => Frame::Verbatim {
                        format: [*a, *b, *c],
                        text: payload.slice(4..),
                    },
                    _ => return Err(CORRUPT),
                },
            }
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let Ok(n) = usize::try_from(count(&line)?) else {
                return Ok(Frame::NullArray);
            };
            // Every element takes at least 3 bytes, all of them present.
            let capacity = n.min(data.len() / 3);
            match kind {
                b'*' => Frame::Array(build_list(data, pos, n, capacity)?),
                b'~' => Frame::Set(build_list(data, pos, n, capacity)?),
                b'>' => Frame::Push(build_list(data, pos, n, capacity)?),
                b'%' => Frame::Map(build_pairs(data, pos, n, capacity)?),
                _ => {
                    let attrs = build_pairs(data, pos, n, capacity)?;
                    let inner = build(data, pos)?;
                    Frame::Attribute {
                        attrs,
                        data: Box::new(inner),
                    }
                }
            }
        }
        _ => return Err(CORRUPT),
    })
}

fn build_list(data: &Bytes, pos: &mut usize, n: usize, capacity: usize) -> Result<Vec<Frame>, ProtocolError> {
    let mut items = Vec::with_capacity(capacity);
    for _ in 0..n {
        items.push(build(data, pos)?);
    }
    Ok(items)
}

fn build_pairs(data: &Bytes, pos: &mut usize, n: usize, capacity: usize) -> Result<Vec<(Frame, Frame)>, ProtocolError> {
    let mut pairs = Vec::with_capacity(capacity / 2);
    for _ in 0..n {
        let key = build(data, pos)?;
        let value = build(data, pos)?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    fn decode_all(input: &[u8]) -> (Vec<Frame>, Option<ProtocolError>) {
        let mut decoder = FrameDecoder::new();
        let mut buf = BytesMut::from(input);
        let mut frames = Vec::new();
        loop {
            match decoder.next_frame(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => return (frames, None),
                Err(e) => return (frames, Some(e)),
            }
        }
    }

    fn decode_one(input: &[u8]) -> Frame {
        let (frames, err) = decode_all(input);
        assert_eq!(err, None, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(frames.len(), 1, "{:?}", String::from_utf8_lossy(input));
        frames.into_iter().next().unwrap()
    }

    /// Feeds in chunks; results as encoded bytes (f64 NaN is not `Eq`).
    fn decode_chunked(
        input: &[u8],
        decoder: &mut FrameDecoder,
        chunk: &mut dyn FnMut() -> usize,
    ) -> (Vec<Bytes>, bool) {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            loop {
                match decoder.next_frame(&mut buf) {
                    Ok(Some(frame)) => out.push(frame.to_bytes()),
                    Ok(None) => break,
                    Err(_) => return (out, true),
                }
            }
            if fed == input.len() {
                return (out, false);
            }
            let n = chunk().clamp(1, input.len() - fed);
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
        }
    }

    fn sample_frames() -> Vec<Frame> {
        vec![
            Frame::Simple(b(b"OK")),
            Frame::Error(b(b"ERR wrong")),
            Frame::Integer(-12),
            Frame::Integer(i64::MAX),
            Frame::Bulk(b(b"")),
            Frame::Bulk(b(b"bin\r\n\0\xff")),
            Frame::Null,
            Frame::NullArray,
            Frame::Array(vec![]),
            Frame::Array(vec![
                Frame::Integer(1),
                Frame::Array(vec![Frame::Bulk(b(b"x")), Frame::Null]),
            ]),
            Frame::Map(vec![
                (Frame::Simple(b(b"k")), Frame::Double(1.5)),
                (Frame::Bulk(b(b"n")), Frame::Map(vec![])),
            ]),
            Frame::Set(vec![Frame::Boolean(true), Frame::Boolean(false)]),
            Frame::Double(f64::INFINITY),
            Frame::Double(f64::NEG_INFINITY),
            Frame::Double(0.1),
            Frame::Double(-1e-300),
            Frame::BigNumber(b(b"-3492890328409238509324850943850943825024385")),
            Frame::Verbatim {
                format: *b"txt",
                text: b(b"Some string"),
            },
            Frame::Verbatim {
                format: *b"mkd",
                text: b(b""),
            },
            Frame::Push(vec![
                Frame::Bulk(b(b"message")),
                Frame::Bulk(b(b"chan")),
                Frame::Bulk(b(b"hi")),
            ]),
            Frame::BlobError(b(b"SYNTAX invalid\r\nsyntax")),
            Frame::Attribute {
                attrs: vec![(Frame::Simple(b(b"ttl")), Frame::Integer(3600))],
                data: Box::new(Frame::Array(vec![Frame::Integer(2039123), Frame::Integer(9543892)])),
            },
            Frame::Array(vec![
                Frame::Attribute {
                    attrs: vec![],
                    data: Box::new(Frame::Integer(1)),
                },
                Frame::Integer(2),
            ]),
        ]
    }

    #[test]
    fn round_trip_every_type() {
        for frame in sample_frames() {
            let bytes = frame.to_bytes();
            assert_eq!(decode_one(&bytes), frame, "{:?}", String::from_utf8_lossy(&bytes));
        }
        // All of them pipelined, split anywhere.
        let mut stream = Vec::new();
        for frame in sample_frames() {
            stream.extend_from_slice(&frame.to_bytes());
        }
        let (frames, err) = decode_all(&stream);
        assert_eq!(err, None);
        assert_eq!(frames, sample_frames());
        let whole = decode_chunked(&stream, &mut FrameDecoder::new(), &mut || usize::MAX);
        assert_eq!(decode_chunked(&stream, &mut FrameDecoder::new(), &mut || 1), whole);
        let mut seed = 1u64;
        for _ in 0..50 {
            let mut chunk = || {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                1 + (seed >> 33) as usize % 17
            };
            assert_eq!(decode_chunked(&stream, &mut FrameDecoder::new(), &mut chunk), whole);
        }
    }

    #[test]
    fn exact_wire_forms() {
        let cases: &[(&[u8], Frame)] = &[
            (b"+OK\r\n", Frame::Simple(b(b"OK"))),
            (b"-ERR x\r\n", Frame::Error(b(b"ERR x"))),
            (b":-5\r\n", Frame::Integer(-5)),
            (b"$3\r\nfoo\r\n", Frame::Bulk(b(b"foo"))),
            (b"$-1\r\n", Frame::Null),
            (b"*-1\r\n", Frame::NullArray),
            (b"*0\r\n", Frame::Array(vec![])),
            (
                b"%1\r\n+a\r\n:1\r\n",
                Frame::Map(vec![(Frame::Simple(b(b"a")), Frame::Integer(1))]),
            ),
            (b"~1\r\n#f\r\n", Frame::Set(vec![Frame::Boolean(false)])),
            (b">1\r\n+p\r\n", Frame::Push(vec![Frame::Simple(b(b"p"))])),
            (b",1e+20\r\n", Frame::Double(1e20)),
            (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
            (b"(12\r\n", Frame::BigNumber(b(b"12"))),
            (
                b"=8\r\ntxt:abcd\r\n",
                Frame::Verbatim {
                    format: *b"txt",
                    text: b(b"abcd"),
                },
            ),
            (b"!3\r\nERR\r\n", Frame::BlobError(b(b"ERR"))),
        ];
        for (wire, frame) in cases {
            assert_eq!(&decode_one(wire), frame);
            assert_eq!(&frame.to_bytes()[..], *wire);
        }
        // RESP3 null decodes to the shared Null, re-encoded in RESP2 form.
        assert_eq!(decode_one(b"_\r\n"), Frame::Null);
        // Other double spellings decode.
        assert_eq!(decode_one(b",10\r\n"), Frame::Double(10.0));
        assert_eq!(decode_one(b",.5\r\n"), Frame::Double(0.5));
        assert!(matches!(decode_one(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
        assert!(matches!(decode_one(b",-nan\r\n"), Frame::Double(d) if d.is_nan()));
        // A Redis-style simple string may contain a lone '\n'.
        assert_eq!(decode_one(b"+a\nb\r\n"), Frame::Simple(b(b"a\nb")));
    }

    #[test]
    fn next_raw_gives_each_frame_as_received() {
        let frames: &[&[u8]] = &[
            b"$3\r\nfoo\r\n",
            b"*2\r\n:1\r\n_\r\n",
            b"-ERR x\r\n",
            b"|1\r\n+a\r\n:1\r\n+v\r\n",
        ];
        let stream = frames.concat();
        let mut decoder = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for byte in &stream {
            buf.extend_from_slice(&[*byte]);
            while let Some(raw) = decoder.next_raw(&mut buf).unwrap() {
                got.push(raw);
            }
        }
        assert_eq!(got.iter().map(|r| &r[..]).collect::<Vec<_>>(), frames);
        let mut whole = BytesMut::from(&stream[..]);
        for raw in &got {
            assert_eq!(
                Frame::parse(raw),
                Ok(FrameDecoder::decode(&mut whole).unwrap().unwrap())
            );
        }
        assert!(Frame::parse(&Bytes::from_static(b"$3\r\nfoo\r\n:1\r\n")).is_err());
        assert!(Frame::parse(&Bytes::from_static(b"$3\r\nfo")).is_err());
        assert!(decoder.next_raw(&mut BytesMut::from(&b"?\r\n"[..])).is_err());
    }

    #[test]
    fn encode_as_resp2_and_resp3() {
        let frame = Frame::Map(vec![
            (Frame::Bulk(b(b"score")), Frame::Double(1.5)),
            (Frame::Bulk(b(b"ok")), Frame::Boolean(true)),
            (Frame::Bulk(b(b"n")), Frame::Null),
            (Frame::Bulk(b(b"a")), Frame::NullArray),
            (Frame::Bulk(b(b"s")), Frame::Set(vec![Frame::BigNumber(b(b"7"))])),
            (
                Frame::Bulk(b(b"v")),
                Frame::Attribute {
                    attrs: vec![(Frame::Simple(b(b"x")), Frame::Integer(1))],
                    data: Box::new(Frame::Verbatim {
                        format: *b"txt",
                        text: b(b"hi"),
                    }),
                },
            ),
            (Frame::Bulk(b(b"e")), Frame::BlobError(b(b"ERR a\r\nb"))),
        ]);
        let mut resp2 = BytesMut::new();
        frame.encode_as(&mut resp2, false);
        assert_eq!(
            &resp2[..],
            &b"*14\r\n$5\r\nscore\r\n$3\r\n1.5\r\n$2\r\nok\r\n:1\r\n$1\r\nn\r\n$-1\r\n$1\r\na\r\n*-1\r\n\
               $1\r\ns\r\n*1\r\n$1\r\n7\r\n$1\r\nv\r\n$2\r\nhi\r\n$1\r\ne\r\n-ERR a  b\r\n"[..]
        );
        let mut resp3 = BytesMut::new();
        frame.encode_as(&mut resp3, true);
        assert_eq!(
            &resp3[..],
            &b"%7\r\n$5\r\nscore\r\n,1.5\r\n$2\r\nok\r\n#t\r\n$1\r\nn\r\n_\r\n$1\r\na\r\n_\r\n\
               $1\r\ns\r\n~1\r\n(7\r\n$1\r\nv\r\n|1\r\n+x\r\n:1\r\n=6\r\ntxt:hi\r\n$1\r\ne\r\n!8\r\nERR a\r\nb\r\n"[..]
        );
    }

    #[test]
    fn incomplete_input_consumes_nothing() {
        let full = b"*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n,2.5\r\n=6\r\ntxt:ab\r\n";
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(FrameDecoder::decode(&mut buf), Ok(None), "cut at {cut}");
            assert_eq!(buf.len(), cut);
        }
        let mut buf = BytesMut::from(&full[..]);
        buf.extend_from_slice(b"+next\r\n");
        assert!(FrameDecoder::decode(&mut buf).unwrap().is_some());
        assert_eq!(&buf[..], b"+next\r\n");
    }

    #[test]
    fn stateful_progress_and_reset() {
        let mut d = FrameDecoder::new();
        let mut first = BytesMut::from(&b"*2\r\n:1\r\n"[..]);
        assert_eq!(d.next_frame(&mut first), Ok(None));
        assert_eq!(first.len(), 8);
        first.extend_from_slice(b":2\r\n+x\r\n");
        assert_eq!(
            d.next_frame(&mut first),
            Ok(Some(Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])))
        );
        assert_eq!(d.next_frame(&mut first), Ok(Some(Frame::Simple(b(b"x")))));
        assert!(first.is_empty());
        // Switching buffers mid-frame needs a reset.
        let mut partial = BytesMut::from(&b"*3\r\n:1\r\n:2\r\n"[..]);
        assert_eq!(d.next_frame(&mut partial), Ok(None));
        d.reset();
        let mut other = BytesMut::from(&b":7\r\n"[..]);
        assert_eq!(d.next_frame(&mut other), Ok(Some(Frame::Integer(7))));
        // After an error the decoder starts afresh.
        assert!(d.next_frame(&mut BytesMut::from(&b"*1\r\n?\r\n"[..])).is_err());
        assert_eq!(
            d.next_frame(&mut BytesMut::from(&b"#t\r\n"[..])),
            Ok(Some(Frame::Boolean(true)))
        );
    }

    #[test]
    fn malformed_replies_are_errors() {
        for bad in [
            &b"?x\r\n"[..],
            b"$?\r\n",
            b"*?\r\n",
            b";4\r\n",
            b".\r\n",
            b"$-2\r\n",
            b"*-2\r\n",
            b"%-1\r\n",
            b"~-1\r\n",
            b"!-1\r\n",
            b"$3\r\nfooXY",
            b"+OK\rX",
            b":1.5\r\n",
            b":\r\n",
            b":01\r\n",
            b"#x\r\n",
            b"#\r\n",
            b"_x\r\n",
            b",\r\n",
            b",abc\r\n",
            b"(\r\n",
            b"(12a\r\n",
            b"=3\r\ntxt\r\n",
            b"=4\r\ntxtx\r\n",
            b"$04\r\nabcd\r\n",
            b"*1\r\n$3\r\nabcXY",
            b"\r\n",
        ] {
            let (frames, err) = decode_all(bad);
            assert!(frames.is_empty() && err.is_some(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            decode_all(b"*1\r\n?\r\n").1.unwrap().to_string(),
            "ERR Protocol error: invalid reply type byte"
        );
    }

    #[test]
    fn limits_and_depth() {
        let limits = Limits {
            max_bulk_len: 4,
            max_multibulk_len: 2,
            max_inline_len: 8,
        };
        let run = |input: &[u8]| {
            let mut d = FrameDecoder::with_limits(limits.clone());
            d.next_frame(&mut BytesMut::from(input))
        };
        assert!(run(b"$4\r\nabcd\r\n").unwrap().is_some());
        assert!(run(b"$5\r\n").is_err());
        assert!(run(b"*2\r\n:1\r\n:2\r\n").unwrap().is_some());
        assert!(run(b"*3\r\n").is_err());
        assert!(run(b"%3\r\n").is_err());
        assert!(run(b"+12345678\r\n").unwrap().is_some());
        assert!(run(b"+123456789\r\n").is_err());
        assert!(run(b"+123456789").is_err());
        assert_eq!(run(b"+12345678"), Ok(None));

        let nested = |depth: usize| {
            let mut input = b"*1\r\n".repeat(depth);
            input.extend_from_slice(b":1\r\n");
            input
        };
        let mut d = FrameDecoder::new().with_max_depth(4);
        assert!(d.next_frame(&mut BytesMut::from(&nested(4)[..])).unwrap().is_some());
        assert!(d.next_frame(&mut BytesMut::from(&nested(5)[..])).is_err());
        // Empty aggregates do not nest.
        let mut input = b"*1\r\n".repeat(4);
        input.extend_from_slice(b"*0\r\n");
        assert!(d.next_frame(&mut BytesMut::from(&input[..])).unwrap().is_some());
        // Attributes count as nesting.
        assert!(
            d.next_frame(&mut BytesMut::from(&b"|0\r\n|0\r\n|0\r\n|0\r\n:1\r\n"[..]))
                .unwrap()
                .is_some()
        );
        assert!(
            d.next_frame(&mut BytesMut::from(&b"|0\r\n|0\r\n|0\r\n|0\r\n|0\r\n:1\r\n"[..]))
                .is_err()
        );

        // A million levels: rejected at the default depth, no stack overflow.
        let (frames, err) = decode_all(&b"*1\r\n".repeat(1_000_000));
        assert!(frames.is_empty());
        assert_eq!(err, Some(ProtocolError::InvalidFrame("too many nested aggregates")));
        let deepest = decode_one(&nested(DEFAULT_MAX_DEPTH));
        assert_eq!(deepest.to_bytes(), Bytes::from(nested(DEFAULT_MAX_DEPTH)));
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n%2147483647\r\n$536870912\r\nab"[..]);
        assert_eq!(d.next_frame(&mut buf), Ok(None));
        assert!(buf.capacity() < 1024);
        assert!(d.stack.capacity() < 64);
        assert!(FrameDecoder::decode(&mut BytesMut::from(&b"*2147483648\r\n"[..])).is_err());
        assert!(FrameDecoder::decode(&mut BytesMut::from(&b"$536870913\r\n"[..])).is_err());
    }

    #[test]
    fn big_reply_arriving_in_pieces_is_scanned_once() {
        // 200k elements fed 64 bytes at a time: quadratic rescanning would
        // take minutes in debug builds.
        let n = 200_000;
        let mut input = format!("*{n}\r\n").into_bytes();
        for i in 0..n {
            input.extend_from_slice(format!(":{i}\r\n").as_bytes());
        }
        let (frames, failed) = decode_chunked(&input, &mut FrameDecoder::new(), &mut || 64);
        assert!(!failed);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0], Bytes::from(input));
    }

    #[test]
    fn random_split_invariant() {
        let pieces: &[&[u8]] = &[
            b"*2\r\n",
            b"%1\r\n",
            b"|1\r\n",
            b"~0\r\n",
            b">1\r\n",
            b"$3\r\nabc\r\n",
            b"+ok\r\n",
            b":7\r\n",
            b"_\r\n",
            b",1.5\r\n",
            b"#t\r\n",
            b"(9\r\n",
            b"=5\r\ntxt:x\r\n",
            b"!1\r\ne\r\n",
            b"*-1\r\n",
            b"$-1\r\n",
            b"\r",
            b"\n",
            b"$",
            b"1",
            b"x",
        ];
        let mut seed = 99u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        for _ in 0..3000 {
            let mut input = Vec::new();
            for _ in 0..next() % 20 {
                input.extend_from_slice(pieces[next() % pieces.len()]);
            }
            let fresh = || FrameDecoder::new().with_max_depth(3);
            let whole = decode_chunked(&input, &mut fresh(), &mut || usize::MAX);
            assert_eq!(decode_chunked(&input, &mut fresh(), &mut || 1), whole);
            let k = 1 + next() % 7;
            assert_eq!(decode_chunked(&input, &mut fresh(), &mut || k), whole);
            // Re-encoding what was decoded decodes to the same frames.
            let mut again = Vec::new();
            for frame in &whole.0 {
                again.extend_from_slice(frame);
            }
            let reencoded = decode_chunked(&again, &mut fresh(), &mut || usize::MAX);
            assert_eq!(reencoded, (whole.0.clone(), false));
        }
    }
}
