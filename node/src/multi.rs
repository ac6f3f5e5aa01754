//! Transactions: a client's MULTI state ([`Transaction`]) and the registry
//! of watched keys ([`Watches`]), as Redis 7.0's `multi.c`.
//!
//! Between MULTI and EXEC a client's commands are checked as usual (unknown
//! command, arity, authentication, `NO_MULTI`, maxmemory) and queued; a
//! command rejected by those checks flags the transaction, and EXEC then
//! fails with `EXECABORT`. EXEC runs the queue in one go: commands run one at
//! a time on one thread, so nothing else runs in between.
//!
//! WATCH registers `(db, key) → clients`. A write to a watched key — by any
//! client, the watcher included — marks its watchers dirty and EXEC replies a
//! null array. Every write reports its keys through
//! [`crate::cmd::Ctx::modified`], which calls [`Server::touch_watched_key`];
//! keys removed by expiry or eviction are reported the same way, and
//! FLUSHDB, FLUSHALL and SWAPDB call [`Server::touch_watched_flush`] and
//! [`Server::touch_watched_swap`]. A key already expired when it was watched
//! is logically absent: its deletion is not a change (Redis 7.0's
//! `watchedKey.expired`), but a key that expires between WATCH and EXEC
//! aborts the transaction.

use std::collections::HashMap;

use bytes::Bytes;

use crate::client::Client;
use crate::cmd::{Command, CommandError};
use crate::keyspace::{Db, Key};
use crate::server::Server;

type Hasher = foldhash::fast::RandomState;

/// Commands that run at once inside MULTI instead of being queued.
const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// A queued command.
#[derive(Debug)]
pub struct Queued {
    /// The command (or subcommand).
    pub cmd: &'static Command,
    /// Its arguments, the name included.
    pub args: Vec<Bytes>,
}

/// A client's MULTI state (Redis's `mstate` with the `CLIENT_MULTI` and
/// `CLIENT_DIRTY_EXEC` flags).
#[derive(Debug, Default)]
pub struct Transaction {
    /// Between MULTI and the end of EXEC or DISCARD.
    active: bool,
    /// A command was rejected while queueing: EXEC fails with EXECABORT.
    aborted: bool,
    /// The queued commands (taken out while EXEC runs them).
    queue: Vec<Queued>,
    /// Number of queued commands (CLIENT LIST `multi=`), kept while EXEC runs.
    count: usize,
    /// Union of the queued commands' flags.
    flags: u32,
}

impl Transaction {
    /// Whether the client is inside MULTI (CLIENT LIST flag `x`).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// CLIENT LIST `multi=`: the number of queued commands, -1 outside MULTI.
    pub fn client_list_count(&self) -> i64 {
        if self.active { self.count as i64 } else { -1 }
    }

    /// Union of the flags of the queued commands (EXEC is refused when over
    /// maxmemory if one of them is DENYOOM).
    pub fn queued_flags(&self) -> u32 {
        self.flags
    }

    /// Whether `cmd`, sent now, is queued rather than run.
    pub fn queues(&self, cmd: &Command) -> bool {
        self.active && !NOT_QUEUED.contains(&cmd.name)
    }

    /// Records that a command was rejected while queueing (Redis's
    /// `flagTransaction`): EXEC will fail.
    pub fn flag_error(&mut self) {
        if self.active {
            self.aborted = true;
        }
    }
}

/// One client watching a key.
#[derive(Debug, Clone, Copy)]
struct Watcher {
    client: u64,
    /// The key was logically expired (but not deleted) when watched.
    expired: bool,
}

/// What one client watches.
#[derive(Debug, Default)]
struct Watching {
    /// (db, key), in WATCH order.
    keys: Vec<(usize, Key)>,
    /// A watched key changed: EXEC will fail (`CLIENT_DIRTY_CAS`).
    dirty: bool,
}

/// The watched keys of all clients (Redis's `db->watched_keys` and each
/// client's `watched_keys`).
#[derive(Default)]
pub struct Watches {
    /// Per database: key → its watchers, first watcher first.
    keys: Vec<HashMap<Key, Vec<Watcher>, Hasher>>,
    /// Clients watching keys or marked dirty.
    clients: HashMap<u64, Watching, Hasher>,
    /// Per database: how many of its pending expired keys
    /// ([`Db::pending_expired`]) were already reported to the watchers.
    expired_seen: Vec<usize>,
    /// Number of (client, key) registrations: 0 makes every touch free.
    watched: usize,
}

impl std::fmt::Debug for Watches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches").field("watched", &self.watched).finish()
    }
}

