//! INCRBYFLOAT's arithmetic: an exact software model of the x87 80-bit
//! `long double` that redis-server (x86-64) computes with.
//!
//! Redis parses both operands with `strtold`, adds them in `long double`
//! (64-bit mantissa, round to nearest even) and prints the sum with
//! `%.17Lf`, then strips trailing zeros. An `f64` sum printed that way gives
//! other text for ordinary inputs (`0.1 + 0.1` is `0.2` in Redis but
//! `0.20000000000000001` in `f64`), and exact decimal arithmetic drifts from
//! Redis as soon as Redis's own binary rounding shows in the 17th decimal
//! (e.g. after repeated increments by `0.1`). So each step is reproduced
//! exactly instead: parsing rounds correctly (as glibc's `strtold`), the sum
//! is computed exactly and rounded once to the 64-bit mantissa, and
//! formatting expands the binary value exactly before rounding it to 17
//! decimals (ties to even, as glibc's `printf`). The 80-bit exponent range,
//! denormals included, is honoured, so huge (`1e4000`) and tiny operands
//! give Redis's results too. The big integers involved are a few words for
//! everyday operands; only extreme exponents make them long.

use std::cmp::Ordering;

/// Mantissa bits of the x87 extended format (explicit integer bit).
const MANT_BITS: u64 = 64;
/// Exponent of the last mantissa bit of the smallest denormal (2^-16445).
const MIN_EXP: i64 = -16445;
/// Largest exponent of the last mantissa bit: the maximum is (2^64-1)·2^16320.
const MAX_EXP: i64 = 16320;
/// Redis's `string2ld` rejects strings this long (`MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;
/// Decimal places `%.17Lf` prints.
const DECIMALS: u32 = 17;
/// 10^19, the largest power of ten in a `u64`.
const TEN19: u64 = 10_000_000_000_000_000_000;
/// Quotient bits computed when dividing by a power of ten: two more than
/// the mantissa, so that the rounding bit and a sticky bit are exact.
const QUOTIENT_BITS: u64 = MANT_BITS + 2;

/// A finite `long double`: `(-1)^neg · mant · 2^exp`, with `mant` normalized
/// (bit 63 set) unless the value is denormal or zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    mant: u64,
    exp: i64,
}

/// What `strtold` made of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A finite value.
    Finite(LongDouble),
    /// `inf` or `infinity`, of either sign.
    Infinite,
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// The exact value of an integer (every `i64` fits the 64-bit mantissa).
    pub fn from_i64(n: i64) -> LongDouble {
        LongDouble {
            neg: n < 0,
            mant: n.unsigned_abs(),
            exp: 0,
        }
    }

    /// Parses `b` as Redis's `string2ld` does: `strtold` must consume all
    /// of it, so empty or over-long input, leading white space, trailing
    /// garbage (a NUL included), NaN, and values that overflow or underflow
    /// to zero are refused. Accepts a sign, decimals with an exponent,
    /// hexadecimal floats (`0x1.8p3`) and infinities.
    pub fn parse(s: &[u8]) -> Option<Parsed> {
        if s.len() >= MAX_CHARS {
            return None;
        }
        let &first = s.first()?;
        if matches!(first, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            return None;
        }
        let (neg, body) = match first {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Parsed::Infinite);
        }
        let hex = match body {
            [b'0', x, rest @ ..] if x.eq_ignore_ascii_case(&b'x') => Some(rest),
            _ => None,
        };
        let magnitude = match hex {
            Some(rest) => parse_hex(rest)?,
            None => parse_decimal(body)?,
        };
        Some(Parsed::Finite(LongDouble { neg, ..magnitude }))
    }

    /// The sum rounded to the 64-bit mantissa, or `None` when it overflows to
    /// infinity.
    #[allow(
        clippy::should_implement_trait,
        reason = "fallible, unlike `Add`; named after the C `+=` it models"
    )]
    pub fn add(self, other: LongDouble) -> Option<LongDouble> {
        if other.mant == 0 {
            return Some(self);
        }
        if self.mant == 0 {
            return Some(other);
        }
        let base = self.exp.min(other.exp);
        let x = Big::from_u128(u128::from(self.mant)).shl(self.exp.abs_diff(base));
        let y = Big::from_u128(u128::from(other.mant)).shl(other.exp.abs_diff(base));
        let (magnitude, neg) = if self.neg == other.neg {
            (x.add(&y), self.neg)
        } else {
            match x.cmp(&y) {
                Ordering::Greater => (x.sub(&y), self.neg),
                Ordering::Less => (y.sub(&x), other.neg),
                Ordering::Equal => return Some(LongDouble::ZERO),
            }
        };
        let r = round(&magnitude, base, false)?;
        Some(LongDouble { neg, ..r })
    }

    /// The text Redis stores: `%.17Lf` without trailing zeros or point, and
    /// `0` rather than `-0` (`ld2string` with `LD_STR_HUMAN`).
    pub fn to_human(self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.neg {
            out.push(b'-');
        }
        if self.exp >= 0 {
            out.extend(
                Big::from_u128(u128::from(self.mant))
                    .shl(self.exp.unsigned_abs())
                    .to_decimal(),
            );
        } else {
            let shift = self.exp.unsigned_abs();
            let x = Big::from_u128(u128::from(self.mant) * u128::from(10u64.pow(DECIMALS)));
            let mut q = x.shr(shift);
            if x.bit(shift - 1) && (x.any_below(shift - 1) || q.bit(0)) {
                q.add_small(1);
            }
            let digits = q.to_decimal();
            let decimals = DECIMALS as usize;
            let pad = (decimals + 1).saturating_sub(digits.len());
            let mut padded = vec![b'0'; pad];
            padded.extend_from_slice(&digits);
            let (int, frac) = padded.split_at(padded.len() - decimals);
            let frac_len = frac.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
            out.extend_from_slice(int);
            if frac_len > 0 {
                out.push(b'.');
                out.extend_from_slice(&frac[..frac_len]);
            }
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }
}

