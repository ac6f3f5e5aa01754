//! List commands (Redis 7.0's `t_list.c`): pushes, pops, ranges, edits,
//! LPOS, moves, LMPOP, and the blocking commands built on
//! [`crate::blocking`]: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, and the
//! sorted-set ones, BZPOPMIN, BZPOPMAX and BZMPOP (which pop through
//! [`super::zset::pop_first`]).
//!
//! Shared paths, one implementation each: `push_generic` (LPUSH, RPUSH and
//! their X forms), `pop_generic` (LPOP, RPOP), `pop_first` (LMPOP, BLPOP,
//! BRPOP, BLMPOP, and serving them), `move_element` (LMOVE, RPOPLPUSH,
//! BLMOVE, BRPOPLPUSH, and serving them) and `block_on`.
//!
//! A blocking command first tries its non-blocking form; when no key can
//! serve it, it blocks with a [`Serve`](crate::blocking::Serve) function
//! that replays the pop against the key that became ready.

use bytes::Bytes;

use super::flag::{BLOCKING, DENYOOM, FAST, NOSCRIPT, READONLY, WRITE};
use super::zset::{PopShape, parse_mpop};
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, NO_KEYS, arg, event};
use crate::blocking::{self, Wait};
use crate::keyspace::list::{End, Fill, List};
use crate::keyspace::{Access, Db, Object, Value};
use crate::propagate::argv;

const G: Group = Group::List;
/// LMOVE and the like: source and destination.
const TWO_KEYS: (i32, i32, i32) = (1, 2, 1);
/// BLPOP and the like: every argument but the timeout.
const ALL_BUT_LAST: (i32, i32, i32) = (1, -2, 1);

/// The list group's commands, and the blocking sorted-set pops.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command::new("lpush", -3, WRITE | DENYOOM | FAST, KEY1, G, "1.0.0", "Prepend one or multiple elements to a list", lpush),
    Command::new("rpush", -3, WRITE | DENYOOM | FAST, KEY1, G, "1.0.0", "Append one or multiple elements to a list", rpush),
    Command::new("lpushx", -3, WRITE | DENYOOM | FAST, KEY1, G, "2.2.0", "Prepend an element to a list, only if the list exists", lpushx),
    Command::new("rpushx", -3, WRITE | DENYOOM | FAST, KEY1, G, "2.2.0", "Append an element to a list, only if the list exists", rpushx),
    Command::new("lpop", -2, WRITE | FAST, KEY1, G, "1.0.0", "Remove and get the first elements in a list", lpop),
    Command::new("rpop", -2, WRITE | FAST, KEY1, G, "1.0.0", "Remove and get the last elements in a list", rpop),
    Command::new("llen", 2, READONLY | FAST, KEY1, G, "1.0.0", "Get the length of a list", llen),
    Command::new("lrange", 4, READONLY, KEY1, G, "1.0.0", "Get a range of elements from a list", lrange),
    Command::new("lindex", 3, READONLY, KEY1, G, "1.0.0", "Get an element from a list by its index", lindex),
    Command::new("lset", 4, WRITE | DENYOOM, KEY1, G, "1.0.0", "Set the value of an element in a list by its index", lset),
    Command::new("linsert", 5, WRITE | DENYOOM, KEY1, G, "2.2.0", "Insert an element before or after another element in a list", linsert),
    Command::new("lrem", 4, WRITE, KEY1, G, "1.0.0", "Remove elements from a list", lrem),
    Command::new("ltrim", 4, WRITE, KEY1, G, "1.0.0", "Trim a list to the specified range", ltrim),
    Command::new("lpos", -3, READONLY, KEY1, G, "6.0.6", "Return the index of matching elements on a list", lpos),
    Command::new("lmove", 5, WRITE | DENYOOM, TWO_KEYS, G, "6.2.0", "Pop an element from a list, push it to another list and return it", lmove),
    Command::new("rpoplpush", 3, WRITE | DENYOOM, TWO_KEYS, G, "1.2.0", "Remove the last element in a list, prepend it to another list and return it", rpoplpush),
    Command::new("lmpop", -4, WRITE, NO_KEYS, G, "7.0.0", "Pop elements from a list", lmpop),
    Command::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, ALL_BUT_LAST, G, "2.0.0", "Remove and get the first element in a list, or block until one is available", blpop),
    Command::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, ALL_BUT_LAST, G, "2.0.0", "Remove and get the last element in a list, or block until one is available", brpop),
    Command::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, TWO_KEYS, G, "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", blmove),
    Command::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, TWO_KEYS, G, "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", brpoplpush),
    Command::new("blmpop", -5, WRITE | BLOCKING, NO_KEYS, G, "7.0.0", "Pop elements from a list, or block until one is available", blmpop),
    Command::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, ALL_BUT_LAST, Group::SortedSet, "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", bzpopmin),
    Command::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, ALL_BUT_LAST, Group::SortedSet, "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", bzpopmax),
    Command::new("bzmpop", -5, WRITE | BLOCKING, NO_KEYS, Group::SortedSet, "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", bzmpop),
];

