//! The keyspace: numbered databases of keys, their values and expiry times.
//!
//! A `Db` owns two tables as Redis does: `keys` (key → value and access
//! metadata) and `expires` (key → absolute expiry in Unix milliseconds, only
//! for keys with a TTL). Every insertion and removal of a key goes through the
//! methods here, so per-key bookkeeping (expiry, and later per-slot indexes)
//! has one place. Expired keys are removed lazily on access and actively by
//! sampling ([`Db::active_expire`]); removals are recorded in
//! [`Db::take_expired`] so the caller can propagate them as DELs and notify.
//!
//! This module does not parse commands or write replies.

pub mod dict;
pub mod hash;
pub mod list;
pub mod listpack;
pub mod set;
pub mod value;
pub mod zset;

pub use dict::{Dict, Key};
pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use value::{Object, Str, Value};
pub use zset::ZSet;

/// What a lookup needs to know about "now" and the server's policies.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// The command's time, Unix milliseconds (Redis freezes it per command).
    pub now_ms: i64,
    /// The LRU clock (seconds, wrapping at 2^24 as Redis's `LRU_CLOCK`).
    pub lru_clock: u32,
    /// Expired keys are deleted on access (false on a replica, which waits for
    /// its master's DEL but still hides them from reads).
    pub delete_expired: bool,
    /// Keys past their expiry time are still found: the commands of our
    /// master run so (it decides when a key expires, and says so with DEL).
    pub expired_visible: bool,
    /// Whether to update the access stamp (false for `OBJECT`, `TYPE`-like
    /// introspection and `CLIENT NO-TOUCH`).
    pub touch: bool,
    /// LFU settings when the eviction policy is LFU: (log factor, decay minutes).
    pub lfu: Option<(u32, u32)>,
}

impl Access {
    /// The stamp a newly created object gets.
    pub fn new_stamp(&self) -> u32 {
        match self.lfu {
            Some(_) => lfu::initial(self.now_ms),
            None => self.lru_clock,
        }
    }
}

/// One logical database (`SELECT n`).
#[derive(Debug)]
pub struct Db {
    keys: Dict<Object>,
    expires: Dict<i64>,
    /// Keys removed because they expired, not yet reported to the caller.
    expired: Vec<Key>,
    /// Cursor of the active-expire cycle over `expires`.
    expire_cursor: u64,
}

impl Default for Db {
    fn default() -> Self {
        Db {
            keys: keyspace_table(),
            expires: keyspace_table(),
            expired: Vec::new(),
            expire_cursor: 0,
        }
    }
}

/// A keyspace table: while growing it would take memory over `maxmemory`,
/// it waits (as Redis's `dictExpandAllowed`).
fn keyspace_table<V>() -> Dict<V> {
    Dict::with_growth_check(crate::evict::table_growth_allowed)
}

impl Db {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys, including expired ones not yet removed (as DBSIZE).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// The key table, for whole-keyspace walks (KEYS, SCAN, snapshots).
    pub fn keys(&self) -> &Dict<Object> {
        &self.keys
    }

