//! Sorted set commands: scores, ranks, ranges by score, rank and lex, pops,
//! random members, ZSCAN and the set algebra (ZUNION, ZINTER, ZDIFF and
//! their STORE forms, ZINTERCARD), as Redis 7.0's `t_zset.c`.
//!
//! Shared paths, one implementation each: [`zadd_generic`] (ZADD, ZINCRBY),
//! [`zrange_generic`] (ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BY…]
//! forms), [`zremrange_generic`], [`setop_generic`] (the algebra) and
//! [`pop_first`] (ZPOPMIN, ZPOPMAX, ZMPOP, and the blocking BZPOPMIN,
//! BZPOPMAX and BZMPOP of the list module's blocking framework).
//!
//! Score arguments follow C's `strtod` as Redis does: hexadecimal floats,
//! `inf`, exponents; ranges (`ZRANGEBYSCORE`…) additionally accept leading
//! spaces and the empty string (0), while scores (`ZADD`…) refuse them and
//! refuse values that overflow or underflow to 0.

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, NO_KEYS, arg, event};
use crate::keyspace::zset::{AddFlags, Added, LexBound, LexRange, Limits, Range, ScoreRange, cmp_entries};
use crate::keyspace::{Access, Db, Object, Set, Value, ZSet};
use crate::propagate::argv;
use crate::reply::Reply;

const G: Group = Group::SortedSet;

/// The sorted set group's commands.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command::new("zadd", -4, WRITE | DENYOOM | FAST, KEY1, G, "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", zadd),
    Command::new("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, G, "1.2.0", "Increment the score of a member in a sorted set", zincrby),
    Command::new("zrem", -3, WRITE | FAST, KEY1, G, "1.2.0", "Remove one or more members from a sorted set", zrem),
    Command::new("zcard", 2, READONLY | FAST, KEY1, G, "1.2.0", "Get the number of members in a sorted set", zcard),
    Command::new("zscore", 3, READONLY | FAST, KEY1, G, "1.2.0", "Get the score associated with the given member in a sorted set", zscore),
    Command::new("zmscore", -3, READONLY | FAST, KEY1, G, "6.2.0", "Get the score associated with the given members in a sorted set", zmscore),
    Command::new("zrank", 3, READONLY | FAST, KEY1, G, "2.0.0", "Determine the index of a member in a sorted set", zrank),
    Command::new("zrevrank", 3, READONLY | FAST, KEY1, G, "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", zrevrank),
    Command::new("zrange", -4, READONLY, KEY1, G, "1.2.0", "Return a range of members in a sorted set", zrange),
    Command::new("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), G, "6.2.0", "Store a range of members from sorted set into another key", zrangestore),
    Command::new("zrangebyscore", -4, READONLY, KEY1, G, "1.0.5", "Return a range of members in a sorted set, by score", zrangebyscore),
    Command::new("zrevrangebyscore", -4, READONLY, KEY1, G, "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", zrevrangebyscore),
    Command::new("zrangebylex", -4, READONLY, KEY1, G, "2.8.9", "Return a range of members in a sorted set, by lexicographical range", zrangebylex),
    Command::new("zrevrangebylex", -4, READONLY, KEY1, G, "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", zrevrangebylex),
    Command::new("zrevrange", -4, READONLY, KEY1, G, "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", zrevrange),
    Command::new("zcount", 4, READONLY | FAST, KEY1, G, "2.0.0", "Count the members in a sorted set with scores within the given values", zcount),
    Command::new("zlexcount", 4, READONLY | FAST, KEY1, G, "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", zlexcount),
    Command::new("zpopmin", -2, WRITE | FAST, KEY1, G, "5.0.0", "Remove and return members with the lowest scores in a sorted set", zpopmin),
    Command::new("zpopmax", -2, WRITE | FAST, KEY1, G, "5.0.0", "Remove and return members with the highest scores in a sorted set", zpopmax),
    Command::new("zmpop", -4, WRITE, NO_KEYS, G, "7.0.0", "Remove and return members with scores in a sorted set", zmpop),
    Command::new("zunion", -3, READONLY, NO_KEYS, G, "6.2.0", "Add multiple sorted sets", zunion),
    Command::new("zinter", -3, READONLY, NO_KEYS, G, "6.2.0", "Intersect multiple sorted sets", zinter),
    Command::new("zdiff", -3, READONLY, NO_KEYS, G, "6.2.0", "Subtract multiple sorted sets", zdiff),
    Command::new("zunionstore", -4, WRITE | DENYOOM, KEY1, G, "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", zunionstore),
    Command::new("zinterstore", -4, WRITE | DENYOOM, KEY1, G, "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", zinterstore),
    Command::new("zdiffstore", -4, WRITE | DENYOOM, KEY1, G, "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", zdiffstore),
    Command::new("zintercard", -3, READONLY, NO_KEYS, G, "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", zintercard),
    Command::new("zremrangebyrank", 4, WRITE, KEY1, G, "2.0.0", "Remove all members in a sorted set within the given indexes", zremrangebyrank),
    Command::new("zremrangebyscore", 4, WRITE, KEY1, G, "1.2.0", "Remove all members in a sorted set within the given scores", zremrangebyscore),
    Command::new("zremrangebylex", 4, WRITE, KEY1, G, "2.8.9", "Remove all members in a sorted set between the given lexicographical range", zremrangebylex),
    Command::new("zscan", -3, READONLY, KEY1, G, "2.8.0", "Incrementally iterate sorted sets elements and associated scores", zscan),
    Command::new("zrandmember", -2, READONLY, KEY1, G, "6.2.0", "Get one or multiple random elements from a sorted set", zrandmember),
];

// ---------------------------------------------------------------------------
// Shared helpers.

/// `ERR resulting score is not a number (NaN)`.
fn nan_error() -> CommandError {
    CommandError::err("resulting score is not a number (NaN)")
}

/// The encoding thresholds from the live configuration.
fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = &ctx.server.config;
    Limits {
        max_entries: usize::try_from(config.zset_max_listpack_entries).unwrap_or(usize::MAX),
        max_value: usize::try_from(config.zset_max_listpack_value).unwrap_or(usize::MAX),
    }
}