// ---------------------------------------------------------------------------
// Helpers.

fn as_list(obj: &mut Object) -> Result<&mut List, CommandError> {
    match &mut obj.value {
        Value::List(l) => Ok(l),
        _ => Err(CommandError::WrongType),
    }
}

/// Looks up a list for writing (expiring and touching the key).
fn lookup<'d>(db: &'d mut Db, key: &[u8], access: &Access) -> Result<Option<&'d mut List>, CommandError> {
    db.lookup(key, access).map(as_list).transpose()
}

/// The node limits of new list data (`list-max-listpack-size`).
fn fill(ctx: &Ctx<'_>) -> Fill {
    Fill::new(ctx.server.config.list_max_listpack_size)
}

/// `LEFT` or `RIGHT`.
fn parse_end(b: &[u8]) -> Result<End, CommandError> {
    if arg::is(b, "left") {
        Ok(End::Left)
    } else if arg::is(b, "right") {
        Ok(End::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

fn end_name(end: End, pop: bool) -> &'static str {
    match (end, pop) {
        (End::Left, true) => "lpop",
        (End::Right, true) => "rpop",
        (End::Left, false) => "lpush",
        (End::Right, false) => "rpush",
    }
}

/// `getRangeLongFromObjectOrReply` with a message: an integer in
/// `min..=i64::MAX`, `msg` for both a non-integer and a value below `min`.
fn at_least(b: &[u8], min: i64, msg: &'static str) -> Result<i64, CommandError> {
    arg::parse_i64(b)
        .filter(|&v| v >= min)
        .ok_or_else(|| CommandError::err(msg))
}

/// Resolves LRANGE/LTRIM indexes against `len` (negative from the end):
/// the inclusive span, or `None` when it is empty.
fn span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// Resolves a LINDEX/LSET index (negative from the end).
fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// After elements were removed from `key`: the command's event, the key's
/// removal and "del" when it `emptied`, and the change itself (Redis's
/// `listElementsRemoved`).
fn removed(ctx: &mut Ctx<'_>, key: &[u8], event_name: &str, emptied: bool) {
    ctx.notify(event::LIST, event_name, key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(event::GENERIC, "del", key);
    }
    let db_id = ctx.client.db;
    ctx.modified(db_id, key);
}

/// After an element was pushed to `key`: "new" when it was created, the
/// push event and the change.
fn pushed(ctx: &mut Ctx<'_>, key: &[u8], created: bool, event_name: &str) {
    let db_id = ctx.client.db;
    ctx.modified(db_id, key);
    if created {
        ctx.notify(event::NEW, "new", key);
    }
    ctx.notify(event::LIST, event_name, key);
}

// ---------------------------------------------------------------------------
// LPUSH, RPUSH, LPUSHX, RPUSHX.

fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Left, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Right, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Left, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Right, true)
}

/// Pushes `args[2..]` at `end` of the list `args[1]`, creating it unless
/// `existing_only` (the X forms reply 0 for a missing key).
fn push_generic(ctx: &mut Ctx<'_>, args: &[Bytes], end: End, existing_only: bool) -> CmdResult {
    let key = &args[1];
    let fill = fill(ctx);
    let (db, out, access) = ctx.parts();
    let created = match db.lookup(key, access) {
        Some(obj) => {
            as_list(obj)?;
            false
        }
        None if existing_only => {
            out.int(0);
            return Ok(());
        }
        None => {
            db.insert_new(key, Value::List(Box::default()), access);
            true
        }
    };
    let list = lookup(db, key, access)?.expect("the list exists now");
    for item in &args[2..] {
        list.push(end, item, fill);
    }
    out.int(list.len() as i64);
    pushed(ctx, key, created, end_name(end, false));
    Ok(())
}