    /// The expiry of `key` (Unix ms), if it has one; no expiry check.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Whether `key` is logically expired at `now_ms`.
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        self.expire_at(key).is_some_and(|at| at <= now_ms)
    }

    /// Handles an expired key on access: deletes it when allowed. Returns true
    /// when the key is logically gone.
    fn expire_if_needed(&mut self, key: &[u8], access: &Access) -> bool {
        if access.expired_visible || !self.is_expired(key, access.now_ms) {
            return false;
        }
        if access.delete_expired {
            self.delete_expired(key);
        }
        true
    }

    fn delete_expired(&mut self, key: &[u8]) {
        if let Some((k, _)) = self.keys.remove_entry(key) {
            self.expires.remove(key);
            self.expired.push(k);
        }
    }

    /// Looks a key up for reading or writing, expiring it first if due, and
    /// updating its access stamp.
    pub fn lookup(&mut self, key: &[u8], access: &Access) -> Option<&mut Object> {
        if self.expire_if_needed(key, access) {
            return None;
        }
        let obj = self.keys.get_mut(key)?;
        if access.touch {
            obj.access = match access.lfu {
                Some((factor, decay)) => lfu::touch(obj.access, access.now_ms, factor, decay),
                None => access.lru_clock,
            };
        }
        Some(obj)
    }

    /// Looks a key up without expiring it or touching it (introspection).
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Object> {
        if self.is_expired(key, now_ms) {
            return None;
        }
        self.keys.get(key)
    }

    /// True when the key exists and is not expired (deleting it if expired).
    pub fn exists(&mut self, key: &[u8], access: &Access) -> bool {
        !self.expire_if_needed(key, access) && self.keys.contains_key(key)
    }

    /// Stores `value` under `key`, replacing any previous value. The TTL is
    /// cleared unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, access: &Access) {
        let stamp = access.new_stamp();
        match self.keys.get_mut(key) {
            Some(obj) => {
                obj.value = value;
                obj.access = stamp;
                if !keep_ttl {
                    self.expires.remove(key);
                }
            }
            None => {
                self.keys.insert(key.into(), Object::new(value, stamp));
            }
        }
    }

    /// Adds a key that must not exist yet (after a lookup said so).
    pub fn insert_new(&mut self, key: &[u8], value: Value, access: &Access) -> &mut Object {
        let (obj, created) = self
            .keys
            .get_or_insert_with(key, || Object::new(value, access.new_stamp()));
        debug_assert!(created, "insert_new on an existing key");
        obj
    }

    /// Removes a key (and its TTL); returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let obj = self.keys.remove(key)?;
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
        Some(obj.value)
    }

    /// Sets the absolute expiry of an existing key. Returns false when the
    /// key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        if !self.keys.contains_key(key) {
            return false;
        }
        self.expires.insert(key.into(), at_ms);
        true
    }

    /// Removes the TTL of a key; returns true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    /// Removes every key; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.keys.len();
        self.keys.clear();
        self.expires.clear();
        self.expire_cursor = 0;
        n
    }

    /// Keys removed by expiry since the last call.
    pub fn take_expired(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.expired)
    }

    /// True when expiries are waiting in [`Db::take_expired`].
    pub fn has_expired(&self) -> bool {
        !self.expired.is_empty()
    }

    /// The keys waiting in [`Db::take_expired`], oldest first (WATCH needs
    /// them before they are collected).
    pub fn pending_expired(&self) -> &[Key] {
        &self.expired
    }

    /// The TTL table (key → expiry, Unix ms), for sampling keys with a TTL
    /// (the `volatile-*` eviction policies).
    pub fn expires(&self) -> &Dict<i64> {
        &self.expires
    }

    /// A random key that is not expired (RANDOMKEY), expiring the sampled
    /// expired ones on the way as Redis does. Gives up after a bounded number
    /// of tries when (nearly) every key is expired.
    pub fn random_key(&mut self, rng: &mut impl rand::Rng, access: &Access) -> Option<Key> {
        let all_volatile = self.keys.len() == self.expires.len();
        for _ in 0..100 {
            let (k, _) = self.keys.random_entry(rng)?;
            let k = k.clone();
            if !self.expire_if_needed(&k, access) {
                return Some(k);
            }
            if !access.delete_expired && all_volatile {
                // A replica cannot delete; do not loop forever over expired keys.
                continue;
            }
        }
        None
    }

    /// One active-expire pass: walks the TTL table from where the last pass
    /// stopped and deletes up to `effort` expired keys among the `effort * 4`
    /// keys it inspects. Returns (inspected, expired).
    pub fn active_expire(&mut self, now_ms: i64, effort: usize) -> (usize, usize) {
        if self.expires.is_empty() {
            return (0, 0);
        }
        let mut due = Vec::new();
        let mut inspected = 0;
        let mut cursor = self.expire_cursor;
        loop {
            cursor = self.expires.scan(cursor, |k, &at| {
                inspected += 1;
                if at <= now_ms {
                    due.push(k.clone());
                }
            });
            if cursor == 0 || inspected >= effort * 4 || due.len() >= effort {
                break;
            }
        }
        self.expire_cursor = cursor;
        let n = due.len();
        for k in due {
            self.delete_expired(&k);
        }
        (inspected, n)
    }

    /// Swaps the contents of two databases (SWAPDB).
    pub fn swap(a: &mut Db, b: &mut Db) {
        std::mem::swap(a, b);
    }

    /// Incremental rehash work for the cron; returns true while work remains.
    pub fn rehash(&mut self, buckets: usize) -> bool {
        let a = self.keys.rehash(buckets);
        let b = self.expires.rehash(buckets);
        a || b
    }
}

