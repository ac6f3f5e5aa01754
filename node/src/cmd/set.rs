//! Set commands, including the multi-key algebra (SINTER, SUNION, SDIFF and
//! their STORE forms), with Redis 7.0's replies, errors, keyspace events
//! and result encodings (a computed set starts as an intset and converts as
//! SADD would, so all-integer results are intsets and reply in order).

use bytes::Bytes;
use rand::seq::SliceRandom;

use super::flag::{DENYOOM, FAST, READONLY, WRITE};
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, arg, event};
use crate::glob::glob_match;
use crate::keyspace::set::{Member, Set, intset_limit};
use crate::keyspace::{Access, Db, Object, Value};
use crate::propagate::argv;
use crate::reply::Reply;

/// Every argument from the first is a key.
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
/// SMOVE's source and destination.
const TWO_KEYS: (i32, i32, i32) = (1, 2, 1);
/// SINTERCARD: keys follow `numkeys` (described by its key spec).
const NUMKEYS: (i32, i32, i32) = (0, 0, 0);

/// The set group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "sadd",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        Group::Set,
        "1.0.0",
        "Add one or more members to a set",
        sadd,
    ),
    Command::new(
        "scard",
        2,
        READONLY | FAST,
        KEY1,
        Group::Set,
        "1.0.0",
        "Get the number of members in a set",
        scard,
    ),
    Command::new(
        "sdiff",
        -2,
        READONLY,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Subtract multiple sets",
        sdiff,
    ),
    Command::new(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        sdiffstore,
    ),
    Command::new(
        "sinter",
        -2,
        READONLY,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Intersect multiple sets",
        sinter,
    ),
    Command::new(
        "sintercard",
        -3,
        READONLY,
        NUMKEYS,
        Group::Set,
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        sintercard,
    ),
    Command::new(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        sinterstore,
    ),
    Command::new(
        "sismember",
        3,
        READONLY | FAST,
        KEY1,
        Group::Set,
        "1.0.0",
        "Determine if a given value is a member of a set",
        sismember,
    ),
    Command::new(
        "smembers",
        2,
        READONLY,
        KEY1,
        Group::Set,
        "1.0.0",
        "Get all the members in a set",
        sinter,
    ),
    Command::new(
        "smismember",
        -3,
        READONLY | FAST,
        KEY1,
        Group::Set,
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
        smismember,
    ),
    Command::new(
        "smove",
        4,
        WRITE | FAST,
        TWO_KEYS,
        Group::Set,
        "1.0.0",
        "Move a member from one set to another",
        smove,
    ),
    Command::new(
        "spop",
        -2,
        WRITE | FAST,
        KEY1,
        Group::Set,
        "1.0.0",
        "Remove and return one or multiple random members from a set",
        spop,
    ),
    Command::new(
        "srandmember",
        -2,
        READONLY,
        KEY1,
        Group::Set,
        "1.0.0",
        "Get one or multiple random members from a set",
        srandmember,
    ),
    Command::new(
        "srem",
        -3,
        WRITE | FAST,
        KEY1,
        Group::Set,
        "1.0.0",
        "Remove one or more members from a set",
        srem,
    ),
    Command::new(
        "sscan",
        -3,
        READONLY,
        KEY1,
        Group::Set,
        "2.8.0",
        "Incrementally iterate Set elements",
        sscan,
    ),
    Command::new(
        "sunion",
        -2,
        READONLY,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Add multiple sets",
        sunion,
    ),
    Command::new(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        Group::Set,
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        sunionstore,
    ),
];

// ---------------------------------------------------------------------------
// Shared helpers

/// The intset limit from the live `set-max-intset-entries`.
fn max_intset(ctx: &Ctx<'_>) -> usize {
    intset_limit(ctx.server.config.set_max_intset_entries)
}