/// Rounds `n · 2^exp` (plus a positive amount below the last bit of `n`
/// when `sticky`) to the nearest `long double`, ties to even. `None` on
/// overflow. With `sticky`, `n` must have at least two bits more than the
/// mantissa so that the rounding is exact.
fn round(n: &Big, exp: i64, sticky: bool) -> Option<LongDouble> {
    let len = n.bits();
    if len == 0 {
        return Some(LongDouble::ZERO);
    }
    let mut shift = len as i64 - MANT_BITS as i64;
    if exp + shift < MIN_EXP {
        shift = MIN_EXP - exp;
    }
    let (mant, exp) = if shift <= 0 {
        debug_assert!(!sticky, "not enough bits to round");
        (n.low_u64() << shift.unsigned_abs(), exp + shift)
    } else {
        let drop = shift.unsigned_abs();
        let mut q = n.shr(drop).low_u64();
        let mut exp = exp + shift;
        if n.bit(drop - 1) && (sticky || n.any_below(drop - 1) || q & 1 == 1) {
            q = match q.checked_add(1) {
                Some(q) => q,
                None => {
                    exp += 1;
                    1 << (MANT_BITS - 1)
                }
            };
        }
        (q, exp)
    };
    if exp > MAX_EXP {
        return None;
    }
    Some(LongDouble { neg: false, mant, exp })
}

