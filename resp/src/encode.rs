//! Low-level reply writers: the server's hot path appends replies straight
//! into its output `BytesMut` with these functions, without building
//! [`Frame`](crate::Frame)s.
//!
//! Functions taking `resp3: bool` write the RESP3 type when it is true and
//! Redis 7.0's RESP2 downgrade otherwise (a map becomes a flat array of
//! `2n` elements, a double a bulk string, a boolean `:1`/`:0`, a null
//! `$-1` or `*-1`).
//!
//! This module also owns [`format_double`], Redis 7.0's `"%.17g"` rendering
//! of doubles (`ZSCORE`, `INCRBYFLOAT`-style replies), so that every part of
//! the server prints doubles identically.

use bytes::{BufMut, BytesMut};
use std::fmt::Write as _;

const CRLF: &[u8] = b"\r\n";

/// `prefix`, the decimal `n`, CRLF.
#[inline]
fn header<N: itoa::Integer>(out: &mut BytesMut, prefix: u8, n: N) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(prefix);
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
}

/// Appends a line's text, replacing `\r` and `\n` by spaces so the text
/// cannot break the protocol (Redis does the same for error replies).
#[inline]
fn line_text(out: &mut BytesMut, text: &[u8]) {
    if memchr::memchr2(b'\r', b'\n', text).is_none() {
        out.extend_from_slice(text);
    } else {
        out.extend(text.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
    }
}

/// `+text\r\n` (a status reply). `\r`/`\n` in `text` become spaces.
#[inline]
pub fn simple(out: &mut BytesMut, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(b'+');
    line_text(out, text);
    out.extend_from_slice(CRLF);
}

/// `+OK\r\n`.
#[inline]
pub fn ok(out: &mut BytesMut) {
    out.extend_from_slice(b"+OK\r\n");
}

/// `-text\r\n`; `text` excludes the `-` (e.g. `b"ERR syntax error"`).
/// `\r`/`\n` in `text` become spaces, as in Redis.
#[inline]
pub fn error(out: &mut BytesMut, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(b'-');
    line_text(out, text);
    out.extend_from_slice(CRLF);
}

/// RESP3 blob error `!len\r\ntext\r\n`; in RESP2, a simple error (`\r` and
/// `\n` become spaces).
pub fn blob_error(out: &mut BytesMut, text: &[u8], resp3: bool) {
    if resp3 {
        header(out, b'!', text.len());
        out.reserve(text.len() + 2);
        out.extend_from_slice(text);
        out.extend_from_slice(CRLF);
    } else {
        error(out, text);
    }
}

/// `:n\r\n`.
#[inline]
pub fn integer(out: &mut BytesMut, n: i64) {
    header(out, b':', n);
}

/// `$len\r\ndata\r\n`.
#[inline]
pub fn bulk(out: &mut BytesMut, data: &[u8]) {
    header(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

/// Just `$len\r\n`, for a bulk whose payload the caller writes itself; the
/// caller must then write exactly `len` bytes and [`crlf`].
#[inline]
pub fn bulk_header(out: &mut BytesMut, len: usize) {
    header(out, b'$', len);
}

/// `\r\n`.
#[inline]
pub fn crlf(out: &mut BytesMut) {
    out.extend_from_slice(CRLF);
}

/// A null: RESP3 `_\r\n`, RESP2 null bulk `$-1\r\n`.
#[inline]
pub fn null(out: &mut BytesMut, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}

/// A null array: RESP3 `_\r\n`, RESP2 `*-1\r\n`.
#[inline]
pub fn null_array(out: &mut BytesMut, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" });
}

/// `*n\r\n`; the caller then writes `n` elements.
#[inline]
pub fn array_len(out: &mut BytesMut, n: usize) {
    header(out, b'*', n);
}

/// A map of `n` pairs: RESP3 `%n\r\n`, RESP2 `*2n\r\n`; the caller then
/// writes `2n` elements (key, value, key, value, ...).
#[inline]
pub fn map_len(out: &mut BytesMut, n: usize, resp3: bool) {
    if resp3 {
        header(out, b'%', n);
    } else {
        header(out, b'*', n.saturating_mul(2));
    }
}

/// A set of `n` elements: RESP3 `~n\r\n`, RESP2 `*n\r\n`.
#[inline]
pub fn set_len(out: &mut BytesMut, n: usize, resp3: bool) {
    header(out, if resp3 { b'~' } else { b'*' }, n);
}

/// A push message of `n` elements: RESP3 `>n\r\n`, RESP2 `*n\r\n`.
#[inline]
pub fn push_len(out: &mut BytesMut, n: usize, resp3: bool) {
    header(out, if resp3 { b'>' } else { b'*' }, n);
}

/// RESP3 attribute header `|n\r\n` (RESP2 has no attributes: the caller
/// should not send any to a RESP2 client).
#[inline]
pub fn attribute_len(out: &mut BytesMut, n: usize) {
    header(out, b'|', n);
}

/// A double as Redis 7.0's `addReplyDouble`: RESP3 `,{%.17g}\r\n`
/// (`,inf\r\n`, `,-inf\r\n`), RESP2 a bulk string of the same text.
pub fn double(out: &mut BytesMut, value: f64, resp3: bool) {
    let mut text = [0u8; DOUBLE_BUF];
    let len = format_g17(value, &mut text);
    let text = &text[..len];
    if resp3 {
        out.reserve(len + 3);
        out.put_u8(b',');
        out.extend_from_slice(text);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, text);
    }
}

/// A boolean: RESP3 `#t\r\n` / `#f\r\n`, RESP2 `:1\r\n` / `:0\r\n`.
#[inline]
pub fn boolean(out: &mut BytesMut, value: bool, resp3: bool) {
    out.extend_from_slice(match (resp3, value) {
        (true, true) => b"#t\r\n",
        (true, false) => b"#f\r\n",
        (false, true) => b":1\r\n",
        (false, false) => b":0\r\n",
    });
}

/// A verbatim string of format `txt`: RESP3 `=len\r\ntxt:text\r\n`, RESP2 a
/// bulk string of `text` alone.
#[inline]
pub fn verbatim(out: &mut BytesMut, text: &[u8], resp3: bool) {
    verbatim_with_format(out, b"txt", text, resp3);
}

/// A verbatim string with the given three-byte format (`txt`, `mkd`).
pub fn verbatim_with_format(out: &mut BytesMut, format: &[u8; 3], text: &[u8], resp3: bool) {
    if resp3 {
        header(out, b'=', text.len() + 4);
        out.reserve(text.len() + 6);
        out.extend_from_slice(format);
        out.put_u8(b':');
        out.extend_from_slice(text);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, text);
    }
}

/// A big number given as its decimal digits: RESP3 `(digits\r\n`, RESP2 a
/// bulk string (as Redis's `addReplyBigNum`).
pub fn big_number(out: &mut BytesMut, digits: &[u8], resp3: bool) {
    if resp3 {
        out.reserve(digits.len() + 3);
        out.put_u8(b'(');
        line_text(out, digits);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, digits);
    }
}