/// The set a key holds, or WRONGTYPE.
fn set_mut(obj: &mut Object) -> Result<&mut Set, CommandError> {
    match &mut obj.value {
        Value::Set(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

/// The set a value is, or WRONGTYPE.
fn set_ref(value: &Value) -> Result<&Set, CommandError> {
    match value {
        Value::Set(s) => Ok(s),
        _ => Err(CommandError::WrongType),
    }
}

/// The command's access policy without the LRU/LFU touch, for looking a
/// key up again after a first lookup already touched it.
fn untouched(ctx: &Ctx<'_>) -> Access {
    Access {
        touch: false,
        ..ctx.access
    }
}

/// One member as a bulk string.
fn reply_member(out: &mut Reply<'_>, m: Member<'_>) {
    match m {
        Member::Int(n) => out.bulk_int(n),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// The whole set as a set reply, in its own order.
fn reply_set(out: &mut Reply<'_>, set: &Set) {
    out.set(set.len());
    set.iter().for_each(|m| reply_member(out, m));
}

/// Looks every key up for reading, as Redis's `lookupKeyRead` (expiring,
/// touching and counting hits and misses), and checks that each existing
/// key is a set. Afterwards the sets can be borrowed all at once with
/// [`peek_sets`].
fn check_sets(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> CmdResult {
    for key in keys {
        if let (Some(obj), _) = ctx.read(key) {
            set_ref(&obj.value)?;
        }
    }
    Ok(())
}

/// The sets of `keys` (`None` for a missing key) in `db`, after
/// [`check_sets`] looked them up at `now_ms`.
fn peek_sets<'a>(db: &'a Db, now: i64, keys: &[Bytes]) -> Vec<Option<&'a Set>> {
    keys.iter()
        .map(|k| db.peek(k, now).and_then(|o| set_ref(&o.value).ok()))
        .collect()
}

/// Stores a computed set at `dest` as the STORE commands do: a non-empty
/// result replaces the key (and its TTL), an empty one deletes it. Replies
/// with the result's size.
fn store(ctx: &mut Ctx<'_>, dest: &[u8], result: Set, event_name: &str) {
    let db_index = ctx.client.db;
    let (db, out, access) = ctx.parts();
    let len = result.len();
    if len == 0 {
        out.int(0);
        if db.delete(dest, access).is_some() {
            ctx.modified(db_index, dest);
            ctx.notify(event::GENERIC, "del", dest);
        }
        return;
    }
    let existed = db.lookup(dest, access).is_some();
    db.set(dest, Value::Set(Box::new(result)), false, access);
    ctx.modified(db_index, dest);
    if !existed {
        ctx.notify(event::NEW, "new", dest);
    }
    ctx.out.int(len as i64);
    ctx.notify(event::SET, event_name, dest);
}

// ---------------------------------------------------------------------------
// SADD, SREM, SMOVE

fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let max = max_intset(ctx);
    let key = &args[1];
    let (db, _, access) = ctx.parts();
    let (obj, created) = db.lookup_or_insert_with(key, access, || Value::Set(Box::new(Set::new_for(&args[2]))));
    let set = set_mut(obj)?;
    let added = args[2..].iter().filter(|m| set.add(m, max)).count();
    if created {
        ctx.notify(event::NEW, "new", key);
    }
    if added > 0 {
        ctx.modified(ctx.client.db, key);
        ctx.notify(event::SET, "sadd", key);
    }
    ctx.out.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(obj) = db.lookup(key, access) else {
        out.int(0);
        return Ok(());
    };
    let set = set_mut(obj)?;
    let mut removed = 0;
    for m in &args[2..] {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if emptied {
        db.remove(key);
    }
    if removed > 0 {
        ctx.modified(ctx.client.db, key);
        ctx.notify(event::SET, "srem", key);
        if emptied {
            ctx.notify(event::GENERIC, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let max = max_intset(ctx);
    let db_index = ctx.client.db;
    let quiet = untouched(ctx);
    let (db, out, access) = ctx.parts();
    // Both keys are looked up (and expired) before anything is decided.
    let src_type = db.lookup(src, access).map(|o| matches!(o.value, Value::Set(_)));
    let dst_type = db.lookup(dst, access).map(|o| matches!(o.value, Value::Set(_)));
    match (src_type, dst_type) {
        (None, _) => {
            out.int(0);
            return Ok(());
        }
        (Some(false), _) | (_, Some(false)) => return Err(CommandError::WrongType),
        _ => {}
    }
    let src_set = db
        .lookup(src, &quiet)
        .map(set_mut)
        .transpose()?
        .expect("looked up above");
    if src == dst {
        let found = src_set.contains(member);
        out.int(i64::from(found));
        return Ok(());
    }
    if !src_set.remove(member) {
        out.int(0);
        return Ok(());
    }
    let src_emptied = src_set.is_empty();
    if src_emptied {
        db.remove(src);
    }
    let (dst_obj, created) = db.lookup_or_insert_with(dst, &quiet, || Value::Set(Box::new(Set::new_for(member))));
    let added = set_mut(dst_obj)?.add(member, max);
    ctx.notify(event::SET, "srem", src);
    if src_emptied {
        ctx.notify(event::GENERIC, "del", src);
    }
    if created {
        ctx.notify(event::NEW, "new", dst);
    }
    ctx.modified(db_index, src);
    if added {
        ctx.modified(db_index, dst);
        ctx.notify(event::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------
// SISMEMBER, SMISMEMBER, SCARD

fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (found, out) = ctx.read(&args[1]);
    let is_member = match found {
        Some(obj) => set_ref(&obj.value)?.contains(&args[2]),
        None => false,
    };
    out.int(i64::from(is_member));
    Ok(())
}

fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (found, out) = ctx.read(&args[1]);
    let set = found.map(|o| set_ref(&o.value)).transpose()?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(i64::from(set.is_some_and(|s| s.contains(m))));
    }
    Ok(())
}

fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (found, out) = ctx.read(&args[1]);
    let len = match found {
        Some(obj) => set_ref(&obj.value)?.len(),
        None => 0,
    };
    out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// SPOP, SRANDMEMBER

/// SPOP with a count pops members one by one while it asks for less than
/// this many times what will remain; otherwise it moves the members that
/// remain to a new set (Redis's `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => spop_one(ctx, &args[1]),
        3 => {
            // Redis's `getPositiveLongFromObjectOrReply`: one message for
            // both a non-integer and a negative count.
            let count = arg::parse_i64(&args[2])
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| CommandError::err("value is out of range, must be positive"))?;
            spop_count(ctx, &args[1], count)
        }
        _ => Err(CommandError::Syntax),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, key: &Bytes) -> CmdResult {
    let server = &mut *ctx.server;
    let db = &mut server.dbs[ctx.client.db];
    let Some(obj) = db.lookup(key, &ctx.access) else {
        ctx.out.null();
        return Ok(());
    };
    let set = set_mut(obj)?;
    let popped = set.pop_random(&mut server.rng).expect("stored sets are never empty");
    let emptied = set.is_empty();
    if emptied {
        db.remove(key);
    }
    ctx.notify(event::SET, "spop", key);
    ctx.out.bulk(&popped);
    if emptied {
        ctx.notify(event::GENERIC, "del", key);
    }
    ctx.modified(ctx.client.db, key);
    ctx.propagate_as(argv([b"SREM", key, &popped]));
    Ok(())
}

fn spop_count(ctx: &mut Ctx<'_>, key: &Bytes, count: usize) -> CmdResult {
    let max = max_intset(ctx);
    let size = {
        let (db, out, access) = ctx.parts();
        let Some(obj) = db.lookup(key, access) else {
            out.set(0);
            return Ok(());
        };
        set_mut(obj)?.len()
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    ctx.notify(event::SET, "spop", key);
    if count >= size {
        // The whole set: replied as SUNION of the one key, then deleted.
        union_or_diff(ctx, std::slice::from_ref(key), None, Algebra::Union)?;
        ctx.db().remove(key);
        ctx.notify(event::GENERIC, "del", key);
        ctx.modified(ctx.client.db, key);
        let del: &[u8] = if ctx.server.config.lazyfree_lazy_server_del {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(argv([del, key]));
        return Ok(());
    }
    // Each popped member propagates as an SREM of its own.
    let mut popped_members = ctx.server.propagator.active().then(Vec::new);
    let quiet = untouched(ctx);
    let server = &mut *ctx.server;
    let rng = &mut server.rng;
    let db = &mut server.dbs[ctx.client.db];
    let set = db
        .lookup(key, &quiet)
        .map(set_mut)
        .transpose()?
        .expect("looked up above");
    let out = &mut ctx.out;
    out.set(count);
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Few members asked for: pop them one by one.
        for _ in 0..count {
            let popped = set.pop_random(rng).expect("count < size");
            out.bulk(&popped);
            if let Some(members) = &mut popped_members {
                members.push(Bytes::copy_from_slice(&popped));
            }
        }
    } else {
        // Most of the set asked for: move the members that stay to a new
        // set, reply with what is left of the old one.
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let m = set.pop_random(rng).expect("remaining < size");
            kept.get_or_insert_with(|| Set::new_for(&m)).add(&m, max);
        }
        set.iter().for_each(|m| reply_member(out, m));
        if let Some(members) = &mut popped_members {
            members.extend(set.iter().map(|m| Bytes::from(m.to_bytes().into_owned())));
        }
        *set = kept.expect("remaining > 0 as count < size");
    }
    ctx.modified(ctx.client.db, key);
    for member in popped_members.unwrap_or_default() {
        ctx.propagate_as(argv([b"SREM", key, &member]));
    }
    Ok(())
}

/// SRANDMEMBER with a count picks distinct members by copying the set when
/// the count is more than this fraction of it (Redis's
/// `SRANDMEMBER_SUB_STRATEGY_MUL`), by sampling otherwise.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        Some(c) => {
            let n = arg::int(c)?;
            if n == i64::MIN {
                return Err(CommandError::err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            Some(n)
        }
        None => None,
    };
    let exists = match ctx.read(&args[1]) {
        (Some(obj), _) => set_ref(&obj.value).map(|_| true)?,
        (None, out) => {
            match count {
                Some(_) => out.array(0),
                None => out.null(),
            }
            false
        }
    };
    if !exists {
        return Ok(());
    }
    let cap = ctx.reply_cap();
    let server = &mut *ctx.server;
    let set = peek_sets(&server.dbs[ctx.client.db], ctx.access.now_ms, &args[1..2])[0].expect("looked up above");
    let rng = &mut server.rng;
    let out = &mut ctx.out;
    let Some(count) = count else {
        reply_member(out, set.random(rng).expect("stored sets are never empty"));
        return Ok(());
    };
    let (n, distinct) = (count.unsigned_abs() as usize, count >= 0);
    let size = set.len();
    if n == 0 {
        out.array(0);
    } else if !distinct || n == 1 {
        // Independent draws (repeats allowed), as many as the output limit
        // lets through.
        out.array(n);
        for _ in 0..n {
            reply_member(out, set.random(rng).expect("stored sets are never empty"));
            if out.len() >= cap {
                ctx.client.kill();
                break;
            }
        }
    } else if n >= size {
        out.array(size);
        set.iter().for_each(|m| reply_member(out, m));
    } else if n * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // A large share: a random subset of a copy of the members.
        let mut all: Vec<Member<'_>> = set.iter().collect();
        let (picked, _) = all.partial_shuffle(rng, n);
        out.array(n);
        picked.iter().for_each(|&m| reply_member(out, m));
    } else {
        // A small share: draw until enough distinct members.
        let mut picked = std::collections::HashSet::with_capacity(n);
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let m = set.random(rng).expect("stored sets are never empty");
            if picked.insert(m) {
                order.push(m);
            }
        }
        out.array(n);
        order.into_iter().for_each(|m| reply_member(out, m));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// SINTER, SMEMBERS, SINTERCARD, SINTERSTORE

/// What an intersection produces.
#[derive(Clone, Copy)]
enum Inter<'a> {
    /// A set reply (SINTER, SMEMBERS).
    Reply,
    /// The cardinality, counting at most `limit` (0: no limit) (SINTERCARD).
    Card(usize),
    /// A set stored at this key (SINTERSTORE).
    Store(&'a [u8]),
}

fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    intersect(ctx, &args[1..], Inter::Reply)
}

fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    intersect(ctx, &args[2..], Inter::Store(&args[1]))
}

fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let numkeys = arg::int(&args[1])
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))?;
    let keys_end = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(2))
        .filter(|&end| end <= args.len())
        .ok_or_else(|| CommandError::err("Number of keys can't be greater than number of args"))?;
    let mut limit = 0;
    let mut opts = args[keys_end..].iter();
    while let Some(opt) = opts.next() {
        match opts.as_slice().first() {
            Some(value) if arg::is(opt, "limit") => {
                opts.next();
                let n = arg::int(value)
                    .ok()
                    .filter(|&n| n >= 0)
                    .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?;
                limit = n as usize;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    intersect(ctx, &args[2..keys_end], Inter::Card(limit))
}

/// Redis's `sinterGenericCommand`: walks the smallest set and keeps the
/// members every other set has.
fn intersect(ctx: &mut Ctx<'_>, keys: &[Bytes], mode: Inter<'_>) -> CmdResult {
    check_sets(ctx, keys)?;
    let max = max_intset(ctx);
    let sets = peek_sets(&ctx.server.dbs[ctx.client.db], ctx.access.now_ms, keys);
    let Some(mut sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
        // A missing key is an empty set: so is the intersection.
        match mode {
            Inter::Store(dest) => store(ctx, dest, Set::default(), "sinterstore"),
            Inter::Card(_) => ctx.out.int(0),
            Inter::Reply => ctx.out.set(0),
        }
        return Ok(());
    };
    sets.sort_by_key(|s| s.len());
    let (first, others) = sets.split_first().expect("at least one key (arity)");
    let in_all = |m: &Member<'_>| others.iter().all(|&s| std::ptr::eq(s, *first) || s.contains_member(*m));
    match mode {
        Inter::Reply => {
            let found: Vec<Member<'_>> = first.iter().filter(in_all).collect();
            let out = &mut ctx.out;
            out.set(found.len());
            found.into_iter().for_each(|m| reply_member(out, m));
        }
        Inter::Card(limit) => {
            let matching = first.iter().filter(in_all);
            let n = if limit > 0 {
                matching.take(limit).count()
            } else {
                matching.count()
            };
            ctx.out.int(n as i64);
        }
        Inter::Store(dest) => {
            let mut result = Set::default();
            first.iter().filter(in_all).for_each(|m| {
                result.add_member(m, max);
            });
            store(ctx, dest, result, "sinterstore");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// SUNION, SDIFF and their STORE forms

/// Union or difference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Algebra {
    Union,
    Diff,
}

fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_or_diff(ctx, &args[1..], None, Algebra::Union)
}

fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_or_diff(ctx, &args[2..], Some(&args[1]), Algebra::Union)
}

fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_or_diff(ctx, &args[1..], None, Algebra::Diff)
}

fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    union_or_diff(ctx, &args[2..], Some(&args[1]), Algebra::Diff)
}

