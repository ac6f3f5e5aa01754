//! Key eviction under `maxmemory`, as Redis 7.0's `evict.c`.
//!
//! Before a command runs, when the memory in use ([`used_memory`]) is over
//! `maxmemory`, keys are deleted by `maxmemory-policy` until it is under the
//! limit again, nothing evictable remains, or the time budget of
//! `maxmemory-eviction-tenacity` is spent (the cron then carries on). A
//! command flagged DENYOOM — and any command queued inside MULTI — is then
//! refused with `-OOM` while memory stays over the limit ([`admit`]).
//!
//! The LRU, LFU and TTL policies approximate the best candidate as Redis
//! does: each round samples `maxmemory-samples` keys of every database and
//! merges them into a pool of the 16 best candidates seen so far (kept across
//! runs); the best one still present is evicted. The random policies take a
//! random key of the next database in turn. The `volatile-*` policies only
//! consider keys with a TTL.
//!
//! An eviction is a deletion like any other for WATCH; it counts in INFO
//! `evicted_keys` and publishes an `evicted` keyspace event. Evicted values
//! are freed at once (`lazyfree-lazy-eviction` is not applied: freeing in
//! the background would hide how much a deletion freed).
//!
//! A pass cut short by its time budget goes on before the next command and
//! from the cron, as Redis's eviction timer does. The keyspace tables do not
//! grow their bucket arrays past `maxmemory` either ([`table_growth_allowed`],
//! Redis's `dictExpandAllowed`): a table that doubled right after a pass
//! would otherwise overshoot the limit by its whole new array.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::cmd::{Command, CommandError, event, flag};
use crate::config::MaxmemoryPolicy;
use crate::keyspace::{Db, Key, lfu};
use crate::pubsub::Running;
use crate::reply::Reply;
use crate::server::Server;

/// Candidates kept between runs (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;

/// The LRU clock wraps at 2^24 seconds (Redis's `LRU_CLOCK_MAX`).
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// The error of a command refused because memory is over the limit.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// What an eviction run achieved (Redis's `EVICT_OK`, `EVICT_RUNNING`,
/// `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is under the limit (or there is no limit).
    Ok,
    /// Still over the limit, but the time budget ran out: the cron goes on.
    Running,
    /// Still over the limit and nothing (more) can be evicted.
    Fail,
}

/// A candidate for eviction: a key with its score (higher: better).
#[derive(Debug)]
struct Candidate {
    score: u64,
    db: usize,
    key: Key,
}

/// The eviction state kept between runs.
#[derive(Debug, Default)]
pub struct Evictor {
    /// The best candidates seen, worst first.
    pool: Vec<Candidate>,
    /// Database of the last random eviction (the next one starts after it).
    next_db: usize,
    /// A pass stopped on its time budget: the cron continues it.
    running: bool,
}

impl Evictor {
    /// Merges a sampled key into the pool as Redis's `evictionPoolPopulate`:
    /// when the pool is full, a key worse than all of it is dropped, and a
    /// better one pushes out the worst.
    fn offer(&mut self, score: u64, db: usize, key: &Key) {
        let pool = &mut self.pool;
        let k = pool.iter().position(|c| c.score >= score).unwrap_or(pool.len());
        let candidate = Candidate {
            score,
            db,
            key: key.clone(),
        };
        if pool.len() < POOL_SIZE {
            pool.insert(k, candidate);
        } else if k > 0 {
            pool.remove(0);
            pool.insert(k - 1, candidate);
        }
    }
}

/// `maxmemory` as of the last command, for [`table_growth_allowed`], which
/// runs deep inside the keyspace tables.
static MAXMEMORY: AtomicU64 = AtomicU64::new(0);

/// Above this load factor a keyspace table grows whatever the memory
/// (Redis's `HASHTABLE_MAX_LOAD_FACTOR`).
const MAX_LOAD_FACTOR: f64 = 1.618;

/// Whether a keyspace table may grow its buckets by `bytes` at load factor
/// `load` (Redis's `dictExpandAllowed`): not when that would take memory
/// over `maxmemory`, unless the table is very full.
pub fn table_growth_allowed(bytes: usize, load: f64) -> bool {
    if load > MAX_LOAD_FACTOR {
        return true;
    }
    let limit = MAXMEMORY.load(Ordering::Relaxed);
    limit == 0 || (used_memory() + bytes) as u64 <= limit
}

/// The memory counted against `maxmemory`: every byte the process has
/// allocated (there are no replication or AOF buffers to leave out). One
/// atomic load.
#[inline]
pub fn used_memory() -> usize {
    crate::alloc::allocated()
}

