//! String commands: GET, SET and friends, counters, ranges, LCS, and (in
//! [`bitmap`]) the bit commands.
//!
//! Values keep Redis's encodings because `OBJECT ENCODING` shows them:
//! whole values written by SET, MSET, GETSET, SETNX/SETEX and APPEND on a
//! missing key are integer-encoded when canonical (`Str::from_bytes`),
//! counters store integers, INCRBYFLOAT stores its text as set (`embstr`
//! or `raw`, never `int`), and APPEND, SETRANGE and the bit commands turn a
//! value into the growable `raw` buffer. Every command reaches strings through
//! [`read`] (reads, counting keyspace hits and misses) or [`lookup`]
//! (writes), which share the one type check. Writes send Redis's keyspace
//! events at the same points as Redis (`new` when a key is created, then the
//! command's event).

mod bitmap;
pub mod longdouble;

use bytes::Bytes;

use self::longdouble::{LongDouble, Parsed};
use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, arg, event};
use crate::keyspace::{Access, Db, Str, Value};
use crate::propagate::argv;
use crate::reply::Reply;

/// The string and bitmap groups' commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "get",
        2,
        READONLY | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Get the value of a key",
        get,
    ),
    Command::new(
        "set",
        -3,
        WRITE | DENYOOM,
        KEY1,
        Group::String,
        "1.0.0",
        "Set the string value of a key",
        set,
    ),
    Command::new(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
        setnx,
    ),
    Command::new(
        "setex",
        4,
        WRITE | DENYOOM,
        KEY1,
        Group::String,
        "2.0.0",
        "Set the value and expiration of a key",
        setex,
    ),
    Command::new(
        "psetex",
        4,
        WRITE | DENYOOM,
        KEY1,
        Group::String,
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
        psetex,
    ),
    Command::new(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Set the string value of a key and return its old value",
        getset,
    ),
    Command::new(
        "getdel",
        2,
        WRITE | FAST,
        KEY1,
        Group::String,
        "6.2.0",
        "Get the value of a key and delete the key",
        getdel,
    ),
    Command::new(
        "getex",
        -2,
        WRITE | FAST,
        KEY1,
        Group::String,
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
        getex,
    ),
    Command::new(
        "mget",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        Group::String,
        "1.0.0",
        "Get the values of all the given keys",
        mget,
    ),
    Command::new(
        "mset",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        Group::String,
        "1.0.1",
        "Set multiple keys to multiple values",
        mset,
    ),
    Command::new(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        Group::String,
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
        msetnx,
    ),
    Command::new(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Increment the integer value of a key by one",
        incr,
    ),
    Command::new(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Decrement the integer value of a key by one",
        decr,
    ),
    Command::new(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Increment the integer value of a key by the given amount",
        incrby,
    ),
    Command::new(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "1.0.0",
        "Decrement the integer value of a key by the given number",
        decrby,
    ),
    Command::new(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "2.6.0",
        "Increment the float value of a key by the given amount",
        incrbyfloat,
    ),
    Command::new(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::String,
        "2.0.0",
        "Append a value to a key",
        append,
    ),
    Command::new(
        "strlen",
        2,
        READONLY | FAST,
        KEY1,
        Group::String,
        "2.2.0",
        "Get the length of the value stored in a key",
        strlen,
    ),
    Command::new(
        "getrange",
        4,
        READONLY,
        KEY1,
        Group::String,
        "2.4.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    Command::new(
        "substr",
        4,
        READONLY,
        KEY1,
        Group::String,
        "1.0.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    Command::new(
        "setrange",
        4,
        WRITE | DENYOOM,
        KEY1,
        Group::String,
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        setrange,
    ),
    Command::new(
        "lcs",
        -3,
        READONLY,
        (1, 2, 1),
        Group::String,
        "7.0.0",
        "Find longest common substring",
        lcs,
    ),
    Command::new(
        "setbit",
        4,
        WRITE | DENYOOM,
        KEY1,
        Group::Bitmap,
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        bitmap::setbit,
    ),
    Command::new(
        "getbit",
        3,
        READONLY | FAST,
        KEY1,
        Group::Bitmap,
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        bitmap::getbit,
    ),
    Command::new(
        "bitcount",
        -2,
        READONLY,
        KEY1,
        Group::Bitmap,
        "2.6.0",
        "Count set bits in a string",
        bitmap::bitcount,
    ),
    Command::new(
        "bitpos",
        -3,
        READONLY,
        KEY1,
        Group::Bitmap,
        "2.8.7",
        "Find first bit set or clear in a string",
        bitmap::bitpos,
    ),
    Command::new(
        "bitop",
        -4,
        WRITE | DENYOOM,
        (2, -1, 1),
        Group::Bitmap,
        "2.6.0",
        "Perform bitwise operations between strings",
        bitmap::bitop,
    ),
    Command::new(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        KEY1,
        Group::Bitmap,
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        bitmap::bitfield,
    ),
    Command::new(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        KEY1,
        Group::Bitmap,
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        bitmap::bitfield_ro,
    ),
];