/// Whole-key moves and removals of the generic commands (DEL, RENAME, MOVE,
/// COPY, FLUSHALL ASYNC).
impl Db {
    /// Deletes a key as DEL does: an expired key is first removed as an
    /// expiry (so it is not found); returns the value of a live key.
    pub fn delete(&mut self, key: &[u8], access: &Access) -> Option<Value> {
        self.expire_if_needed(key, access);
        self.remove(key)
    }

    /// Removes a key and returns its object (value and access stamp) with its
    /// expiry, to be stored again by [`Db::put_entry`] under another name or
    /// in another database without copying the value.
    pub fn take_entry(&mut self, key: &[u8]) -> Option<(Object, Option<i64>)> {
        let obj = self.keys.remove(key)?;
        let at = if self.expires.is_empty() {
            None
        } else {
            self.expires.remove(key)
        };
        Some((obj, at))
    }

    /// Stores `obj` under `key` with the given expiry (`None`: no TTL),
    /// replacing any value and TTL the key had.
    pub fn put_entry(&mut self, key: &[u8], obj: Object, expire_at: Option<i64>) {
        match self.keys.get_mut(key) {
            Some(old) => *old = obj,
            None => {
                self.keys.insert(key.into(), obj);
            }
        }
        match expire_at {
            Some(at) => {
                self.expires.insert(key.into(), at);
            }
            None if !self.expires.is_empty() => {
                self.expires.remove(key);
            }
            None => {}
        }
    }

    /// Removes every key like [`Db::clear`], but frees the old contents on
    /// the background thread of [`free_in_background`] (FLUSHALL ASYNC).
    /// Returns how many keys there were.
    pub fn clear_in_background(&mut self) -> usize {
        let n = self.keys.len();
        let tables = (
            std::mem::replace(&mut self.keys, keyspace_table()),
            std::mem::replace(&mut self.expires, keyspace_table()),
        );
        self.expire_cursor = 0;
        free_in_background(tables);
        n
    }
}

/// Write lookups that create the key (SADD and the other push-style commands).
impl Db {
    /// Looks `key` up for writing as [`Db::lookup`] does, adding it with
    /// `make()` when it is absent (or expired). The boolean is true when the
    /// key was created.
    pub fn lookup_or_insert_with(
        &mut self,
        key: &[u8],
        access: &Access,
        make: impl FnOnce() -> Value,
    ) -> (&mut Object, bool) {
        if self.lookup(key, access).is_none() {
            return (self.insert_new(key, make(), access), true);
        }
        (self.keys.get_mut(key).expect("found by the lookup just above"), false)
    }
}

/// Drops `v` on a background thread, as Redis's lazyfree does for big
/// values and asynchronous flushes: the caller does not pay for freeing
/// millions of allocations. Falls back to dropping here if the thread
/// cannot be started.
pub fn free_in_background<T: Send + 'static>(v: T) {
    use std::sync::OnceLock;
    use std::sync::mpsc::{Sender, channel};
    type Garbage = Box<dyn std::any::Any + Send>;
    static QUEUE: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = queue {
        // A send only fails if the thread died; the value is then dropped here.
        let _ = tx.send(Box::new(v));
    }
}

