//! The hash type, encoded as Redis 7.0 encodes it: a listpack of
//! alternating field/value entries while the hash is small, a hash table
//! once it holds more than `hash-max-listpack-entries` fields or a field or
//! value longer than `hash-max-listpack-value` bytes. A hash converts at
//! exactly the point Redis converts it and never converts back.
//!
//! The listpack keeps insertion order (new fields are appended, deleted ones
//! removed in place), which is the order Redis replies in, so the replies of
//! small hashes match Redis's byte for byte; a table replies in its own
//! bucket order.
//!
//! This module knows nothing of commands or replies: it offers the
//! operations the hash commands are built from, including the random
//! sampling of HRANDFIELD and the cursor walk of HSCAN.

use std::collections::HashSet;

use rand::Rng;

use super::dict::Dict;
use super::listpack::{self, Listpack};

/// The encoding thresholds (`hash-max-listpack-entries`,
/// `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most fields a listpack-encoded hash holds.
    pub max_entries: usize,
    /// Longest field or value (bytes) a listpack-encoded hash holds.
    pub max_value: usize,
}

impl Limits {
    /// The limits from the two configuration values.
    pub fn new(max_entries: u64, max_value: u64) -> Limits {
        Limits {
            max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX),
            max_value: usize::try_from(max_value).unwrap_or(usize::MAX),
        }
    }
}

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Alternating field, value entries, in insertion order.
    Listpack(Listpack),
    /// Field → value (boxed, so that a small hash stays small).
    Table(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

/// The field/value pairs of a listpack, in order.
#[derive(Debug, Clone)]
struct Pairs<'a>(listpack::Iter<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let field = self.0.next()?;
        let value = self.0.next()?;
        Some((field, value))
    }
}

