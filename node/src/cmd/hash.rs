//! Hash commands: HSET and friends, counters, whole-hash reads, HSCAN and
//! HRANDFIELD, with Redis 7.0's replies, errors and keyspace events.
//!
//! The encoding work (listpack or table, and when to convert) lives in
//! [`crate::keyspace::hash`]; a command here looks the key up, runs the
//! type's operations and replies. Writes never leave an empty hash behind:
//! a new hash is built first and stored only once it has a field, and a
//! hash whose last field is deleted is removed from the keyspace.

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::flag::*;
use super::string::longdouble::{LongDouble, Parsed};
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, arg, event};
use crate::glob::glob_match;
use crate::keyspace::hash::{Hash, Limits};
use crate::keyspace::{Access, Db, Value};
use crate::propagate::argv;
use crate::reply::Reply;
use resp::parse_i64;

const G: Group = Group::Hash;

/// The hash group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "hset",
        -4,
        WRITE | DENYOOM | FAST,
        KEY1,
        G,
        "2.0.0",
        "Set the string value of a hash field",
        hset,
    ),
    Command::new(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        G,
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
        hsetnx,
    ),
    Command::new(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        KEY1,
        G,
        "2.0.0",
        "Set multiple hash fields to multiple values",
        hmset,
    ),
    Command::new(
        "hget",
        3,
        READONLY | FAST,
        KEY1,
        G,
        "2.0.0",
        "Get the value of a hash field",
        hget,
    ),
    Command::new(
        "hmget",
        -3,
        READONLY | FAST,
        KEY1,
        G,
        "2.0.0",
        "Get the values of all the given hash fields",
        hmget,
    ),
    Command::new(
        "hdel",
        -3,
        WRITE | FAST,
        KEY1,
        G,
        "2.0.0",
        "Delete one or more hash fields",
        hdel,
    ),
    Command::new(
        "hlen",
        2,
        READONLY | FAST,
        KEY1,
        G,
        "2.0.0",
        "Get the number of fields in a hash",
        hlen,
    ),
    Command::new(
        "hstrlen",
        3,
        READONLY | FAST,
        KEY1,
        G,
        "3.2.0",
        "Get the length of the value of a hash field",
        hstrlen,
    ),
    Command::new(
        "hexists",
        3,
        READONLY | FAST,
        KEY1,
        G,
        "2.0.0",
        "Determine if a hash field exists",
        hexists,
    ),
    Command::new(
        "hkeys",
        2,
        READONLY,
        KEY1,
        G,
        "2.0.0",
        "Get all the fields in a hash",
        hkeys,
    ),
    Command::new(
        "hvals",
        2,
        READONLY,
        KEY1,
        G,
        "2.0.0",
        "Get all the values in a hash",
        hvals,
    ),
    Command::new(
        "hgetall",
        2,
        READONLY,
        KEY1,
        G,
        "2.0.0",
        "Get all the fields and values in a hash",
        hgetall,
    ),
    Command::new(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        G,
        "2.0.0",
        "Increment the integer value of a hash field by the given number",
        hincrby,
    ),
    Command::new(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        G,
        "2.6.0",
        "Increment the float value of a hash field by the given amount",
        hincrbyfloat,
    ),
    Command::new(
        "hscan",
        -3,
        READONLY,
        KEY1,
        G,
        "2.8.0",
        "Incrementally iterate hash fields and associated values",
        hscan,
    ),
    Command::new(
        "hrandfield",
        -2,
        READONLY,
        KEY1,
        G,
        "6.2.0",
        "Get one or multiple random fields from a hash",
        hrandfield,
    ),
];

/// The encoding thresholds from the live configuration.
fn limits(ctx: &Ctx<'_>) -> Limits {
    let c = &ctx.server.config;
    Limits::new(c.hash_max_listpack_entries, c.hash_max_listpack_value)
}

