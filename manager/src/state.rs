//! The manager's shared state: the SQLite pool (desired state), what the
//! agents last reported (live state, in memory), sessions and the
//! wake-up signals of the reconciler and topology watchers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::{Notify, watch};

use crate::agent::{AgentClient, NodeStats, ShardStatus};
use crate::metrics::Metrics;
use crate::tls::TlsMaterial;

/// A node is down after this long without a heartbeat.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many per-second samples the stats series keep.
pub const SERIES_LEN: usize = 300;

/// Cheap to clone; every handler and task holds one.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: SqlitePool,
    pub cluster_token: String,
    pub agents: AgentClient,
    pub tls: Option<TlsMaterial>,
    pub metrics: Metrics,
    /// Wakes the reconciler early (a change of desired or reported state).
    pub reconcile: Notify,
    /// The current topology epoch; topology long-polls wait on it.
    pub epoch: watch::Sender<i64>,
    /// Held by a failover or replica move: one change of roles at a time.
    pub failover_lock: tokio::sync::Mutex<()>,
    live: Mutex<Live>,
    sessions: Mutex<HashMap<String, Session>>,
}

/// A bearer token handed out by `POST /v1/users/authorize`.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_uid: i64,
    pub expires: Instant,
}

/// What the manager knows from heartbeats. Lost on restart, rebuilt within a second.
#[derive(Debug, Default)]
pub struct Live {
    pub nodes: HashMap<i64, NodeLive>,
    pub bdb_series: HashMap<i64, VecDeque<BdbSample>>,
    pub cluster_series: VecDeque<ClusterSample>,
}

#[derive(Debug, Clone)]
pub struct NodeLive {
    pub last_seen: Instant,
    pub stats: NodeStats,
    pub shards: Vec<ShardStatus>,
}

impl NodeLive {
    pub fn is_up(&self) -> bool {
        self.last_seen.elapsed() < NODE_TIMEOUT
    }
}

impl Live {
    pub fn node_up(&self, uid: i64) -> bool {
        self.nodes.get(&uid).is_some_and(NodeLive::is_up)
    }

    /// The last report of shard `uid` from its node, if that node is up.
    pub fn shard(&self, node_uid: i64, uid: i64) -> Option<&ShardStatus> {
        self.nodes
            .get(&node_uid)
            .filter(|n| n.is_up())?
            .shards
            .iter()
            .find(|s| s.uid == uid)
    }
}

/// One second of a database's figures.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BdbSample {
    /// Unix time in seconds.
    pub time: i64,
    pub ops_per_sec: f64,
    pub used_memory: i64,
    pub memory_limit: i64,
    pub keys: i64,
    pub connections: i64,
    pub shards_running: i64,
    /// Average latency of operations on the masters, in microseconds (as
    /// Redis Enterprise's `avg_latency`); only present when there is traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_latency: Option<f64>,
}

/// One second of the cluster's figures.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ClusterSample {
    /// Unix time in seconds.
    pub time: i64,
    pub ops_per_sec: f64,
    pub nodes_up: i64,
    pub cpu_percent: f64,
    pub used_memory: i64,
    pub free_disk: i64,
    pub connections: i64,
    /// Average latency of operations on all masters, in microseconds; only
    /// present when there is traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_latency: Option<f64>,
}

impl AppState {
    pub fn new(db: SqlitePool, cluster_token: String, tls: Option<TlsMaterial>, epoch: i64) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Shared {
            db,
            agents: AgentClient::new(cluster_token.clone())?,
            cluster_token,
            tls,
            metrics: Metrics::new()?,
            reconcile: Notify::new(),
            epoch: watch::Sender::new(epoch),
            failover_lock: tokio::sync::Mutex::new(()),
            live: Mutex::new(Live::default()),
            sessions: Mutex::new(HashMap::new()),
        })))
    }

    /// Starts a transaction that takes SQLite's write lock at once
    /// (`BEGIN IMMEDIATE`). A deferred transaction that reads first and writes
    /// later cannot wait for the lock when another connection wrote in
    /// between: SQLite answers "database is locked" at once, busy timeout or
    /// not. Every transaction here writes, so every one starts immediate.
    pub async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.db.begin_with("BEGIN IMMEDIATE").await
    }

    /// The live state; never hold the guard across an await.
    pub fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes a new topology epoch (already committed to SQLite).
    pub fn publish_epoch(&self, epoch: i64) {
        self.epoch.send_if_modified(|e| {
            let newer = epoch > *e;
            if newer {
                *e = epoch;
            }
            newer
        });
        self.reconcile.notify_one();
    }
}

/// Bumps the topology epoch inside `tx`; returns the new value to publish after commit.
pub async fn bump_epoch(tx: &mut sqlx::SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE cluster SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
        .fetch_one(tx)
        .await
}