/// The string in `value`, or WRONGTYPE: the type check of every command
/// of this module.
fn as_str(value: &mut Value) -> Result<&mut Str, CommandError> {
    match value {
        Value::Str(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

/// The string at `key` for a write (Redis's `lookupKeyWrite`): `None` when
/// the key is missing (or expired), WRONGTYPE when it holds another type.
pub fn lookup<'d>(db: &'d mut Db, key: &[u8], access: &Access) -> Result<Option<&'d mut Str>, CommandError> {
    db.lookup(key, access).map(|obj| as_str(&mut obj.value)).transpose()
}

/// The string at `key` for a read (Redis's `lookupKeyRead`, which counts a
/// keyspace hit or miss), with the reply writer.
pub fn read<'c, 'a>(ctx: &'c mut Ctx<'a>, key: &[u8]) -> Result<(Option<&'c Str>, &'c mut Reply<'a>), CommandError> {
    let (found, out) = ctx.read(key);
    let s = found.map(|obj| as_str(&mut obj.value)).transpose()?;
    Ok((s.map(|s| &*s), out))
}

/// Calls `f` with the bytes of `s`, formatting an integer on the stack.
pub fn with_bytes<R>(s: &Str, f: impl FnOnce(&[u8]) -> R) -> R {
    match s {
        Str::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
        Str::Bytes(b) => f(b),
        Str::Raw(v) => f(v),
    }
}

/// Replies with `s` as a bulk string.
pub fn reply_str(out: &mut Reply<'_>, s: &Str) {
    match s {
        Str::Int(n) => out.bulk_int(*n),
        Str::Bytes(b) => out.bulk(b),
        Str::Raw(v) => out.bulk(v),
    }
}

/// An option keyword, compared as Redis's `strcasecmp` on the C string does
/// (the argument ends at its first NUL byte).
fn keyword(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

/// Refuses a string that would grow past `max` (`proto-max-bulk-len`).
fn check_length(max: u64, size: u64, append: u64) -> CmdResult {
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CommandError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

/// Records a write that stored a string at `key`: counts the change and
/// sends Redis's keyspace events, `new` when the key was created, then
/// `event` (class `$`).
fn stored(ctx: &mut Ctx<'_>, key: &[u8], created: bool, event: &str) {
    let db = ctx.client.db;
    ctx.modified(db, key);
    if created {
        ctx.notify(event::NEW, "new", key);
    }
    ctx.notify(event::STRING, event, key);
}

fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match read(ctx, &args[1])? {
        (Some(s), out) => reply_str(out, s),
        (None, out) => out.null(),
    }
    Ok(())
}

/// Replies with the string at `key` (null when missing) as GET does, and
/// tells whether it existed; WRONGTYPE replies nothing.
fn reply_old(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CommandError> {
    Ok(match read(ctx, key)? {
        (Some(s), out) => {
            reply_str(out, s);
            true
        }
        (None, out) => {
            out.null();
            false
        }
    })
}

/// The options of SET and GETEX, as bits in the order of Redis's `OBJ_*`
/// flags, for the conflict rules of `parseExtendedStringArgumentsOrReply`.
mod ext {
    /// `NX`: only set a missing key.
    pub const NX: u16 = 1;
    /// `XX`: only set an existing key.
    pub const XX: u16 = 1 << 1;
    /// `EX seconds`.
    pub const EX: u16 = 1 << 2;
    /// `PX milliseconds`.
    pub const PX: u16 = 1 << 3;
    /// `KEEPTTL`: keep the key's TTL.
    pub const KEEPTTL: u16 = 1 << 4;
    /// `GET`: reply with the old value.
    pub const GET: u16 = 1 << 5;
    /// `EXAT unix-seconds`.
    pub const EXAT: u16 = 1 << 6;
    /// `PXAT unix-milliseconds`.
    pub const PXAT: u16 = 1 << 7;
    /// `PERSIST` (GETEX): remove the TTL.
    pub const PERSIST: u16 = 1 << 8;
    /// Any expiry option.
    pub const EXPIRE: u16 = EX | PX | EXAT | PXAT;
}

/// Parsed SET/GETEX options: the flags and the expiry argument.
struct Ext<'a> {
    flags: u16,
    expire: Option<&'a [u8]>,
}

impl<'a> Ext<'a> {
    /// Parses the options after the key (GETEX) or the value (SET); each
    /// option is refused once a conflicting one was seen.
    fn parse(args: &'a [Bytes], set: bool) -> Result<Ext<'a>, CommandError> {
        use ext::*;
        let mut ext = Ext { flags: 0, expire: None };
        let mut j = 0;
        while j < args.len() {
            let opt = &args[j];
            let next = args.get(j + 1);
            let f = ext.flags;
            let (flag, conflicts, needs_value) = if keyword(opt, "nx") && set {
                (NX, XX, false)
            } else if keyword(opt, "xx") && set {
                (XX, NX, false)
            } else if keyword(opt, "get") && set {
                (GET, 0, false)
            } else if keyword(opt, "keepttl") && set {
                (KEEPTTL, PERSIST | EXPIRE, false)
            } else if keyword(opt, "persist") && !set {
                (PERSIST, EXPIRE | KEEPTTL, false)
            } else if keyword(opt, "ex") {
                (EX, KEEPTTL | PERSIST | EXAT | PX | PXAT, true)
            } else if keyword(opt, "px") {
                (PX, KEEPTTL | PERSIST | EX | EXAT | PXAT, true)
            } else if keyword(opt, "exat") {
                (EXAT, KEEPTTL | PERSIST | EX | PX | PXAT, true)
            } else if keyword(opt, "pxat") {
                (PXAT, KEEPTTL | PERSIST | EX | EXAT | PX, true)
            } else {
                return Err(CommandError::Syntax);
            };
            if f & conflicts != 0 || (needs_value && next.is_none()) {
                return Err(CommandError::Syntax);
            }
            ext.flags |= flag;
            if needs_value {
                ext.expire = next.map(|b| &b[..]);
                j += 1;
            }
            j += 1;
        }
        Ok(ext)
    }

    /// The absolute expiry (Unix ms) of the expiry argument, checked as
    /// Redis's `getExpireMillisecondsOrReply`; `cmd` names the command in
    /// the error.
    fn expire_at(&self, now_ms: i64, cmd: &str) -> Result<Option<i64>, CommandError> {
        let Some(arg) = self.expire else { return Ok(None) };
        let invalid = || CommandError::err(format!("invalid expire time in '{cmd}' command"));
        let mut ms = arg::int(arg)?;
        let seconds = self.flags & (ext::EX | ext::EXAT) != 0;
        if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
            return Err(invalid());
        }
        if seconds {
            ms *= 1000;
        }
        if self.flags & (ext::EX | ext::PX) != 0 {
            ms = ms.wrapping_add(now_ms);
        }
        if ms <= 0 {
            return Err(invalid());
        }
        Ok(Some(ms))
    }
}

/// How a SET-like command answers: SET's `+OK` or null, SETNX's 1 or 0.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Ok,
    Int,
}

/// SET and its variants (`setGenericCommand`): `cmd` names the command in
/// errors.
fn set_generic(ctx: &mut Ctx<'_>, key: &[u8], value: &[u8], ext: &Ext<'_>, cmd: &str, answer: Answer) -> CmdResult {
    use ext::*;
    let at = ext.expire_at(ctx.access.now_ms, cmd)?;
    let flags = ext.flags;
    let get = flags & GET != 0;
    let old = if get { Some(reply_old(ctx, key)?) } else { None };
    let (db, out, access) = ctx.parts();
    let found = old.unwrap_or_else(|| db.exists(key, access));
    if (flags & NX != 0 && found) || (flags & XX != 0 && !found) {
        if !get {
            match answer {
                Answer::Ok => out.null(),
                Answer::Int => out.int(0),
            }
        }
        return Ok(());
    }
    db.set(
        key,
        Value::Str(Str::from_bytes(value)),
        flags & KEEPTTL != 0 || at.is_some(),
        access,
    );
    if let Some(at) = at {
        db.set_expire(key, at);
    }
    // Redis sends the events before the reply (a RESP3 client subscribed
    // to them sees that order).
    stored(ctx, key, !found, "set");
    if let Some(at) = at {
        ctx.notify(event::GENERIC, "expire", key);
        // A relative or second expiry propagates as an absolute one.
        if flags & PXAT == 0 {
            let at = itoa::Buffer::new().format(at).as_bytes().to_vec();
            ctx.propagate_as(argv([b"SET", key, value, b"PXAT", &at]));
        }
    }
    if !get {
        match answer {
            Answer::Ok => ctx.out.ok(),
            Answer::Int => ctx.out.int(1),
        }
    }
    Ok(())
}

fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let ext = Ext::parse(&args[3..], true)?;
    set_generic(ctx, &args[1], &args[2], &ext, "set", Answer::Ok)
}

fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let ext = Ext {
        flags: ext::NX,
        expire: None,
    };
    set_generic(ctx, &args[1], &args[2], &ext, "setnx", Answer::Int)
}

fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let ext = Ext {
        flags: ext::EX,
        expire: Some(&args[2]),
    };
    set_generic(ctx, &args[1], &args[3], &ext, "setex", Answer::Ok)
}

fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let ext = Ext {
        flags: ext::PX,
        expire: Some(&args[2]),
    };
    set_generic(ctx, &args[1], &args[3], &ext, "psetex", Answer::Ok)
}

fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let found = reply_old(ctx, key)?;
    let access = ctx.access;
    ctx.db().set(key, Value::Str(Str::from_bytes(&args[2])), false, &access);
    stored(ctx, key, !found, "set");
    Ok(())
}

fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    if reply_old(ctx, key)? {
        ctx.db().remove(key);
        let db = ctx.client.db;
        ctx.modified(db, key);
        ctx.notify(event::GENERIC, "del", key);
        ctx.propagate_as(argv([b"DEL", key]));
    }
    Ok(())
}

fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let ext = Ext::parse(&args[2..], false)?;
    let key = &args[1];
    let access = ctx.access;
    let (value, out) = read(ctx, key)?;
    let Some(value) = value else {
        out.null();
        return Ok(());
    };
    let at = ext.expire_at(access.now_ms, "getex")?;
    reply_str(out, value);
    let absolute = ext.flags & (ext::EXAT | ext::PXAT) != 0;
    let lazy = ctx.server.config.lazyfree_lazy_expire;
    let db = ctx.db();
    let (event, propagated) = match at {
        // An absolute time already past deletes the key (not on a replica,
        // which waits for its master's DEL).
        Some(at) if absolute && at <= access.now_ms && access.delete_expired => {
            db.remove(key);
            let del: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
            ("del", argv([del, key]))
        }
        Some(at) => {
            db.set_expire(key, at);
            let at = itoa::Buffer::new().format(at).as_bytes().to_vec();
            ("expire", argv([b"PEXPIREAT", key, &at]))
        }
        None if ext.flags & ext::PERSIST != 0 && db.persist(key) => ("persist", argv([b"PERSIST", key])),
        None => return Ok(()),
    };
    let db_index = ctx.client.db;
    ctx.modified(db_index, key);
    ctx.notify(event::GENERIC, event, key);
    ctx.propagate_as(propagated);
    Ok(())
}

fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.out.array(args.len() - 1);
    for key in &args[1..] {
        match read(ctx, key) {
            Ok((Some(s), out)) => reply_str(out, s),
            // Missing keys and other types alike read as null.
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// MSET and MSETNX: with `nx`, nothing is set when any key exists.
fn mset_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::Arity(if nx { "msetnx" } else { "mset" }.into()));
    }
    let access = ctx.access;
    let pairs = args[1..].chunks_exact(2);
    if nx && pairs.clone().any(|kv| ctx.db().exists(&kv[0], &access)) {
        ctx.out.int(0);
        return Ok(());
    }
    for kv in pairs {
        let db = ctx.db();
        let found = db.exists(&kv[0], &access);
        db.set(&kv[0], Value::Str(Str::from_bytes(&kv[1])), false, &access);
        stored(ctx, &kv[0], !found, "set");
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    mset_generic(ctx, args, true)
}

/// The integer a string holds, as `getLongLongFromObject` reads it.
fn str_int(s: &Str) -> Result<i64, CommandError> {
    match s {
        Str::Int(n) => Ok(*n),
        _ => with_bytes(s, arg::int),
    }
}

/// INCR, DECR, INCRBY and DECRBY: adds `delta`, keeping the key's TTL.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> CmdResult {
    let (db, _, access) = ctx.parts();
    let (n, created) = match lookup(db, key, access)? {
        Some(s) => {
            let n = str_int(s)?
                .checked_add(delta)
                .ok_or_else(|| CommandError::err("increment or decrement would overflow"))?;
            *s = Str::Int(n);
            (n, false)
        }
        None => {
            db.insert_new(key, Value::Str(Str::Int(delta)), access);
            (delta, true)
        }
    };
    stored(ctx, key, created, "incrby");
    ctx.out.int(n);
    Ok(())
}

fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    incr_by(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    incr_by(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let delta = arg::int(&args[2])?;
    incr_by(ctx, &args[1], delta)
}

fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let delta = arg::int(&args[2])?;
    let delta = delta
        .checked_neg()
        .ok_or_else(|| CommandError::err("decrement would overflow"))?;
    incr_by(ctx, &args[1], delta)
}

/// INCRBYFLOAT, in the `long double` arithmetic of [`longdouble`]. The
/// result is stored as text (never integer-encoded), keeping the TTL.
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (db, _, access) = ctx.parts();
    let slot = lookup(db, key, access)?;
    let current = match slot.as_deref() {
        None => Parsed::Finite(LongDouble::ZERO),
        Some(Str::Int(n)) => Parsed::Finite(LongDouble::from_i64(*n)),
        Some(s) => with_bytes(s, LongDouble::parse).ok_or(CommandError::NotFloat)?,
    };
    let incr = LongDouble::parse(&args[2]).ok_or(CommandError::NotFloat)?;
    let sum = match (current, incr) {
        (Parsed::Finite(a), Parsed::Finite(b)) => a.add(b),
        _ => None,
    }
    .ok_or_else(|| CommandError::err("increment would produce NaN or Infinity"))?;
    let text: Box<[u8]> = sum.to_human().into();
    let value = Str::Bytes(text.clone());
    let created = match slot {
        Some(s) => {
            *s = value;
            false
        }
        None => {
            db.insert_new(key, Value::Str(value), access);
            true
        }
    };
    stored(ctx, key, created, "incrbyfloat");
    // Float formatting may differ between hosts: the result propagates.
    ctx.propagate_as(argv([b"SET", key, &text, b"KEEPTTL"]));
    ctx.out.bulk(&text);
    Ok(())
}

fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, tail) = (&args[1], &args[2]);
    let max = ctx.server.config.proto_max_bulk_len;
    let (db, _, access) = ctx.parts();
    let (len, created) = match lookup(db, key, access)? {
        Some(s) => {
            check_length(max, s.len() as u64, tail.len() as u64)?;
            let buf = s.make_raw();
            buf.extend_from_slice(tail);
            (buf.len(), false)
        }
        None => {
            db.insert_new(key, Value::Str(Str::from_bytes(tail)), access);
            (tail.len(), true)
        }
    };
    stored(ctx, key, created, "append");
    ctx.out.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (s, out) = read(ctx, &args[1])?;
    out.int(s.map_or(0, Str::len) as i64);
    Ok(())
}

/// The inclusive byte range `start..=end` of a string of `len` bytes, with
/// negative indexes counting from the end (GETRANGE's rules); `None` when
/// it is empty.
fn byte_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { (len + end).max(0) } else { end.min(len - 1) };
    (start <= end && len > 0).then_some((start as usize, end as usize))
}

/// GETRANGE and its old name SUBSTR.
fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = arg::int(&args[2])?;
    let end = arg::int(&args[3])?;
    match read(ctx, &args[1])? {
        (Some(s), out) => with_bytes(s, |b| match byte_range(start, end, b.len()) {
            Some((start, end)) => out.bulk(&b[start..=end]),
            None => out.bulk(b""),
        }),
        (None, out) => out.bulk(b""),
    }
    Ok(())
}

fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (key, value) = (&args[1], &args[3]);
    let offset = arg::int(&args[2])?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let offset = offset as u64;
    let max = ctx.server.config.proto_max_bulk_len;
    let (db, out, access) = ctx.parts();
    let (len, created) = match lookup(db, key, access)? {
        // Writing nothing changes nothing (and creates no key).
        Some(s) if value.is_empty() => {
            out.int(s.len() as i64);
            return Ok(());
        }
        None if value.is_empty() => {
            out.int(0);
            return Ok(());
        }
        Some(s) => {
            check_length(max, offset, value.len() as u64)?;
            let buf = s.make_raw();
            write_at(buf, offset as usize, value);
            (buf.len(), false)
        }
        None => {
            check_length(max, offset, value.len() as u64)?;
            let mut buf = Vec::new();
            write_at(&mut buf, offset as usize, value);
            let len = buf.len();
            db.insert_new(key, Value::Str(Str::Raw(Box::new(buf))), access);
            (len, true)
        }
    };
    stored(ctx, key, created, "setrange");
    ctx.out.int(len as i64);
    Ok(())
}

/// Copies `value` into `buf` at `offset`, zero-filling any gap.
fn write_at(buf: &mut Vec<u8>, offset: usize, value: &[u8]) {
    let end = offset + value.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(value);
}

/// LCS options.
#[derive(Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: i64,
}

