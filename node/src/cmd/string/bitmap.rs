//! Bit commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO.
//!
//! Bit 0 is the most significant bit of the first byte. Writes turn the
//! value into the `raw` encoding and zero-extend it as needed (Redis's
//! `lookupStringForBitCommand`); reads treat bytes past the end as zeros.

use std::borrow::Cow;

use bytes::Bytes;

use super::{keyword, lookup, read, stored, with_bytes};
use crate::cmd::{CmdResult, CommandError, Ctx, arg, event};
use crate::keyspace::{Access, Db, Str, Value};

fn bit_offset_error() -> CommandError {
    CommandError::err("bit offset is not an integer or out of range")
}

/// A bit offset argument (`getBitOffsetFromArgument`): below `8·max` bytes
/// (`proto-max-bulk-len`). With `field_bits` (BITFIELD), `#n` means
/// `n·field_bits`.
fn bit_offset(arg: &[u8], field_bits: Option<u32>, max: u64) -> Result<u64, CommandError> {
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies without an overflow check; wrapping gives its result.
    let offset = arg::parse_i64(digits).ok_or_else(bit_offset_error)?.wrapping_mul(scale);
    if offset < 0 || (offset >> 3) as u64 >= max {
        return Err(bit_offset_error());
    }
    Ok(offset as u64)
}

/// Runs `f` on the string at `key` made raw and zero-extended to hold bit
/// `max_bit` (Redis's `lookupStringForBitCommand`); a missing key is
/// created. `f` learns whether the value was created or grown; the boolean
/// returned is whether the key was created.
fn with_bits_for_write<R>(
    db: &mut Db,
    key: &[u8],
    access: &Access,
    max_bit: u64,
    f: impl FnOnce(&mut Vec<u8>, bool) -> R,
) -> Result<(R, bool), CommandError> {
    let need = (max_bit >> 3) as usize + 1;
    match lookup(db, key, access)? {
        Some(s) => {
            let buf = s.make_raw();
            let grown = buf.len() < need;
            if grown {
                buf.resize(need, 0);
            }
            Ok((f(buf, grown), false))
        }
        None => {
            let mut buf = vec![0; need];
            let r = f(&mut buf, true);
            db.insert_new(key, Value::Str(Str::Raw(Box::new(buf))), access);
            Ok((r, true))
        }
    }
}

/// The mask of bit `offset` within its byte.
fn bit_mask(offset: u64) -> u8 {
    0x80 >> (offset & 7)
}

pub(super) fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None, ctx.server.config.proto_max_bulk_len)?;
    let on = match arg::parse_i64(&args[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(CommandError::err("bit is not an integer or out of range")),
    };
    let key = &args[1];
    let (db, _, access) = ctx.parts();
    let ((old, changed), created) = with_bits_for_write(db, key, access, offset, |buf, grown| {
        let (byte, mask) = ((offset >> 3) as usize, bit_mask(offset));
        let old = buf[byte] & mask != 0;
        if on {
            buf[byte] |= mask;
        } else {
            buf[byte] &= !mask;
        }
        (old, grown || old != on)
    })?;
    if changed {
        stored(ctx, key, created, "setbit");
    }
    ctx.out.int(i64::from(old));
    Ok(())
}

pub(super) fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None, ctx.server.config.proto_max_bulk_len)?;
    let (s, out) = read(ctx, &args[1])?;
    let bit = s.is_some_and(|s| {
        with_bytes(s, |b| {
            b.get((offset >> 3) as usize)
                .is_some_and(|&byte| byte & bit_mask(offset) != 0)
        })
    });
    out.int(i64::from(bit));
    Ok(())
}

/// A BITCOUNT/BITPOS range resolved against a string: inclusive byte
/// indexes, plus the bits of the first and last byte that fall outside a
/// BIT-unit range (Redis's `first_byte_neg_mask`/`last_byte_neg_mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: i64,
    end: i64,
    first_out: u8,
    last_out: u8,
}