/// The sorted set in `obj`, or WRONGTYPE.
fn as_zset(obj: &mut Object) -> Result<&mut ZSet, CommandError> {
    match &mut obj.value {
        Value::ZSet(z) => Ok(z),
        _ => Err(CommandError::WrongType),
    }
}

/// Looks up a sorted set (expiring and touching the key).
fn lookup<'d>(db: &'d mut Db, key: &[u8], access: &Access) -> Result<Option<&'d mut ZSet>, CommandError> {
    db.lookup(key, access).map(as_zset).transpose()
}

/// Replies (member, score) pairs: a flat array in RESP2, an array of
/// [member, score] pairs in RESP3; members only without `withscores`.
fn reply_pairs<M: AsRef<[u8]>>(out: &mut Reply<'_>, items: &[(M, f64)], withscores: bool) {
    let nested = withscores && out.resp3();
    out.array(if withscores && !nested {
        items.len() * 2
    } else {
        items.len()
    });
    for (m, s) in items {
        if nested {
            out.array(2);
        }
        out.bulk(m.as_ref());
        if withscores {
            out.double(*s);
        }
    }
}

/// C's `strtod` applied to all of `s` (glibc semantics): leading white
/// space, a sign, `inf`/`infinity`/`nan[(…)]`, decimal or hexadecimal
/// (`0x1.8p3`) numbers. Returns the value and whether it is out of range
/// (`ERANGE`: overflowed to ±inf, or a non-zero number underflowed to 0),
/// or `None` when `s` is not one complete number.
fn strtod(s: &[u8]) -> Option<(f64, bool)> {
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let sign = if neg { -1.0 } else { 1.0 };
    if lower == b"inf" || lower == b"infinity" {
        return Some((sign * f64::INFINITY, false));
    }
    if lower == b"nan"
        || (lower.starts_with(b"nan(")
            && lower.ends_with(b")")
            && lower[4..lower.len() - 1]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_'))
    {
        return Some((f64::NAN, false));
    }
    let hex = lower.starts_with(b"0x");
    let digits = if hex { &lower[2..] } else { &lower[..] };
    let is_digit = |c: u8| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    let int_len = digits.iter().take_while(|&&c| is_digit(c)).count();
    let mut pos = int_len;
    let mut frac_len = 0;
    if digits.get(pos) == Some(&b'.') {
        frac_len = digits[pos + 1..].iter().take_while(|&&c| is_digit(c)).count();
        pos += 1 + frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let mut exp: i64 = 0;
    if digits.get(pos) == Some(if hex { &b'p' } else { &b'e' }) {
        let rest = &digits[pos + 1..];
        let (eneg, edigits) = match rest.first() {
            Some(b'-') => (true, &rest[1..]),
            Some(b'+') => (false, &rest[1..]),
            _ => (false, rest),
        };
        if edigits.is_empty() || !edigits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for &c in edigits {
            exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
        }
        if eneg {
            exp = -exp;
        }
        pos = digits.len();
    }
    if pos != digits.len() {
        return None;
    }
    let nonzero = digits[..int_len + usize::from(frac_len > 0) + frac_len]
        .iter()
        .any(|&c| is_digit(c) && c != b'0');
    let value = if hex {
        // Up to 16 significant hex digits, the rest folded into a sticky bit.
        let mut mantissa: u64 = 0;
        let mut scale: i64 = 0;
        let mut kept = 0;
        let mut sticky = false;
        for (i, &c) in digits[..pos]
            .iter()
            .take(int_len + usize::from(frac_len > 0) + frac_len)
            .enumerate()
        {
            if c == b'.' {
                continue;
            }
            let d = u64::from((c as char).to_digit(16).expect("checked hex digit"));
            let in_frac = i > int_len;
            if kept < 16 {
                if mantissa != 0 || d != 0 {
                    kept += 1;
                }
                mantissa = mantissa * 16 + d;
                if in_frac {
                    scale -= 4;
                }
            } else {
                sticky |= d != 0;
                if !in_frac {
                    scale += 4;
                }
            }
        }
        let m = (mantissa | u64::from(sticky)) as f64;
        ldexp(m, scale.saturating_add(exp))
    } else {
        std::str::from_utf8(s).ok()?.parse::<f64>().ok()?.abs()
    };
    let out_of_range = value.is_infinite() || (value == 0.0 && nonzero);
    Some((sign * value, out_of_range))
}

/// `x * 2^e` without intermediate overflow.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 && x.is_finite() && x != 0.0 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 && x != 0.0 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// A score argument as Redis's `getDoubleFromObject` reads it.
fn parse_score(b: &[u8]) -> Option<f64> {
    if b.first().is_none_or(u8::is_ascii_whitespace) || b.first() == Some(&0x0b) {
        return None;
    }
    match strtod(b)? {
        (v, false) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// One end of a score range (`zslParseRange`): `(` makes it exclusive;
/// C-string semantics (the text ends at a NUL byte).
fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    let (ex, text) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    if text.is_empty() {
        return Some((0.0, ex));
    }
    let (v, _) = strtod(text)?;
    (!v.is_nan()).then_some((v, ex))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
    let err = || CommandError::err("min or max is not a float");
    let (min, min_ex) = parse_score_bound(min).ok_or_else(err)?;
    let (max, max_ex) = parse_score_bound(max).ok_or_else(err)?;
    Ok(ScoreRange {
        min,
        max,
        min_ex,
        max_ex,
    })
}

fn parse_lex_bound(b: &[u8]) -> Option<LexBound<'_>> {
    match b.first()? {
        b'+' if b.len() == 1 => Some(LexBound::Max),
        b'-' if b.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Excl(&b[1..])),
        b'[' => Some(LexBound::Incl(&b[1..])),
        _ => None,
    }
}

fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CommandError> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CommandError::err("min or max not valid string range item")),
    }
}