/// One IDX match: ranges in both strings (inclusive) and the length.
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let max = ctx.server.config.proto_max_bulk_len;
    // Both keys are looked up before either is checked, as Redis does.
    let a = read(ctx, &args[1]).map(|(s, _)| s.map(|s| s.to_bytes().into_owned()));
    let b = read(ctx, &args[2]).map(|(s, _)| s.map(|s| s.to_bytes().into_owned()));
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(CommandError::err("The specified keys must contain string values"));
    };
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let mut opts = LcsOptions::default();
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        if keyword(opt, "idx") {
            opts.idx = true;
        } else if keyword(opt, "len") {
            opts.len = true;
        } else if keyword(opt, "withmatchlen") {
            opts.with_match_len = true;
        } else if keyword(opt, "minmatchlen") && j + 1 < args.len() {
            opts.min_match_len = arg::int(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    if opts.len && opts.idx {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CommandError::err("String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.checked_mul(4).is_none_or(|bytes| bytes > max) {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CommandError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    lcs_reply(&mut ctx.out, &a, &b, table, &opts);
    Ok(())
}

/// Fills the LCS table (`table[j + i·(|b|+1)]` is the LCS length of
/// `a[..i]` and `b[..j]`), then walks it back as Redis does, collecting the
/// string and the matching ranges, and writes the reply.
fn lcs_reply(out: &mut Reply<'_>, a: &[u8], b: &[u8], mut table: Vec<u32>, opts: &LcsOptions) {
    let width = b.len() + 1;
    table.resize(width, 0);
    for i in 1..=a.len() {
        table.push(0);
        for j in 1..=b.len() {
            let v = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
            table.push(v);
        }
    }
    let at = |i: usize, j: usize| table[i * width + j];
    let total = at(a.len(), b.len());
    if opts.len {
        out.int(i64::from(total));
        return;
    }
    let mut result = vec![0u8; total as usize];
    let mut matches = Vec::new();
    let mut idx = total as usize;
    // `a_start == a.len()` means no range is open.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (a.len(), 0, 0, 0);
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == a.len() {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != a.len() {
                emit = true;
            }
        }
        if emit {
            let len = a_end - a_start + 1;
            if opts.min_match_len == 0 || len as i64 >= opts.min_match_len {
                matches.push(LcsMatch {
                    a: (a_start as u32, a_end as u32),
                    b: (b_start as u32, b_end as u32),
                    len: len as u32,
                });
            }
            a_start = a.len();
        }
    }
    if !opts.idx {
        out.bulk(&result);
        return;
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(matches.len());
    for m in &matches {
        out.array(2 + usize::from(opts.with_match_len));
        for (start, end) in [m.a, m.b] {
            out.array(2);
            out.int(i64::from(start));
            out.int(i64::from(end));
        }
        if opts.with_match_len {
            out.int(i64::from(m.len));
        }
    }
    out.bulk(b"len");
    out.int(i64::from(total));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_getrange() {
        assert_eq!(byte_range(0, -1, 5), Some((0, 4)));
        assert_eq!(byte_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(byte_range(0, 100, 5), Some((0, 4)));
        assert_eq!(byte_range(-100, 0, 5), Some((0, 0)));
        assert_eq!(byte_range(0, -100, 5), Some((0, 0)));
        assert_eq!(byte_range(-10, -20, 5), None);
        assert_eq!(byte_range(3, 1, 5), None);
        assert_eq!(byte_range(5, 10, 5), None);
        assert_eq!(byte_range(0, -1, 0), None);
        assert_eq!(byte_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }

    #[test]
    fn keywords_stop_at_nul() {
        assert!(keyword(b"NX", "nx"));
        assert!(keyword(b"nx\0junk", "nx"));
        assert!(!keyword(b"nxx", "nx"));
    }

    #[test]
    fn set_options_conflict_as_redis() {
        let args = |s: &str| {
            s.split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect::<Vec<_>>()
        };
        for ok in [
            "NX GET",
            "XX EX 10",
            "EX 1 EX 2",
            "KEEPTTL XX",
            "PXAT 5 GET NX",
            "GET GET",
        ] {
            assert!(Ext::parse(&args(ok), true).is_ok(), "{ok}");
        }
        for bad in [
            "NX XX",
            "EX 1 PX 2",
            "KEEPTTL EX 1",
            "EX",
            "PERSIST",
            "EX 1 KEEPTTL",
            "FOO",
        ] {
            assert!(Ext::parse(&args(bad), true).is_err(), "{bad}");
        }
        assert!(Ext::parse(&args("PERSIST"), false).is_ok());
        assert!(Ext::parse(&args("NX"), false).is_err());
        assert!(Ext::parse(&args("PERSIST EX 1"), false).is_err());
    }
}