/// Resolves `start..=end` (negative from the end) in bytes or, with
/// `bits`, in bits, over a string of `len` bytes.
fn resolve_range(start: i64, end: i64, bits: bool, len: usize) -> Range {
    let total = if bits { (len as i64) << 3 } else { len as i64 };
    let start = if start < 0 { (total + start).max(0) } else { start };
    let end = if end < 0 { (total + end).max(0) } else { end };
    let end = end.min(total - 1);
    if bits && start <= end {
        Range {
            start: start >> 3,
            end: end >> 3,
            first_out: !(0xffu8 >> (start & 7)),
            last_out: (1u8 << (7 - (end & 7))) - 1,
        }
    } else {
        Range {
            start,
            end,
            first_out: 0,
            last_out: 0,
        }
    }
}

/// `BYTE` or `BIT` (BITCOUNT's and BITPOS's unit argument).
fn unit_is_bit(arg: &[u8]) -> Result<bool, CommandError> {
    if keyword(arg, "bit") {
        Ok(true)
    } else if keyword(arg, "byte") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

fn popcount(b: &[u8]) -> u64 {
    let mut words = b.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| u64::from(u64::from_ne_bytes(w.try_into().expect("chunks of 8")).count_ones()))
        .sum();
    n += words.remainder().iter().map(|x| u64::from(x.count_ones())).sum::<u64>();
    n
}

pub(super) fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    // Redis 7.0 answers 0 for a missing key before looking at the arguments.
    let (s, out) = read(ctx, &args[1])?;
    let Some(s) = s else {
        out.int(0);
        return Ok(());
    };
    let count = with_bytes(s, |p| -> Result<u64, CommandError> {
        let range = match args.len() {
            2 => Range {
                start: 0,
                end: p.len() as i64 - 1,
                first_out: 0,
                last_out: 0,
            },
            4 | 5 => {
                let start = arg::int(&args[2])?;
                let end = arg::int(&args[3])?;
                // Checked before the unit, whose errors it hides.
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                let bits = match args.get(4) {
                    Some(unit) => unit_is_bit(unit)?,
                    None => false,
                };
                resolve_range(start, end, bits, p.len())
            }
            _ => return Err(CommandError::Syntax),
        };
        if range.start > range.end {
            return Ok(0);
        }
        let (start, end) = (range.start as usize, range.end as usize);
        let outside = (p[start] & range.first_out).count_ones() + (p[end] & range.last_out).count_ones();
        Ok(popcount(&p[start..=end]) - u64::from(outside))
    })?;
    out.int(count as i64);
    Ok(())
}

/// The first bit equal to `bit` in `p[range.start..=range.end]`, ignoring
/// the bits the range leaves out, as an absolute bit position.
fn find_bit(p: &[u8], bit: bool, range: Range) -> Option<u64> {
    let (start, end) = (range.start as usize, range.end as usize);
    // Look for a set bit in the bytes as seen (inverted when looking for 0).
    let view = |i: usize| {
        let mut b = if bit { p[i] } else { !p[i] };
        if i == start {
            b &= !range.first_out;
        }
        if i == end {
            b &= !range.last_out;
        }
        b
    };
    let skip = if bit { 0x00 } else { 0xff };
    let hit = |i: usize| {
        let b = view(i);
        (b != 0).then(|| i as u64 * 8 + u64::from(b.leading_zeros()))
    };
    if let Some(pos) = hit(start) {
        return Some(pos);
    }
    if end > start + 1 {
        let middle = &p[start + 1..end];
        if let Some(i) = middle.iter().position(|&b| b != skip) {
            return hit(start + 1 + i);
        }
    }
    if end > start { hit(end) } else { None }
}