/// Longest `%.17g` output: sign, 17 digits, point, `e-308`, with room.
const DOUBLE_BUF: usize = 32;

/// Formats `value` as C's `printf("%.17g")` does (glibc), which is how Redis
/// 7.0 prints doubles: `1`, `1.5`, `3.1415000000000002`,
/// `0.10000000000000001`, `1e+20`, `1.0000000000000001e-05`, `inf`, `-inf`,
/// `-0`, `nan` (`-nan` when the sign bit is set).
pub fn format_double(value: f64) -> String {
    let mut text = [0u8; DOUBLE_BUF];
    let len = format_g17(value, &mut text);
    // Only ASCII is ever written.
    String::from_utf8_lossy(&text[..len]).into_owned()
}

/// Appends [`format_double`]'s text to `out`, without allocating.
pub fn write_double_text(out: &mut BytesMut, value: f64) {
    let mut text = [0u8; DOUBLE_BUF];
    let len = format_g17(value, &mut text);
    out.extend_from_slice(&text[..len]);
}

/// A fixed buffer that `core::fmt` can write into.
struct StackText {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `%.17g` into `out`, returning the length.
fn format_g17(value: f64, out: &mut [u8; DOUBLE_BUF]) -> usize {
    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        for &b in bytes {
            if let Some(slot) = out.get_mut(len) {
                *slot = b;
                len += 1;
            }
        }
    };
    if value.is_nan() {
        push(if value.is_sign_negative() { b"-nan" } else { b"nan" });
        return len;
    }
    if value.is_infinite() {
        push(if value > 0.0 { b"inf" } else { b"-inf" });
        return len;
    }
    // 17 significant digits, correctly rounded (ties to even, like glibc),
    // in the form "-d.dddddddddddddddde-5".
    let mut sci = StackText { buf: [0; 40], len: 0 };
    if write!(sci, "{value:.16e}").is_err() {
        return 0;
    }
    let sci = &sci.buf[..sci.len];
    let (negative, sci) = match sci.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, sci),
    };
    let Some(e_at) = sci.iter().position(|&c| c == b'e') else {
        return 0;
    };
    let mut digits = [b'0'; 17];
    let mut count = 0;
    for &c in &sci[..e_at] {
        if c.is_ascii_digit() && count < digits.len() {
            digits[count] = c;
            count += 1;
        }
    }
    let exp_text = &sci[e_at + 1..];
    let (exp_negative, exp_digits) = match exp_text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, exp_text),
    };
    let mut exp: i32 = 0;
    for &c in exp_digits {
        exp = exp * 10 + i32::from(c - b'0');
    }
    if exp_negative {
        exp = -exp;
    }
    // %g drops trailing zeros (no '#' flag).
    let mut significant = digits.len();
    while significant > 1 && digits[significant - 1] == b'0' {
        significant -= 1;
    }
    let digits = &digits[..significant];
    if negative {
        push(b"-");
    }
    if !(-4..17).contains(&exp) {
        push(&digits[..1]);
        if digits.len() > 1 {
            push(b".");
            push(&digits[1..]);
        }
        push(if exp < 0 { b"e-" } else { b"e+" });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            push(b"0");
        }
        let mut buf = itoa::Buffer::new();
        push(buf.format(abs).as_bytes());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            push(digits);
            for _ in digits.len()..int_len {
                push(b"0");
            }
        } else {
            push(&digits[..int_len]);
            push(b".");
            push(&digits[int_len..]);
        }
    } else {
        push(b"0.");
        for _ in 0..(-exp - 1) {
            push(b"0");
        }
        push(digits);
    }
    len
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::approx_constant, clippy::excessive_precision)]

    use super::*;

    fn with(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut out = BytesMut::new();
        f(&mut out);
        out.to_vec()
    }

    #[test]
    fn scalars() {
        assert_eq!(with(|o| simple(o, b"OK")), b"+OK\r\n");
        assert_eq!(with(ok), b"+OK\r\n");
        assert_eq!(with(|o| simple(o, b"a\r\nb")), b"+a  b\r\n");
        assert_eq!(with(|o| error(o, b"ERR bad")), b"-ERR bad\r\n");
        assert_eq!(with(|o| error(o, b"ERR a\nb")), b"-ERR a b\r\n");
        assert_eq!(with(|o| integer(o, 0)), b":0\r\n");
        assert_eq!(with(|o| integer(o, -42)), b":-42\r\n");
        assert_eq!(with(|o| integer(o, i64::MIN)), b":-9223372036854775808\r\n");
        assert_eq!(with(|o| integer(o, i64::MAX)), b":9223372036854775807\r\n");
        assert_eq!(with(|o| bulk(o, b"")), b"$0\r\n\r\n");
        assert_eq!(with(|o| bulk(o, b"a\r\nb")), b"$4\r\na\r\nb\r\n");
        assert_eq!(
            with(|o| {
                bulk_header(o, 3);
                o.extend_from_slice(b"abc");
                crlf(o);
            }),
            b"$3\r\nabc\r\n"
        );
        assert_eq!(with(|o| blob_error(o, b"ERR x\r\ny", true)), b"!8\r\nERR x\r\ny\r\n");
        assert_eq!(with(|o| blob_error(o, b"ERR x\r\ny", false)), b"-ERR x  y\r\n");
    }

    #[test]
    fn nulls_and_aggregates_per_protocol() {
        assert_eq!(with(|o| null(o, false)), b"$-1\r\n");
        assert_eq!(with(|o| null(o, true)), b"_\r\n");
        assert_eq!(with(|o| null_array(o, false)), b"*-1\r\n");
        assert_eq!(with(|o| null_array(o, true)), b"_\r\n");
        assert_eq!(with(|o| array_len(o, 3)), b"*3\r\n");
        assert_eq!(with(|o| map_len(o, 3, true)), b"%3\r\n");
        assert_eq!(with(|o| map_len(o, 3, false)), b"*6\r\n");
        assert_eq!(with(|o| set_len(o, 2, true)), b"~2\r\n");
        assert_eq!(with(|o| set_len(o, 2, false)), b"*2\r\n");
        assert_eq!(with(|o| push_len(o, 3, true)), b">3\r\n");
        assert_eq!(with(|o| push_len(o, 3, false)), b"*3\r\n");
        assert_eq!(with(|o| attribute_len(o, 1)), b"|1\r\n");
    }

    #[test]
    fn resp3_only_types_and_their_resp2_downgrade() {
        assert_eq!(with(|o| boolean(o, true, true)), b"#t\r\n");
        assert_eq!(with(|o| boolean(o, false, true)), b"#f\r\n");
        assert_eq!(with(|o| boolean(o, true, false)), b":1\r\n");
        assert_eq!(with(|o| boolean(o, false, false)), b":0\r\n");
        assert_eq!(with(|o| verbatim(o, b"hi", true)), b"=6\r\ntxt:hi\r\n");
        assert_eq!(with(|o| verbatim(o, b"hi", false)), b"$2\r\nhi\r\n");
        assert_eq!(
            with(|o| verbatim_with_format(o, b"mkd", b"# x", true)),
            b"=7\r\nmkd:# x\r\n"
        );
        assert_eq!(
            with(|o| big_number(o, b"-123456789012345678901234567890", true)),
            b"(-123456789012345678901234567890\r\n"
        );
        assert_eq!(with(|o| big_number(o, b"12", false)), b"$2\r\n12\r\n");
        assert_eq!(with(|o| double(o, 1.5, true)), b",1.5\r\n");
        assert_eq!(with(|o| double(o, 1.5, false)), b"$3\r\n1.5\r\n");
        assert_eq!(with(|o| double(o, f64::INFINITY, true)), b",inf\r\n");
        assert_eq!(with(|o| double(o, f64::NEG_INFINITY, true)), b",-inf\r\n");
        assert_eq!(with(|o| double(o, f64::INFINITY, false)), b"$3\r\ninf\r\n");
        assert_eq!(with(|o| double(o, f64::NEG_INFINITY, false)), b"$4\r\n-inf\r\n");
        assert_eq!(with(|o| double(o, 1e20, false)), b"$5\r\n1e+20\r\n");
        assert_eq!(with(|o| double(o, 0.1, true)), b",0.10000000000000001\r\n");
    }

    /// Expected texts: redis-server 7.0.15's ZSCORE replies (first group)
    /// and glibc / CPython `'%.17g' % x` (all of them).
    #[test]
    fn format_double_matches_printf_g17() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.5, "1.5"),
            (3.1415, "3.1415000000000002"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (2.98023223876953125e-8, "2.9802322387695312e-08"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e308, "1e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (0.30000000000000004, "0.30000000000000004"),
            (100.0, "100"),
            (1e21, "1e+21"),
            (12345678901234567.0, "12345678901234568"),
            (-2.5, "-2.5"),
            (f64::MAX, "1.7976931348623157e+308"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            // Not from ZSCORE (Redis normalises these inputs) but printf's.
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
            (0.5, "0.5"),
            (1e15, "1000000000000000"),
            (123.456, "123.456"),
            (-1e-300, "-1e-300"),
            (0.001, "0.001"),
            (0.00012345, "0.00012344999999999999"),
            (1.0 / 3.0, "0.33333333333333331"),
            (2.0 / 3.0, "0.66666666666666663"),
            (9007199254740993.0, "9007199254740992"),
            (99999999999999999.0, "1e+17"),
            (4.35, "4.3499999999999996"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (f64::EPSILON, "2.2204460492503131e-16"),
            (6.02214076e23, "6.0221407599999999e+23"),
            (12.0, "12"),
            (-7.0, "-7"),
            (1e100, "1e+100"),
            (2.5e-6, "2.5000000000000002e-06"),
            (99999999999999984.0, "99999999999999984"),
            (5e-5, "5.0000000000000002e-05"),
            (0.000_003_814_697_265_625, "3.814697265625e-06"),
            (7.62939453125e-06, "7.62939453125e-06"),
            (1.52587890625e-05, "1.52587890625e-05"),
            (4.76837158203125e-07, "4.76837158203125e-07"),
            (5.9604644775390625e-08, "5.9604644775390625e-08"),
            (1.1920928955078125e-07, "1.1920928955078125e-07"),
        ];
        for &(value, expected) in cases {
            assert_eq!(format_double(value), expected, "{value:e}");
            let mut out = BytesMut::new();
            write_double_text(&mut out, value);
            assert_eq!(&out[..], expected.as_bytes());
        }
    }

    #[test]
    fn format_double_round_trips() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = f64::from_bits(x);
            let text = format_double(value);
            let back: f64 = text.parse().unwrap();
            if value.is_nan() {
                assert!(back.is_nan());
            } else {
                assert_eq!(back.to_bits(), value.to_bits(), "{text}");
            }
            assert!(text.len() <= 24, "{text}");
        }
    }
}
