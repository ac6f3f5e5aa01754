//! Failure detection: every [`PROBE_EVERY`] the watchdog PINGs each master
//! shard of a replicated database over RESP and reads the agents' last
//! reports. A master is failed once, for `failover_timeout_ms` (from
//! `/v1/cluster`) without a break, its PING failed or timed out (a crashed,
//! paused or hung process; `-LOADING` is alive) or its agent reported the process not running;
//! then [`crate::failover`] promotes its replica. A node without heartbeats
//! for `node_lost_timeout_ms` has its replicas re-created elsewhere, retried
//! every [`RETRY_MOVES_EVERY`] for those that found no room.
//!
//! A node whose agent stops heartbeating but whose shards answer PING
//! causes no failover (an agent restart is not a data-plane failure). The
//! watchdog keeps only in-memory suspicion; a restarted manager waits a full
//! timeout of fresh observations before it acts, so it redoes nothing.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::failover::{self, Trigger};
use crate::state::AppState;

/// How long a lost node's replicas that found no room wait before another try.
const RETRY_MOVES_EVERY: Duration = Duration::from_secs(10);
/// How long a master whose failover was refused (no replica fit to
/// promote) waits before another try, so the event log gets one line a
/// second rather than one per pass.
const RETRY_FAILOVER_EVERY: Duration = Duration::from_secs(1);
/// How often masters are probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);
/// The longest one PING may take before it counts as failed.
const PING_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, sqlx::FromRow)]
struct Master {
    uid: i64,
    node_uid: i64,
    addr: String,
    password: Option<String>,
}

/// Suspicions between passes.
#[derive(Debug)]
pub struct Watchdog {
    started: Instant,
    /// Master shard uid → when it was first seen failed without a break since.
    failing: HashMap<i64, Instant>,
    /// Failed masters whose failover was refused, and when to try again.
    retry: HashMap<i64, Instant>,
    /// Lost nodes whose replicas were all moved (until they come back).
    moved: HashSet<i64>,
    /// Lost nodes with replicas that found no room, and when to try again.
    stuck: HashMap<i64, Instant>,
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog {
            started: Instant::now(),
            failing: HashMap::new(),
            retry: HashMap::new(),
            moved: HashSet::new(),
            stuck: HashMap::new(),
        }
    }
}

impl Watchdog {
    /// Runs until the process ends.
    pub async fn run(mut self, state: AppState) {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.pass(&state).await {
                tracing::warn!("watchdog pass failed: {e:#}");
            }
        }
    }

    /// One pass: probe, update suspicions, fail over what is past the threshold.
    ///
    /// # Errors
    /// A database failure (the next pass retries).
    pub async fn pass(&mut self, state: &AppState) -> anyhow::Result<()> {
        let (failover_ms, lost_ms): (i64, i64) =
            sqlx::query_as("SELECT failover_timeout_ms, node_lost_timeout_ms FROM cluster WHERE id = 1")
                .fetch_one(&state.db)
                .await?;
        let threshold = Duration::from_millis(u64::try_from(failover_ms).unwrap_or(1500));
        let masters: Vec<Master> = sqlx::query_as(
            "SELECT s.uid, s.node_uid, n.addr || ':' || s.port AS addr, b.password \
             FROM shards s JOIN nodes n ON n.uid = s.node_uid JOIN bdbs b ON b.uid = s.bdb_uid \
             WHERE s.role = 'master' AND b.replication AND b.status IN ('active', 'active-change-pending')",
        )
        .fetch_all(&state.db)
        .await?;
        let mut probes = JoinSet::new();
        for m in &masters {
            let (uid, addr, password) = (m.uid, m.addr.clone(), m.password.clone());
            probes.spawn(async move {
                let at = Instant::now();
                let ok = crate::shard_client::alive(&addr, password.as_deref(), PING_TIMEOUT).await;
                (uid, ok, at)
            });
        }
        let mut answered = HashMap::new();
        while let Some(done) = probes.join_next().await {
            if let Ok((uid, ok, at)) = done {
                answered.insert(uid, (ok, at));
            }
        }
        let now = Instant::now();
        let mut due = Vec::new();
        {
            let live = state.live();
            self.failing.retain(|uid, _| masters.iter().any(|m| m.uid == *uid));
            self.retry.retain(|uid, _| self.failing.contains_key(uid));
            for m in &masters {
                let (ping_ok, at) = answered.get(&m.uid).copied().unwrap_or((false, now));
                // The agent's word counts only when its node reports.
                let reported_down = live
                    .shard(m.node_uid, m.uid)
                    .is_some_and(|s| s.status != "running" && s.status != "starting");
                if ping_ok && !reported_down {
                    if self.failing.remove(&m.uid).is_some() {
                        tracing::info!(shard = m.uid, "master answers again");
                    }
                    continue;
                }
                let since = *self.failing.entry(m.uid).or_insert_with(|| {
                    tracing::warn!(shard = m.uid, addr = %m.addr, ping_ok, reported_down, "master suspected failed");
                    at
                });
                // A fresh manager acts on its own observations only.
                if now.duration_since(since) >= threshold
                    && self.started.elapsed() >= threshold
                    && self.retry.get(&m.uid).is_none_or(|at| now >= *at)
                {
                    due.push((m.uid, since));
                }
            }
        }
        for (uid, since) in due {
            match failover::fail_over(state, uid, Trigger::Detected(since)).await {
                Ok(_) => {
                    self.failing.remove(&uid);
                    self.retry.remove(&uid);
                }
                Err(e) => {
                    tracing::warn!(shard = uid, "automatic failover not possible yet: {e}");
                    self.retry.insert(uid, Instant::now() + RETRY_FAILOVER_EVERY);
                }
            }
        }
        self.heal(state, Duration::from_millis(u64::try_from(lost_ms).unwrap_or(30_000)))
            .await
    }

    /// Re-creates the replicas of nodes silent for longer than `lost_after`.
    async fn heal(&mut self, state: &AppState, lost_after: Duration) -> anyhow::Result<()> {
        if self.started.elapsed() < lost_after {
            return Ok(());
        }
        let nodes: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT node_uid FROM shards WHERE role = 'replica'")
            .fetch_all(&state.db)
            .await?;
        let lost: Vec<i64> = {
            let live = state.live();
            let is_lost = |uid: &i64| live.nodes.get(uid).is_none_or(|n| n.last_seen.elapsed() >= lost_after);
            self.moved.retain(is_lost);
            self.stuck.retain(|n, _| is_lost(n));
            let now = Instant::now();
            nodes
                .into_iter()
                .filter(|n| is_lost(n) && !self.moved.contains(n) && self.stuck.get(n).is_none_or(|at| now >= *at))
                .collect()
        };
        for node in lost {
            if !self.stuck.contains_key(&node) {
                tracing::warn!(node, "node lost: re-creating its replicas elsewhere");
                crate::logs::record(state, "system", "node_lost", &format!("node:{node}"), "ok").await;
            }
            if failover::recreate_replicas(state, node).await? == 0 {
                self.stuck.remove(&node);
                self.moved.insert(node);
            } else {
                // Room may come: a node added, a database shrunk or deleted.
                self.stuck.insert(node, Instant::now() + RETRY_MOVES_EVERY);
            }
        }
        Ok(())
    }
}