/// `getRangeLongFromObjectOrReply`: an integer in `min..=max`; `msg`
/// replaces both the not-an-integer and the out-of-range errors.
fn int_in(b: &[u8], min: i64, max: i64, msg: Option<&str>) -> Result<i64, CommandError> {
    let v = match (arg::parse_i64(b), msg) {
        (Some(v), _) => v,
        (None, Some(m)) => return Err(CommandError::err(m)),
        (None, None) => return Err(CommandError::NotInteger),
    };
    if (min..=max).contains(&v) {
        return Ok(v);
    }
    Err(match msg {
        Some(m) => CommandError::err(m),
        None => CommandError::err(format!("value is out of range, value must between {min} and {max}")),
    })
}

/// Resolves ZRANGE-style indexes against `len`; `None` when empty.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY.

fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, false)
}

fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, true)
}

/// What a ZADD did, for the reply and the notifications.
#[derive(Default)]
struct AddCounts {
    added: i64,
    updated: i64,
    processed: i64,
    score: f64,
}

fn apply_adds(
    z: &mut ZSet,
    pairs: &[(f64, &[u8])],
    flags: AddFlags,
    limits: Limits,
) -> Result<AddCounts, CommandError> {
    let mut c = AddCounts::default();
    for &(score, member) in pairs {
        match z.add(member, score, flags, limits).map_err(|_| nan_error())? {
            Added::New(s) => (c.added, c.processed, c.score) = (c.added + 1, c.processed + 1, s),
            Added::Updated(s) => (c.updated, c.processed, c.score) = (c.updated + 1, c.processed + 1, s),
            Added::Same(s) => (c.processed, c.score) = (c.processed + 1, s),
            Added::Skipped => {}
        }
    }
    Ok(c)
}