/// The hash stored at `key` for reading (counting a keyspace hit or miss),
/// with the reply writer.
fn read<'c, 'a>(ctx: &'c mut Ctx<'a>, key: &[u8]) -> Result<(Option<&'c Hash>, &'c mut Reply<'a>), CommandError> {
    let (found, out) = ctx.read(key);
    match found.map(|o| &o.value) {
        None => Ok((None, out)),
        Some(Value::Hash(h)) => Ok((Some(h), out)),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// The hash stored at `key` for writing.
fn lookup<'d>(db: &'d mut Db, key: &[u8], access: &Access) -> Result<Option<&'d mut Hash>, CommandError> {
    match db.lookup(key, access).map(|o| &mut o.value) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// Runs `f` on the hash at `key`, or on a new hash that is stored only if
/// `f` succeeds and leaves it non-empty (Redis's
/// `hashTypeLookupWriteOrCreate`, without ever exposing an empty hash).
fn write_or_create<R>(
    db: &mut Db,
    key: &[u8],
    access: &Access,
    f: impl FnOnce(&mut Hash) -> Result<R, CommandError>,
) -> Result<R, CommandError> {
    match lookup(db, key, access)? {
        Some(h) => f(h),
        None => {
            let mut h = Hash::default();
            let r = f(&mut h)?;
            if !h.is_empty() {
                db.insert_new(key, Value::Hash(h), access);
            }
            Ok(r)
        }
    }
}

/// Records a write of `key` and fires the hash event `name`.
fn written(ctx: &mut Ctx<'_>, key: &[u8], name: &str) {
    let db = ctx.client.db;
    ctx.modified(db, key);
    ctx.notify(event::HASH, name, key);
}

// ---------------------------------------------------------------------------
// HSET, HMSET, HSETNX

fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let created = set_pairs(ctx, args)?;
    ctx.out.int(created as i64);
    // Redis replies before it fires the event.
    written(ctx, &args[1], "hset");
    Ok(())
}

fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    set_pairs(ctx, args)?;
    ctx.out.ok();
    written(ctx, &args[1], "hset");
    Ok(())
}

