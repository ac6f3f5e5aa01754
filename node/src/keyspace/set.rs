//! The set type, encoded as Redis 7.0 encodes it: an intset (sorted
//! integers packed at the narrowest of 16, 32 or 64 bits) while every member
//! is an integer and the set holds at most `set-max-intset-entries` members,
//! a hash table otherwise. A set converts to the table on the first
//! non-integer member or when it outgrows the limit, and never converts back.
//! (7.0 has no listpack encoding for sets: small sets of strings are tables.)
//!
//! Members are handed out as [`Member`]s so that integers of an intset are
//! never formatted unless a caller needs their bytes.

use std::borrow::Cow;

use super::dict::{Dict, Key};
use resp::parse_i64;

/// Redis caps `set-max-intset-entries` at 2^30 (intset internals).
const INTSET_HARD_LIMIT: u64 = 1 << 30;

/// The intset limit to pass to [`Set::add`], from `set-max-intset-entries`.
pub fn intset_limit(set_max_intset_entries: u64) -> usize {
    set_max_intset_entries.min(INTSET_HARD_LIMIT) as usize
}

/// Sorted distinct integers packed little-endian at one width for all
/// (2, 4 or 8 bytes), as Redis's `intset`: the width grows to fit the
/// widest member and never shrinks. The buffer is `[width, values...]`, or
/// empty (no allocation) for an empty set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntSet {
    buf: Box<[u8]>,
}

/// The narrowest width (bytes) that holds `v`.
fn width_of(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

fn read(bytes: &[u8], width: usize, i: usize) -> i64 {
    let at = 1 + i * width;
    match width {
        2 => i64::from(i16::from_le_bytes([bytes[at], bytes[at + 1]])),
        4 => i64::from(i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))),
        _ => i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")),
    }
}

fn write(out: &mut Vec<u8>, width: usize, v: i64) {
    // `v` fits `width` (checked by the callers), so truncating is exact.
    match width {
        2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
        _ => out.extend_from_slice(&v.to_le_bytes()),
    }
}

impl IntSet {
    /// An empty intset.
    pub fn new() -> Self {
        Self::default()
    }

    fn width(&self) -> usize {
        self.buf.first().map_or(2, |&w| usize::from(w))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self.buf.len() {
            0 => 0,
            n => (n - 1) / self.width(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The `i`th smallest member.
    pub fn get(&self, i: usize) -> i64 {
        read(&self.buf, self.width(), i)
    }

    /// Binary search: `Ok(index)` of `v`, or `Err(insertion point)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let width = self.width();
        if width < width_of(v) {
            // Wider than every member: below or above all of them.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match read(&self.buf, width, mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// True when `v` is a member.
    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false when it was already a member.
    pub fn insert(&mut self, v: i64) -> bool {
        let Err(at) = self.search(v) else { return false };
        let old = self.width();
        let width = old.max(width_of(v));
        let len = self.len();
        let mut out = Vec::with_capacity(1 + (len + 1) * width);
        out.push(width as u8);
        if width == old {
            // Same width: splice the new value's bytes in.
            let split = 1 + at * width;
            out.extend_from_slice(self.buf.get(1..split).unwrap_or_default());
            write(&mut out, width, v);
            out.extend_from_slice(self.buf.get(split..).unwrap_or_default());
        } else {
            // Upgrade: re-encode every member at the new width.
            for i in 0..at {
                write(&mut out, width, read(&self.buf, old, i));
            }
            write(&mut out, width, v);
            for i in at..len {
                write(&mut out, width, read(&self.buf, old, i));
            }
        }
        self.buf = out.into_boxed_slice();
        true
    }

    /// Removes `v`; false when it was not a member.
    pub fn remove(&mut self, v: i64) -> bool {
        let Ok(at) = self.search(v) else { return false };
        if self.len() == 1 {
            self.buf = Box::default();
            return true;
        }
        let width = self.width();
        let mut bytes = std::mem::take(&mut self.buf).into_vec();
        bytes.drain(1 + at * width..1 + (at + 1) * width);
        self.buf = bytes.into_boxed_slice();
        true
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = i64> + '_ {
        let width = self.width();
        (0..self.len()).map(move |i| read(&self.buf, width, i))
    }

    /// Bytes of the packed form.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
}

/// A member as stored: an intset's integer or a table's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    /// A member of an intset.
    Int(i64),
    /// A member of a table.
    Bytes(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's bytes, formatting an integer into `buf`.
    pub fn bytes<'b>(&self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Member::Int(n) => buf.format(n).as_bytes(),
            Member::Bytes(b) => b,
        }
    }

    /// The member's bytes, borrowed when they are stored as bytes.
    pub fn to_bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            Member::Int(n) => Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec()),
            Member::Bytes(b) => Cow::Borrowed(b),
        }
    }

    /// The member as an owned key.
    pub fn to_key(&self) -> Key {
        match *self {
            Member::Int(n) => itoa::Buffer::new().format(n).as_bytes().into(),
            Member::Bytes(b) => b.into(),
        }
    }
}

