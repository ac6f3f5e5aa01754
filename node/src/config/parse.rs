//! Low-level text handling shared by config loading, CONFIG SET and CONFIG
//! REWRITE, each reproducing the Redis helper it is named after:
//! `sdssplitargs` (config-line splitting with quotes), `sdscatrepr` (quoting
//! on rewrite), `sdssplitlen` on a space (CONFIG SET of multi-argument
//! directives), `string2ll`, `strtoll`, `memtoull`, `string2d` and the
//! `%f`-then-trim rendering of doubles.
//!
//! The splitter here is private to the config module; the RESP crate may grow
//! its own for inline commands, and the two can be unified later.

/// C `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits a config line like Redis's `sdssplitargs` with the codec's
/// splitter (shared with inline requests). The line ends at the first NUL
/// byte, as in C. `None` means unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    resp::split_args(&bytes::Bytes::copy_from_slice(line)).map(|args| args.into_iter().map(|a| a.to_vec()).collect())
}

/// Quotes `bytes` like Redis's `sdscatrepr`, with the codec's quoting.
pub(crate) fn repr(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    resp::repr(&mut out, bytes);
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a CONFIG SET value of a multi-argument directive on single spaces
/// like `sdssplitlen(value, " ")`: an empty value gives no arguments, and
/// repeated spaces give empty arguments.
pub(crate) fn split_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_owned).collect()
    }
}

/// Redis's strict `string2ll` (the one implementation, in the codec).
pub(crate) use resp::parse_i64 as string2ll;

/// C `strtoll(s, &end, base)` followed by the usual `*end == '\0'` check:
/// leading blanks and a sign are allowed, an input without digits parses as 0
/// only when it is empty, and overflow saturates (errno is not checked).
/// Returns the value when the whole string was consumed.
pub(crate) fn strtoll_full(s: &[u8], base: u32) -> Option<i64> {
    strtoll(s, base).and_then(|(v, consumed, _)| (consumed == s.len()).then_some(v))
}

/// C `strtoll`: (value, bytes consumed, overflowed). `None` only for bytes
/// that are not text; an input without digits consumes nothing.
pub(crate) fn strtoll(s: &[u8], base: u32) -> Option<(i64, usize, bool)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: u128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = char::from(s[i]).to_digit(base) else {
            break;
        };
        v = v * u128::from(base) + u128::from(d);
        if v > u128::from(u64::MAX) {
            overflow = true;
            v = u128::from(u64::MAX);
        }
        i += 1;
    }
    if i == start {
        return Some((0, 0, false));
    }
    let limit = if neg { i64::MAX as u128 + 1 } else { i64::MAX as u128 };
    if v > limit {
        return Some((if neg { i64::MIN } else { i64::MAX }, i, true));
    }
    let v = v as i64;
    Some((if neg { v.wrapping_neg() } else { v }, i, overflow))
}

/// Redis's `memtoull`: digits followed by an optional unit, case-insensitive:
/// `b` (1), `k` (1000), `kb` (1024), `m` (1000²), `mb` (1024²), `g` (1000³),
/// `gb` (1024³). No sign, no blanks. As in Redis an empty number is 0 (so
/// `""` and `"kb"` are 0), a too large number saturates, and the unit
/// multiplication wraps.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let split = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let unit = unit.to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(v.wrapping_mul(mul))
}

/// Redis's `string2d` (strtod over the whole string, no leading blanks, no
/// NaN, no overflow/underflow).
pub(crate) fn string2d(s: &str) -> Option<f64> {
    let first = *s.as_bytes().first()?;
    if is_c_space(first) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if v.is_infinite() && !unsigned.starts_with("inf") {
        return None; // overflow: strtod returns HUGE_VAL with ERANGE
    }
    if v == 0.0 {
        let mantissa = unsigned.split('e').next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return None; // underflow to zero
        }
    }
    Some(v)
}