/// HSET and HMSET: sets every field/value pair, returns how many fields
/// were new (the callers reply, then record the write).
fn set_pairs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<usize, CommandError> {
    if args.len() % 2 == 1 {
        return Err(CommandError::Arity(String::from_utf8_lossy(&args[0]).to_lowercase()));
    }
    let key = &args[1];
    let limits = limits(ctx);
    let (db, _, access) = ctx.parts();
    let created = write_or_create(db, key, access, |h| {
        h.prepare(args[2..].iter().map(|b| &b[..]), limits);
        Ok(args[2..]
            .chunks_exact(2)
            .filter(|p| h.set(&p[0], &p[1], limits))
            .count())
    })?;
    Ok(created)
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let created = write_or_create(db, key, access, |h| {
        if h.contains(field) {
            return Ok(false);
        }
        h.set(field, value, limits);
        Ok(true)
    })?;
    out.int(i64::from(created));
    if created {
        written(ctx, key, "hset");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HGET, HMGET, HLEN, HSTRLEN, HEXISTS

fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match read(ctx, &args[1])? {
        (Some(h), out) => match h.get(&args[2]) {
            Some(v) => out.bulk(v),
            None => out.null(),
        },
        (None, out) => out.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    let fields = &args[2..];
    out.array(fields.len());
    for f in fields {
        match h.and_then(|h| h.get(f)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.int(h.map_or(0, Hash::len) as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.int(h.and_then(|h| h.get(&args[2])).map_or(0, <[u8]>::len) as i64);
    Ok(())
}

fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.int(i64::from(h.is_some_and(|h| h.contains(&args[2]))));
    Ok(())
}

// ---------------------------------------------------------------------------
// HDEL

fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(h) = lookup(db, key, access)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for field in &args[2..] {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    if emptied {
        db.remove(key);
    }
    if deleted > 0 {
        written(ctx, key, "hdel");
        if emptied {
            ctx.notify(event::GENERIC, "del", key);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

// ---------------------------------------------------------------------------
// HKEYS, HVALS, HGETALL

fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.array(h.map_or(0, Hash::len));
    h.into_iter().flat_map(Hash::iter).for_each(|(k, _)| out.bulk(k));
    Ok(())
}

fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.array(h.map_or(0, Hash::len));
    h.into_iter().flat_map(Hash::iter).for_each(|(_, v)| out.bulk(v));
    Ok(())
}

fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (h, out) = read(ctx, &args[1])?;
    out.map(h.map_or(0, Hash::len));
    h.into_iter().flat_map(Hash::iter).for_each(|(k, v)| {
        out.bulk(k);
        out.bulk(v);
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// HINCRBY, HINCRBYFLOAT

fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let incr = arg::int(&args[3])?;
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let value = write_or_create(db, key, access, |h| {
        let old = match h.get(field) {
            Some(v) => parse_i64(v).ok_or_else(|| CommandError::err("hash value is not an integer"))?,
            None => 0,
        };
        let new = old
            .checked_add(incr)
            .ok_or_else(|| CommandError::err("increment or decrement would overflow"))?;
        h.set(field, itoa::Buffer::new().format(new).as_bytes(), limits);
        Ok(new)
    })?;
    out.int(value);
    written(ctx, key, "hincrby");
    Ok(())
}

/// HINCRBYFLOAT, in the `long double` arithmetic INCRBYFLOAT uses.
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let incr = match LongDouble::parse(&args[3]).ok_or(CommandError::NotFloat)? {
        Parsed::Finite(x) => x,
        Parsed::Infinite => return Err(CommandError::err("value is NaN or Infinity")),
    };
    let limits = limits(ctx);
    let (db, out, access) = ctx.parts();
    let text = write_or_create(db, key, access, |h| {
        let old = match h.get(field) {
            Some(v) => LongDouble::parse(v).ok_or_else(|| CommandError::err("hash value is not a float"))?,
            None => Parsed::Finite(LongDouble::ZERO),
        };
        let sum = match old {
            Parsed::Finite(old) => old.add(incr),
            Parsed::Infinite => None,
        }
        .ok_or_else(|| CommandError::err("increment would produce NaN or Infinity"))?;
        let text = sum.to_human();
        h.set(field, &text, limits);
        Ok(text)
    })?;
    out.bulk(&text);
    written(ctx, key, "hincrbyfloat");
    ctx.propagate_as(argv([b"HSET", key, field, text.as_ref()]));
    Ok(())
}

// ---------------------------------------------------------------------------
// HSCAN

fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = super::keys::parse_cursor(&args[2]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let (h, out) = read(ctx, &args[1])?;
    let Some(h) = h else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = arg::scan_options(&args[3..])?;
    let mut found = Vec::new();
    let next = h.scan(cursor, opts.count, |k, v| {
        if opts.pattern.is_none_or(|p| glob_match(p, k, false)) {
            found.push((k, v));
        }
    });
    out.array(2);
    out.bulk_int(next as i64);
    out.array(found.len() * 2);
    for (k, v) in found {
        out.bulk(k);
        out.bulk(v);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HRANDFIELD

fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut rng = SmallRng::from_rng(&mut ctx.server.rng);
    if args.len() == 2 {
        match read(ctx, &args[1])? {
            (Some(h), out) => out.bulk(h.random(&mut rng).expect("stored hashes are never empty").0),
            (None, out) => out.null(),
        }
        return Ok(());
    }
    let count = arg::int(&args[2])?;
    if count == i64::MIN {
        return Err(CommandError::err(format!(
            "value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    if args.len() > 4 || (args.len() == 4 && !arg::is(&args[3], "withvalues")) {
        return Err(CommandError::Syntax);
    }
    let withvalues = args.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    let cap = ctx.reply_cap();
    let (h, out) = read(ctx, &args[1])?;
    let Some(h) = h else {
        out.array(0);
        return Ok(());
    };
    // RESP3 nests each field/value pair in an array; RESP2 flattens them.
    let nested = withvalues && out.resp3();
    let header = |out: &mut Reply<'_>, n: usize| out.array(if withvalues && !nested { n * 2 } else { n });
    let emit = |out: &mut Reply<'_>, k: &[u8], v: &[u8]| {
        if nested {
            out.array(2);
        }
        out.bulk(k);
        if withvalues {
            out.bulk(v);
        }
    };
    let n = count.unsigned_abs() as usize;
    if count < 0 || n == 1 {
        // Independent draws, repeats allowed.
        header(out, n);
        let mut complete = true;
        h.random_pairs(n, &mut rng, |k, v| {
            emit(out, k, v);
            complete = out.len() < cap;
            complete
        });
        if !complete {
            // Past the output limit (see `Ctx::reply_cap`).
            ctx.client.kill();
        }
    } else {
        header(out, n.min(h.len()));
        h.sample(n, &mut rng, |k, v| emit(out, k, v));
    }
    Ok(())
}
