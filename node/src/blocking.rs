//! Clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
//! BZPOPMIN, BZPOPMAX, BZMPOP), as Redis 7.0's `blocked.c`.
//!
//! A blocking command never waits itself. When it cannot be served at once
//! it calls [`block`] with what it waits for: its keys, its timeout, the type
//! of value that serves it and a [`Serve`] function that pops from a key
//! and replies, as the command would have. The client is then marked
//! blocked; its connection stops running its further input until it is
//! unblocked.
//!
//! Readiness is detected in one place: every write reports the keys it
//! changes ([`crate::cmd::Ctx::modified`]), which calls [`Blocking::signal`];
//! a changed key somebody waits on is queued as ready (once). After each
//! command (an EXEC counts as one), the connection calls [`serve_ready`],
//! which walks the ready keys in the order they became ready and, for each,
//! serves the clients blocked on it in the order they blocked, while the key
//! holds the type they wait for. A served client runs its [`Serve`] as
//! itself (its database, its protocol, its keyspace events) and its reply
//! goes to its output buffer. A serve that writes (BLMOVE's push) makes more
//! keys ready, served in the same pass. A client waiting for a list is left
//! waiting when its key holds a sorted set (and the other way round); a key
//! that was deleted serves nobody.
//!
//! Timeouts cost nothing while nobody is blocked: the blocked client's own
//! connection sleeps until its deadline ([`Blocking::deadline`]), then calls
//! [`time_out`], which replies a null array. CLIENT UNBLOCK ([`unblock`])
//! replies the same or an `-UNBLOCKED` error.
//!
//! Inside MULTI/EXEC a blocking command may not block
//! ([`Blocking::set_denied`]): it replies as if its timeout had expired.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::client::{Client, ReplyMode};
use crate::cmd::{CmdResult, CommandError, Ctx};
use crate::reply::Reply;
use crate::server::Server;

type Hasher = foldhash::fast::RandomState;

/// Serves a blocked client from `key`, which holds the awaited type: pops
/// and replies as the command (`args`, its original arguments) would have.
/// An error is the client's reply (BLMOVE to a key of another type).
pub type Serve = fn(&mut Ctx<'_>, key: &Bytes, args: &[Bytes]) -> CmdResult;

/// What a blocking command waits for.
#[derive(Debug, Clone, Copy)]
pub struct Wait<'a> {
    /// The keys, in the command's order (duplicates count once).
    pub keys: &'a [Bytes],
    /// How long to wait; `None`: forever.
    pub timeout: Option<Duration>,
    /// The type that serves the client ([`crate::keyspace::Value::type_name`]).
    pub wants: &'static str,
    /// Runs when a key holds `wants`.
    pub serve: Serve,
}

/// One blocked client's wait.
struct Block {
    db: usize,
    keys: Vec<Bytes>,
    deadline: Option<Instant>,
    wants: &'static str,
    serve: Serve,
    args: Vec<Bytes>,
}

/// The clients blocked on one key.
#[derive(Default)]
struct Waiters {
    /// Client ids, first blocked first.
    clients: VecDeque<u64>,
    /// Queued in [`Blocking::ready`] already.
    ready: bool,
}

/// The blocked clients and the keys they wait on (Redis's
/// `db->blocking_keys`, `server.ready_keys`).
#[derive(Default)]
pub struct Blocking {
    /// Per database: key → the clients waiting on it.
    keys: Vec<HashMap<Bytes, Waiters, Hasher>>,
    /// Blocked client id → its wait.
    blocked: HashMap<u64, Block, Hasher>,
    /// Keys changed while somebody waits on them, in order.
    ready: VecDeque<(usize, Bytes)>,
    /// Blocking is not allowed now (EXEC, scripts).
    denied: bool,
}

impl std::fmt::Debug for Blocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking")
            .field("blocked", &self.blocked.len())
            .finish()
    }
}

impl Blocking {
    /// Number of clients blocked on keys (INFO `blocked_clients`, with the
    /// clients held by CLIENT PAUSE).
    pub fn blocked_clients(&self) -> usize {
        self.blocked.len()
    }

    /// When the block of client `id` times out (`None`: not blocked, or
    /// blocked forever).
    pub fn deadline(&self, id: u64) -> Option<Instant> {
        self.blocked.get(&id).and_then(|b| b.deadline)
    }