/// Parses an unsigned decimal (`12`, `1.5`, `.5`, `5.`, `1e-3`) exactly as
/// `strtold` rounds it. `None` on bad syntax, overflow, or a nonzero value
/// that rounds to zero.
fn parse_decimal(s: &[u8]) -> Option<LongDouble> {
    let int_len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix(b".") {
        Some(r) => r.split_at(r.iter().take_while(|c| c.is_ascii_digit()).count()),
        None => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp10 = match rest {
        [] => 0,
        [e, r @ ..] if e.eq_ignore_ascii_case(&b'e') => parse_exponent(r)?,
        _ => return None,
    };
    // The significant digits, without leading or trailing zeros.
    let all = int.iter().chain(frac).copied();
    let lead = all.clone().take_while(|&c| c == b'0').count();
    let digits: Vec<u8> = all.skip(lead).collect();
    let trail = digits.iter().rev().take_while(|&&c| c == b'0').count();
    let digits = &digits[..digits.len() - trail];
    if digits.is_empty() {
        return Some(LongDouble::ZERO);
    }
    // value = digits · 10^k, and 10^(n-1+k) <= value < 10^(n+k).
    let k = exp10 - frac.len() as i64 + trail as i64;
    let n = digits.len() as i64;
    if n - 1 + k > 4940 || n + k < -4960 {
        // Far beyond 1.19e4932 or far below half the smallest denormal.
        return None;
    }
    let mut d = Big::default();
    for chunk in digits.chunks(19) {
        d.mul_small(10u64.pow(chunk.len() as u32));
        d.add_small(chunk.iter().fold(0, |acc, &c| acc * 10 + u64::from(c - b'0')));
    }
    let v = if k >= 0 {
        d.mul_small_big(&Big::pow10(k.unsigned_abs()));
        round(&d, 0, false)?
    } else {
        let b = Big::pow10(k.unsigned_abs());
        // Scale so that the quotient has QUOTIENT_BITS (or one more) bits.
        let s = b.bits() as i64 + QUOTIENT_BITS as i64 - d.bits() as i64;
        let (a, dropped) = if s >= 0 {
            (d.shl(s.unsigned_abs()), false)
        } else {
            (d.shr(s.unsigned_abs()), d.any_below(s.unsigned_abs()))
        };
        let (q, inexact) = match b.limbs[..] {
            // Up to 10^19: one pass of word divisions.
            [divisor] => {
                let mut q = a;
                let rem = q.div_rem_small(divisor);
                (q, rem != 0)
            }
            _ => {
                let (q, inexact) = a.div_small_quotient(&b);
                (Big::from_u128(q), inexact)
            }
        };
        round(&q, -s, dropped || inexact)?
    };
    (v.mant != 0).then_some(v)
}

/// Parses the digits after `0x`: hexadecimal digits with an optional point,
/// then an optional binary exponent `p[+-]digits`.
fn parse_hex(s: &[u8]) -> Option<LongDouble> {
    let int_len = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix(b".") {
        Some(r) => r.split_at(r.iter().take_while(|c| c.is_ascii_hexdigit()).count()),
        None => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        // strtold reads just the `0` before the `x`: trailing garbage.
        return None;
    }
    let exp2 = match rest {
        [] => 0,
        [p, r @ ..] if p.eq_ignore_ascii_case(&b'p') => parse_exponent(r)?,
        _ => return None,
    };
    let mut m = Big::default();
    for &c in int.iter().chain(frac) {
        m.mul_small(16);
        m.add_small(u64::from(hex_value(c)));
    }
    if m.is_zero() {
        return Some(LongDouble::ZERO);
    }
    let e = exp2 - 4 * frac.len() as i64;
    let top = m.bits() as i64 + e;
    if top > MAX_EXP + MANT_BITS as i64 + 1 || top < MIN_EXP - 2 {
        return None;
    }
    let v = round(&m, e, false)?;
    (v.mant != 0).then_some(v)
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => (c | 0x20) - b'a' + 10,
    }
}

/// An exponent `[+-]digits` that must make up the rest of the input;
/// saturates far outside any representable range.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0i64, |acc, &c| (acc * 10 + i64::from(c - b'0')).min(1 << 40));
    Some(if neg { -n } else { n })
}

/// A non-negative big integer: little-endian 64-bit limbs, no high zeros.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big {
    limbs: Vec<u64>,
}

impl Big {
    fn from_u128(n: u128) -> Big {
        let mut b = Big {
            limbs: vec![n as u64, (n >> 64) as u64],
        };
        b.trim();
        b
    }

