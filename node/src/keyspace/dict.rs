//! The keyspace hash table: chained buckets, incremental rehashing, fair
//! random sampling and a resize-safe SCAN cursor, as Redis's `dict`.
//!
//! A general-purpose map (hashbrown) cannot give three things the server
//! needs: picking a random key in O(1) (RANDOMKEY, eviction and active-expire
//! sampling), a SCAN cursor that guarantees every key present for the whole
//! scan is returned even if the table grows or shrinks in between, and
//! growth without a stop-the-world rehash of millions of keys. Each node is
//! one allocation holding its key, its cached hash and its value; buckets are
//! 8 bytes.
//!
//! This module knows nothing of Redis types: it maps byte keys to any `V`.

use std::hash::BuildHasher;

/// Keys are bytes, owned by the table.
pub type Key = Box<[u8]>;

/// Smallest non-empty table (Redis's `DICT_HT_INITIAL_SIZE`).
const INITIAL_SIZE: usize = 4;
/// Below this fill percentage the table is shrunk (Redis's `HASHTABLE_MIN_FILL`).
const MIN_FILL_PERCENT: usize = 10;

struct Node<V> {
    hash: u64,
    key: Key,
    value: V,
    next: Option<Box<Node<V>>>,
}

type Bucket<V> = Option<Box<Node<V>>>;

struct Table<V> {
    buckets: Vec<Bucket<V>>,
    used: usize,
}

impl<V> Table<V> {
    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    fn with_size(size: usize) -> Self {
        let mut buckets = Vec::with_capacity(size);
        buckets.resize_with(size, || None);
        Table { buckets, used: 0 }
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    fn find(&self, hash: u64, key: &[u8]) -> Option<&Node<V>> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[hash as usize & self.mask()].as_deref();
        while let Some(node) = cur {
            if node.hash == hash && *node.key == *key {
                return Some(node);
            }
            cur = node.next.as_deref();
        }
        None
    }

    fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<V>> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut cur = self.buckets[hash as usize & mask].as_deref_mut();
        while let Some(node) = cur {
            if node.hash == hash && *node.key == *key {
                return Some(node);
            }
            cur = node.next.as_deref_mut();
        }
        None
    }

    fn push(&mut self, mut node: Box<Node<V>>) {
        let idx = node.hash as usize & self.mask();
        node.next = self.buckets[idx].take();
        self.buckets[idx] = Some(node);
        self.used += 1;
    }

    fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Box<Node<V>>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = hash as usize & self.mask();
        let mut link = &mut self.buckets[idx];
        while link.as_ref().is_some_and(|n| n.hash != hash || *n.key != *key) {
            link = &mut link.as_mut().expect("checked by the loop condition").next;
        }
        let mut node = link.take()?;
        *link = node.next.take();
        self.used -= 1;
        Some(node)
    }
}

/// Whether a table may grow its buckets by `bytes` while its load factor
/// (entries per bucket) is `load`: Redis's `dictExpandAllowed`, which lets
/// the keyspace tables wait rather than go over `maxmemory`.
pub type GrowthCheck = fn(bytes: usize, load: f64) -> bool;

/// A hash table from byte keys to `V`.
pub struct Dict<V> {
    /// `tables[1]` is non-empty only while rehashing into it.
    tables: [Table<V>; 2],
    /// Next bucket of `tables[0]` to migrate while rehashing.
    rehash_idx: Option<usize>,
    hasher: foldhash::fast::RandomState,
    /// Asked before growing (`None`: always grow).
    growth_check: Option<GrowthCheck>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> std::fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict").field("len", &self.len()).finish()
    }
}