/// A set value.
#[derive(Debug, Clone)]
pub enum Set {
    /// Sorted integer members.
    Intset(IntSet),
    /// Members as keys of a table (boxed: a small set stays small).
    Table(Box<Dict<()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(IntSet::new())
    }
}

impl Set {
    /// An empty set for a new key whose first member is `first`: an intset
    /// when it is an integer, else a table (Redis's `setTypeCreate`).
    pub fn new_for(first: &[u8]) -> Set {
        match parse_i64(first) {
            Some(_) => Set::default(),
            None => Set::Table(Box::default()),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(s) => s.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Intset(s) => s.bytes(),
            Set::Table(d) => {
                std::mem::size_of::<Dict<()>>() + d.buckets() * 8 + d.iter().map(|(k, _)| 32 + k.len()).sum::<usize>()
            }
        }
    }

    /// Converts an intset to a table sized for its members.
    fn convert_to_table(&mut self) -> &mut Dict<()> {
        if let Set::Intset(s) = self {
            let mut d = Dict::new();
            let mut buf = itoa::Buffer::new();
            for v in s.iter() {
                d.insert(buf.format(v).as_bytes().into(), ());
            }
            *self = Set::Table(Box::new(d));
        }
        match self {
            Set::Table(d) => d,
            Set::Intset(_) => unreachable!("converted just above"),
        }
    }