impl Watches {
    /// Whether a watched key of client `id` changed (CLIENT LIST flag `d`).
    pub fn is_dirty(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|w| w.dirty)
    }

    /// Client `id` watches `key` of database `db`; `expired`: the key is
    /// logically expired now. Watching a key twice is watching it once.
    fn watch(&mut self, id: u64, db: usize, key: &[u8], expired: bool) {
        let watching = self.clients.entry(id).or_default();
        if watching.keys.iter().any(|(d, k)| *d == db && **k == *key) {
            return;
        }
        watching.keys.push((db, key.into()));
        if self.keys.len() <= db {
            self.keys.resize_with(db + 1, HashMap::default);
        }
        let watcher = Watcher { client: id, expired };
        self.keys[db].entry(key.into()).or_default().push(watcher);
        self.watched += 1;
    }

    /// Stops watching every key of client `id`; its dirty flag stays.
    fn unwatch_all(&mut self, id: u64) {
        let Some(watching) = self.clients.get_mut(&id) else {
            return;
        };
        for (db, key) in watching.keys.drain(..) {
            let map = &mut self.keys[db];
            if let Some(list) = map.get_mut(&key) {
                list.retain(|w| w.client != id);
                if list.is_empty() {
                    map.remove(&key);
                }
            }
            self.watched -= 1;
        }
    }

    /// Forgets client `id` entirely: its keys and its dirty flag (UNWATCH,
    /// the end of a transaction, a disconnection).
    pub fn remove_client(&mut self, id: u64) {
        self.unwatch_all(id);
        self.clients.remove(&id);
    }

    /// Marks client `id` dirty and, as Redis, stops watching its keys: they
    /// cannot make EXEC fail more.
    fn set_dirty(&mut self, id: u64, unwatch: bool) {
        if unwatch {
            self.unwatch_all(id);
        }
        self.clients.entry(id).or_default().dirty = true;
    }

    /// Redis's `touchWatchedKey`: `key` of database `db` changed; `exists`:
    /// it is in the database now. Its watchers become dirty, except those
    /// that watched it already expired while it is now gone (no logical
    /// change). As in Redis, a watcher that watched it expired while it
    /// still exists ends the walk.
    fn touch(&mut self, db: usize, key: &[u8], exists: bool) {
        let Some(list) = self.keys.get_mut(db).and_then(|m| m.get_mut(key)) else {
            return;
        };
        let mut dirty = Vec::new();
        for w in list.iter_mut() {
            if w.expired {
                if exists {
                    break;
                }
                w.expired = false;
                continue;
            }
            dirty.push(w.client);
        }
        for id in dirty {
            self.set_dirty(id, true);
        }
    }

    /// Redis's `touchAllWatchedKeysInDb`: database `emptied` is flushed, or
    /// swapped with `replaced_with`. Watchers of a key that exists in either
    /// become dirty, with the expired-key exceptions of Redis.
    fn touch_db(&mut self, dbs: &[Db], emptied: usize, replaced_with: Option<usize>, now_ms: i64) {
        let Some(map) = self.keys.get_mut(emptied) else { return };
        let mut dirty = Vec::new();
        for (key, list) in map.iter_mut() {
            let in_emptied = dbs[emptied].keys().contains_key(key);
            let replaced = replaced_with.map(|r| &dbs[r]);
            let in_replaced = replaced.is_some_and(|r| r.keys().contains_key(key));
            if !in_emptied && !in_replaced {
                continue;
            }
            let expired_in_replaced = replaced.is_some_and(|r| r.is_expired(key, now_ms));
            for w in list.iter_mut() {
                if w.expired {
                    if !in_replaced {
                        // The expired key is deleted: no logical change.
                        w.expired = false;
                        continue;
                    }
                    if expired_in_replaced {
                        continue;
                    }
                } else if !in_emptied && expired_in_replaced {
                    // A missing key is replaced by an expired one.
                    w.expired = true;
                    continue;
                }
                dirty.push(w.client);
            }
        }
        for id in dirty {
            self.set_dirty(id, false);
        }
    }

    /// Redis's `isWatchedKeyExpired`: whether a key client `id` watches,
    /// not expired when watched, is expired now.
    fn watched_key_expired(&self, id: u64, dbs: &[Db], now_ms: i64) -> bool {
        let Some(watching) = self.clients.get(&id) else {
            return false;
        };
        watching.keys.iter().any(|(db, key)| {
            let expired_when_watched = self.keys[*db]
                .get(key)
                .and_then(|l| l.iter().find(|w| w.client == id))
                .is_some_and(|w| w.expired);
            !expired_when_watched && dbs[*db].is_expired(key, now_ms)
        })
    }

    /// Reports to the watchers the keys of database `db` removed by expiry
    /// that they were not told about yet (as absent keys), in order. Keys
    /// expire during a command and are collected after it; a write to the
    /// same key in between must come after its expiry.
    fn touch_pending_expired(&mut self, db: usize, pending: &[Key]) {
        if self.expired_seen.len() <= db {
            self.expired_seen.resize(db + 1, 0);
        }
        let seen = self.expired_seen[db].min(pending.len());
        self.expired_seen[db] = pending.len();
        for key in &pending[seen..] {
            self.touch(db, key, false);
        }
    }
}

