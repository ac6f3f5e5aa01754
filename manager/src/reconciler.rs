//! The reconcile loop: every second, and whenever the desired or reported
//! state changes, drive every live node to the shards SQLite wants on it
//! (PUT each spec, DELETE what is no longer wanted), then move database
//! statuses and actions forward. It keeps no state that a restart would
//! need: after a restart it re-sends every spec once (PUT is idempotent).
//!
//! A replica counts as up when its process runs; the state of its
//! replication link is reported (`master_link_status`) but not waited for.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::task::JoinSet;

use crate::actions;
use crate::agent::{AgentError, ShardSpec, ShardStatus};
use crate::bdbs::SnapshotRule;
use crate::state::AppState;

/// How often the loop runs without being woken.
pub const INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, sqlx::FromRow)]
struct SpecRow {
    uid: i64,
    bdb_uid: i64,
    role: String,
    node_uid: i64,
    port: i64,
    memory_size: i64,
    shards_count: i64,
    eviction_policy: String,
    password: Option<String>,
    data_persistence: String,
    aof_policy: String,
    snapshot_policy: String,
    master: Option<String>,
    replication: bool,
    failover_timeout_ms: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct BdbState {
    uid: i64,
    status: String,
    memory_size: i64,
}

/// What one pass asked of an agent.
enum Outcome {
    Put {
        node: i64,
        spec: Box<ShardSpec>,
        result: Box<Result<ShardStatus, AgentError>>,
    },
    Delete {
        node: i64,
        uid: i64,
        result: Result<(), AgentError>,
    },
}

/// The loop's memory between passes: specs each agent accepted, and the
/// masters held back (see [`Reconciler::pass`]).
#[derive(Debug, Default)]
pub struct Reconciler {
    applied: HashMap<i64, ShardSpec>,
    held: HashSet<i64>,
}

impl Reconciler {
    /// Runs until the process ends.
    pub async fn run(mut self, state: AppState) {
        loop {
            if let Err(e) = self.pass(&state).await {
                tracing::warn!("reconcile pass failed: {e:#}");
            }
            tokio::select! {
                () = state.reconcile.notified() => {}
                () = tokio::time::sleep(INTERVAL) => {}
            }
        }
    }