pub(super) fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let bit = match arg::int(&args[2])? {
        v @ (0 | 1) => v == 1,
        _ => return Err(CommandError::err("The bit argument must be 1 or 0.")),
    };
    let (s, out) = read(ctx, &args[1])?;
    let Some(s) = s else {
        // A missing key is an endless run of zeros.
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let pos = with_bytes(s, |p| -> Result<i64, CommandError> {
        let len = p.len() as i64;
        let (range, end_given) = match args.len() {
            3 => (resolve_range(0, len - 1, false, p.len()), false),
            4..=6 => {
                let start = arg::int(&args[3])?;
                let bits = match args.get(5) {
                    Some(unit) => unit_is_bit(unit)?,
                    None => false,
                };
                match args.get(4) {
                    Some(end) => (resolve_range(start, arg::int(end)?, bits, p.len()), true),
                    None => (resolve_range(start, len - 1, false, p.len()), false),
                }
            }
            _ => return Err(CommandError::Syntax),
        };
        if range.start > range.end {
            return Ok(-1);
        }
        Ok(match find_bit(p, bit, range) {
            Some(pos) => pos as i64,
            // Looking for a 0 without an explicit end: the string is taken
            // as padded with zeros on the right.
            None if !bit && !end_given => (range.end + 1) * 8,
            None => -1,
        })
    })?;
    out.int(pos);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

pub(super) fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let op = [
        ("and", BitOp::And),
        ("or", BitOp::Or),
        ("xor", BitOp::Xor),
        ("not", BitOp::Not),
    ]
    .into_iter()
    .find(|(name, _)| keyword(&args[1], name))
    .map(|(_, op)| op)
    .ok_or(CommandError::Syntax)?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(CommandError::err("BITOP NOT must be called with a single source key."));
    }
    let dest = &args[2];
    let sources = &args[3..];
    // First pass: expire, count and type-check every source; the second one
    // borrows them all at once.
    for key in sources {
        read(ctx, key)?;
    }
    let (db, _, access) = ctx.parts();
    let values: Vec<Cow<'_, [u8]>> = sources
        .iter()
        .map(|key| match db.peek(key, access.now_ms).map(|o| &o.value) {
            Some(Value::Str(s)) => s.to_bytes(),
            _ => Cow::Borrowed(&[][..]),
        })
        .collect();
    let res = combine(op, &values);
    drop(values);
    let len = res.len();
    if len > 0 {
        let found = db.exists(dest, access);
        db.set(dest, Value::Str(Str::Raw(Box::new(res))), false, access);
        stored(ctx, dest, !found, "set");
    } else if db.remove(dest).is_some() {
        // All sources empty: the destination is deleted.
        let db_index = ctx.client.db;
        ctx.modified(db_index, dest);
        ctx.notify(event::GENERIC, "del", dest);
    }
    ctx.out.int(len as i64);
    Ok(())
}

/// BITOP's result: as long as the longest source, shorter ones read as
/// zero-padded.
fn combine(op: BitOp, values: &[Cow<'_, [u8]>]) -> Vec<u8> {
    let max_len = values.iter().map(|v| v.len()).max().unwrap_or(0);
    let mut res = vec![0u8; max_len];
    res[..values[0].len()].copy_from_slice(&values[0]);
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for v in &values[1..] {
                res.iter_mut().zip(v.iter()).for_each(|(r, b)| *r &= b);
                res[v.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for v in &values[1..] {
                res.iter_mut().zip(v.iter()).for_each(|(r, b)| *r |= b);
            }
        }
        BitOp::Xor => {
            for v in &values[1..] {
                res.iter_mut().zip(v.iter()).for_each(|(r, b)| *r ^= b);
            }
        }
    }
    res
}

/// BITFIELD's overflow behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD subcommand.
#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    offset: u64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// A bitfield type: `i1`..`i64` or `u1`..`u63` (the sign letter is
/// case-sensitive and the width ends at a NUL, as in Redis).
fn field_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let err = || {
        CommandError::err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let width = &arg[1..];
    let width = &width[..width.iter().position(|&c| c == 0).unwrap_or(width.len())];
    match arg::parse_i64(width) {
        Some(bits @ 1..=64) if signed || bits < 64 => Ok((signed, bits as u32)),
        _ => Err(err()),
    }
}

/// Parses the subcommands; the boolean is true when all are GETs.
fn parse_fields(args: &[Bytes], max: u64) -> Result<(Vec<Field>, bool), CommandError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j];
        let kind = if keyword(sub, "get") && remaining >= 2 {
            FieldOp::Get
        } else if keyword(sub, "set") && remaining >= 3 {
            FieldOp::Set(0)
        } else if keyword(sub, "incrby") && remaining >= 3 {
            FieldOp::IncrBy(0)
        } else if keyword(sub, "overflow") && remaining >= 1 {
            let name = &args[j + 1];
            overflow = [
                ("wrap", Overflow::Wrap),
                ("sat", Overflow::Sat),
                ("fail", Overflow::Fail),
            ]
            .into_iter()
            .find(|(n, _)| keyword(name, n))
            .map(|(_, o)| o)
            .ok_or_else(|| CommandError::err("Invalid OVERFLOW type specified"))?;
            j += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(&args[j + 2], Some(bits), max)?;
        let op = match kind {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(arg::int(&args[j + 3])?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(arg::int(&args[j + 3])?),
        };
        readonly &= op == FieldOp::Get;
        fields.push(Field {
            op,
            offset,
            bits,
            signed,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok((fields, readonly))
}

/// Reads `bits` bits at bit `offset` as an unsigned number; bits past the
/// end of `p` read as zeros.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + u64::from(bits)).fold(0, |v, pos| {
        let bit = p.get((pos >> 3) as usize).is_some_and(|&b| b & bit_mask(pos) != 0);
        (v << 1) | u64::from(bit)
    })
}