// ---------------------------------------------------------------------------
// LPOP, RPOP, LMPOP and the pops the blocking commands share.

fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Left)
}

fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Right)
}

/// LPOP/RPOP `key [count]`: one element as a bulk, or with a count an
/// array (null for a missing key, empty for a count of 0).
fn pop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CommandError::Arity(end_name(end, true).to_owned()));
    }
    let count = match args.get(2) {
        Some(c) => Some(at_least(c, 0, "value is out of range, must be positive")? as usize),
        None => None,
    };
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(list) = lookup(db, key, access)? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        Some(n) => {
            let n = n.min(list.len());
            out.array(n);
            for _ in 0..n {
                out.bulk(&list.pop(end).expect("n is at most the length"));
            }
        }
        None => out.bulk(&list.pop(end).expect("stored lists are not empty")),
    }
    let emptied = list.is_empty();
    removed(ctx, key, end_name(end, true), emptied);
    Ok(())
}

/// Pops from the first of `keys` holding a list (missing keys are skipped,
/// another type is WRONGTYPE): with `count`, up to that many elements
/// replied as `[key, [elements]]` (LMPOP, BLMPOP); without, one element as
/// `[key, element]` (BLPOP, BRPOP). Returns false, having written nothing,
/// when no key exists.
fn pop_first(ctx: &mut Ctx<'_>, keys: &[Bytes], end: End, count: Option<usize>) -> Result<bool, CommandError> {
    let (db, out, access) = ctx.parts();
    let mut found = None;
    for key in keys {
        if lookup(db, key, access)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(false);
    };
    let list = lookup(db, key, access)?.expect("the key was just found");
    out.array(2);
    out.bulk(key);
    let popped = match count {
        Some(n) => {
            let n = n.min(list.len());
            out.array(n);
            for _ in 0..n {
                out.bulk(&list.pop(end).expect("n is at most the length"));
            }
            Some(n)
        }
        None => {
            out.bulk(&list.pop(end).expect("stored lists are not empty"));
            None
        }
    };
    let emptied = list.is_empty();
    removed(ctx, key, end_name(end, true), emptied);
    // Propagated as LPOP/RPOP of that key, with the count popped if any.
    let cmd: &[u8] = match end {
        End::Left => b"LPOP",
        End::Right => b"RPOP",
    };
    ctx.propagate_as(match popped {
        Some(n) => argv([cmd, key, itoa::Buffer::new().format(n).as_bytes()]),
        None => argv([cmd, key]),
    });
    Ok(true)
}