/// Redis's `sunionDiffGenericCommand`: computes the result as a new set
/// (an intset until a member or the size rules it out), then replies with
/// it or stores it at `dest`.
fn union_or_diff(ctx: &mut Ctx<'_>, keys: &[Bytes], dest: Option<&Bytes>, op: Algebra) -> CmdResult {
    check_sets(ctx, keys)?;
    let max = max_intset(ctx);
    let sets = peek_sets(&ctx.server.dbs[ctx.client.db], ctx.access.now_ms, keys);
    let mut result = Set::default();
    match (op, sets.split_first()) {
        (Algebra::Union, _) => {
            for set in sets.iter().flatten() {
                set.iter().for_each(|m| {
                    result.add_member(m, max);
                });
            }
        }
        (Algebra::Diff, Some((Some(first), rest))) => diff_into(&mut result, first, rest, max),
        (Algebra::Diff, _) => {}
    }
    match dest {
        Some(dest) => {
            let event_name = if op == Algebra::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            };
            store(ctx, dest, result, event_name);
        }
        None => reply_set(&mut ctx.out, &result),
    }
    Ok(())
}

/// `first` minus every set of `rest` into `result`, with the cheaper of
/// Redis's two algorithms by its own estimate (the choice shows in the
/// result's encoding: the second one adds all of `first` before removing).
fn diff_into(result: &mut Set, first: &Set, rest: &[Option<&Set>], max: usize) {
    let existing = 1 + rest.iter().flatten().count();
    let one_work = first.len() * existing / 2;
    let two_work = first.len() + rest.iter().flatten().map(|s| s.len()).sum::<usize>();
    if one_work <= two_work {
        // Per member of `first`, probe the others, biggest first.
        let mut others: Vec<&Set> = rest.iter().flatten().copied().collect();
        others.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for m in first.iter() {
            let excluded = others.iter().any(|&s| std::ptr::eq(s, first) || s.contains_member(m));
            if !excluded {
                result.add_member(m, max);
            }
        }
    } else {
        // Copy `first`, then remove every member of the others.
        first.iter().for_each(|m| {
            result.add_member(m, max);
        });
        for set in rest.iter().flatten() {
            if result.is_empty() {
                break;
            }
            set.iter().for_each(|m| {
                result.remove_member(m);
            });
        }
    }
}

// ---------------------------------------------------------------------------
// SSCAN

fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cursor = super::keys::parse_cursor(&args[2]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let (found, out) = ctx.read(&args[1]);
    let Some(obj) = found else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let set = set_ref(&obj.value)?;
    let opts = arg::scan_options(&args[3..])?;
    let mut found = Vec::new();
    let next = set.scan(cursor, opts.count, |m| {
        let mut buf = itoa::Buffer::new();
        let bytes = m.bytes(&mut buf);
        if opts.pattern.is_none_or(|p| glob_match(p, bytes, false)) {
            found.push(Bytes::copy_from_slice(bytes));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.bulks(found.iter());
    Ok(())
}