/// ZADD and ZINCRBY (`zaddGenericCommand`).
fn zadd_generic(ctx: &mut Ctx<'_>, args: &[Bytes], incr_cmd: bool) -> CmdResult {
    let key = &args[1];
    let mut flags = AddFlags {
        incr: incr_cmd,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while let Some(opt) = args.get(idx) {
        let flag = match opt {
            o if arg::is(o, "nx") => &mut flags.nx,
            o if arg::is(o, "xx") => &mut flags.xx,
            o if arg::is(o, "ch") => &mut ch,
            o if arg::is(o, "incr") => &mut flags.incr,
            o if arg::is(o, "gt") => &mut flags.gt,
            o if arg::is(o, "lt") => &mut flags.lt,
            _ => break,
        };
        *flag = true;
        idx += 1;
    }
    let rest = &args[idx..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if ((flags.gt || flags.lt) && flags.nx) || (flags.gt && flags.lt) {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && rest.len() > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks(2)
        .map(|p| parse_score(&p[0]).map(|s| (s, &p[1][..])).ok_or(CommandError::NotFloat))
        .collect::<Result<Vec<_>, _>>()?;
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let counts = match db.lookup(key, access) {
        Some(obj) => apply_adds(as_zset(obj)?, &pairs, flags, limits)?,
        None if flags.xx => AddCounts::default(),
        None => {
            let z = ZSet::new_for(limits, pairs[0].1.len());
            let obj = db.insert_new(key, Value::ZSet(z), access);
            apply_adds(as_zset(obj)?, &pairs, flags, limits)?
        }
    };
    if flags.incr {
        if counts.processed > 0 {
            out.double(counts.score);
        } else {
            out.null();
        }
    } else {
        out.int(if ch {
            counts.added + counts.updated
        } else {
            counts.added
        });
    }
    if counts.added + counts.updated > 0 {
        let db_id = ctx.client.db;
        ctx.modified(db_id, key);
        ctx.notify(event::ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK.

fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(z) = lookup(db, key, access)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for member in &args[2..] {
        deleted += i64::from(z.remove(member));
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    if emptied {
        db.remove(key);
    }
    if deleted > 0 {
        changed(ctx, key, "zrem", emptied);
    }
    ctx.out.int(deleted);
    Ok(())
}

/// Records a change to `key`: modified, the command's event, and "del"
/// when the set was emptied and removed.
fn changed(ctx: &mut Ctx<'_>, key: &[u8], event_name: &str, emptied: bool) {
    let db_id = ctx.client.db;
    ctx.modified(db_id, key);
    ctx.notify(event::ZSET, event_name, key);
    if emptied {
        ctx.notify(event::GENERIC, "del", key);
    }
}

fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let n = lookup(db, &args[1], access)?.map_or(0, |z| z.len());
    out.int(n as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    match lookup(db, &args[1], access)?.and_then(|z| z.score(&args[2])) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let z = lookup(db, &args[1], access)?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match z.as_ref().and_then(|z| z.score(member)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, args, true)
}

fn zrank_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let rank = lookup(db, &args[1], access)?.and_then(|z| Some((z.rank(&args[2])?, z.len())));
    match rank {
        Some((r, len)) => out.int((if rev { len - 1 - r } else { r }) as i64),
        None => out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANGE and friends.

/// How a range command reads its min and max.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    /// ZRANGE/ZRANGESTORE: by rank unless BYSCORE or BYLEX is given.
    Auto,
    Rank,
    Score,
    Lex,
}

fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Auto, None)
}

fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, true, RangeKind::Auto, None)
}

fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Rank, Some(true))
}

fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Score, Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Score, Some(true))
}

fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Lex, Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, false, RangeKind::Lex, Some(true))
}

/// A parsed range, by rank, score or lex.
enum Span<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// The pairs a range selects, in reply order (`genericZrangeby*Command`).
fn select<'z>(z: &'z ZSet, span: &Span<'_>, rev: bool, offset: i64, limit: i64) -> Vec<(&'z [u8], f64)> {
    let mut items = Vec::new();
    let len = z.len();
    let (start, range): (Option<usize>, &dyn Range) = match span {
        Span::Rank(start, end) => {
            let Some((start, end)) = rank_span(*start, *end, len) else {
                return items;
            };
            let n = end - start + 1;
            items.reserve(n);
            let from = if rev { len - 1 - start } else { start };
            z.walk(from, rev, |m, s| {
                items.push((m, s));
                items.len() < n
            });
            return items;
        }
        Span::Score(r) => (z.range_start(r, rev), r),
        Span::Lex(r) => (z.range_start(r, rev), r),
    };
    let Some(start) = start else { return items };
    // A negative offset skips past the end; a negative limit is no limit.
    let Ok(offset) = usize::try_from(offset) else {
        return items;
    };
    let from = if rev {
        start.checked_sub(offset)
    } else {
        Some(start + offset).filter(|&i| i < len)
    };
    let Some(from) = from else { return items };
    let mut left = limit;
    if left == 0 {
        return items;
    }
    z.walk(from, rev, |m, s| {
        let inside = if rev { range.gte_min(m, s) } else { range.lte_max(m, s) };
        if inside {
            items.push((m, s));
            left -= 1;
        }
        inside && left != 0
    });
    items
}

/// ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX
/// (`zrangeGenericCommand`). `rev` is fixed by the older commands.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    store: bool,
    mut kind: RangeKind,
    mut rev: Option<bool>,
) -> CmdResult {
    let src = if store { 2 } else { 1 };
    let (mut min_idx, mut max_idx) = (src + 1, src + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && arg::is(a, "withscores") {
            withscores = true;
        } else if arg::is(a, "limit") && left >= 2 {
            offset = arg::int(&args[j + 1])?;
            limit = arg::int(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && arg::is(a, "rev") {
            rev = Some(true);
        } else if kind == RangeKind::Auto && arg::is(a, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && arg::is(a, "byscore") {
            kind = RangeKind::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut min_idx, &mut max_idx);
    }
    let (min, max) = (&args[min_idx][..], &args[max_idx][..]);
    let span = match kind {
        RangeKind::Score => Span::Score(parse_score_range(min, max)?),
        RangeKind::Lex => Span::Lex(parse_lex_range(min, max)?),
        _ => Span::Rank(arg::int(min)?, arg::int(max)?),
    };
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let z = lookup(db, &args[src], access)?;
    if !store {
        let items = z.map(|z| select(z, &span, rev, offset, limit)).unwrap_or_default();
        reply_pairs(out, &items, withscores);
        return Ok(());
    }
    let result = z.map(|z| {
        let mut items = select(z, &span, rev, offset, limit);
        if rev {
            items.reverse();
        }
        ZSet::from_sorted(&items, limits)
    });
    store_result(ctx, &args[1], result, "zrangestore");
    Ok(())
}

/// Stores the result of ZRANGESTORE or the algebra's STORE forms: the set
/// under `dst` when non-empty (replying its size), else deletes `dst`.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: Option<ZSet>, event_name: &str) {
    let db_id = ctx.client.db;
    let (db, out, access) = ctx.parts();
    match result.filter(|z| !z.is_empty()) {
        Some(z) => {
            out.int(z.len() as i64);
            db.set(dst, Value::ZSet(z), false, access);
            ctx.modified(db_id, dst);
            ctx.notify(event::ZSET, event_name, dst);
        }
        None => {
            out.int(0);
            if db.remove(dst).is_some() {
                ctx.modified(db_id, dst);
                ctx.notify(event::GENERIC, "del", dst);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*.

fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let range = parse_score_range(&args[2], &args[3])?;
    count_generic(ctx, &args[1], &range)
}

fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    count_generic(ctx, &args[1], &range)
}

fn count_generic(ctx: &mut Ctx<'_>, key: &[u8], range: &impl Range) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let n = lookup(db, key, access)?.map_or(0, |z| z.count_in(range));
    out.int(n as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let span = Span::Rank(arg::int(&args[2])?, arg::int(&args[3])?);
    zremrange_generic(ctx, &args[1], &span, "zremrangebyrank")
}

fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let span = Span::Score(parse_score_range(&args[2], &args[3])?);
    zremrange_generic(ctx, &args[1], &span, "zremrangebyscore")
}

fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let span = Span::Lex(parse_lex_range(&args[2], &args[3])?);
    zremrange_generic(ctx, &args[1], &span, "zremrangebylex")
}

/// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
fn zremrange_generic(ctx: &mut Ctx<'_>, key: &[u8], span: &Span<'_>, event_name: &str) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let Some(z) = lookup(db, key, access)? else {
        out.int(0);
        return Ok(());
    };
    let deleted = match span {
        Span::Rank(start, end) => match rank_span(*start, *end, z.len()) {
            Some((start, end)) => {
                z.remove_ranks(start, end - start + 1);
                end - start + 1
            }
            None => 0,
        },
        Span::Score(r) => z.remove_in(r),
        Span::Lex(r) => z.remove_in(r),
    };
    let emptied = z.is_empty();
    if emptied {
        db.remove(key);
    }
    out.int(deleted as i64);
    if deleted > 0 {
        changed(ctx, key, event_name, emptied);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP (and the blocking variants' shared pop).

/// The reply shape of a pop (`genericZpopCommand`'s `emitkey` and
/// `use_nested_array`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopShape {
    /// Start with the key's name (BZPOPMIN, BZPOPMAX, ZMPOP, BZMPOP).
    pub with_key: bool,
    /// [member, score] pairs as nested arrays (RESP3 ZPOPMIN with a count,
    /// ZMPOP and BZMPOP) rather than a flat array.
    pub nested: bool,
}

/// Pops from the first of `keys` that exists (Redis's `genericZpopCommand`):
/// up to `count` members (`None`: a single pop) from the lowest end, or the
/// highest when `max`, writing the reply in `shape`, firing "zpopmin" /
/// "zpopmax" (and "del" when the set empties) and marking the key modified.
///
/// Missing keys are skipped; a key of another type is a WRONGTYPE error.
/// Returns `Ok(false)` without writing anything when no key exists, so the
/// caller replies (an empty or null array) or blocks. A count of 0 on an
/// existing key replies an empty array.
pub fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    count: Option<usize>,
    shape: PopShape,
) -> Result<bool, CommandError> {
    let (db, out, access) = ctx.parts();
    let mut popped = None;
    for key in keys {
        let Some(obj) = db.lookup(key, access) else { continue };
        let z = as_zset(obj)?;
        if count == Some(0) {
            out.array(0);
            return Ok(true);
        }
        let n = count.unwrap_or(1).min(z.len());
        match (shape.with_key, shape.nested) {
            (false, false) => out.array(n * 2),
            (false, true) => out.array(n),
            (true, false) => {
                out.array(n * 2 + 1);
                out.bulk(key);
            }
            (true, true) => {
                out.array(2);
                out.bulk(key);
                out.array(n);
            }
        }
        for _ in 0..n {
            let (m, s) = z.pop(max).expect("n is at most the set's size");
            if shape.nested {
                out.array(2);
            }
            out.bulk(&m);
            out.double(s);
        }
        let emptied = z.is_empty();
        if emptied {
            db.remove(key);
        }
        popped = Some((key, emptied, n));
        break;
    }
    let Some((key, emptied, n)) = popped else {
        return Ok(false);
    };
    changed(ctx, key, if max { "zpopmax" } else { "zpopmin" }, emptied);
    // The commands that name their key in the reply (BZPOPMIN/BZPOPMAX,
    // ZMPOP, BZMPOP) propagate as ZPOPMIN/ZPOPMAX of that key, with the
    // count popped when they take one.
    if shape.with_key {
        let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        ctx.propagate_as(match shape.nested {
            true => argv([cmd, key, itoa::Buffer::new().format(n).as_bytes()]),
            false => argv([cmd, key]),
        });
    }
    Ok(true)
}

fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, args, true)
}

fn zpop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        Some(c) => Some(int_in(c, 0, i64::MAX, Some("value is out of range, must be positive"))? as usize),
        None => None,
    };
    let shape = PopShape {
        with_key: false,
        nested: ctx.out.resp3() && count.is_some(),
    };
    if !pop_first(ctx, &args[1..2], max, count, shape)? {
        ctx.out.array(0);
    }
    Ok(())
}

