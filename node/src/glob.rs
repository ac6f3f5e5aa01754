//! Redis-compatible glob matching.
//!
//! This module owns the one pattern matcher the server uses wherever Redis
//! uses `stringmatchlen`: `KEYS`, `SCAN ... MATCH`, `PSUBSCRIBE`,
//! `CONFIG GET`, `COMMAND LIST FILTERBY PATTERN`, ACL key/channel patterns and
//! so on. It reproduces Redis 7.0's semantics byte for byte:
//!
//! * `*` matches any run of bytes (consecutive stars collapse into one),
//! * `?` matches exactly one byte,
//! * `[abc]`, `[^abc]`, `[a-z]` (a reversed range such as `[z-a]` is accepted
//!   and means the same), `\x` inside a class matches `x` literally; an
//!   unterminated class runs to the end of the pattern,
//! * `\x` outside a class matches `x` literally (a trailing lone `\` matches a
//!   backslash),
//! * `nocase` folds ASCII letters only (Redis uses the C locale `tolower`),
//! * an empty string is matched only by an empty pattern, not even by `*`
//!   (Redis's `KEYS *` special-cases that pattern before matching).
//!
//! Like Redis it guards against abusive patterns: once the text after a `*`
//! fails to match anywhere in the rest of the string, every enclosing `*` stops
//! trying longer prefixes (this keeps `*a*a*a*...b` linear-ish instead of
//! exponential), and recursion deeper than 1000 nested stars is treated as no
//! match.

/// Nesting depth past which a pattern is considered abusive and fails to match,
/// as in Redis.
const MAX_NESTING: u32 = 1000;

/// Returns whether `string` matches the glob `pattern` with Redis's
/// `stringmatchlen` semantics; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// ASCII lowercase, as C's `tolower` in the C locale.
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase { b.to_ascii_lowercase() } else { b }
}

/// The byte at `i`, or 0 past the end (the C code relies on the terminating
/// NUL of the pattern buffer in a couple of places).
fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