    /// One pass: load desired state, call agents, update statuses.
    ///
    /// A master that its live node no longer has (the node came back
    /// without it, e.g. with an empty data dir) is not started again while
    /// a replica of it runs: an empty master would wipe the replica as it
    /// resyncs. The watchdog promotes the replica instead, and the shard
    /// comes back as its replica.
    ///
    /// # Errors
    /// A database failure (the next pass retries).
    pub async fn pass(&mut self, state: &AppState) -> anyhow::Result<()> {
        let desired = load_specs(state).await?;
        let nodes: HashMap<i64, (String, String)> =
            sqlx::query_as::<_, (i64, String, String)>("SELECT uid, agent_url, addr FROM nodes")
                .fetch_all(&state.db)
                .await?
                .into_iter()
                .map(|(uid, url, addr)| (uid, (url, addr)))
                .collect();
        let bdbs: Vec<BdbState> = sqlx::query_as("SELECT uid, status, memory_size FROM bdbs")
            .fetch_all(&state.db)
            .await?;
        let mut calls = JoinSet::new();
        {
            let live = state.live();
            let wanted: HashSet<(i64, i64)> = desired.iter().map(|(n, s)| (*n, s.uid)).collect();
            let active: HashSet<i64> = bdbs
                .iter()
                .filter(|b| b.status == "active" || b.status == "active-change-pending")
                .map(|b| b.uid)
                .collect();
            let mut held = HashSet::new();
            for (node, spec) in &desired {
                let Some((url, addr)) = nodes.get(node) else { continue };
                if !live.node_up(*node) {
                    continue;
                }
                let reported = live.shard(*node, spec.uid);
                let current = self.applied.get(&spec.uid) == Some(spec)
                    && reported.is_some_and(|r| r.port == spec.port && r.role == spec.role);
                if current {
                    continue;
                }
                let here = format!("{addr}:{}", spec.port);
                if spec.role == "master" && reported.is_none() && active.contains(&spec.bdb_uid) {
                    let replica_runs = desired.iter().any(|(n, r)| {
                        r.master.as_deref() == Some(here.as_str())
                            && live.shard(*n, r.uid).is_some_and(|s| s.status == "running")
                    });
                    if replica_runs {
                        if !self.held.contains(&spec.uid) {
                            tracing::warn!(
                                shard = spec.uid,
                                node,
                                "the node came back without this master: its replica is promoted instead of resyncing from an empty master"
                            );
                        }
                        held.insert(spec.uid);
                        continue;
                    }
                }
                let (client, url, spec, node) = (state.agents.clone(), url.clone(), spec.clone(), *node);
                calls.spawn(async move {
                    let result = Box::new(client.put_shard(&url, &spec).await);
                    Outcome::Put {
                        node,
                        spec: Box::new(spec),
                        result,
                    }
                });
            }
            self.held = held;
            for (node, seen) in live.nodes.iter().filter(|(_, n)| n.is_up()) {
                let Some((url, _)) = nodes.get(node) else { continue };
                for shard in seen.shards.iter().filter(|s| !wanted.contains(&(*node, s.uid))) {
                    let (client, url, uid, node) = (state.agents.clone(), url.clone(), shard.uid, *node);
                    calls.spawn(async move {
                        let result = client.delete_shard(&url, uid).await;
                        Outcome::Delete { node, uid, result }
                    });
                }
            }
        }
        let mut rejected: HashMap<i64, String> = HashMap::new();
        while let Some(done) = calls.join_next().await {
            match done {
                Ok(Outcome::Put { node, spec, result }) => match *result {
                    Ok(status) => {
                        tracing::info!(shard = spec.uid, node, status = %status.status, "shard spec applied");
                        let mut live = state.live();
                        if let Some(n) = live.nodes.get_mut(&node) {
                            n.shards.retain(|s| s.uid != status.uid);
                            n.shards.push(status);
                        }
                        self.applied.insert(spec.uid, *spec);
                    }
                    Err(e) => {
                        tracing::warn!(shard = spec.uid, node, "cannot apply shard spec: {e}");
                        self.applied.remove(&spec.uid);
                        if let AgentError::Rejected(why) = e {
                            rejected.insert(spec.bdb_uid, format!("node {node} refused shard {}: {why}", spec.uid));
                        }
                    }
                },
                Ok(Outcome::Delete {
                    node,
                    uid,
                    result: Ok(()),
                }) => {
                    tracing::info!(shard = uid, node, "shard removed");
                    self.applied.remove(&uid);
                    if let Some(n) = state.live().nodes.get_mut(&node) {
                        n.shards.retain(|s| s.uid != uid);
                    }
                }
                Ok(Outcome::Delete {
                    node,
                    uid,
                    result: Err(e),
                }) => {
                    tracing::warn!(shard = uid, node, "cannot remove shard: {e}");
                }
                Err(e) => tracing::error!("agent call task failed: {e}"),
            }
        }
        self.advance(state, &desired, &bdbs, &rejected).await?;
        let limits = bdbs
            .iter()
            .filter(|b| b.status != "delete-pending")
            .map(|b| (b.uid, b.memory_size))
            .collect();
        crate::cluster::sample(state, &limits);
        Ok(())
    }