/// Hooks of the keyspace into the watched keys (see the module doc).
impl Server {
    /// Records that `key` of database `db` changed (written, deleted,
    /// evicted): its watchers' transactions will fail. Free when nobody
    /// watches anything.
    #[inline]
    pub fn touch_watched_key(&mut self, db: usize, key: &[u8]) {
        if self.watches.watched == 0 {
            return;
        }
        self.watches.touch_pending_expired(db, self.dbs[db].pending_expired());
        let exists = self.dbs[db].keys().contains_key(key);
        self.watches.touch(db, key, exists);
    }

    /// Database `db` (every database when `None`) is about to be emptied
    /// (FLUSHDB, FLUSHALL): the watchers of its existing keys are dirty.
    pub fn touch_watched_flush(&mut self, db: Option<usize>) {
        if self.watches.watched == 0 {
            return;
        }
        let now_ms = crate::server::unix_ms();
        let dbs = match db {
            Some(db) => db..db + 1,
            None => 0..self.dbs.len(),
        };
        for db in dbs {
            self.watches.touch_db(&self.dbs, db, None, now_ms);
        }
    }

    /// Databases `a` and `b` are about to be swapped (SWAPDB): the watchers
    /// of a key that exists in either are dirty.
    pub fn touch_watched_swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let seen = &mut self.watches.expired_seen;
        if seen.len() <= a.max(b) {
            seen.resize(a.max(b) + 1, 0);
        }
        // Pending expired keys move with their database.
        seen.swap(a, b);
        if self.watches.watched == 0 {
            return;
        }
        let now_ms = crate::server::unix_ms();
        self.watches.touch_db(&self.dbs, a, Some(b), now_ms);
        self.watches.touch_db(&self.dbs, b, Some(a), now_ms);
    }

    /// Reports the expired keys of database `db`, collected after a command
    /// (or by the cron), to their watchers.
    pub fn touch_watched_expired(&mut self, db: usize, keys: &[Key]) {
        let watches = &mut self.watches;
        if watches.watched != 0 {
            watches.touch_pending_expired(db, keys);
        }
        if let Some(seen) = watches.expired_seen.get_mut(db) {
            *seen = 0;
        }
    }
}