/// The entry index of `field` in a field/value listpack, and its value.
fn lp_find<'a>(lp: &'a Listpack, field: &[u8]) -> Option<(usize, &'a [u8])> {
    Pairs(lp.iter())
        .enumerate()
        .find(|(_, (f, _))| *f == field)
        .map(|(i, (_, v))| (2 * i, v))
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes: the packed bytes of a listpack; for a table
    /// its buckets and, per field, a node (hash, two boxed slices, the
    /// chain link) and the bytes of the field and value.
    pub fn heap_size(&self) -> usize {
        const NODE: usize = 48;
        match self {
            Hash::Listpack(lp) => lp.bytes(),
            Hash::Table(d) => {
                std::mem::size_of::<Dict<Box<[u8]>>>()
                    + d.buckets() * 8
                    + d.iter().map(|(k, v)| NODE + k.len() + v.len()).sum::<usize>()
            }
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(lp) => lp_find(lp, field).map(|(_, v)| v),
            Hash::Table(d) => d.get(field).map(|v| &v[..]),
        }
    }

    /// True when `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => lp_find(lp, field).is_some(),
            Hash::Table(d) => d.contains_key(field),
        }
    }

    /// Converts a listpack hash to a table when any of `items` (the fields
    /// and values a command is about to write) is too long for a listpack,
    /// before anything is written, as Redis's `hashTypeTryConversion`.
    pub fn prepare<'a>(&mut self, items: impl IntoIterator<Item = &'a [u8]>, limits: Limits) {
        if matches!(self, Hash::Listpack(_)) && items.into_iter().any(|b| b.len() > limits.max_value) {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true when the field is new. Converts to a
    /// table first when either is too long for a listpack, and after the
    /// insertion when the listpack outgrows `max_entries`, as Redis's
    /// `hashTypeSet`.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        self.prepare([field, value], limits);
        match self {
            Hash::Listpack(lp) => {
                if let Some((i, _)) = lp_find(lp, field) {
                    lp.replace(i + 1, value);
                    return false;
                }
                lp.push(&[field, value]);
                if lp.len() / 2 > limits.max_entries {
                    self.convert();
                }
                true
            }
            Hash::Table(d) => match d.get_mut(field) {
                Some(v) => {
                    *v = value.into();
                    false
                }
                None => {
                    d.insert(field.into(), value.into());
                    true
                }
            },
        }
    }

    /// Removes `field`; true when it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match lp_find(lp, field) {
                Some((i, _)) => {
                    lp.remove(i, 2);
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    /// The field/value pairs: insertion order for a listpack, bucket order
    /// for a table.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let (packed, table) = match self {
            Hash::Listpack(lp) => (Some(Pairs(lp.iter())), None),
            Hash::Table(d) => (None, Some(d.iter().map(|(k, v)| (&k[..], &v[..])))),
        };
        packed.into_iter().flatten().chain(table.into_iter().flatten())
    }

    /// A uniformly random pair (a table picks like Redis's
    /// `dictGetFairRandomKey`); `None` when empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(lp) if lp.is_empty() => None,
            Hash::Listpack(lp) => Pairs(lp.iter()).nth(rng.random_range(0..lp.len() / 2)),
            Hash::Table(d) => d.random_entry(rng).map(|(k, v)| (&k[..], &v[..])),
        }
    }

    /// Calls `f` with `n` independent random pairs (repeats possible),
    /// stopping early when `f` returns false. Nothing when empty.
    ///
    /// A listpack, or a table asked for at least as many draws as it has
    /// fields, is first gathered into a vector of pairs: each draw is then
    /// O(1) and exactly uniform, and the vector is smaller than the reply.
    /// Fewer draws from a table pick entries one by one.
    pub fn random_pairs<'a>(&'a self, n: usize, rng: &mut impl Rng, mut f: impl FnMut(&'a [u8], &'a [u8]) -> bool) {
        match self {
            Hash::Table(d) if n < d.len() => {
                for _ in 0..n {
                    let Some((k, v)) = d.random_entry(rng) else { return };
                    if !f(k, v) {
                        return;
                    }
                }
            }
            _ => {
                let all: Vec<_> = self.iter().collect();
                if all.is_empty() {
                    return;
                }
                for _ in 0..n {
                    let (k, v) = all[rng.random_range(0..all.len())];
                    if !f(k, v) {
                        return;
                    }
                }
            }
        }
    }

    /// Calls `f` with `min(n, len)` distinct random pairs. A listpack, or a
    /// table asked for a third of its fields or more, is walked once with a
    /// uniform sample of positions and the pairs come in hash order;
    /// otherwise entries are drawn until enough distinct ones are found
    /// (Redis's HRANDFIELD strategies), in the order drawn.
    pub fn sample<'a>(&'a self, n: usize, rng: &mut impl Rng, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        let size = self.len();
        if n >= size {
            self.iter().for_each(|(k, v)| f(k, v));
            return;
        }
        match self {
            Hash::Table(d) if n * 3 <= size => {
                // Entries are told apart by address: no need to hash fields.
                let mut seen: HashSet<*const u8> = HashSet::with_capacity(n);
                while seen.len() < n {
                    let (k, v) = d.random_entry(rng).expect("a table with more than n fields");
                    if seen.insert(k.as_ptr()) {
                        f(k, v);
                    }
                }
            }
            _ => {
                let mut picked = rand::seq::index::sample(rng, size, n).into_vec();
                picked.sort_unstable();
                let mut picked = picked.into_iter().peekable();
                for (i, (k, v)) in self.iter().enumerate() {
                    match picked.peek() {
                        Some(&p) if p == i => {
                            picked.next();
                            f(k, v);
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
        }
    }

    /// One HSCAN step from `cursor`, calling `f` for each pair visited;
    /// returns the next cursor. A listpack is visited whole in one call
    /// (cursor 0 back); a table is walked bucket by bucket, as Redis's
    /// `scanGenericCommand`, until about `count` fields and values are
    /// collected (each pair counts twice) or `count * 10` more buckets were
    /// visited.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        let d = match self {
            Hash::Listpack(lp) => {
                Pairs(lp.iter()).for_each(|(k, v)| f(k, v));
                return 0;
            }
            Hash::Table(d) => d,
        };
        let mut cursor = cursor;
        let mut budget = count.saturating_mul(10);
        let mut emitted = 0usize;
        loop {
            cursor = d.scan(cursor, |k, v| {
                emitted += 2;
                f(k, v);
            });
            if cursor == 0 || budget == 0 || emitted >= count {
                return cursor;
            }
            budget -= 1;
        }
    }

    /// Converts a listpack hash to a table (Redis's `hashTypeConvert`).
    fn convert(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut d = Dict::new();
            for (k, v) in Pairs(lp.iter()) {
                d.insert(k.into(), v.into());
            }
            *self = Hash::Table(Box::new(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    const SMALL: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    fn filled(n: usize, limits: Limits) -> Hash {
        let mut h = Hash::default();
        for i in 0..n {
            assert!(h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), limits));
        }
        h
    }

    #[test]
    fn set_get_remove_in_both_encodings() {
        for n in [3, 10] {
            let mut h = filled(n, SMALL);
            assert_eq!(h.encoding(), if n <= 4 { "listpack" } else { "hashtable" });
            assert_eq!(h.len(), n);
            assert_eq!(h.get(b"f1"), Some(&b"v1"[..]));
            assert!(!h.set(b"f1", b"", SMALL));
            assert_eq!(h.get(b"f1"), Some(&b""[..]));
            assert!(h.contains(b"f2") && !h.contains(b"nope"));
            assert!(h.remove(b"f2") && !h.remove(b"f2"));
            assert_eq!(h.len(), n - 1);
            assert_eq!(h.iter().count(), n - 1);
        }
    }

    #[test]
    fn converts_at_redis_thresholds() {
        let mut h = filled(4, SMALL);
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"f4", b"v4", SMALL));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f0"), Some(&b"v0"[..]));
        // Never back, even when small again.
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        h.set(b"a", b"b", SMALL);
        assert_eq!(h.encoding(), "hashtable");

        let mut h = filled(1, SMALL);
        h.set(b"f0", b"123456789", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = filled(1, SMALL);
        h.set(b"123456789", b"x", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = filled(1, SMALL);
        h.set(b"12345678", b"12345678", SMALL);
        assert_eq!(h.encoding(), "listpack");
        h.prepare([&b"f0"[..], b"123456789"], SMALL);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn listpack_keeps_insertion_order() {
        let mut h = filled(4, SMALL);
        h.remove(b"f1");
        h.set(b"f1", b"x", SMALL);
        h.set(b"f0", b"y", SMALL);
        let fields: Vec<&[u8]> = h.iter().map(|(k, _)| k).collect();
        assert_eq!(fields, vec![&b"f0"[..], b"f2", b"f3", b"f1"]);
    }

    #[test]
    fn sampling_is_distinct_and_uniform_enough() {
        let mut rng = SmallRng::seed_from_u64(7);
        for n in [4, 30, 300] {
            let h = filled(n, Limits::new(128, 64));
            for want in [1, 2, n / 2, n - 1, n, n + 5] {
                let mut got = HashSet::new();
                let mut count = 0;
                h.sample(want, &mut rng, |k, v| {
                    assert_eq!(h.get(k), Some(v));
                    got.insert(k.to_vec());
                    count += 1;
                });
                assert_eq!(count, want.min(n));
                assert_eq!(got.len(), count);
            }
            let mut seen = HashSet::new();
            h.random_pairs(n * 20, &mut rng, |k, _| {
                seen.insert(k.to_vec());
                true
            });
            assert_eq!(seen.len(), n, "every field drawn at least once");
            let mut calls = 0;
            h.random_pairs(10, &mut rng, |_, _| {
                calls += 1;
                calls < 3
            });
            assert_eq!(calls, 3);
            assert!(h.random(&mut rng).is_some());
        }
        assert!(Hash::default().random(&mut rng).is_none());
    }

    #[test]
    fn scan_visits_everything() {
        let h = filled(3, SMALL);
        let mut n = 0;
        assert_eq!(h.scan(0, 1, |_, _| n += 1), 0);
        assert_eq!(n, 3);
        let h = filled(1000, SMALL);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