/// Bytes to free to get under `maxmemory` (0: under it, or no limit).
fn over_limit(maxmemory: u64) -> u64 {
    (used_memory() as u64).saturating_sub(maxmemory)
}

/// How long one run may evict (Redis's `evictionTimeLimitUs`): 50 µs per
/// step of tenacity up to 10, then 15% more per step, unlimited at 100.
fn time_limit(tenacity: u32) -> Duration {
    match tenacity {
        0..=10 => Duration::from_micros(50 * u64::from(tenacity)),
        11..=99 => Duration::from_micros((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64),
        _ => Duration::MAX,
    }
}

/// The maxmemory check before `cmd` runs for `client` (Redis's
/// `processCommand`): evicts as the policy allows (the client's own
/// `evicted` events go into `out`); if memory stays over the limit, refuses
/// DENYOOM commands, an EXEC that queued one, and every command sent inside
/// MULTI but EXEC, DISCARD, QUIT and RESET.
#[inline]
pub fn admit(server: &mut Server, client: &Client, cmd: &Command, out: &mut Reply<'_>) -> Result<(), CommandError> {
    let maxmemory = server.config.maxmemory;
    MAXMEMORY.store(maxmemory, Ordering::Relaxed);
    if maxmemory == 0 {
        return Ok(());
    }
    let mut running = Running { id: client.id, out };
    if perform(server, Some(&mut running)) != Outcome::Fail {
        return Ok(());
    }
    let multi = &client.multi;
    let refused = cmd.flags & flag::DENYOOM != 0
        || (cmd.name == "exec" && multi.queued_flags() & flag::DENYOOM != 0)
        || (multi.is_active() && !matches!(cmd.name, "exec" | "discard" | "quit" | "reset"));
    if refused {
        Err(CommandError::Other(OOM.into()))
    } else {
        Ok(())
    }
}

/// Runs an eviction pass (Redis's `performEvictions`); evicted events of
/// the running client (if any) go into its reply.
pub fn perform(server: &mut Server, mut running: Option<&mut Running<'_, '_>>) -> Outcome {
    let maxmemory = server.config.maxmemory;
    // While clients are paused the dataset must not change.
    // A replica leaves evictions to its master (`replica-ignore-maxmemory`).
    let ignored = server.repl.is_replica() && server.config.replica_ignore_maxmemory;
    if maxmemory == 0 || server.pause_mode().is_some() || ignored {
        server.evictor.running = false;
        return Outcome::Ok;
    }
    let to_free = over_limit(maxmemory);
    if to_free == 0 {
        server.evictor.running = false;
        return Outcome::Ok;
    }
    if server.config.maxmemory_policy == MaxmemoryPolicy::NoEviction {
        return Outcome::Fail;
    }
    let start = Instant::now();
    let limit = time_limit(server.config.maxmemory_eviction_tenacity);
    let threshold = server.config.latency_monitor_threshold;
    let mut freed = 0u64;
    let mut evicted = 0u64;
    let mut outcome = Outcome::Ok;
    while freed < to_free {
        let Some((db, key)) = pick(server) else {
            outcome = Outcome::Fail;
            break;
        };
        let before = used_memory();
        let del_start = Instant::now();
        drop(server.dbs[db].remove(&key));
        let took = del_start.elapsed();
        freed += before.saturating_sub(used_memory()) as u64;
        add_latency(server, threshold, "eviction-del", took);
        server.stats.evicted_keys += 1;
        server.touch_watched_key(db, &key);
        // Each eviction propagates on its own, before the command that caused it.
        let lazy = server.config.lazyfree_lazy_eviction;
        server
            .propagator
            .deleted(db, [bytes::Bytes::copy_from_slice(&key)], lazy);
        server.propagator.commit();
        crate::pubsub::notify_keyspace_event(server, running.as_deref_mut(), event::EVICTED, "evicted", &key, db);
        evicted += 1;
        if evicted.is_multiple_of(16) && start.elapsed() > limit {
            outcome = Outcome::Running;
            break;
        }
    }
    add_latency(server, threshold, "eviction-cycle", start.elapsed());
    server.evictor.running = outcome == Outcome::Running;
    outcome
}

/// Continues a pass that stopped on its time budget (called by the cron).
pub fn cron(server: &mut Server) {
    if server.evictor.running {
        perform(server, None);
    }
}

/// Records a latency monitor sample for `event` when it reached the
/// threshold (0: the monitor is off).
fn add_latency(server: &mut Server, threshold_ms: u64, event: &'static str, took: Duration) {
    let ms = took.as_millis() as u64;
    if threshold_ms > 0 && ms >= threshold_ms {
        server.latency.add(event, ms, crate::server::unix_ms() / 1000);
    }
}

/// The key to evict next by the policy, if any.
fn pick(server: &mut Server) -> Option<(usize, Key)> {
    let policy = server.config.maxmemory_policy;
    match policy {
        MaxmemoryPolicy::NoEviction => None,
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => pick_random(server, policy),
        _ => pick_from_pool(server, policy),
    }
}

/// A random key (with a TTL for `volatile-random`) of the next database
/// that has one, databases taken in turn.
fn pick_random(server: &mut Server, policy: MaxmemoryPolicy) -> Option<(usize, Key)> {
    let Server { dbs, rng, evictor, .. } = server;
    for _ in 0..dbs.len() {
        evictor.next_db = (evictor.next_db + 1) % dbs.len();
        let db = &dbs[evictor.next_db];
        let key = if policy.is_volatile() {
            db.expires().random_entry(rng).map(|(k, _)| k)
        } else {
            db.keys().random_entry(rng).map(|(k, _)| k)
        };
        if let Some(key) = key {
            return Some((evictor.next_db, key.clone()));
        }
    }
    None
}

/// The best candidate of the pool still present, after merging a new
/// sample of every database into it (Redis's LRU, LFU and TTL policies).
fn pick_from_pool(server: &mut Server, policy: MaxmemoryPolicy) -> Option<(usize, Key)> {
    let access = server.clock();
    let samples = server.config.maxmemory_samples.max(1);
    let decay = server.config.lfu_decay_time;
    let volatile = policy.is_volatile();
    // Higher is a better candidate: idle milliseconds, or 255 minus the
    // access frequency.
    let object_score = |stamp: u32| -> u64 {
        if policy.is_lfu() {
            255 - u64::from(lfu::decayed(stamp, access.now_ms, decay).min(255))
        } else {
            let now = access.lru_clock;
            let idle = if now >= stamp {
                now - stamp
            } else {
                now + (LRU_CLOCK_MAX - stamp)
            };
            u64::from(idle) * 1000
        }
    };
    let Server { dbs, rng, evictor, .. } = server;
    loop {
        let mut total = 0;
        for (i, db) in dbs.iter().enumerate() {
            let n = if volatile { db.expires_len() } else { db.len() };
            if n == 0 {
                continue;
            }
            total += n;
            for _ in 0..samples {
                let sampled = if !volatile {
                    db.keys().random_entry(rng).map(|(k, o)| (k, object_score(o.access)))
                } else {
                    db.expires().random_entry(rng).and_then(|(k, &at)| {
                        if policy == MaxmemoryPolicy::VolatileTtl {
                            // The sooner it expires, the better.
                            Some((k, u64::MAX - at.max(0) as u64))
                        } else {
                            db.keys().get(k).map(|o| (k, object_score(o.access)))
                        }
                    })
                };
                if let Some((key, score)) = sampled {
                    evictor.offer(score, i, key);
                }
            }
        }
        if total == 0 {
            return None;
        }
        // Best first; candidates whose key is gone (or lost its TTL) are dropped.
        while let Some(c) = evictor.pool.pop() {
            if is_candidate(&dbs[c.db], &c.key, volatile) {
                return Some((c.db, c.key));
            }
        }
    }
}

/// Whether `key` may still be evicted from `db`.
fn is_candidate(db: &Db, key: &[u8], volatile: bool) -> bool {
    if volatile {
        db.expire_at(key).is_some()
    } else {
        db.keys().contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.as_bytes().into()
    }

    #[test]
    fn the_pool_keeps_the_best_candidates_in_order() {
        let mut e = Evictor::default();
        for score in [5u64, 1, 9, 3] {
            e.offer(score, 0, &key(&score.to_string()));
        }
        let scores: Vec<u64> = e.pool.iter().map(|c| c.score).collect();
        assert_eq!(scores, [1, 3, 5, 9]);
        for score in 100..100 + POOL_SIZE as u64 {
            e.offer(score, 1, &key("x"));
        }
        assert_eq!(e.pool.len(), POOL_SIZE);
        // Full: a worse key than all is dropped, a better one pushes out the worst.
        e.offer(0, 0, &key("worse"));
        assert!(e.pool.iter().all(|c| &*c.key != b"worse"));
        e.offer(1000, 0, &key("best"));
        assert_eq!(&*e.pool.last().expect("full").key, b"best");
        assert!(e.pool.windows(2).all(|w| w[0].score <= w[1].score));
    }

    #[test]
    fn time_limits_follow_tenacity() {
        assert_eq!(time_limit(0), Duration::ZERO);
        assert_eq!(time_limit(10), Duration::from_micros(500));
        assert_eq!(time_limit(11), Duration::from_micros(575));
        assert!(time_limit(99) > Duration::from_secs(60));
        assert_eq!(time_limit(100), Duration::MAX);
    }
}