    /// Moves database statuses and their actions forward.
    async fn advance(
        &self,
        state: &AppState,
        desired: &[(i64, ShardSpec)],
        bdbs: &[BdbState],
        rejected: &HashMap<i64, String>,
    ) -> anyhow::Result<()> {
        for bdb in bdbs {
            match bdb.status.as_str() {
                "pending" | "active-change-pending" => {
                    if let Some(why) = rejected.get(&bdb.uid) {
                        if bdb.status == "pending" {
                            set_status(state, bdb.uid, "creation-failed").await?;
                        }
                        actions::update_for_bdb(&state.db, bdb.uid, "failed", 0, Some(why)).await?;
                        continue;
                    }
                    let mine: Vec<&(i64, ShardSpec)> = desired.iter().filter(|(_, s)| s.bdb_uid == bdb.uid).collect();
                    let up = {
                        let live = state.live();
                        mine.iter()
                            .filter(|(node, spec)| {
                                self.applied.get(&spec.uid) == Some(spec)
                                    && live.shard(*node, spec.uid).is_some_and(|r| r.status == "running")
                            })
                            .count()
                    };
                    if !mine.is_empty() && up == mine.len() {
                        set_status(state, bdb.uid, "active").await?;
                        actions::update_for_bdb(&state.db, bdb.uid, "completed", 100, None).await?;
                        crate::logs::record(state, "system", "bdb_active", &format!("bdb:{}", bdb.uid), "ok").await;
                        tracing::info!(bdb = bdb.uid, "database active");
                    } else {
                        let progress = (up * 100 / mine.len().max(1)) as i64;
                        actions::update_for_bdb(&state.db, bdb.uid, "active", progress, None).await?;
                    }
                }
                "delete-pending" => {
                    let remaining = state
                        .live()
                        .nodes
                        .values()
                        .filter(|n| n.is_up())
                        .flat_map(|n| n.shards.iter())
                        .any(|s| s.bdb_uid == bdb.uid);
                    if !remaining {
                        let mut tx = state.write_tx().await?;
                        sqlx::query("DELETE FROM shards WHERE bdb_uid = ?")
                            .bind(bdb.uid)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM bdbs WHERE uid = ?")
                            .bind(bdb.uid)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        actions::update_for_bdb(&state.db, bdb.uid, "completed", 100, None).await?;
                        crate::logs::record(state, "system", "bdb_deleted", &format!("bdb:{}", bdb.uid), "ok").await;
                        tracing::info!(bdb = bdb.uid, "database deleted");
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

async fn set_status(state: &AppState, uid: i64, status: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bdbs SET status = ? WHERE uid = ?")
        .bind(status)
        .bind(uid)
        .execute(&state.db)
        .await
        .map(drop)
}

/// Every shard SQLite wants running, with the node it belongs on.
pub(crate) async fn load_specs(state: &AppState) -> anyhow::Result<Vec<(i64, ShardSpec)>> {
    let rows: Vec<SpecRow> = sqlx::query_as(
        "SELECT s.uid, s.bdb_uid, s.role, s.node_uid, s.port, b.memory_size, b.shards_count, b.eviction_policy, b.password, \
         b.data_persistence, b.aof_policy, b.snapshot_policy, \
         (SELECT n.addr || ':' || m.port FROM shards m JOIN nodes n ON n.uid = m.node_uid \
          WHERE m.bdb_uid = s.bdb_uid AND m.idx = s.idx AND m.role = 'master') AS master, \
         b.replication, (SELECT failover_timeout_ms FROM cluster WHERE id = 1) AS failover_timeout_ms \
         FROM shards s JOIN bdbs b ON b.uid = s.bdb_uid \
         WHERE b.status NOT IN ('delete-pending', 'creation-failed') ORDER BY s.uid",
    )
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let snapshot_policy: Vec<SnapshotRule> = serde_json::from_str(&r.snapshot_policy)?;
            let replica = r.role == "replica";
            Ok((
                r.node_uid,
                ShardSpec {
                    uid: r.uid,
                    bdb_uid: r.bdb_uid,
                    port: u16::try_from(r.port)?,
                    master: if replica { r.master } else { None },
                    role: r.role,
                    memory_size: r.memory_size / r.shards_count.max(1),
                    eviction_policy: r.eviction_policy,
                    password: r.password,
                    data_persistence: r.data_persistence,
                    aof_policy: r.aof_policy,
                    snapshot_policy,
                    restart_hold_ms: if r.replication && !replica {
                        crate::failover::restart_hold_ms(r.failover_timeout_ms)
                    } else {
                        0
                    },
                    fence_after_ms: if r.replication && !replica {
                        crate::failover::fence_after_ms(r.failover_timeout_ms)
                    } else {
                        0
                    },
                },
            ))
        })
        .collect()
}