/// Parses `numkeys key… LEFT|RIGHT [COUNT count]` from `args[numkeys_idx]`
/// (LMPOP, BLMPOP): the keys, the end, the count (default 1).
fn parse_lmpop(args: &[Bytes], numkeys_idx: usize) -> Result<(&[Bytes], End, usize), CommandError> {
    let numkeys = at_least(&args[numkeys_idx], 1, "numkeys should be greater than 0")? as usize;
    let where_idx = numkeys
        .checked_add(numkeys_idx + 1)
        .filter(|&w| w < args.len())
        .ok_or(CommandError::Syntax)?;
    let end = parse_end(&args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && arg::is(&args[j], "count") && j + 1 < args.len() {
            count = Some(at_least(&args[j + 1], 1, "count should be greater than 0")? as usize);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((&args[numkeys_idx + 1..where_idx], end, count.unwrap_or(1)))
}

fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, end, count) = parse_lmpop(args, 1)?;
    if !pop_first(ctx, keys, end, Some(count))? {
        ctx.out.null_array();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// LLEN, LRANGE, LINDEX, LPOS.

fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (obj, out) = ctx.read(&args[1]);
    let len = match obj {
        Some(obj) => as_list(obj)?.len(),
        None => 0,
    };
    out.int(len as i64);
    Ok(())
}

fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = arg::int(&args[2])?;
    let end = arg::int(&args[3])?;
    let (obj, out) = ctx.read(&args[1]);
    let Some(obj) = obj else {
        out.array(0);
        return Ok(());
    };
    let list = as_list(obj)?;
    match span(start, end, list.len()) {
        Some((start, end)) => out.bulks(list.range(start, end)),
        None => out.array(0),
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (obj, out) = ctx.read(&args[1]);
    let Some(obj) = obj else {
        out.null();
        return Ok(());
    };
    let list = as_list(obj)?;
    let index = arg::int(&args[2])?;
    match position(index, list.len()).and_then(|i| list.get(i)) {
        Some(item) => out.bulk(item),
        None => out.null(),
    }
    Ok(())
}

/// LPOS `key element [RANK rank] [COUNT num-matches] [MAXLEN len]`.
fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if arg::is(opt, "rank") && more {
            rank = arg::int(&args[j + 1])?;
            if rank == 0 {
                return Err(CommandError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if arg::is(opt, "count") && more {
            count = Some(at_least(&args[j + 1], 0, "COUNT can't be negative")?);
        } else if arg::is(opt, "maxlen") && more {
            maxlen = at_least(&args[j + 1], 0, "MAXLEN can't be negative")?;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 2;
    }
    // A negative rank scans from the tail (i64::MIN stays negative, as the
    // C negation overflows: every match then qualifies).
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let ele = &args[2];
    let (obj, out) = ctx.read(&args[1]);
    let Some(obj) = obj else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let list = as_list(obj)?;
    let len = list.len();
    let scan = Scan {
        ele,
        rank,
        count,
        maxlen,
    };
    let found = if from_tail {
        scan.run(list.iter().rev(), |i| len - 1 - i)
    } else {
        scan.run(list.iter(), |i| i)
    };
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
    }
    Ok(())
}

/// An LPOS search.
struct Scan<'a> {
    ele: &'a [u8],
    rank: i64,
    /// With COUNT: how many positions (0: all); without: the first only.
    count: Option<i64>,
    /// Elements to compare at most (0: all).
    maxlen: i64,
}

impl Scan<'_> {
    /// The positions (mapped by `index`) of the matches, in scan order.
    fn run<'l>(&self, items: impl Iterator<Item = &'l [u8]>, index: impl Fn(usize) -> usize) -> Vec<usize> {
        let mut found = Vec::new();
        let mut matches: i64 = 0;
        for (i, item) in items.enumerate() {
            if self.maxlen != 0 && i as i64 >= self.maxlen {
                break;
            }
            if item != self.ele {
                continue;
            }
            matches += 1;
            if matches >= self.rank {
                found.push(index(i));
                match self.count {
                    None => break,
                    Some(c) if c != 0 && matches.wrapping_sub(self.rank).wrapping_add(1) >= c => break,
                    Some(_) => {}
                }
            }
        }
        found
    }
}

// ---------------------------------------------------------------------------
// LSET, LINSERT, LREM, LTRIM.

fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let list = lookup(db, key, access)?.ok_or(CommandError::NoSuchKey)?;
    let index = arg::int(&args[2])?;
    match position(index, list.len()) {
        Some(i) => {
            list.set(i, &args[3]);
        }
        None => return Err(CommandError::err("index out of range")),
    }
    out.ok();
    let db_id = ctx.client.db;
    ctx.modified(db_id, key);
    ctx.notify(event::LIST, "lset", key);
    Ok(())
}

fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let after = if arg::is(&args[2], "after") {
        true
    } else if arg::is(&args[2], "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let key = &args[1];
    let fill = fill(ctx);
    let (db, out, access) = ctx.parts();
    let Some(list) = lookup(db, key, access)? else {
        out.int(0);
        return Ok(());
    };
    let Some(at) = list.iter().position(|e| e == &args[3][..]) else {
        out.int(-1);
        return Ok(());
    };
    list.insert(at + usize::from(after), &args[4], fill);
    let len = list.len() as i64;
    let db_id = ctx.client.db;
    ctx.modified(db_id, key);
    ctx.notify(event::LIST, "linsert", key);
    ctx.out.int(len);
    Ok(())
}

fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let count = arg::int(&args[2])?;
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(list) = lookup(db, key, access)? else {
        out.int(0);
        return Ok(());
    };
    let limit = (count != 0).then(|| usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX));
    let from = if count < 0 { End::Right } else { End::Left };
    let n = list.remove_matching(&args[3], limit, from);
    out.int(n as i64);
    if n > 0 {
        let emptied = list.is_empty();
        removed(ctx, key, "lrem", emptied);
    }
    Ok(())
}

fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let start = arg::int(&args[2])?;
    let end = arg::int(&args[3])?;
    let key = &args[1];
    let (db, out, access) = ctx.parts();
    let Some(list) = lookup(db, key, access)? else {
        out.ok();
        return Ok(());
    };
    match span(start, end, list.len()) {
        Some((start, end)) => list.retain_range(start, end - start + 1),
        None => list.retain_range(0, 0),
    }
    let emptied = list.is_empty();
    removed(ctx, key, "ltrim", emptied);
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// LMOVE, RPOPLPUSH (and BLMOVE, BRPOPLPUSH).

/// Moves the element at `from` of the list `src` to `to` of the list `dst`
/// (creating it), replying it as a bulk (Redis's `lmoveGenericCommand`).
/// A `dst` of another type is WRONGTYPE, checked before anything changes.
/// Returns false, having written nothing, when `src` does not exist.
fn move_element(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> Result<bool, CommandError> {
    let fill = fill(ctx);
    let (db, _, access) = ctx.parts();
    if lookup(db, src, access)?.is_none() {
        return Ok(false);
    }
    if let Some(obj) = db.lookup(dst, access) {
        as_list(obj)?;
    }
    let list = lookup(db, src, access)?.expect("src exists");
    let item = list.pop(from).expect("stored lists are not empty");
    // With src == dst the element goes back into the same list.
    let emptied = list.is_empty() && src != dst;
    let (obj, created) = db.lookup_or_insert_with(dst, access, || Value::List(Box::default()));
    as_list(obj)?.push(to, &item, fill);
    // Redis replies between the push's events and the pop's.
    pushed(ctx, dst, created, end_name(to, false));
    ctx.out.bulk(&item);
    removed(ctx, src, end_name(from, true), emptied);
    Ok(true)
}

fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    if !move_element(ctx, &args[1], &args[2], from, to)? {
        ctx.out.null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if !move_element(ctx, &args[1], &args[2], End::Right, End::Left)? {
        ctx.out.null();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The blocking commands.

/// Blocks the client on `keys` for a value of type `wants`, to be served by
/// `serve`; inside EXEC, where blocking is denied, replies as a timeout
/// would: a null array, or a null bulk for the moves (`null_bulk`), as Redis
/// does.
fn block_on(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    keys: &[Bytes],
    timeout: Option<std::time::Duration>,
    wants: &'static str,
    serve: blocking::Serve,
    null_bulk: bool,
) {
    let wait = Wait {
        keys,
        timeout,
        wants,
        serve,
    };
    if !blocking::block(ctx, args, wait) {
        if null_bulk {
            ctx.out.null();
        } else {
            ctx.out.null_array();
        }
    }
}

/// The end BLPOP/BRPOP pop from, by the command's name.
fn bpop_end(args: &[Bytes]) -> End {
    if arg::is(&args[0], "blpop") {
        End::Left
    } else {
        End::Right
    }
}

fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bpop(ctx, args)
}

fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bpop(ctx, args)
}

/// BLPOP/BRPOP `key… timeout`.
fn bpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    if !pop_first(ctx, keys, bpop_end(args), None)? {
        block_on(ctx, args, keys, timeout, "list", serve_bpop, false);
    }
    Ok(())
}

fn serve_bpop(ctx: &mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult {
    pop_first(ctx, std::slice::from_ref(key), bpop_end(args), None).map(drop)
}

/// BLMPOP `timeout numkeys key… LEFT|RIGHT [COUNT count]`.
fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, end, count) = parse_lmpop(args, 2)?;
    let timeout = blocking::parse_timeout(&args[1])?;
    if !pop_first(ctx, keys, end, Some(count))? {
        block_on(ctx, args, keys, timeout, "list", serve_blmpop, false);
    }
    Ok(())
}

fn serve_blmpop(ctx: &mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult {
    let (_, end, count) = parse_lmpop(args, 2)?;
    pop_first(ctx, std::slice::from_ref(key), end, Some(count)).map(drop)
}

/// The ends of BLMOVE `src dst from to timeout` and BRPOPLPUSH `src dst
/// timeout` (RIGHT, LEFT).
fn bmove_ends(args: &[Bytes]) -> Result<(End, End), CommandError> {
    if args.len() == 6 {
        Ok((parse_end(&args[3])?, parse_end(&args[4])?))
    } else {
        Ok((End::Right, End::Left))
    }
}

fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bmove(ctx, args)
}

fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bmove(ctx, args)
}

/// BLMOVE and BRPOPLPUSH. When blocking, only the source is waited on; the
/// destination's type is checked when served.
fn bmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (from, to) = bmove_ends(args)?;
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    if move_element(ctx, &args[1], &args[2], from, to)? {
        propagate_bmove(ctx, args);
    } else {
        block_on(ctx, args, &args[1..2], timeout, "list", serve_bmove, true);
    }
    Ok(())
}

fn serve_bmove(ctx: &mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult {
    let (from, to) = bmove_ends(args)?;
    if move_element(ctx, key, &args[2], from, to)? {
        propagate_bmove(ctx, args);
    }
    Ok(())
}

/// BLMOVE propagates as LMOVE, BRPOPLPUSH as RPOPLPUSH.
fn propagate_bmove(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let rewritten = match args.len() {
        6 => argv([b"LMOVE", &args[1], &args[2], &args[3], &args[4]]),
        _ => argv([b"RPOPLPUSH", &args[1], &args[2]]),
    };
    ctx.propagate_as(rewritten);
}

/// Whether BZPOPMIN/BZPOPMAX pops the highest scores, by the command's name.
fn bzpop_max(args: &[Bytes]) -> bool {
    arg::is(&args[0], "bzpopmax")
}

const BZPOP_SHAPE: PopShape = PopShape {
    with_key: true,
    nested: false,
};

const BZMPOP_SHAPE: PopShape = PopShape {
    with_key: true,
    nested: true,
};

fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args)
}

/// BZPOPMIN/BZPOPMAX `key… timeout`: `[key, member, score]`.
fn bzpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    if !super::zset::pop_first(ctx, keys, bzpop_max(args), None, BZPOP_SHAPE)? {
        block_on(ctx, args, keys, timeout, "zset", serve_bzpop, false);
    }
    Ok(())
}

fn serve_bzpop(ctx: &mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult {
    super::zset::pop_first(ctx, std::slice::from_ref(key), bzpop_max(args), None, BZPOP_SHAPE).map(drop)
}

/// BZMPOP `timeout numkeys key… MIN|MAX [COUNT count]`.
fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 2)?;
    let timeout = blocking::parse_timeout(&args[1])?;
    if !super::zset::pop_first(ctx, keys, max, Some(count), BZMPOP_SHAPE)? {
        block_on(ctx, args, keys, timeout, "zset", serve_bzmpop, false);
    }
    Ok(())
}

fn serve_bzmpop(ctx: &mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult {
    let (_, max, count) = parse_mpop(args, 2)?;
    super::zset::pop_first(ctx, std::slice::from_ref(key), max, Some(count), BZMPOP_SHAPE).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_lrange() {
        assert_eq!(span(0, -1, 3), Some((0, 2)));
        assert_eq!(span(-100, 100, 3), Some((0, 2)));
        assert_eq!(span(2, 1, 3), None);
        assert_eq!(span(3, 5, 3), None);
        assert_eq!(span(-1, -1, 3), Some((2, 2)));
        assert_eq!(span(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(span(0, -1, 0), None);
    }

    #[test]
    fn positions_follow_lindex() {
        assert_eq!(position(0, 3), Some(0));
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(-4, 3), None);
        assert_eq!(position(3, 3), None);
        assert_eq!(position(i64::MIN, 3), None);
    }

    #[test]
    fn lpos_scans() {
        let items: Vec<&[u8]> = vec![b"a", b"b", b"a", b"a"];
        let scan = |rank, count, maxlen| {
            Scan {
                ele: b"a",
                rank,
                count,
                maxlen,
            }
            .run(items.iter().copied(), |i| i)
        };
        assert_eq!(scan(1, None, 0), [0]);
        assert_eq!(scan(2, None, 0), [2]);
        assert_eq!(scan(2, Some(0), 0), [2, 3]);
        assert_eq!(scan(1, Some(2), 0), [0, 2]);
        assert_eq!(scan(1, Some(0), 3), [0, 2]);
        assert_eq!(scan(i64::MIN, Some(1), 0), [0, 2, 3]);
        assert!(scan(4, None, 0).is_empty());
    }
}