    fn pow10(k: u64) -> Big {
        let mut b = Big::from_u128(1);
        let mut k = k;
        while k >= 19 {
            b.mul_small(TEN19);
            k -= 19;
        }
        b.mul_small(10u64.pow(k as u32));
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn low_u64(&self) -> u64 {
        self.limbs.first().copied().unwrap_or(0)
    }

    fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 64 + u64::from(64 - top.leading_zeros()),
        }
    }

    fn bit(&self, i: u64) -> bool {
        self.limbs
            .get((i / 64) as usize)
            .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    /// Whether any bit below bit `i` is set.
    fn any_below(&self, i: u64) -> bool {
        let (word, bit) = ((i / 64) as usize, i % 64);
        self.limbs.iter().take(word).any(|&w| w != 0)
            || (bit > 0 && self.limbs.get(word).is_some_and(|&w| w & ((1 << bit) - 1) != 0))
    }

    fn shl(&self, n: u64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (words, bit) = ((n / 64) as usize, (n % 64) as u32);
        let mut limbs = vec![0; words];
        if bit == 0 {
            limbs.extend_from_slice(&self.limbs);
        } else {
            let mut carry = 0;
            for &w in &self.limbs {
                limbs.push((w << bit) | carry);
                carry = w >> (64 - bit);
            }
            limbs.push(carry);
        }
        let mut b = Big { limbs };
        b.trim();
        b
    }

    fn shr(&self, n: u64) -> Big {
        let (words, bit) = ((n / 64) as usize, (n % 64) as u32);
        let Some(src) = self.limbs.get(words..) else {
            return Big::default();
        };
        let limbs = if bit == 0 {
            src.to_vec()
        } else {
            (0..src.len())
                .map(|i| (src[i] >> bit) | src.get(i + 1).map_or(0, |&hi| hi << (64 - bit)))
                .collect()
        };
        let mut b = Big { limbs };
        b.trim();
        b
    }

    fn mul_small(&mut self, m: u64) {
        let mut carry = 0u128;
        for w in &mut self.limbs {
            let p = u128::from(*w) * u128::from(m) + carry;
            *w = p as u64;
            carry = p >> 64;
        }
        if carry > 0 {
            self.limbs.push(carry as u64);
        }
        self.trim();
    }

    fn mul_small_big(&mut self, other: &Big) {
        let mut limbs = vec![0u64; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in other.limbs.iter().enumerate() {
                let t = u128::from(a) * u128::from(b) + u128::from(limbs[i + j]) + carry;
                limbs[i + j] = t as u64;
                carry = t >> 64;
            }
            limbs[i + other.limbs.len()] = carry as u64;
        }
        self.limbs = limbs;
        self.trim();
    }

    fn add_small(&mut self, a: u64) {
        let mut carry = a;
        for w in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let (s, overflow) = w.overflowing_add(carry);
            *w = s;
            carry = u64::from(overflow);
        }
        if carry > 0 {
            self.limbs.push(carry);
        }
    }

    fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut limbs = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = false;
        for (i, &a) in long.limbs.iter().enumerate() {
            let (s1, o1) = a.overflowing_add(short.limbs.get(i).copied().unwrap_or(0));
            let (s2, o2) = s1.overflowing_add(u64::from(carry));
            limbs.push(s2);
            carry = o1 || o2;
        }
        if carry {
            limbs.push(1);
        }
        Big { limbs }
    }

    /// `self - other`, for `self >= other`.
    fn sub(&self, other: &Big) -> Big {
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = false;
        for (i, &a) in self.limbs.iter().enumerate() {
            let (d1, b1) = a.overflowing_sub(other.limbs.get(i).copied().unwrap_or(0));
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            limbs.push(d2);
            borrow = b1 || b2;
        }
        debug_assert!(!borrow, "subtraction underflow");
        let mut b = Big { limbs };
        b.trim();
        b
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// The quotient of `self / d`, which must fit in 127 bits, and whether
    /// the division left a remainder: shift-and-subtract, in place.
    fn div_small_quotient(&self, d: &Big) -> (u128, bool) {
        let mut rem = self.clone();
        let mut q = 0u128;
        let top = self.bits().saturating_sub(d.bits());
        debug_assert!(top < 127, "quotient too wide");
        for i in (0..=top).rev() {
            if rem.cmp_shifted(d, i) != Ordering::Less {
                rem.sub_shifted(d, i);
                q |= 1 << i;
            }
        }
        (q, !rem.is_zero())
    }

    /// Limb `k` of `d · 2^(64·words + bit)`.
    fn shifted_limb(d: &[u64], k: usize, words: usize, bit: u32) -> u64 {
        let at = |i: Option<usize>| i.and_then(|i| d.get(i)).copied().unwrap_or(0);
        let lo = at(k.checked_sub(words));
        if bit == 0 {
            lo
        } else {
            (lo << bit) | (at(k.checked_sub(words + 1)) >> (64 - bit))
        }
    }

    /// Compares `self` with `d · 2^shift`.
    fn cmp_shifted(&self, d: &Big, shift: u64) -> Ordering {
        let len = self.bits().cmp(&(d.bits() + shift));
        if len != Ordering::Equal || d.is_zero() {
            return len;
        }
        let (words, bit) = ((shift / 64) as usize, (shift % 64) as u32);
        for k in (0..self.limbs.len()).rev() {
            match self.limbs[k].cmp(&Big::shifted_limb(&d.limbs, k, words, bit)) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// Subtracts `d · 2^shift` (at most `self`) in place.
    fn sub_shifted(&mut self, d: &Big, shift: u64) {
        let (words, bit) = ((shift / 64) as usize, (shift % 64) as u32);
        let mut borrow = false;
        for k in 0..self.limbs.len() {
            let (d1, b1) = self.limbs[k].overflowing_sub(Big::shifted_limb(&d.limbs, k, words, bit));
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            self.limbs[k] = d2;
            borrow = b1 || b2;
        }
        debug_assert!(!borrow, "subtraction underflow");
        self.trim();
    }

    /// Divides in place by `d`, returning the remainder.
    fn div_rem_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for w in self.limbs.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*w);
            *w = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        self.trim();
        rem as u64
    }

    fn to_decimal(&self) -> Vec<u8> {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(TEN19));
        }
        let mut out = Vec::new();
        let mut buf = itoa::Buffer::new();
        match chunks.split_last() {
            None => out.push(b'0'),
            Some((&top, rest)) => {
                out.extend_from_slice(buf.format(top).as_bytes());
                for &c in rest.iter().rev() {
                    let s = buf.format(c);
                    out.resize(out.len() + 19 - s.len(), b'0');
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(s: &str) -> LongDouble {
        match LongDouble::parse(s.as_bytes()) {
            Some(Parsed::Finite(v)) => v,
            other => panic!("{s:?} parsed as {other:?}"),
        }
    }

    fn incr(a: &str, b: &str) -> String {
        let sum = ld(a).add(ld(b)).expect("finite");
        String::from_utf8(sum.to_human()).expect("ascii")
    }

    #[test]
    fn sums_match_redis() {
        // Expected values come from redis-server 7.0 on x86-64.
        for (a, b, want) in [
            ("0", "0.1", "0.1"),
            ("0.1", "0.1", "0.2"),
            ("0.1", "0.2", "0.3"),
            ("10.5", "0.1", "10.6"),
            ("1", "0.1", "1.1"),
            ("1.1", "0.1", "1.2"),
            ("0", "5.0e3", "5000"),
            ("3", "-3", "0"),
            ("-0", "0", "0"),
            ("0", "-0.0000000000000000001", "0"),
            ("1", "1e-18", "1"),
            ("0", "0x10", "16"),
            ("0", "1e30", "1000000000000000000024696061952"),
            ("-1.5", "0.25", "-1.25"),
            ("9223372036854775807", "1", "9223372036854775808"),
        ] {
            assert_eq!(incr(a, b), want, "{a} + {b}");
        }
    }

    #[test]
    fn parse_follows_strtold() {
        for bad in [
            "", " 1", "1 ", "abc", "1e", "1e+", ".", "-", "+", "0x", "0xg", "nan", "NaN", "infx", "1e99999",
            "1e-99999", "1..2",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        for inf in ["inf", "-INF", "Infinity", "+infinity"] {
            assert_eq!(LongDouble::parse(inf.as_bytes()), Some(Parsed::Infinite), "{inf:?}");
        }
        assert_eq!(LongDouble::parse(b"1\0"), None);
        assert_eq!(LongDouble::parse(b"\0"), None);
        assert_eq!(ld("0x1.8p1"), ld("3"));
        assert_eq!(ld(".5"), ld("0.5"));
        assert_eq!(ld("5."), ld("5"));
        assert_eq!(ld("0e99999"), LongDouble::ZERO);
        assert_eq!(ld("1e4932").to_human().len(), 4933);
        assert!(LongDouble::parse(b"1e4933").is_none());
        // The smallest denormal survives; half of it rounds to zero.
        assert!(LongDouble::parse(b"3.7e-4951").is_some());
        assert!(LongDouble::parse(b"1.8e-4951").is_none());
    }

    #[test]
    fn overflow_is_detected() {
        let max = ld("1.1e4932");
        assert_eq!(max.add(max), None);
    }

    #[test]
    fn big_arithmetic() {
        let a = Big::pow10(40);
        assert_eq!(
            a.div_small_quotient(&Big::pow10(21)),
            (10_000_000_000_000_000_000, false)
        );
        let a = Big::pow10(40).add(&Big::from_u128(7));
        assert_eq!(
            a.div_small_quotient(&Big::pow10(21)),
            (10_000_000_000_000_000_000, true)
        );
        assert_eq!(
            Big::pow10(30).shl(70).div_small_quotient(&Big::pow10(30).shl(5)),
            (1 << 65, false)
        );
        assert_eq!(Big::pow10(25).shl(3).shr(3), Big::pow10(25));
        assert_eq!(
            Big::from_u128(u128::MAX).add(&Big::from_u128(1)).to_decimal(),
            b"340282366920938463463374607431768211456"
        );
    }
}