    /// Records that `key` of database `db` changed: if clients wait on it,
    /// it becomes ready and is served after the command. Called by every
    /// write for every key it changes; free when nobody is blocked.
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.blocked.is_empty() {
            return;
        }
        if let Some(w) = self.keys.get_mut(db).and_then(|m| m.get_mut(key))
            && !w.ready
        {
            w.ready = true;
            self.ready.push_back((db, Bytes::copy_from_slice(key)));
        }
    }

    /// Marks every key of database `db` that clients wait on as ready
    /// (SWAPDB, FLUSHALL-like replacements of a whole database).
    pub fn signal_db(&mut self, db: usize) {
        if let Some(m) = self.keys.get_mut(db) {
            for (key, w) in m.iter_mut().filter(|(_, w)| !w.ready) {
                w.ready = true;
                self.ready.push_back((db, key.clone()));
            }
        }
    }

    /// Forbids (or allows again) blocking: while denied, blocking commands
    /// reply as if they timed out (Redis's `CLIENT_DENY_BLOCKING`, set while
    /// EXEC runs a transaction and while a script runs).
    pub fn set_denied(&mut self, denied: bool) {
        self.denied = denied;
    }

    /// Forgets client `id` (disconnected); true if it was blocked.
    pub fn remove_client(&mut self, id: u64) -> bool {
        self.remove(id).is_some()
    }

    fn add(&mut self, id: u64, block: Block) {
        if self.keys.len() <= block.db {
            self.keys.resize_with(block.db + 1, HashMap::default);
        }
        let keys = &mut self.keys[block.db];
        for key in &block.keys {
            let w = keys.entry(key.clone()).or_default();
            // A key named twice is waited on once.
            if w.clients.back() != Some(&id) {
                w.clients.push_back(id);
            }
        }
        self.blocked.insert(id, block);
    }

    fn remove(&mut self, id: u64) -> Option<Block> {
        let block = self.blocked.remove(&id)?;
        let keys = &mut self.keys[block.db];
        for key in &block.keys {
            if let Some(w) = keys.get_mut(key) {
                if let Some(i) = w.clients.iter().position(|&c| c == id) {
                    w.clients.remove(i);
                }
                if w.clients.is_empty() {
                    keys.remove(key);
                }
            }
        }
        Some(block)
    }

    /// The next ready key, no longer marked ready (a serve may signal it
    /// again).
    fn next_ready(&mut self) -> Option<(usize, Bytes)> {
        let (db, key) = self.ready.pop_front()?;
        if let Some(w) = self.keys[db].get_mut(&key) {
            w.ready = false;
        }
        Some((db, key))
    }

    /// The clients waiting on `key`, first blocked first.
    fn waiters(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.keys[db]
            .get(key)
            .map(|w| w.clients.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Parses a blocking command's timeout (seconds, sub-second precision; 0:
/// forever) as Redis 7.0's `getTimeoutFromObjectOrReply`: milliseconds
/// rounded up, so any positive timeout waits at least 1 ms, and a value
/// whose milliseconds do not fit a 64-bit integer counts as negative.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CommandError> {
    let secs =
        crate::cmd::arg::parse_f64(arg).ok_or_else(|| CommandError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    // `-0.0` (from tiny negative timeouts) is 0, as in Redis.
    // `i64::MAX as f64` is 2^63: below it the milliseconds fit.
    if !(0.0..i64::MAX as f64).contains(&ms) {
        return Err(CommandError::err("timeout is negative"));
    }
    Ok((ms > 0.0).then(|| Duration::from_millis(ms as u64)))
}

/// Blocks the client running `ctx` (its command's arguments are `args`)
/// until one of `wait.keys` serves it or its timeout passes. Returns false
/// without blocking when blocking is denied (inside EXEC): the command then
/// replies as on a timeout.
pub fn block(ctx: &mut Ctx<'_>, args: &[Bytes], wait: Wait<'_>) -> bool {
    let blocking = &mut ctx.server.blocking;
    if blocking.denied {
        return false;
    }
    let block = Block {
        db: ctx.client.db,
        keys: wait.keys.to_vec(),
        deadline: wait.timeout.and_then(|t| Instant::now().checked_add(t)),
        wants: wait.wants,
        serve: wait.serve,
        args: args.to_vec(),
    };
    blocking.add(ctx.client.id, block);
    ctx.client.blocked = true;
    true
}

/// Serves the clients blocked on keys that became ready, until no key is
/// ready (see the module documentation). Called after every command.
pub fn serve_ready(server: &mut Server) {
    while let Some((db, key)) = server.blocking.next_ready() {
        serve_key(server, db, &key);
    }
}

/// Serves the clients blocked on `key`, first blocked first, while it
/// exists; those waiting for another type than it holds keep waiting.
fn serve_key(server: &mut Server, db: usize, key: &Bytes) {
    for id in server.blocking.waiters(db, key) {
        let access = server.clock();
        let Some(obj) = server.dbs[db].lookup(key, &access) else {
            return;
        };
        let held = obj.value.type_name();
        if server.blocking.blocked.get(&id).is_none_or(|b| b.wants != held) {
            continue;
        }
        let Some(client) = server.clients.get(&id).cloned() else {
            continue;
        };
        // Never fails: the running client is not blocked.
        let Ok(mut client) = client.try_borrow_mut() else {
            continue;
        };
        let block = server.blocking.remove(id).expect("found blocked just above");
        client.blocked = false;
        if client.killed {
            // CLIENT KILL, closing: it takes nothing.
            continue;
        }
        let mark = client.out.len();
        crate::cmd::run_unblocked(server, &mut client, |ctx| (block.serve)(ctx, key, &block.args));
        if client.reply_mode == ReplyMode::Off {
            client.out.truncate(mark);
        }
        client.wake.notify_one();
    }
}

/// Ends the block of `client` because its deadline passed: replies a null
/// array, as Redis's `replyToBlockedClientTimedOut`. Called by the client's
/// connection.
pub fn time_out(server: &mut Server, client: &mut Client) {
    if crate::replication::master::wait_timed_out(server, client) {
        return;
    }
    if server.blocking.remove(client.id).is_some() {
        client.blocked = false;
        if client.reply_mode != ReplyMode::Off {
            let resp3 = client.resp3();
            Reply::new(&mut client.out, resp3).null_array();
        }
    }
}

/// CLIENT UNBLOCK: ends the block of client `id` as a timeout, or with an
/// `-UNBLOCKED` error when `error`. False when that client is not blocked
/// on keys.
pub fn unblock(server: &mut Server, id: u64, error: bool) -> bool {
    let Some(client) = server.clients.get(&id).cloned() else {
        return false;
    };
    let Ok(mut client) = client.try_borrow_mut() else {
        return false;
    };
    if !client.blocked {
        return false;
    }
    if error {
        const LINE: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
        server.blocking.remove(id);
        client.blocked = false;
        server.stats.record_error(LINE);
        if client.reply_mode != ReplyMode::Off {
            let resp3 = client.resp3();
            Reply::new(&mut client.out, resp3).error(LINE);
        }
    } else {
        time_out(server, &mut client);
    }
    client.wake.notify_one();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &mut Ctx<'_>, _: &Bytes, _: &[Bytes]) -> CmdResult {
        Ok(())
    }

    fn block(db: usize, keys: &[&str]) -> Block {
        Block {
            db,
            keys: keys.iter().map(|k| Bytes::copy_from_slice(k.as_bytes())).collect(),
            deadline: None,
            wants: "list",
            serve: never,
            args: Vec::new(),
        }
    }

    #[test]
    fn timeouts_round_up_to_milliseconds() {
        let ms = |s: &str| parse_timeout(s.as_bytes()).map(|d| d.map(|d| d.as_millis()));
        assert_eq!(ms("0"), Ok(None));
        assert_eq!(ms("1.5"), Ok(Some(1500)));
        assert_eq!(ms("0.00001"), Ok(Some(1)));
        assert_eq!(ms("-0.0001"), Ok(None));
        assert_eq!(ms("-1"), Err(CommandError::err("timeout is negative")));
        assert_eq!(ms("inf"), Err(CommandError::err("timeout is negative")));
        assert_eq!(ms("1e300"), Err(CommandError::err("timeout is negative")));
        assert_eq!(
            ms("x"),
            Err(CommandError::err("timeout is not a float or out of range"))
        );
        assert_eq!(
            ms(" 1"),
            Err(CommandError::err("timeout is not a float or out of range"))
        );
    }

    #[test]
    fn keys_are_ready_once_and_waiters_keep_their_order() {
        let mut b = Blocking::default();
        b.signal(0, b"k");
        assert!(b.ready.is_empty(), "nobody waits");
        b.add(1, block(0, &["k", "k", "j"]));
        b.add(2, block(0, &["k"]));
        b.add(3, block(1, &["k"]));
        assert_eq!(b.waiters(0, b"k"), [1, 2]);
        b.signal(0, b"k");
        b.signal(0, b"k");
        b.signal(0, b"x");
        b.signal(1, b"k");
        assert_eq!(b.next_ready(), Some((0, Bytes::from_static(b"k"))));
        assert_eq!(b.next_ready(), Some((1, Bytes::from_static(b"k"))));
        assert_eq!(b.next_ready(), None);
        assert!(b.remove_client(1));
        assert!(!b.remove_client(1));
        assert_eq!(b.waiters(0, b"k"), [2]);
        assert!(b.waiters(0, b"j").is_empty());
        assert_eq!(b.blocked_clients(), 2);
    }
}