impl<V> Dict<V> {
    /// An empty table; allocates nothing until the first insert.
    pub fn new() -> Self {
        Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: foldhash::fast::RandomState::default(),
            growth_check: None,
        }
    }

    /// An empty table that grows only when `check` allows it (or once it
    /// is very full, see [`GrowthCheck`]).
    pub fn with_growth_check(check: GrowthCheck) -> Self {
        let mut dict = Self::new();
        dict.growth_check = Some(check);
        dict
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    /// True when the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total bucket slots, for memory accounting and INFO.
    pub fn buckets(&self) -> usize {
        self.tables[0].buckets.len() + self.tables[1].buckets.len()
    }

    /// Whether an incremental rehash is in progress.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Looks a key up.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// Looks a key up, returning the stored key too.
    pub fn get_entry(&self, key: &[u8]) -> Option<(&Key, &V)> {
        if self.is_empty() {
            return None;
        }
        let hash = self.hash(key);
        self.tables[0]
            .find(hash, key)
            .or_else(|| self.tables[1].find(hash, key))
            .map(|n| (&n.key, &n.value))
    }

    /// Looks a key up for modification.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let hash = self.hash(key);
        let t = if self.tables[0].find(hash, key).is_some() { 0 } else { 1 };
        self.tables[t].find_mut(hash, key).map(|n| &mut n.value)
    }

    /// True when the key is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Key, value: V) -> Option<V> {
        self.rehash_step();
        let hash = self.hash(&key);
        for t in 0..2 {
            if let Some(node) = self.tables[t].find_mut(hash, &key) {
                return Some(std::mem::replace(&mut node.value, value));
            }
        }
        self.insert_new(hash, key, value);
        None
    }

    /// Returns the value for `key`, inserting `make()` first when absent.
    /// The boolean is true when the entry was created.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        self.rehash_step();
        let hash = self.hash(key);
        let found = if self.tables[0].find(hash, key).is_some() {
            Some(0)
        } else if self.tables[1].find(hash, key).is_some() {
            Some(1)
        } else {
            None
        };
        let node = match found {
            Some(t) => self.tables[t].find_mut(hash, key).expect("found just above"),
            None => {
                // A new node goes to the head of its bucket: no second search.
                let t = self.insert_new(hash, key.into(), make());
                let table = &mut self.tables[t];
                let idx = hash as usize & table.mask();
                table.buckets[idx].as_deref_mut().expect("inserted just above")
            }
        };
        (&mut node.value, found.is_none())
    }

    /// Inserts a key known to be absent; returns the table it went into.
    fn insert_new(&mut self, hash: u64, key: Key, value: V) -> usize {
        self.expand_if_needed();
        let t = usize::from(self.is_rehashing());
        self.tables[t].push(Box::new(Node {
            hash,
            key,
            value,
            next: None,
        }));
        t
    }

    /// Removes a key, returning its stored key and value.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Key, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let hash = self.hash(key);
        let node = match self.tables[0].remove(hash, key) {
            Some(n) => n,
            None => self.tables[1].remove(hash, key)?,
        };
        self.shrink_if_needed();
        let node = *node;
        Some((node.key, node.value))
    }

    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Drops every entry and releases the buckets.
    pub fn clear(&mut self) {
        // Unlink nodes one by one so that a long chain cannot recurse deeply on drop.
        for table in &mut self.tables {
            for bucket in &mut table.buckets {
                let mut cur = bucket.take();
                while let Some(mut node) = cur {
                    cur = node.next.take();
                }
            }
        }
        self.tables = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.tables[0].buckets.len();
        if size == 0 {
            self.tables[0] = Table::with_size(INITIAL_SIZE);
        } else if self.tables[0].used >= size {
            let next = (self.tables[0].used + 1).next_power_of_two();
            let allowed = self.growth_check.is_none_or(|check| {
                let load = self.tables[0].used as f64 / size as f64;
                check(next * std::mem::size_of::<Bucket<V>>(), load)
            });
            if allowed {
                self.start_resize(next);
            }
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.tables[0].buckets.len();
        let used = self.tables[0].used;
        if size > INITIAL_SIZE && used * 100 / size < MIN_FILL_PERCENT {
            self.start_resize(used.next_power_of_two().max(INITIAL_SIZE));
        }
    }

    fn start_resize(&mut self, size: usize) {
        if size == self.tables[0].buckets.len() {
            return;
        }
        self.tables[1] = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    /// One step of incremental rehashing: migrates one bucket (skipping at
    /// most ten empty ones), as every operation on the table does.
    fn rehash_step(&mut self) {
        self.migrate(1);
    }

    /// Background maintenance, as Redis's cron does for every table: starts
    /// a shrink when the table became sparse, then migrates up to `n`
    /// buckets. Returns true while more rehashing remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        self.shrink_if_needed();
        if !self.migrate(n) {
            // A finished rehash may leave a table that is sparse again.
            self.shrink_if_needed();
        }
        self.is_rehashing()
    }

    /// Migrates up to `n` buckets of an ongoing rehash; returns true while
    /// more remain.
    fn migrate(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let [from, to] = &mut self.tables;
        for _ in 0..n {
            if from.used == 0 {
                break;
            }
            while from.buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut cur = from.buckets[idx].take();
            while let Some(mut node) = cur {
                cur = node.next.take();
                from.used -= 1;
                to.push(node);
            }
            idx += 1;
        }
        if from.used == 0 {
            self.tables.swap(0, 1);
            self.tables[1] = Table::empty();
            self.rehash_idx = None;
            false
        } else {
            self.rehash_idx = Some(idx);
            true
        }
    }

    /// A random entry, drawn like Redis's `dictGetFairRandomKey`: from a
    /// random bucket, walk consecutive buckets until about 20 entries were
    /// seen and pick one of them uniformly (reservoir sampling), so an entry
    /// sharing its bucket with others is not less likely to be drawn.
    pub fn random_entry(&self, rng: &mut impl rand::Rng) -> Option<(&Key, &V)> {
        const SAMPLE: usize = 20;
        if self.is_empty() {
            return None;
        }
        // Buckets of tables[0] below the rehash index are empty: skip them.
        let skip = self.rehash_idx.unwrap_or(0);
        let s0 = self.tables[0].buckets.len() - skip;
        let total = s0 + self.tables[1].buckets.len();
        let start = rng.random_range(0..total);
        let mut seen = 0;
        let mut picked = None;
        for i in 0..total {
            let at = (start + i) % total;
            let bucket = if at < s0 {
                &self.tables[0].buckets[skip + at]
            } else {
                &self.tables[1].buckets[at - s0]
            };
            for n in std::iter::successors(bucket.as_deref(), |n| n.next.as_deref()) {
                seen += 1;
                if rng.random_range(0..seen) == 0 {
                    picked = Some((&n.key, &n.value));
                }
            }
            if seen >= SAMPLE {
                break;
            }
        }
        picked
    }

    /// One SCAN step from `cursor`: calls `f` for every entry of the visited
    /// bucket(s) and returns the next cursor (0 when the scan is complete).
    ///
    /// Uses Redis's reverse-binary cursor, so every entry present for the whole
    /// scan is visited at least once even if the table resizes in between.
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a Key, &'a V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        let emit = |bucket: &'a Bucket<V>, f: &mut dyn FnMut(&'a Key, &'a V)| {
            let mut cur = bucket.as_deref();
            while let Some(n) = cur {
                f(&n.key, &n.value);
                cur = n.next.as_deref();
            }
        };
        if !self.is_rehashing() {
            let m0 = self.tables[0].mask() as u64;
            emit(&self.tables[0].buckets[(v & m0) as usize], &mut f);
            v |= !m0;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, large) = if self.tables[0].buckets.len() <= self.tables[1].buckets.len() {
                (&self.tables[0], &self.tables[1])
            } else {
                (&self.tables[1], &self.tables[0])
            };
            let m0 = small.mask() as u64;
            let m1 = large.mask() as u64;
            emit(&small.buckets[(v & m0) as usize], &mut f);
            loop {
                emit(&large.buckets[(v & m1) as usize], &mut f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// Iterates over every entry (in bucket order).
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &V)> {
        self.tables.iter().flat_map(|t| {
            t.buckets
                .iter()
                .flat_map(|b| std::iter::successors(b.as_deref(), |n| n.next.as_deref()).map(|n| (&n.key, &n.value)))
        })
    }

    /// Removes and returns every entry for which `keep` returns false.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key, &mut V) -> bool) {
        for table in &mut self.tables {
            for bucket in &mut table.buckets {
                // Relink the kept nodes (order within a bucket does not matter).
                let mut cur = bucket.take();
                while let Some(mut node) = cur {
                    cur = node.next.take();
                    if keep(&node.key, &mut node.value) {
                        node.next = bucket.take();
                        *bucket = Some(node);
                    } else {
                        table.used -= 1;
                    }
                }
            }
        }
        self.shrink_if_needed();
    }
}