/// Redis's approximated LFU counter: a logarithmic 8-bit counter that decays
/// by one per `decay` minutes of idleness.
pub mod lfu {
    /// The counter a new key starts with (`LFU_INIT_VAL`).
    pub const INIT: u32 = 5;

    fn minutes(now_ms: i64) -> u32 {
        ((now_ms / 60_000) & 0xffff) as u32
    }

    /// The stamp of a new object.
    pub fn initial(now_ms: i64) -> u32 {
        (minutes(now_ms) << 8) | INIT
    }

    /// The counter after decay, without recording an access.
    pub fn decayed(stamp: u32, now_ms: i64, decay: u32) -> u32 {
        let last = stamp >> 8;
        let counter = stamp & 0xff;
        let now = minutes(now_ms);
        let elapsed = if now >= last { now - last } else { 65_535 - last + now };
        let periods = elapsed.checked_div(decay).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// Records one access: decay, then a probabilistic log increment.
    pub fn touch(stamp: u32, now_ms: i64, factor: u32, decay: u32) -> u32 {
        let mut counter = decayed(stamp, now_ms, decay);
        if counter < 255 {
            let base = counter.saturating_sub(INIT) as f64;
            let p = 1.0 / (base * f64::from(factor) + 1.0);
            if rand::random::<f64>() < p {
                counter += 1;
            }
        }
        (minutes(now_ms) << 8) | counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(now_ms: i64) -> Access {
        Access {
            now_ms,
            lru_clock: 1,
            delete_expired: true,
            expired_visible: false,
            touch: true,
            lfu: None,
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(Str::from_bytes(v.as_bytes()))
    }

    #[test]
    fn lazy_expiry_removes_and_reports() {
        let mut db = Db::new();
        db.set(b"a", s("1"), false, &access(0));
        assert!(db.set_expire(b"a", 100));
        assert!(db.lookup(b"a", &access(99)).is_some());
        assert!(db.lookup(b"a", &access(100)).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.take_expired(), vec![Key::from(&b"a"[..])]);
        assert!(db.take_expired().is_empty());
    }

    #[test]
    fn replica_hides_but_keeps_expired_keys() {
        let mut db = Db::new();
        db.set(b"a", s("1"), false, &access(0));
        db.set_expire(b"a", 10);
        let replica = Access {
            delete_expired: false,
            ..access(20)
        };
        assert!(db.lookup(b"a", &replica).is_none());
        assert_eq!(db.len(), 1);
        assert!(!db.has_expired());
    }

    #[test]
    fn set_clears_ttl_unless_kept() {
        let mut db = Db::new();
        let a = access(0);
        db.set(b"a", s("1"), false, &a);
        db.set_expire(b"a", 1000);
        db.set(b"a", s("2"), true, &a);
        assert_eq!(db.expire_at(b"a"), Some(1000));
        db.set(b"a", s("3"), false, &a);
        assert_eq!(db.expire_at(b"a"), None);
    }

    #[test]
    fn active_expire_reclaims_without_access() {
        let mut db = Db::new();
        let a = access(0);
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), s("v"), false, &a);
            db.set_expire(k.as_bytes(), if i % 2 == 0 { 5 } else { 1_000_000 });
        }
        let mut total = 0;
        for _ in 0..1000 {
            total += db.active_expire(10, 20).1;
        }
        assert_eq!(total, 500);
        assert_eq!(db.len(), 500);
        assert_eq!(db.take_expired().len(), 500);
    }

    #[test]
    fn lfu_counter_grows_and_decays() {
        let mut stamp = lfu::initial(0);
        for _ in 0..100 {
            stamp = lfu::touch(stamp, 0, 10, 1);
        }
        let hot = stamp & 0xff;
        assert!(hot > lfu::INIT, "counter grew to {hot}");
        assert!(lfu::decayed(stamp, 3 * 60_000, 1) < hot);
    }
}