/// Reads a two's complement number of `bits` bits.
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` (inside `p`).
fn set_bits(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let pos = offset + j;
        let byte = &mut p[(pos >> 3) as usize];
        if value & (1 << (u64::from(bits) - 1 - j)) != 0 {
            *byte |= bit_mask(pos);
        } else {
            *byte &= !bit_mask(pos);
        }
    }
}

/// Whether `value + incr` overflows an unsigned field of `bits` bits, and
/// the value the overflow behaviour gives (`checkUnsignedBitfieldOverflow`).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        Some(if overflow == Overflow::Sat { max } else { wrapped() })
    } else if incr < 0 && incr < min_incr {
        Some(if overflow == Overflow::Sat { 0 } else { wrapped() })
    } else {
        None
    }
}

/// Whether `value + incr` overflows a signed field of `bits` bits, and the
/// value the overflow behaviour gives (`checkSignedBitfieldOverflow`).
fn signed_overflow(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            c as i64
        } else if c & (1 << (bits - 1)) != 0 {
            (c | (u64::MAX << bits)) as i64
        } else {
            (c & !(u64::MAX << bits)) as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Some(if overflow == Overflow::Sat { max } else { wrapped() })
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Some(if overflow == Overflow::Sat { min } else { wrapped() })
    } else {
        None
    }
}

/// Runs a SET or INCRBY on `buf`: the reply value (`None` when FAIL
/// refused it) and whether the stored bits changed.
fn write_field(buf: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    let (arg, incr) = match f.op {
        FieldOp::Set(v) => (v, false),
        FieldOp::IncrBy(v) => (v, true),
        FieldOp::Get => unreachable!("GET is not a write"),
    };
    // Both signs computed in u64 bit patterns; the reply is the old value
    // for SET and the new one for INCRBY.
    let (old, new, overflowed, reply) = if f.signed {
        let old = get_signed(buf, f.offset, f.bits);
        let (base, delta) = if incr { (old, arg) } else { (arg, 0) };
        let limit = signed_overflow(base, delta, f.bits, f.overflow);
        let new = limit.unwrap_or(base.wrapping_add(delta));
        (old as u64, new as u64, limit.is_some(), if incr { new } else { old })
    } else {
        let old = get_unsigned(buf, f.offset, f.bits);
        let (base, delta) = if incr { (old, arg) } else { (arg as u64, 0) };
        let limit = unsigned_overflow(base, delta, f.bits, f.overflow);
        let new = limit.unwrap_or(base.wrapping_add(delta as u64));
        (old, new, limit.is_some(), if incr { new as i64 } else { old as i64 })
    };
    if overflowed && f.overflow == Overflow::Fail {
        return (None, false);
    }
    set_bits(buf, f.offset, f.bits, new);
    (Some(reply), old != new)
}

/// Reads a GET field.
fn read_field(p: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(p, f.offset, f.bits)
    } else {
        get_unsigned(p, f.offset, f.bits) as i64
    }
}

/// BITFIELD and BITFIELD_RO (`ro`: only GET is allowed).
fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[Bytes], ro: bool) -> CmdResult {
    let (fields, readonly) = parse_fields(args, ctx.server.config.proto_max_bulk_len)?;
    let key = &args[1];
    if readonly {
        let (value, out) = read(ctx, key)?;
        out.array(fields.len());
        let mut reply = |p: &[u8]| fields.iter().for_each(|f| out.int(read_field(p, f)));
        match value {
            Some(s) => with_bytes(s, reply),
            None => reply(&[]),
        }
        return Ok(());
    }
    if ro {
        return Err(CommandError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max()
        .unwrap_or(0);
    let (db, _, access) = ctx.parts();
    let ((replies, changes), created) = with_bits_for_write(db, key, access, highest, |buf, grown| {
        let mut changes = 0;
        let replies: Vec<Option<i64>> = fields
            .iter()
            .map(|f| {
                if f.op == FieldOp::Get {
                    return Some(read_field(buf, f));
                }
                let (reply, changed) = write_field(buf, f);
                changes += usize::from(reply.is_some() && (grown || changed));
                reply
            })
            .collect();
        (replies, changes)
    })?;
    // As in Redis: the key's creation is announced before the reply, the
    // change after it.
    if created {
        ctx.notify(event::NEW, "new", key);
    }
    ctx.out.array(replies.len());
    for reply in replies {
        match reply {
            Some(n) => ctx.out.int(n),
            None => ctx.out.null(),
        }
    }
    if changes > 0 {
        let db_index = ctx.client.db;
        ctx.modified(db_index, key);
        ctx.notify(event::STRING, "setbit", key);
    }
    Ok(())
}

pub(super) fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

pub(super) fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_in_bits_mask_the_edges() {
        let r = resolve_range(3, 12, true, 4);
        assert_eq!((r.start, r.end), (0, 1));
        assert_eq!(r.first_out, 0b1110_0000);
        assert_eq!(r.last_out, 0b0000_0111);
        let r = resolve_range(0, -1, false, 4);
        assert_eq!((r.start, r.end, r.first_out, r.last_out), (0, 3, 0, 0));
        assert!(resolve_range(5, 10, false, 4).start > resolve_range(5, 10, false, 4).end);
    }

    #[test]
    fn find_bit_respects_masks() {
        let p = [0b0001_0000, 0x00, 0xff];
        assert_eq!(find_bit(&p, true, resolve_range(0, -1, false, 3)), Some(3));
        assert_eq!(find_bit(&p, true, resolve_range(4, 15, true, 3)), None);
        assert_eq!(find_bit(&p, true, resolve_range(4, 16, true, 3)), Some(16));
        assert_eq!(find_bit(&p, false, resolve_range(16, 23, true, 3)), None);
        assert_eq!(find_bit(&p, false, resolve_range(1, 2, false, 3)), Some(8));
    }

    #[test]
    fn bitfield_values_round_trip() {
        let mut buf = [0u8; 3];
        set_bits(&mut buf, 7, 5, 23);
        assert_eq!(buf[..2], [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&buf, 7, 5), 23);
        set_bits(&mut buf, 0, 8, (-2i64) as u64);
        assert_eq!(get_signed(&buf, 0, 8), -2);
        assert_eq!(get_unsigned(&buf, 20, 8), 0);
    }

    #[test]
    fn overflow_rules() {
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(10, -3, 8, Overflow::Sat), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(300, 0, 8, Overflow::Wrap), Some(44));
        assert_eq!(signed_overflow(5, 10, 8, Overflow::Fail), None);
    }

    #[test]
    fn field_types() {
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_type(b"u8\0x"), Ok((false, 8)));
        assert!(field_type(b"u64").is_err());
        assert!(field_type(b"I8").is_err());
        assert!(field_type(b"i0").is_err());
        assert!(field_type(b"").is_err());
    }
}