/// A deep copy (COPY of a collection): same hasher, nodes re-linked into one
/// table sized for the entries, no rehash in progress.
impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut copy = Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: self.hasher.clone(),
            growth_check: self.growth_check,
        };
        if !self.is_empty() {
            copy.tables[0] = Table::with_size(self.len().next_power_of_two().max(INITIAL_SIZE));
            for table in &self.tables {
                for bucket in &table.buckets {
                    let mut cur = bucket.as_deref();
                    while let Some(n) = cur {
                        copy.tables[0].push(Box::new(Node {
                            hash: n.hash,
                            key: n.key.clone(),
                            value: n.value.clone(),
                            next: None,
                        }));
                        cur = n.next.as_deref();
                    }
                }
            }
        }
        copy
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    fn key(i: usize) -> Key {
        format!("key:{i}").into_bytes().into_boxed_slice()
    }

    #[test]
    fn insert_get_remove_through_growth_and_shrink() {
        let mut d = Dict::new();
        for i in 0..10_000 {
            assert!(d.insert(key(i), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        assert_eq!(d.insert(key(7), 70), Some(7));
        for i in 0..10_000 {
            let want = if i == 7 { 70 } else { i };
            assert_eq!(d.get(&key(i)), Some(&want), "key {i}");
        }
        for i in 0..9_990 {
            assert!(d.remove(&key(i)).is_some());
        }
        assert_eq!(d.len(), 10);
        while d.rehash(100) {}
        assert!(d.buckets() < 64, "table shrank, has {}", d.buckets());
        assert_eq!(d.get(&key(9_995)), Some(&9_995));
        assert!(d.get(&key(5)).is_none());
    }

    #[test]
    fn get_or_insert_with_creates_once() {
        let mut d: Dict<Vec<u8>> = Dict::new();
        let (v, created) = d.get_or_insert_with(b"a", Vec::new);
        assert!(created);
        v.push(1);
        let (v, created) = d.get_or_insert_with(b"a", Vec::new);
        assert!(!created);
        assert_eq!(v, &vec![1]);
    }

    #[test]
    fn full_scan_sees_every_stable_key_across_resizes() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(key(i), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.clone());
            });
            step += 1;
            // Grow in the middle of the scan, then shrink: keys 0..1000 stay.
            if step == 50 {
                for i in 1000..5000 {
                    d.insert(key(i), ());
                }
            }
            if step == 300 {
                for i in 1000..5000 {
                    d.remove(&key(i));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&key(i)), "key {i} missed");
        }
    }

    #[test]
    fn random_entry_reaches_every_key() {
        let mut d = Dict::new();
        for i in 0..8 {
            d.insert(key(i), i);
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            seen.insert(*d.random_entry(&mut rng).expect("not empty").1);
        }
        assert_eq!(seen.len(), 8);
        assert!(Dict::<()>::new().random_entry(&mut rng).is_none());
    }

    #[test]
    fn retain_and_iter() {
        let mut d = Dict::new();
        for i in 0..100 {
            d.insert(key(i), i);
        }
        d.retain(|_, v| *v % 2 == 0);
        assert_eq!(d.len(), 50);
        assert!(d.iter().all(|(_, v)| v % 2 == 0));
        assert_eq!(d.iter().count(), 50);
    }

    #[test]
    fn clone_copies_every_entry_even_mid_rehash() {
        let mut d = Dict::new();
        let mut n = 0;
        while n < 100 || !d.is_rehashing() {
            d.insert(key(n), n);
            n += 1;
        }
        let c = d.clone();
        d.insert(key(0), 1000);
        assert_eq!(c.len(), n);
        for i in 0..n {
            assert_eq!(c.get(&key(i)), Some(&i));
        }
        assert!(!c.is_rehashing());
    }
}
