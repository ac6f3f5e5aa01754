//! Keyspace commands (Redis's "generic" group): DEL, UNLINK, EXISTS, TYPE,
//! RENAME, KEYS, SCAN, RANDOMKEY, the EXPIRE and TTL families, PERSIST,
//! TOUCH, OBJECT, MOVE and COPY; and the whole-database commands Redis files
//! under "server": DBSIZE, FLUSHDB, FLUSHALL and SWAPDB.
//!
//! Every decision about expiry uses the command's frozen clock
//! (`ctx.access.now_ms`); per-key bookkeeping goes through [`Db`] methods.

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, NO_KEYS, arg, event};
use crate::config::MaxmemoryPolicy;
use crate::glob::glob_match;
use crate::keyspace::{Access, Db, Key, Object, Str, Value, free_in_background, lfu};
use crate::propagate::argv;
use crate::reply::Reply;

/// Key spec of commands whose every argument is a key.
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
/// Key spec of commands with a source and a destination key.
const TWO_KEYS: (i32, i32, i32) = (1, 2, 1);
/// Key spec of the OBJECT subcommands.
const SUB_KEY: (i32, i32, i32) = (2, 2, 1);

/// The generic group's commands, and the server group's database commands.
pub const COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, ALL_KEYS, Group::Generic, "1.0.0", "Delete a key", del),
    Command::new(
        "unlink",
        -2,
        WRITE | FAST,
        ALL_KEYS,
        Group::Generic,
        "4.0.0",
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        unlink,
    ),
    Command::new(
        "exists",
        -2,
        READONLY | FAST,
        ALL_KEYS,
        Group::Generic,
        "1.0.0",
        "Determine if a key exists",
        exists,
    ),
    Command::new(
        "type",
        2,
        READONLY | FAST,
        KEY1,
        Group::Generic,
        "1.0.0",
        "Determine the type stored at key",
        type_of,
    ),
    Command::new(
        "rename",
        3,
        WRITE,
        TWO_KEYS,
        Group::Generic,
        "1.0.0",
        "Rename a key",
        rename,
    ),
    Command::new(
        "renamenx",
        3,
        WRITE | FAST,
        TWO_KEYS,
        Group::Generic,
        "1.0.0",
        "Rename a key, only if the new key does not exist",
        renamenx,
    ),
    Command::new(
        "keys",
        2,
        READONLY,
        NO_KEYS,
        Group::Generic,
        "1.0.0",
        "Find all keys matching the given pattern",
        keys,
    ),
    Command::new(
        "scan",
        -2,
        READONLY,
        NO_KEYS,
        Group::Generic,
        "2.8.0",
        "Incrementally iterate the keys space",
        scan,
    ),
    Command::new(
        "randomkey",
        1,
        READONLY,
        NO_KEYS,
        Group::Generic,
        "1.0.0",
        "Return a random key from the keyspace",
        randomkey,
    ),
    Command::new(
        "expire",
        -3,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "1.0.0",
        "Set a key's time to live in seconds",
        expire,
    ),
    Command::new(
        "pexpire",
        -3,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "2.6.0",
        "Set a key's time to live in milliseconds",
        pexpire,
    ),
    Command::new(
        "expireat",
        -3,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
        expireat,
    ),
    Command::new(
        "pexpireat",
        -3,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        pexpireat,
    ),
    Command::new(
        "ttl",
        2,
        READONLY | FAST,
        KEY1,
        Group::Generic,
        "1.0.0",
        "Get the time to live for a key in seconds",
        ttl,
    ),
    Command::new(
        "pttl",
        2,
        READONLY | FAST,
        KEY1,
        Group::Generic,
        "2.6.0",
        "Get the time to live for a key in milliseconds",
        pttl,
    ),
    Command::new(
        "expiretime",
        2,
        READONLY | FAST,
        KEY1,
        Group::Generic,
        "7.0.0",
        "Get the expiration Unix timestamp for a key",
        expiretime,
    ),
    Command::new(
        "pexpiretime",
        2,
        READONLY | FAST,
        KEY1,
        Group::Generic,
        "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
        pexpiretime,
    ),
    Command::new(
        "persist",
        2,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "2.2.0",
        "Remove the expiration from a key",
        persist,
    ),
    Command::new(
        "touch",
        -2,
        READONLY | FAST,
        ALL_KEYS,
        Group::Generic,
        "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        touch,
    ),
    Command::container(
        "object",
        Group::Generic,
        "2.2.3",
        "A container for object introspection commands",
        OBJECT_SUBCOMMANDS,
    ),
    Command::new(
        "move",
        3,
        WRITE | FAST,
        KEY1,
        Group::Generic,
        "1.0.0",
        "Move a key to another database",
        move_key,
    ),
    Command::new(
        "copy",
        -3,
        WRITE | DENYOOM,
        TWO_KEYS,
        Group::Generic,
        "6.2.0",
        "Copy a key",
        copy,
    ),
    Command::new(
        "swapdb",
        3,
        WRITE | FAST,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Swaps two Redis databases",
        swapdb,
    ),
    Command::new(
        "dbsize",
        1,
        READONLY | FAST,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Return the number of keys in the selected database",
        dbsize,
    ),
    Command::new(
        "flushdb",
        -1,
        WRITE,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Remove all keys from the current database",
        flushdb,
    ),
    Command::new(
        "flushall",
        -1,
        WRITE,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Remove all keys from all databases",
        flushall,
    ),
];