fn match_impl(mut pat: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    while !pat.is_empty() && !s.is_empty() {
        match pat[0] {
            b'*' => {
                while pat.len() > 1 && pat[1] == b'*' {
                    pat = &pat[1..];
                }
                if pat.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_impl(&pat[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // Nothing after this star matched anywhere in the rest of the
                // string: enclosing stars cannot do better with longer prefixes.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                pat = &pat[1..];
                let negate = at(pat, 0) == b'^';
                if negate {
                    pat = &pat[1..];
                }
                let c = s[0];
                let mut matched = false;
                loop {
                    if pat.len() >= 2 && pat[0] == b'\\' {
                        pat = &pat[1..];
                        if pat[0] == c {
                            matched = true;
                        }
                    } else if pat.first() == Some(&b']') {
                        break;
                    } else if pat.is_empty() {
                        // Unterminated class: the C code steps back one byte
                        // so that the common "advance" below lands on the end.
                        break;
                    } else if pat.len() >= 3 && pat[1] == b'-' {
                        // C compares (signed) chars here.
                        let mut start = i32::from(pat[0] as i8);
                        let mut end = i32::from(pat[2] as i8);
                        let mut ch = i32::from(c as i8);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower_signed(start);
                            end = lower_signed(end);
                            ch = lower_signed(ch);
                        }
                        pat = &pat[2..];
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if fold(pat[0], nocase) == fold(c, nocase) {
                        matched = true;
                    }
                    pat = &pat[1..];
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if pat.is_empty() {
                    // Unterminated class consumed the whole pattern.
                    return finish(pat, s);
                }
            }
            b'\\' if pat.len() >= 2 => {
                pat = &pat[1..];
                if fold(pat[0], nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            other => {
                if fold(other, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        pat = &pat[1..];
        if s.is_empty() {
            while pat.first() == Some(&b'*') {
                pat = &pat[1..];
            }
            break;
        }
    }
    finish(pat, s)
}

fn finish(pat: &[u8], s: &[u8]) -> bool {
    pat.is_empty() && s.is_empty()
}

/// `tolower` on a value obtained from a (possibly negative) C `char`.
fn lower_signed(v: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&v) {
        v + 32
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abd"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
        // Like Redis, a pattern never matches an empty string unless it is
        // empty itself (KEYS special-cases "*" before calling the matcher).
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(!m("**", ""));
        assert!(m("a*", "a"));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(!m("*c", "abd"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbbd"));
        assert!(m("a***c", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("?", "x"));
        assert!(!m("?", ""));
        assert!(!m("?", "xy"));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("*?", "a"));
        assert!(!m("*?", ""));
        assert!(m("?*", "abc"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("a*?", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("[z-a]", "m"));
        // "[a-]" is the (reversed) range a..']' with no closing bracket.
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "^"));
        assert!(!m("[a-]", "-"));
        assert!(!m("[a-]", "b"));
        // "[]" is an empty class: it never matches a byte ("[]]" is an empty
        // class followed by a literal ']').
        assert!(!m("[]]", "]"));
        assert!(m("[]]", "]]") == m("[]", "]"));
        assert!(!m("[]", "a"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[^]", "a"));
        // Unterminated class runs to the end of the pattern.
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "ab"));
        assert!(!m("x[", "x"));
        assert!(!m("x[", "xa"));
        assert!(m("[a-c]*", "bxyz"));
        assert!(m("*[0-9]", "key9"));
        assert!(!m("*[0-9]", "keyx"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?b", "a?b"));
        assert!(!m("a\\?b", "axb"));
        assert!(m("\\[a]", "[a]"));
        assert!(m("\\", "\\"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\\\", "\\"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HeLLo", "hello"));
        assert!(!m("HeLLo", "hello"));
        assert!(mi("h[A-C]llo", "hbllo"));
        assert!(mi("h[a-c]llo", "hBllo"));
        assert!(mi("h[E]llo", "hello"));
        assert!(mi("MAXMEM*", "maxmemory-policy"));
        assert!(mi("*POLICY", "maxmemory-policy"));
        // Escaped byte inside a class is compared exactly, like Redis.
        assert!(!mi("[\\A]", "a"));
    }

    #[test]
    fn binary_bytes() {
        assert!(glob_match(b"a\x00*", b"a\x00bc", false));
        assert!(glob_match(b"?", b"\xff", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        assert!(!glob_match(b"[a-z]", b"\x90", false));
    }

    #[test]
    fn abusive_patterns_are_fast() {
        let s = "a".repeat(60);
        let p = format!("{}b", "a*".repeat(30));
        let start = std::time::Instant::now();
        assert!(!m(&p, &s));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));

        // More than 1000 nested stars never matches (Redis's nesting guard).
        let s = "a".repeat(2000);
        let p = format!("{}a", "a*".repeat(1001));
        assert!(!m(&p, &s));
        let p = format!("{}a", "a*".repeat(999));
        assert!(m(&p, &s));
        // A trailing star matches before the guard is reached.
        let p = "a*".repeat(1001);
        assert!(m(&p, &s));
    }

    /// Cross-checks against a real redis-server 7.0 through `KEYS`, when one
    /// is installed: every (pattern, key) pair must agree.
    #[test]
    fn agrees_with_redis_keys() {
        let Some(mut r) = crate::config::test_redis::Redis::start() else {
            eprintln!("note: redis-server not found; skipping the KEYS cross-check");
            return;
        };
        let keys: &[&[u8]] = &[
            b"hello",
            b"hallo",
            b"hllo",
            b"heeello",
            b"h]llo",
            b"h-llo",
            b"H",
            b"h",
            b"a*b",
            b"a?b",
            b"a\\b",
            b"[ab",
            b"ab]",
            b"abc",
            b"ABC",
            b"x",
            b"\xff\x80",
            b"",
            b"-",
            b"]",
            b"^",
            b"a^",
            b"aaa",
            b"aaab",
            b"key:1",
            b"key:10",
            b"key:x",
        ];
        let patterns: &[&[u8]] = &[
            b"*",
            b"h?llo",
            b"h*llo",
            b"h[ae]llo",
            b"h[^e]llo",
            b"h[a-b]llo",
            b"h[b-a]llo",
            b"h[]]llo",
            b"h[\\]]llo",
            b"h[-]llo",
            b"h[a-]llo",
            b"a\\*b",
            b"a\\?b",
            b"a\\\\b",
            b"[ab",
            b"\\[ab",
            b"ab]",
            b"[^a]*",
            b"[a-c][a-c][a-c]",
            b"*[0-9]",
            b"key:[0-9]*",
            b"key:?",
            b"[\\^]",
            b"a[\\^]",
            b"a*a*b",
            b"**a",
            b"*\\",
            b"[",
            b"[^",
            b"?",
            b"[\x80-\xff]*",
            b"h",
            b"H",
            b"a[^^]",
        ];
        r.flush();
        for k in keys {
            if !k.is_empty() {
                r.set(k);
            }
        }
        let mut checked = 0;
        for p in patterns {
            let mut want = r.keys(p);
            want.sort();
            let mut got: Vec<Vec<u8>> = keys
                .iter()
                .filter(|k| !k.is_empty() && glob_match(p, k, false))
                .map(|k| k.to_vec())
                .collect();
            got.sort();
            assert_eq!(got, want, "pattern {:?}", String::from_utf8_lossy(p));
            checked += 1;
        }
        assert_eq!(checked, patterns.len());

        // The nesting guard, on a long key.
        r.flush();
        let long = "a".repeat(1500);
        r.set(long.as_bytes());
        for (stars, tail) in [
            (999, "a"),
            (1000, "a"),
            (1001, "a"),
            (1002, "a"),
            (1001, ""),
            (1200, ""),
        ] {
            let p = format!("{}{tail}", "a*".repeat(stars));
            let want = !r.keys(p.as_bytes()).is_empty();
            assert_eq!(m(&p, &long), want, "{stars} stars + {tail:?}");
        }
    }
}