/// `%f` followed by Redis's `trimDoubleString` (drop trailing zeros and a
/// trailing dot).
pub(crate) fn fmt_double(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Redis's `yesnotoi`.
pub(crate) fn yes_no(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Redis's `rewriteConfigFormatMemory`: the largest of gb/mb/kb that divides
/// the value exactly, else plain bytes.
pub(crate) fn fmt_memory(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    const GB: u64 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes.is_multiple_of(GB) {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes.is_multiple_of(MB) {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes.is_multiple_of(KB) {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// Text of an I/O error as C's `strerror` gives it (Rust appends
/// " (os error N)", which Redis's messages do not have).
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(n) if s.ends_with(')') => s[..n].to_owned(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        assert_eq!(split("port 6379"), Some(vec!["port".into(), "6379".into()]));
        assert_eq!(split("  a   b\tc  "), Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(split(""), Some(vec![]));
        assert_eq!(split("   "), Some(vec![]));
        assert_eq!(split(r#"save """#), Some(vec!["save".into(), String::new()]));
        assert_eq!(split(r#"a "b c" d"#), Some(vec!["a".into(), "b c".into(), "d".into()]));
        assert_eq!(split(r#""\x41\n\t\"\\\q""#), Some(vec!["A\n\t\"\\q".into()]));
        assert_eq!(split(r#""\x4""#), Some(vec!["x4".into()]));
        assert_eq!(split(r"'it\'s' 'a\nb'"), Some(vec!["it's".into(), "a\\nb".into()]));
        assert_eq!(split(r#"ab"cd""#), Some(vec!["abcd".into()]));
        assert_eq!(split(r#""unterminated"#), None);
        assert_eq!(split("'unterminated"), None);
        assert_eq!(split(r#""a"b"#), None, "closing quote must be followed by a blank");
        assert_eq!(split(r#"'a'b"#), None);
        assert_eq!(
            split("a\x0bb"),
            Some(vec!["a\x0bb".into()]),
            "vertical tab does not end a token"
        );
        assert_eq!(split_args(b"a\0b c"), Some(vec![b"a".to_vec()]));
    }

    #[test]
    fn repr_like_sdscatrepr() {
        assert_eq!(repr(b""), r#""""#);
        assert_eq!(repr(b"abc"), r#""abc""#);
        assert_eq!(
            repr(b"a \"b\"\\\n\r\t\x07\x08\x01\xff"),
            r#""a \"b\"\\\n\r\t\a\b\x01\xff""#
        );
        // Round trip through the splitter.
        let nasty = b"x \"y\" \\ \n \x00 \xfe 'q'";
        assert_eq!(split_args(repr(nasty).as_bytes()), Some(vec![nasty.to_vec()]));
    }

    #[test]
    fn split_spaces_like_sdssplitlen() {
        assert_eq!(split_spaces(""), Vec::<String>::new());
        assert_eq!(split_spaces("a b"), vec!["a", "b"]);
        assert_eq!(split_spaces("a  b"), vec!["a", "", "b"]);
        assert_eq!(split_spaces(" "), vec!["", ""]);
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"123"), Some(123));
        assert_eq!(string2ll(b"-5"), Some(-5));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "+5",
            "05",
            "-0",
            " 5",
            "5 ",
            "1.5",
            "9223372036854775808",
            "abc",
            "1e3",
        ] {
            assert_eq!(string2ll(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll_full(b"", 10), Some(0));
        assert_eq!(strtoll_full(b"  +5", 10), Some(5));
        assert_eq!(strtoll_full(b"-0", 10), Some(0));
        assert_eq!(strtoll_full(b"5 ", 10), None);
        assert_eq!(strtoll_full(b" ", 10), None);
        assert_eq!(strtoll_full(b"-", 10), None);
        assert_eq!(strtoll_full(b"99999999999999999999", 10), Some(i64::MAX));
        assert_eq!(strtoll_full(b"-99999999999999999999", 10), Some(i64::MIN));
        assert_eq!(strtoll_full(b"777", 8), Some(0o777));
        assert_eq!(strtoll_full(b"8", 8), None);
    }

    #[test]
    fn memory_values_like_memtoull() {
        assert_eq!(parse_memory(b"1"), Some(1));
        assert_eq!(parse_memory(b"1b"), Some(1));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1K"), Some(1000));
        assert_eq!(parse_memory(b"1kb"), Some(1024));
        assert_eq!(parse_memory(b"1Kb"), Some(1024));
        assert_eq!(parse_memory(b"100mb"), Some(100 << 20));
        assert_eq!(parse_memory(b"100m"), Some(100_000_000));
        assert_eq!(parse_memory(b"1gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"1G"), Some(1_000_000_000));
        assert_eq!(parse_memory(b"00012"), Some(12));
        assert_eq!(parse_memory(b""), Some(0));
        assert_eq!(parse_memory(b"kb"), Some(0));
        assert_eq!(parse_memory(b"99999999999999999999"), Some(u64::MAX));
        assert_eq!(
            parse_memory(b"18446744073709551615kb"),
            Some(18_446_744_073_709_550_592)
        );
        for bad in ["-1", " 5", "+5", "1zz", "1tb", "0x10", "1.5mb", "5 "] {
            assert_eq!(parse_memory(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn doubles() {
        assert_eq!(string2d("99.9"), Some(99.9));
        assert_eq!(string2d("1e1"), Some(10.0));
        assert_eq!(string2d("+5"), Some(5.0));
        assert_eq!(string2d("inf"), Some(f64::INFINITY));
        for bad in ["", " 1", "1 ", "abc", "nan", "1e999", "1e-999"] {
            assert_eq!(string2d(bad), None, "{bad:?}");
        }
        assert_eq!(fmt_double(50.0), "50");
        assert_eq!(fmt_double(99.9), "99.9");
        assert_eq!(fmt_double(99.99), "99.99");
        assert_eq!(fmt_double(0.5), "0.5");
        assert_eq!(fmt_double(100.0), "100");
    }

    #[test]
    fn memory_formatting() {
        assert_eq!(fmt_memory(0), "0");
        assert_eq!(fmt_memory(1), "1");
        assert_eq!(fmt_memory(1024), "1kb");
        assert_eq!(fmt_memory(1536), "1536");
        assert_eq!(fmt_memory(64 << 20), "64mb");
        assert_eq!(fmt_memory(1 << 30), "1gb");
        assert_eq!(fmt_memory(3 << 29), "1536mb");
    }

    #[test]
    fn strerror_drops_rust_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
        let e = std::io::Error::from_raw_os_error(20);
        assert_eq!(strerror(&e), "Not a directory");
    }
}