    /// Adds `member`; false when it was already there. `max_intset` is
    /// [`intset_limit`]: past it an intset becomes a table.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let (Set::Intset(_), Some(v)) = (&*self, parse_i64(member)) {
            return self.add_int(v, max_intset);
        }
        self.convert_to_table().get_or_insert_with(member, || ()).1
    }

    /// Adds an integer member (no parsing when the set is an intset).
    fn add_int(&mut self, v: i64, max_intset: usize) -> bool {
        match self {
            Set::Intset(s) => {
                if !s.insert(v) {
                    return false;
                }
                if s.len() > max_intset {
                    self.convert_to_table();
                }
                true
            }
            Set::Table(d) => {
                let mut buf = itoa::Buffer::new();
                d.get_or_insert_with(buf.format(v).as_bytes(), || ()).1
            }
        }
    }

    /// Adds a member taken from another set.
    pub fn add_member(&mut self, member: Member<'_>, max_intset: usize) -> bool {
        match member {
            Member::Int(v) => self.add_int(v, max_intset),
            Member::Bytes(b) => self.add(b, max_intset),
        }
    }

    /// Removes `member`; false when it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(s) => parse_i64(member).is_some_and(|v| s.remove(v)),
            Set::Table(d) => d.remove(member).is_some(),
        }
    }

    /// Removes a member taken from another set (or this one).
    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        match (self, member) {
            (Set::Intset(s), Member::Int(v)) => s.remove(v),
            (set, m) => {
                let mut buf = itoa::Buffer::new();
                set.remove(m.bytes(&mut buf))
            }
        }
    }

    /// True when `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(s) => parse_i64(member).is_some_and(|v| s.contains(v)),
            Set::Table(d) => d.contains_key(member),
        }
    }

    /// True when a member of another set is in this one.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (self, member) {
            (Set::Intset(s), Member::Int(v)) => s.contains(v),
            (set, m) => set.contains(m.bytes(&mut itoa::Buffer::new())),
        }
    }

    /// Every member: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = Member<'_>> + '_ {
        let (ints, table) = match self {
            Set::Intset(s) => (Some(s.iter()), None),
            Set::Table(d) => (None, Some(d.iter())),
        };
        let ints = ints.into_iter().flatten().map(Member::Int);
        ints.chain(table.into_iter().flatten().map(|(k, _)| Member::Bytes(k)))
    }

    /// A random member (uniform for an intset, Redis's fair bucket-then-chain
    /// draw for a table), or `None` when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Member<'_>> {
        match self {
            Set::Intset(s) if s.is_empty() => None,
            Set::Intset(s) => Some(Member::Int(s.get(rng.random_range(0..s.len())))),
            Set::Table(d) => d.random_entry(rng).map(|(k, _)| Member::Bytes(k)),
        }
    }

    /// Removes a random member and returns it, or `None` when empty.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<Key> {
        match self {
            Set::Intset(s) if s.is_empty() => None,
            Set::Intset(s) => {
                let v = s.get(rng.random_range(0..s.len()));
                s.remove(v);
                Some(Member::Int(v).to_key())
            }
            Set::Table(d) => {
                let key = d.random_entry(rng)?.0.clone();
                d.remove_entry(&key).map(|(k, _)| k)
            }
        }
    }

    /// One SSCAN step: an intset reports every member and cursor 0; a table
    /// visits buckets from `cursor` until `count` members were seen (or
    /// `count * 10` buckets), as Redis's `scanGenericCommand`. Calls `f` for
    /// each member seen and returns the next cursor.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match self {
            Set::Intset(s) => {
                s.iter().for_each(|v| f(Member::Int(v)));
                0
            }
            Set::Table(d) => {
                let mut cursor = cursor;
                let mut seen = 0;
                let mut buckets_left = count.saturating_mul(10);
                loop {
                    cursor = d.scan(cursor, |k, _| {
                        seen += 1;
                        f(Member::Bytes(k));
                    });
                    if cursor == 0 || buckets_left == 0 || seen >= count {
                        return cursor;
                    }
                    buckets_left -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn intset_stays_sorted_and_upgrades_width() {
        let mut s = IntSet::new();
        assert!(s.is_empty());
        for v in [5, -3, 100, 5, 0] {
            s.insert(v);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 0, 5, 100]);
        assert_eq!(s.width(), 2);
        assert_eq!(s.bytes(), 1 + 4 * 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert!(s.insert(i64::MAX));
        assert_eq!(s.width(), 8);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![i64::MIN, -3, 0, 5, 100, 70_000, i64::MAX]
        );
        assert!(s.contains(70_000) && s.contains(i64::MIN) && !s.contains(6));
        assert!(s.remove(70_000));
        assert!(!s.remove(70_000));
        // Widths never shrink, as in Redis.
        assert_eq!(s.width(), 8);
        assert_eq!(s.len(), 6);
        for v in [i64::MIN, -3, 0, 5, 100, i64::MAX] {
            assert!(s.remove(v));
        }
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn wide_value_in_narrow_set_is_not_found() {
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(1 << 40));
        assert!(!s.contains(-(1 << 40)));
        assert!(!s.remove(1 << 40));
    }

    #[test]
    fn converts_on_string_or_size() {
        let mut s = Set::new_for(b"1");
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"1", 3));
        assert!(!s.add(b"1", 3));
        assert!(s.add(b"2", 3) && s.add(b"3", 3));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"4", 3));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"4") && s.contains(b"1"));
        assert!(s.remove(b"4") && s.remove(b"3"));
        assert_eq!(s.encoding(), "hashtable", "never converts back");

        let mut s = Set::new_for(b"7");
        s.add(b"7", 512);
        assert!(s.add(b"x", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"7") && s.contains(b"x"));
        assert_eq!(Set::new_for(b"07").encoding(), "hashtable");
        assert_eq!(Set::new_for(b"").encoding(), "hashtable");
    }

    #[test]
    fn non_canonical_integers_are_strings() {
        let mut s = Set::new_for(b"1");
        s.add(b"1", 512);
        assert!(!s.contains(b"01") && !s.contains(b"+1") && !s.contains(b" 1"));
        assert!(!s.remove(b"01"));
        assert!(s.add(b"-0", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn members_cross_encodings() {
        let mut ints = Set::new_for(b"1");
        ints.add(b"1", 512);
        ints.add(b"2", 512);
        let mut strs = Set::new_for(b"a");
        strs.add(b"a", 512);
        strs.add(b"2", 512);
        assert!(strs.contains_member(Member::Int(2)));
        assert!(!strs.contains_member(Member::Int(1)));
        assert!(ints.contains_member(Member::Bytes(b"2")));
        assert!(!ints.contains_member(Member::Bytes(b"a")));
        let mut out = Set::default();
        for m in ints.iter().chain(strs.iter()) {
            out.add_member(m, 512);
        }
        assert_eq!(out.len(), 3);
        assert!(out.remove_member(Member::Bytes(b"a")));
        assert!(out.remove_member(Member::Int(1)));
        assert_eq!(
            out.iter().map(|m| m.to_key()).collect::<Vec<_>>(),
            vec![Key::from(&b"2"[..])]
        );
    }

    #[test]
    fn random_and_pop_cover_every_member() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for first in [&b"1"[..], b"a"] {
            let mut s = Set::new_for(first);
            for i in 0..20 {
                s.add(i.to_string().as_bytes(), 512);
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..2000 {
                seen.insert(s.random(&mut rng).expect("not empty").to_key());
            }
            assert_eq!(seen.len(), 20);
            let mut popped = std::collections::HashSet::new();
            while let Some(k) = s.pop_random(&mut rng) {
                assert!(popped.insert(k));
            }
            assert_eq!(popped.len(), 20);
            assert!(s.random(&mut rng).is_none());
        }
    }

    #[test]
    fn scan_visits_everything() {
        let mut s = Set::new_for(b"a");
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, 10, |m| {
                seen.insert(m.to_key());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        let ints = {
            let mut s = Set::default();
            s.add(b"3", 512);
            s.add(b"1", 512);
            s
        };
        let mut got = Vec::new();
        assert_eq!(ints.scan(5, 1, |m| got.push(m.to_key())), 0);
        assert_eq!(got, vec![Key::from(&b"1"[..]), Key::from(&b"3"[..])]);
    }
}