/// The MULTI command's work: enters the transaction.
pub fn begin(client: &mut Client) -> Result<(), CommandError> {
    let t = &mut client.multi;
    if t.active {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    t.active = true;
    Ok(())
}

/// Queues `cmd` (Redis's `queueMultiCommand`); nothing is kept once the
/// transaction is bound to fail, but the client is still told QUEUED.
pub fn queue(server: &Server, client: &mut Client, cmd: &'static Command, args: &[Bytes]) {
    let dirty = server.watches.is_dirty(client.id);
    let t = &mut client.multi;
    if t.aborted || dirty {
        return;
    }
    t.queue.push(Queued {
        cmd,
        args: args.to_vec(),
    });
    t.count += 1;
    t.flags |= cmd.flags;
}

/// Ends the client's transaction, if any, and stops watching its keys
/// (DISCARD, RESET, the end of EXEC; Redis's `discardTransaction`).
pub fn discard(server: &mut Server, client: &mut Client) {
    client.multi = Transaction::default();
    server.watches.remove_client(client.id);
}

/// WATCH: client watches `keys` of its database (they are checked by EXEC).
pub fn watch(server: &mut Server, client: &Client, keys: &[Bytes], now_ms: i64) -> Result<(), CommandError> {
    if client.multi.active {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    // No point in watching once a watched key changed.
    if server.watches.is_dirty(client.id) {
        return Ok(());
    }
    let db = &server.dbs[client.db];
    for key in keys {
        let expired = db.is_expired(key, now_ms);
        server.watches.watch(client.id, client.db, key, expired);
    }
    Ok(())
}

/// How EXEC must end, decided before anything runs.
#[derive(Debug)]
pub enum Exec {
    /// Run these commands, in order.
    Run(Vec<Queued>),
    /// A watched key changed: reply a null array.
    Watched,
}

/// EXEC's checks (Redis's `execCommand` up to running the queue): returns
/// the queue to run, or why the transaction fails (already discarded then).
/// The transaction stays active while its commands run (CLIENT LIST shows
/// it); [`discard`] ends it.
pub fn exec(server: &mut Server, client: &mut Client, now_ms: i64) -> Result<Exec, CommandError> {
    if !client.multi.active {
        return Err(CommandError::err("EXEC without MULTI"));
    }
    let id = client.id;
    let watches = &mut server.watches;
    if watches.watched_key_expired(id, &server.dbs, now_ms) {
        watches.set_dirty(id, false);
    }
    if client.multi.aborted {
        discard(server, client);
        return Err(CommandError::Other(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        ));
    }
    if server.watches.is_dirty(id) {
        discard(server, client);
        return Ok(Exec::Watched);
    }
    server.watches.remove_client(id);
    Ok(Exec::Run(std::mem::take(&mut client.multi.queue)))
}

/// A command refused before it ran (Redis's `rejectCommand`): flags the
/// transaction; a refused EXEC discards it and fails with
/// `EXECABORT Transaction discarded because of: <error>`.
pub fn rejected(
    server: &mut Server,
    client: &mut Client,
    cmd: &Command,
    args: &[Bytes],
    e: CommandError,
) -> CommandError {
    client.multi.flag_error();
    if cmd.name != "exec" {
        return e;
    }
    discard(server, client);
    // The transaction is over: MONITOR shows the EXEC that ended it.
    if !server.monitors.is_empty() {
        server.feed_monitors(client, args, |_| false);
    }
    let line = e.to_string();
    let reason = line.strip_prefix("ERR ").unwrap_or(&line);
    CommandError::Other(format!("EXECABORT Transaction discarded because of: {reason}").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Access, Str, Value};

    fn access(now_ms: i64) -> Access {
        Access {
            now_ms,
            lru_clock: 0,
            delete_expired: true,
            expired_visible: false,
            touch: true,
            lfu: None,
        }
    }

    fn db_with(keys: &[(&str, Option<i64>)]) -> Db {
        let mut db = Db::new();
        for (k, at) in keys {
            db.set(k.as_bytes(), Value::Str(Str::from_bytes(b"v")), false, &access(0));
            if let Some(at) = at {
                db.set_expire(k.as_bytes(), *at);
            }
        }
        db
    }

    #[test]
    fn a_touch_dirties_every_watcher_and_unwatches_them() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", false);
        w.watch(1, 0, b"k", false);
        w.watch(1, 0, b"j", false);
        w.watch(2, 0, b"k", false);
        w.watch(3, 1, b"k", false);
        assert_eq!(w.watched, 4);
        w.touch(0, b"x", true);
        assert!(!w.is_dirty(1));
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1) && w.is_dirty(2) && !w.is_dirty(3));
        assert_eq!(w.watched, 1, "dirty clients stop watching");
        let watched_by = |id| w.clients.get(&id).map_or(0, |c| c.keys.len());
        assert_eq!((watched_by(1), watched_by(3)), (0, 1));
        w.remove_client(1);
        assert!(!w.is_dirty(1));
    }

    #[test]
    fn a_key_expired_when_watched_may_be_deleted_but_not_recreated() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", true);
        // Its deletion is no logical change...
        w.touch(0, b"k", false);
        assert!(!w.is_dirty(1));
        // ...but from then on it is an ordinary missing key.
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1));
    }

    #[test]
    fn flush_dirties_only_watchers_of_existing_keys() {
        let dbs = vec![db_with(&[("a", None), ("old", Some(5))]), db_with(&[("b", None)])];
        let mut w = Watches::default();
        w.watch(1, 0, b"missing", false);
        w.watch(2, 0, b"a", false);
        w.watch(3, 0, b"old", true);
        w.touch_db(&dbs, 0, None, 10);
        assert!(!w.is_dirty(1) && w.is_dirty(2) && !w.is_dirty(3));
        // A swap brings "b" into db 0: its watcher there is dirty.
        w.watch(4, 0, b"b", false);
        w.touch_db(&dbs, 0, Some(1), 10);
        assert!(w.is_dirty(4));
    }

    #[test]
    fn expiry_after_watch_is_detected_at_exec() {
        let dbs = vec![db_with(&[("k", Some(100)), ("gone", Some(5))])];
        let mut w = Watches::default();
        w.watch(1, 0, b"k", false);
        w.watch(1, 0, b"gone", true);
        assert!(!w.watched_key_expired(1, &dbs, 50));
        assert!(w.watched_key_expired(1, &dbs, 150));
    }

    #[test]
    fn pending_expired_keys_are_reported_once() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", true);
        w.watch(2, 0, b"k", false);
        let pending: Vec<Key> = vec![b"k"[..].into()];
        w.touch_pending_expired(0, &pending);
        w.touch_pending_expired(0, &pending);
        assert!(w.is_dirty(2));
        assert!(!w.is_dirty(1), "the expired-when-watched watcher saw one deletion");
    }
}