/// Parses `numkeys key… MIN|MAX [COUNT count]` from `args[numkeys_idx]`
/// (ZMPOP, and BZMPOP after its timeout): the keys, whether MAX, the count.
pub fn parse_mpop(args: &[Bytes], numkeys_idx: usize) -> Result<(&[Bytes], bool, usize), CommandError> {
    let numkeys = int_in(
        &args[numkeys_idx],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )? as usize;
    let where_idx = numkeys
        .checked_add(numkeys_idx + 1)
        .filter(|&w| w < args.len())
        .ok_or(CommandError::Syntax)?;
    let max = match &args[where_idx] {
        w if arg::is(w, "min") => false,
        w if arg::is(w, "max") => true,
        _ => return Err(CommandError::Syntax),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && arg::is(&args[j], "count") && j + 1 < args.len() {
            count = Some(int_in(&args[j + 1], 1, i64::MAX, Some("count should be greater than 0"))? as usize);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((&args[numkeys_idx + 1..where_idx], max, count.unwrap_or(1)))
}

fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 1)?;
    let shape = PopShape {
        with_key: true,
        nested: true,
    };
    if !pop_first(ctx, keys, max, Some(count), shape)? {
        ctx.out.null_array();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER.

fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() >= 3 {
        let count = int_in(&args[2], -i64::MAX, i64::MAX, None)?;
        if args.len() > 4 || (args.len() == 4 && !arg::is(&args[3], "withscores")) {
            return Err(CommandError::Syntax);
        }
        let withscores = args.len() == 4;
        if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
            return Err(CommandError::err("value is out of range"));
        }
        return zrandmember_count(ctx, &args[1], count, withscores);
    }
    let server = &mut *ctx.server;
    let db = &mut server.dbs[ctx.client.db];
    match lookup(db, &args[1], &ctx.access)?.and_then(|z| z.random(&mut server.rng)) {
        Some((m, _)) => ctx.out.bulk(m),
        None => ctx.out.null(),
    }
    Ok(())
}