/// OBJECT's subcommands.
const OBJECT_SUBCOMMANDS: &[Command] = &[
    Command::new(
        "object|encoding",
        3,
        READONLY,
        SUB_KEY,
        Group::Generic,
        "2.2.3",
        "Inspect the internal encoding of a Redis object",
        object_encoding,
    ),
    Command::new(
        "object|freq",
        3,
        READONLY,
        SUB_KEY,
        Group::Generic,
        "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object",
        object_freq,
    ),
    Command::new(
        "object|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Generic,
        "6.2.0",
        "Show helpful text about the different subcommands",
        object_help,
    ),
    Command::new(
        "object|idletime",
        3,
        READONLY,
        SUB_KEY,
        Group::Generic,
        "2.2.3",
        "Get the time since a Redis object was last accessed",
        object_idletime,
    ),
    Command::new(
        "object|refcount",
        3,
        READONLY,
        SUB_KEY,
        Group::Generic,
        "2.2.3",
        "Get the number of references to the value of the key",
        object_refcount,
    ),
];

/// The same clock and policy without updating access stamps (Redis's
/// `LOOKUP_NOTOUCH`).
fn no_touch(access: &Access) -> Access {
    Access {
        touch: false,
        ..*access
    }
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH

fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let lazy = ctx.server.config.lazyfree_lazy_user_del;
    delete_keys(ctx, args, lazy)
}

fn unlink(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    delete_keys(ctx, args, true)
}

/// DEL and UNLINK; `lazy` frees collections on the lazyfree thread.
fn delete_keys(ctx: &mut Ctx<'_>, args: &[Bytes], lazy: bool) -> CmdResult {
    let db_id = ctx.client.db;
    let access = ctx.access;
    let mut n = 0;
    for key in &args[1..] {
        let Some(value) = ctx.db().delete(key, &access) else {
            continue;
        };
        release(value, lazy);
        ctx.modified(db_id, key);
        ctx.notify(event::GENERIC, "del", key);
        n += 1;
    }
    ctx.out.int(n);
    Ok(())
}

/// Frees a value removed from the keyspace: with `lazy`, a collection goes
/// to the lazyfree thread (a string is one allocation: freeing it here is
/// cheaper than handing it over).
fn release(value: Value, lazy: bool) {
    if lazy && !matches!(value, Value::Str(_)) {
        free_in_background(value);
    }
}

fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let n = args[1..].iter().filter(|key| db.exists(key, access)).count();
    out.int(n as i64);
    Ok(())
}

fn type_of(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let name = db
        .lookup(&args[1], &no_touch(access))
        .map_or("none", |o| o.value.type_name());
    out.simple(name);
    Ok(())
}

fn touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    let n = args[1..].iter().filter(|key| db.lookup(key, access).is_some()).count();
    out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX, MOVE, COPY

fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    rename_key(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    rename_key(ctx, args, true)
}

/// RENAME and RENAMENX (`nx`): the object and its TTL move to the new name.
fn rename_key(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> CmdResult {
    let (from, to) = (&args[1], &args[2]);
    let db_id = ctx.client.db;
    let (db, _, access) = ctx.parts();
    if db.lookup(from, access).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    // The destination is looked up (expired, touched) even by RENAME.
    let renamed = from != to && !(db.lookup(to, access).is_some() && nx);
    if renamed {
        let (obj, at) = db.take_entry(from).expect("looked up just above");
        db.put_entry(to, obj, at);
    }
    if renamed {
        ctx.modified(db_id, from);
        ctx.modified(db_id, to);
        ctx.notify(event::GENERIC, "rename_from", from);
        ctx.notify(event::GENERIC, "rename_to", to);
    }
    if nx {
        ctx.out.int(i64::from(renamed));
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn move_key(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let src_id = ctx.client.db;
    let dst_id = db_index(ctx, int32(&args[2], None)?)?;
    if dst_id == src_id {
        return Err(same_object());
    }
    let access = ctx.access;
    let (src, dst) = two_dbs(&mut ctx.server.dbs, src_id, dst_id);
    if src.lookup(key, &access).is_none() || dst.lookup(key, &access).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let (obj, at) = src.take_entry(key).expect("looked up just above");
    dst.put_entry(key, obj, at);
    ctx.modified(src_id, key);
    ctx.modified(dst_id, key);
    ctx.notify_db(event::GENERIC, "move_from", key, src_id);
    ctx.notify_db(event::GENERIC, "move_to", key, dst_id);
    ctx.out.int(1);
    Ok(())
}

fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, new_key) = (&args[1], &args[2]);
    let src_id = ctx.client.db;
    let mut dst_id = src_id;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if arg::is(&args[i], "replace") {
            replace = true;
        } else if arg::is(&args[i], "db") && i + 1 < args.len() {
            dst_id = db_index(ctx, int32(&args[i + 1], None)?)?;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if src_id == dst_id && key == new_key {
        return Err(same_object());
    }
    let access = ctx.access;
    let dbs = &mut ctx.server.dbs;
    if dbs[src_id].lookup(key, &access).is_none() || (dbs[dst_id].lookup(new_key, &access).is_some() && !replace) {
        ctx.out.int(0);
        return Ok(());
    }
    let src = &dbs[src_id];
    let value = src
        .peek(key, access.now_ms)
        .expect("looked up just above")
        .value
        .clone();
    let at = src.expire_at(key);
    dbs[dst_id].put_entry(new_key, Object::new(value, access.new_stamp()), at);
    ctx.modified(dst_id, new_key);
    ctx.notify_db(event::GENERIC, "copy_to", new_key, dst_id);
    ctx.out.int(1);
    Ok(())
}

/// `ERR source and destination objects are the same`.
fn same_object() -> CommandError {
    CommandError::err("source and destination objects are the same")
}

/// An `int` argument as Redis's `getIntFromObjectOrReply` parses it; `msg`
/// replaces both of its errors when given.
fn int32(b: &[u8], msg: Option<&'static str>) -> Result<i32, CommandError> {
    let fail = |e: CommandError| msg.map_or(e, CommandError::err);
    let n = arg::int(b).map_err(fail)?;
    i32::try_from(n).map_err(|_| {
        fail(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ))
    })
}

/// A database number, checked against the configured databases.
fn db_index(ctx: &Ctx<'_>, n: i32) -> Result<usize, CommandError> {
    usize::try_from(n)
        .ok()
        .filter(|&i| i < ctx.server.dbs.len())
        .ok_or(CommandError::DbIndex)
}

/// Two distinct databases at once.
fn two_dbs(dbs: &mut [Db], a: usize, b: usize) -> (&mut Db, &mut Db) {
    debug_assert_ne!(a, b);
    if a < b {
        let (low, high) = dbs.split_at_mut(b);
        (&mut low[a], &mut high[0])
    } else {
        let (low, high) = dbs.split_at_mut(a);
        (&mut high[0], &mut low[b])
    }
}

// ---------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY

fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let pattern = &args[1][..];
    let all = pattern == b"*";
    let (db, out, access) = ctx.parts();
    let db = &*db;
    let found: Vec<&Key> = db
        .keys()
        .iter()
        .map(|(k, _)| k)
        .filter(|k| (all || glob_match(pattern, k, false)) && !db.is_expired(k, access.now_ms))
        .collect();
    out.bulks(found.into_iter());
    Ok(())
}

fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&args[1]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let (opt, value) = match args.get(i + 1) {
            Some(v) => (&args[i], &v[..]),
            None => return Err(CommandError::Syntax),
        };
        if arg::is(opt, "count") {
            count = arg::int(value)?;
            if count < 1 {
                return Err(CommandError::Syntax);
            }
        } else if arg::is(opt, "match") {
            pattern = Some(value).filter(|p| *p != b"*");
        } else if arg::is(opt, "type") {
            type_name = Some(value);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }

    let (db, out, access) = ctx.parts();
    // Like Redis: COUNT bounds the keys visited (matching or not), and at
    // most COUNT * 10 more buckets are visited in a sparse table.
    let mut found: Vec<Key> = Vec::new();
    let mut visited: i64 = 0;
    let mut buckets_left = count.saturating_mul(10);
    loop {
        cursor = db.keys().scan(cursor, |k, _| {
            visited += 1;
            if pattern.is_none_or(|p| glob_match(p, k, false)) {
                found.push(k.clone());
            }
        });
        if cursor == 0 || buckets_left == 0 {
            break;
        }
        buckets_left -= 1;
        if visited >= count {
            break;
        }
    }
    let peek = no_touch(access);
    found.retain(|k| {
        if let Some(wanted) = type_name {
            // As Redis, the type lookup expires the key first, so an expired
            // key reads as "none".
            let name = db.lookup(k, &peek).map_or("none", |o| o.value.type_name());
            if !wanted.eq_ignore_ascii_case(name.as_bytes()) {
                return false;
            }
        }
        if db.is_expired(k, peek.now_ms) {
            // A lookup deletes the expired key (where allowed) on the way.
            db.exists(k, &peek);
            return false;
        }
        true
    });
    out.array(2);
    out.bulk_int(cursor as i64);
    out.bulks(found.iter());
    Ok(())
}

/// A SCAN cursor as Redis parses it with `strtoul`: the C string (up to the
/// first NUL) must be entirely an optionally signed decimal number that fits
/// in 64 bits (a `-` negates it modulo 2^64); leading whitespace is refused,
/// the empty string is 0.
pub(crate) fn parse_cursor(b: &[u8]) -> Option<u64> {
    let s = b.split(|&c| c == 0).next().unwrap_or_default();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s.is_empty() {
        return Some(0);
    }
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

fn randomkey(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let server = &mut *ctx.server;
    match server.dbs[ctx.client.db].random_key(&mut server.rng, &ctx.access) {
        Some(key) => ctx.out.bulk(&key),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST

fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, "expire", TTL_SECONDS)
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, "pexpire", TTL_MS)
}

fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, "expireat", AT_SECONDS)
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, "pexpireat", AT_MS)
}

/// How an expiry reads: a time to live or a Unix time, in seconds or
/// milliseconds.
#[derive(Clone, Copy)]
struct Expiry {
    /// A Unix time rather than a time to live.
    absolute: bool,
    /// Milliseconds per unit (1000: seconds, 1: milliseconds).
    unit_ms: i64,
}

/// EXPIRE, TTL.
const TTL_SECONDS: Expiry = Expiry {
    absolute: false,
    unit_ms: 1000,
};
/// PEXPIRE, PTTL.
const TTL_MS: Expiry = Expiry {
    absolute: false,
    unit_ms: 1,
};
/// EXPIREAT, EXPIRETIME.
const AT_SECONDS: Expiry = Expiry {
    absolute: true,
    unit_ms: 1000,
};
/// PEXPIREAT, PEXPIRETIME.
const AT_MS: Expiry = Expiry {
    absolute: true,
    unit_ms: 1,
};

/// The EXPIRE family: NX/XX/GT/LT conditions, overflow checks, and a time in
/// the past deleting the key.
fn expire_generic(ctx: &mut Ctx<'_>, args: &[Bytes], name: &str, how: Expiry) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &args[3..] {
        let flag = if arg::is(opt, "nx") {
            &mut nx
        } else if arg::is(opt, "xx") {
            &mut xx
        } else if arg::is(opt, "gt") {
            &mut gt
        } else if arg::is(opt, "lt") {
            &mut lt
        } else {
            // Redis prints the option as a C string.
            let shown = opt.split(|&c| c == 0).next().unwrap_or_default();
            return Err(CommandError::err(format!(
                "Unsupported option {}",
                String::from_utf8_lossy(shown)
            )));
        };
        *flag = true;
    }
    if nx && (xx || gt || lt) {
        return Err(CommandError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CommandError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || CommandError::err(format!("invalid expire time in '{name}' command"));
    let base = if how.absolute { 0 } else { ctx.access.now_ms };
    let when = arg::int(&args[2])?
        .checked_mul(how.unit_ms)
        .and_then(|ms| ms.checked_add(base))
        .ok_or_else(invalid)?;

    let key = &args[1];
    let db_id = ctx.client.db;
    let lazy_expire = ctx.server.config.lazyfree_lazy_expire;
    let (db, out, access) = ctx.parts();
    if db.lookup(key, access).is_none() {
        out.int(0);
        return Ok(());
    }
    let current = db.expire_at(key);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        out.int(0);
        return Ok(());
    }
    // A replica (which may not delete) keeps the key with its past TTL and
    // waits for its master's DEL.
    if when <= access.now_ms && access.delete_expired {
        if let Some(value) = db.remove(key) {
            release(value, lazy_expire);
        }
        ctx.modified(db_id, key);
        ctx.notify(event::GENERIC, "del", key);
        ctx.out.int(1);
        let del: &[u8] = if lazy_expire { b"UNLINK" } else { b"DEL" };
        ctx.propagate_as(argv([del, key]));
    } else {
        db.set_expire(key, when);
        // Redis replies before it fires "expire" (but after "del" above).
        ctx.out.int(1);
        ctx.modified(db_id, key);
        ctx.notify(event::GENERIC, "expire", key);
        // Propagated as an absolute time in milliseconds, options kept.
        if !(how.absolute && how.unit_ms == 1) {
            let mut rewritten = argv([b"PEXPIREAT", key, itoa::Buffer::new().format(when).as_bytes()]);
            rewritten.extend_from_slice(&args[3..]);
            ctx.propagate_as(rewritten);
        }
    }
    Ok(())
}

fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let db_id = ctx.client.db;
    let (db, out, access) = ctx.parts();
    if db.lookup(key, access).is_some() && db.persist(key) {
        ctx.modified(db_id, key);
        ctx.notify(event::GENERIC, "persist", key);
        ctx.out.int(1);
    } else {
        out.int(0);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// TTL, PTTL, EXPIRETIME, PEXPIRETIME

fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, TTL_SECONDS)
}

fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, TTL_MS)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, AT_SECONDS)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, AT_MS)
}

/// The TTL family: -2 for a missing key, -1 without a TTL; seconds are
/// rounded to the nearest.
fn ttl_generic(ctx: &mut Ctx<'_>, args: &[Bytes], how: Expiry) -> CmdResult {
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    if db.lookup(key, &no_touch(access)).is_none() {
        out.int(-2);
        return Ok(());
    }
    match db.expire_at(key) {
        None => out.int(-1),
        Some(at) => {
            let ms = if how.absolute {
                at
            } else {
                at.saturating_sub(access.now_ms)
            }
            .max(0) as u64;
            // Unsigned, as Redis's result for a TTL near i64::MAX shows.
            let n = (ms + (how.unit_ms as u64) / 2) / how.unit_ms as u64;
            out.int(n as i64);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// OBJECT

/// OBJECT HELP's lines between the header and the HELP entry.
const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

/// Redis's `OBJ_SHARED_REFCOUNT`: the refcount of shared objects.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis shares the integers 0..10000 (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;
/// The largest LRU clock value (`LRU_CLOCK_MAX`).
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// `LFU … not tracked` / `idle time not tracked` errors' common tail.
const POLICY_SWITCH_NOTE: &str =
    "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Runs `f` on the object at `key` without touching it; a missing key
/// replies null.
fn with_object(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&Object, &mut Reply<'_>, &Access) -> CmdResult,
) -> CmdResult {
    let (db, out, access) = ctx.parts();
    match db.lookup(key, &no_touch(access)) {
        Some(obj) => f(obj, out, access),
        None => {
            out.null();
            Ok(())
        }
    }
}

fn object_encoding(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    with_object(ctx, &args[2], |obj, out, _| {
        out.bulk(obj.value.encoding().as_bytes());
        Ok(())
    })
}

fn object_refcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let config = &ctx.server.config;
    // Redis stores small integers as shared objects unless an LRU/LFU
    // policy needs a per-key access stamp (`MAXMEMORY_FLAG_NO_SHARED_INTEGERS`).
    let per_key_stamp = matches!(
        config.maxmemory_policy,
        MaxmemoryPolicy::AllkeysLru
            | MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::AllkeysLfu
            | MaxmemoryPolicy::VolatileLfu
    );
    let shares_integers = config.maxmemory == 0 || !per_key_stamp;
    with_object(ctx, &args[2], |obj, out, _| {
        let shared =
            shares_integers && matches!(obj.value, Value::Str(Str::Int(n)) if (0..SHARED_INTEGERS).contains(&n));
        out.int(if shared { SHARED_REFCOUNT } else { 1 });
        Ok(())
    })
}

fn object_idletime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    with_object(ctx, &args[2], |obj, out, access| {
        if access.lfu.is_some() {
            return Err(CommandError::err(format!(
                "An LFU maxmemory policy is selected, idle time not tracked. {POLICY_SWITCH_NOTE}"
            )));
        }
        let (now, then) = (access.lru_clock, obj.access);
        let idle = if now >= then {
            now - then
        } else {
            now + (LRU_CLOCK_MAX - then)
        };
        out.int(i64::from(idle));
        Ok(())
    })
}

fn object_freq(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    with_object(ctx, &args[2], |obj, out, access| {
        let Some((_, decay)) = access.lfu else {
            return Err(CommandError::err(format!(
                "An LFU maxmemory policy is not selected, access frequency not tracked. {POLICY_SWITCH_NOTE}"
            )));
        };
        out.int(i64::from(lfu::decayed(obj.access, access.now_ms, decay)));
        Ok(())
    })
}

fn object_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let out = &mut ctx.out;
    out.array(OBJECT_HELP.len() + 3);
    out.simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    for line in OBJECT_HELP {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
    Ok(())
}

// ---------------------------------------------------------------------------
// DBSIZE, FLUSHDB, FLUSHALL, SWAPDB

fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// FLUSHDB / FLUSHALL's optional argument: whether to free in the
/// background (`ASYNC`), by default as `lazyfree-lazy-user-flush` says.
fn flush_in_background(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<bool, CommandError> {
    match args {
        [_] => Ok(ctx.server.config.lazyfree_lazy_user_flush),
        [_, mode] if arg::is(mode, "sync") => Ok(false),
        [_, mode] if arg::is(mode, "async") => Ok(true),
        _ => Err(CommandError::Syntax),
    }
}

/// Empties one database; returns how many keys it had.
fn flush(db: &mut Db, in_background: bool) -> usize {
    if in_background {
        db.clear_in_background()
    } else {
        db.clear()
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let lazy = flush_in_background(ctx, args)?;
    ctx.server.touch_watched_flush(Some(ctx.client.db));
    let n = flush(ctx.db(), lazy);
    ctx.server.dirty += n as u64;
    // Propagated even when the database was empty.
    ctx.propagate_as(args.to_vec());
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let lazy = flush_in_background(ctx, args)?;
    ctx.server.touch_watched_flush(None);
    let n: usize = ctx.server.dbs.iter_mut().map(|db| flush(db, lazy)).sum();
    // A snapshot of the data just dropped is worthless: stop it (not
    // counted as a failed save), as Redis does.
    crate::persistence::snapshot::kill_child(ctx.server);
    ctx.server.dirty += n as u64 + 1;
    ctx.propagate_as(args.to_vec());
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let a = int32(&args[1], Some("invalid first DB index"))?;
    let b = int32(&args[2], Some("invalid second DB index"))?;
    let (a, b) = (db_index(ctx, a)?, db_index(ctx, b)?);
    if a != b {
        ctx.server.touch_watched_swap(a, b);
        let (x, y) = two_dbs(&mut ctx.server.dbs, a, b);
        Db::swap(x, y);
        // Clients blocked on keys the swap brought in are served.
        ctx.server.blocking.signal_db(a);
        ctx.server.blocking.signal_db(b);
    }
    ctx.server.dirty += 1;
    ctx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parses_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"00"), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"7\0junk"), Some(7));
        assert_eq!(parse_cursor(b"\0"), Some(0));
        for bad in [&b" 0"[..], b"0 ", b"0x1", b"1.0", b"abc", b"+", b"-", b"+-1"] {
            assert_eq!(parse_cursor(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn int32_errors() {
        assert_eq!(int32(b"-2147483648", None), Ok(i32::MIN));
        assert_eq!(int32(b"x", None), Err(CommandError::NotInteger));
        assert_eq!(
            int32(b"2147483648", None).map_err(|e| e.to_string()),
            Err("ERR value is out of range, value must between -2147483648 and 2147483647".to_owned())
        );
        assert_eq!(
            int32(b"2147483648", Some("invalid first DB index")),
            Err(CommandError::err("invalid first DB index"))
        );
    }

    #[test]
    fn two_dbs_in_either_order() {
        let mut dbs: Vec<Db> = (0..3).map(|_| Db::new()).collect();
        let access = Access {
            now_ms: 0,
            lru_clock: 0,
            delete_expired: true,
            expired_visible: false,
            touch: true,
            lfu: None,
        };
        dbs[2].set(b"k", Value::Str(Str::Int(1)), false, &access);
        let (a, b) = two_dbs(&mut dbs, 2, 0);
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 0);
        let (a, b) = two_dbs(&mut dbs, 0, 2);
        assert_eq!((a.len(), b.len()), (0, 1));
    }
}