/// ZRANDMEMBER with a count (`zrandmemberWithCountCommand`).
fn zrandmember_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64, withscores: bool) -> CmdResult {
    let cap = ctx.reply_cap();
    let server = &mut *ctx.server;
    let db = &mut server.dbs[ctx.client.db];
    let rng = &mut server.rng;
    let out = &mut ctx.out;
    let Some(z) = lookup(db, key, &ctx.access)? else {
        out.array(0);
        return Ok(());
    };
    let want = count.unsigned_abs() as usize;
    let size = z.len();
    let nested = withscores && out.resp3();
    let emit = |out: &mut Reply<'_>, m: &[u8], s: f64| {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    let header = |out: &mut Reply<'_>, n: usize| out.array(if withscores && !nested { n * 2 } else { n });
    if want == 0 {
        out.array(0);
        return Ok(());
    }
    // Repeats allowed (negative count) or a single member: independent
    // picks. The count may ask for more than memory holds: past the output
    // limit the reply is cut and the client closed (see `Ctx::reply_cap`).
    if count < 0 || want == 1 {
        header(out, want);
        let all: Vec<(&[u8], f64)> = match z {
            ZSet::Listpack(_) => z.iter().collect(),
            ZSet::Sorted(_) => Vec::new(),
        };
        for _ in 0..want {
            let (m, s) = if all.is_empty() {
                z.random(rng).expect("the set is not empty")
            } else {
                all[rand::Rng::random_range(rng, 0..size)]
            };
            emit(out, m, s);
            if out.len() >= cap {
                ctx.client.kill();
                break;
            }
        }
        return Ok(());
    }
    header(out, want.min(size));
    // The whole set, walked from the highest as Redis's iterator does.
    if want >= size {
        z.walk(size - 1, true, |m, s| {
            emit(out, m, s);
            true
        });
        return Ok(());
    }
    // Distinct members: a uniform sample of ranks, emitted in set order.
    let mut ranks = rand::seq::index::sample(rng, size, want).into_vec();
    ranks.sort_unstable();
    let mut next = ranks.iter().copied().peekable();
    let mut rank = 0;
    z.walk(0, false, |m, s| {
        if next.peek() == Some(&rank) {
            next.next();
            emit(out, m, s);
        }
        rank += 1;
        next.peek().is_some()
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// ZSCAN.

/// A SCAN cursor as Redis's `parseScanCursorOrReply` (`strtoul`) reads it.
fn parse_cursor(b: &[u8]) -> Option<u64> {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    if b.first().is_some_and(|c| c.is_ascii_whitespace() || *c == 0x0b) {
        return None;
    }
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

/// How ZSCAN prints a score: listpack scores are stored as integers when
/// integral (up to 2^62), as Redis prints them back; others as `%.17g`.
fn scan_score_text(score: f64, packed: bool) -> Cow<'static, [u8]> {
    const LIMIT: f64 = (1u64 << 62) as f64;
    if packed && score.fract() == 0.0 && (-LIMIT..=LIMIT).contains(&score) {
        Cow::Owned(itoa::Buffer::new().format(score as i64).as_bytes().to_vec())
    } else {
        Cow::Owned(resp::encode::format_double(score).into_bytes())
    }
}

fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&args[2]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let (db, out, access) = ctx.parts();
    let Some(z) = lookup(db, &args[1], access)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let mut count = 10i64;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i >= 2;
        if more && arg::is(&args[i], "count") {
            count = arg::int(&args[i + 1])?;
            if count < 1 {
                return Err(CommandError::Syntax);
            }
        } else if more && arg::is(&args[i], "match") {
            pattern = Some(&args[i + 1][..]).filter(|p| *p != b"*");
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let mut items: Vec<(Cow<'_, [u8]>, f64)> = Vec::new();
    let packed = matches!(z, ZSet::Listpack(_));
    let next = if packed {
        items.extend(z.iter().map(|(m, s)| (Cow::Borrowed(m), s)));
        0
    } else {
        let mut cursor = cursor;
        let mut budget = count.saturating_mul(10);
        loop {
            cursor = z
                .scan(cursor, |m, s| items.push((Cow::Owned(m.to_vec()), s)))
                .expect("a table-encoded set");
            budget -= 1;
            // Redis counts members and scores alike against COUNT.
            if cursor == 0 || budget < 0 || items.len() * 2 >= count as usize {
                break;
            }
        }
        cursor
    };
    if let Some(p) = pattern {
        items.retain(|(m, _)| crate::glob::glob_match(p, m, false));
    }
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len() * 2);
    for (m, s) in items {
        out.bulk(&m);
        out.bulk(&scan_score_text(s, packed));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.

/// The set operation of [`setop_generic`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

/// How scores of a member found in several inputs combine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`: a NaN sum (`inf + -inf`) is 0.
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// An input of the algebra: a sorted set, or a set whose members score 1.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Set(&'a Set),
    ZSet(&'a ZSet),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Set(s) => s.len(),
            Source::ZSet(z) => z.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Set(s) => s.contains(member).then_some(1.0),
            Source::ZSet(z) => z.score(member),
        }
    }

    fn for_each(&self, mut f: impl FnMut(Cow<'a, [u8]>, f64)) {
        match self {
            Source::Missing => {}
            Source::Set(s) => s.iter().for_each(|m| f(m.to_bytes(), 1.0)),
            Source::ZSet(z) => z.iter().for_each(|(m, s)| f(Cow::Borrowed(m), s)),
        }
    }
}

fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zunion", false, SetOp::Union, false)
}

fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zinter", false, SetOp::Inter, false)
}

fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zdiff", false, SetOp::Diff, false)
}

fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zunionstore", true, SetOp::Union, false)
}

fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zinterstore", true, SetOp::Inter, false)
}

fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zdiffstore", true, SetOp::Diff, false)
}

fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    setop_generic(ctx, args, "zintercard", false, SetOp::Inter, true)
}

/// ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZINTERCARD
/// (`zunionInterDiffGenericCommand`).
fn setop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], name: &str, store: bool, op: SetOp, card_only: bool) -> CmdResult {
    let numkeys_idx = if store { 2 } else { 1 };
    let setnum = arg::int(&args[numkeys_idx])?;
    if setnum < 1 {
        return Err(CommandError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let first = numkeys_idx + 1;
    if setnum > (args.len() - first) as i64 {
        return Err(CommandError::Syntax);
    }
    let keys = &args[first..first + setnum as usize];
    // Type checks (and lazy expiry) in key order, before the options.
    {
        let (db, _, access) = ctx.parts();
        for key in keys {
            if let Some(obj) = db.lookup(key, access)
                && !matches!(obj.value, Value::ZSet(_) | Value::Set(_))
            {
                return Err(CommandError::WrongType);
            }
        }
    }
    let mut weights = vec![1.0; keys.len()];
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = first + keys.len();
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card_only && remaining > keys.len() && arg::is(a, "weights") {
            for (w, b) in weights.iter_mut().zip(&args[j + 1..]) {
                *w = parse_score(b).ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
            j += 1 + keys.len();
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && arg::is(a, "aggregate") {
            aggregate = match &args[j + 1] {
                b if arg::is(b, "sum") => Aggregate::Sum,
                b if arg::is(b, "min") => Aggregate::Min,
                b if arg::is(b, "max") => Aggregate::Max,
                _ => return Err(CommandError::Syntax),
            };
            j += 2;
        } else if !store && !card_only && arg::is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && arg::is(a, "limit") {
            limit = int_in(&args[j + 1], 0, i64::MAX, Some("LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let now = access.now_ms;
    let db = &*db;
    let mut srcs: Vec<(Source<'_>, f64)> = keys
        .iter()
        .zip(weights)
        .map(|(k, w)| {
            let src = match db.peek(k, now).map(|o| &o.value) {
                Some(Value::ZSet(z)) => Source::ZSet(z),
                Some(Value::Set(s)) => Source::Set(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    if op != SetOp::Diff {
        srcs.sort_by_key(|(s, _)| s.len());
    }
    if card_only {
        out.int(intersection(&srcs, aggregate, limit).len() as i64);
        return Ok(());
    }
    let mut items = match op {
        SetOp::Union => union(&srcs, aggregate),
        SetOp::Inter => intersection(&srcs, aggregate, 0),
        SetOp::Diff => difference(&srcs),
    };
    items.sort_by(|a, b| cmp_entries(a.1, &a.0, b.1, &b.0));
    if !store {
        reply_pairs(out, &items, withscores);
        return Ok(());
    }
    let result = ZSet::from_sorted(&items, limits);
    drop(items);
    let event_name = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    store_result(ctx, &args[1], Some(result), event_name);
    Ok(())
}

/// `weight * score`, with NaN (0 × inf) as 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() { 0.0 } else { v }
}

fn union<'a>(srcs: &[(Source<'a>, f64)], aggregate: Aggregate) -> Vec<(Cow<'a, [u8]>, f64)> {
    let capacity = srcs.last().map_or(0, |(s, _)| s.len());
    let mut acc: HashMap<Cow<'a, [u8]>, f64, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(capacity, Default::default());
    for &(src, weight) in srcs {
        src.for_each(|m, s| {
            let v = weighted(weight, s);
            acc.entry(m).and_modify(|t| aggregate.apply(t, v)).or_insert(v);
        });
    }
    acc.into_iter().collect()
}

/// The members in every input (at most `limit` of them when non-zero).
fn intersection<'a>(srcs: &[(Source<'a>, f64)], aggregate: Aggregate, limit: usize) -> Vec<(Cow<'a, [u8]>, f64)> {
    let mut items = Vec::new();
    let Some(&(first, w0)) = srcs.first() else { return items };
    let mut done = false;
    first.for_each(|m, s| {
        if done {
            return;
        }
        let mut score = weighted(w0, s);
        for &(src, w) in &srcs[1..] {
            match src.score(&m) {
                Some(v) => aggregate.apply(&mut score, v * w),
                None => return,
            }
        }
        items.push((m, score));
        done = limit != 0 && items.len() >= limit;
    });
    items
}

/// The members of the first input in none of the others, with their scores.
fn difference<'a>(srcs: &[(Source<'a>, f64)]) -> Vec<(Cow<'a, [u8]>, f64)> {
    let mut items = Vec::new();
    let Some(&(first, _)) = srcs.first() else { return items };
    first.for_each(|m, s| {
        if srcs[1..].iter().all(|(src, _)| src.score(&m).is_none()) {
            items.push((m, s));
        }
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_follows_glibc() {
        let ok = |s: &str| strtod(s.as_bytes());
        assert_eq!(ok("1.5"), Some((1.5, false)));
        assert_eq!(ok("  -2"), Some((-2.0, false)));
        assert_eq!(ok("0x10"), Some((16.0, false)));
        assert_eq!(ok("0X1.8p1"), Some((3.0, false)));
        assert_eq!(ok("-0x.8"), Some((-0.5, false)));
        assert_eq!(ok("1e400"), Some((f64::INFINITY, true)));
        assert_eq!(ok("1e-400"), Some((0.0, true)));
        assert_eq!(ok("0e-400"), Some((0.0, false)));
        assert_eq!(ok("-INFINITY"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(ok(".5"), Some((0.5, false)));
        assert_eq!(ok("5."), Some((5.0, false)));
        assert!(ok("nan").is_some_and(|(v, _)| v.is_nan()));
        for bad in [
            "", " ", ".", "e5", "1e", "1e+", "0x", "0xp1", "1 ", "inf ", "infi", "1..2", "--1", "1_0", "0x1p",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"-1e-320"), Some(-1e-320));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b"(1e400"), Some((f64::INFINITY, true)));
        assert_eq!(parse_score_bound(b"3\x00junk"), Some((3.0, false)));
        assert_eq!(parse_score_bound(b"nan"), None);
    }

    #[test]
    fn cursors_follow_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"12"), Some(12));
        assert_eq!(parse_cursor(b"+3"), Some(3));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"-"), None);
    }

    #[test]
    fn rank_spans() {
        assert_eq!(rank_span(0, -1, 5), Some((0, 4)));
        assert_eq!(rank_span(-100, 100, 5), Some((0, 4)));
        assert_eq!(rank_span(3, 2, 5), None);
        assert_eq!(rank_span(5, 9, 5), None);
        assert_eq!(rank_span(-2, -1, 5), Some((3, 4)));
        assert_eq!(rank_span(0, -6, 5), None);
    }
}
