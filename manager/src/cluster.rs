//! `/v1/cluster`: cluster settings, and the per-second stats series of the
//! cluster and of each database (`/v1/cluster/stats`, `/v1/bdbs/{uid}/stats`),
//! sampled from heartbeats and kept in memory.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::logs::audit;
use crate::state::{AppState, BdbSample, ClusterSample, SERIES_LEN};

/// Cluster-wide settings.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Cluster {
    pub name: String,
    pub created_time: String,
    /// The topology epoch: grows with every change of routing state.
    pub epoch: i64,
    /// A master shard that fails the manager's probes (or whose process is
    /// reported down) for this long is failed over to its replica.
    pub failover_timeout_ms: i64,
    /// A node without heartbeats for this long is lost: the replicas it held
    /// are re-created on other nodes when capacity allows.
    pub node_lost_timeout_ms: i64,
}

/// Changes to the cluster settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterUpdate {
    pub name: Option<String>,
    /// 200 to 60000.
    pub failover_timeout_ms: Option<i64>,
    /// 1000 to 86400000, and more than `failover_timeout_ms`.
    pub node_lost_timeout_ms: Option<i64>,
}

/// Bounds of `failover_timeout_ms`.
pub const FAILOVER_TIMEOUT_MS: std::ops::RangeInclusive<i64> = 200..=60_000;
/// Bounds of `node_lost_timeout_ms`.
pub const NODE_LOST_TIMEOUT_MS: std::ops::RangeInclusive<i64> = 1_000..=86_400_000;

/// A per-second series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats<T> {
    /// Always `1sec`.
    pub interval: String,
    pub samples: Vec<T>,
}

async fn load(state: &AppState) -> ApiResult<Cluster> {
    Ok(sqlx::query_as(
        "SELECT name, created_time, epoch, failover_timeout_ms, node_lost_timeout_ms FROM cluster WHERE id = 1",
    )
    .fetch_one(&state.db)
    .await?)
}

/// The cluster settings.
#[utoipa::path(get, path = "/v1/cluster", tag = "cluster",
    responses((status = 200, body = Cluster), (status = 401, body = crate::error::ErrorBody)))]
pub async fn get_cluster(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Cluster>> {
    caller.require(Permission::ViewCluster)?;
    load(&state).await.map(Json)
}

/// Changes the cluster settings.
#[utoipa::path(put, path = "/v1/cluster", tag = "cluster", request_body = ClusterUpdate,
    responses((status = 200, body = Cluster), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn put_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Json(update): Json<ClusterUpdate>,
) -> ApiResult<Json<Cluster>> {
    caller.require(Permission::EditCluster)?;
    let result = async {
        if let Some(name) = &update.name
            && (name.is_empty() || name.len() > 128 || name.chars().any(char::is_control))
        {
            return Err(ApiError::bad_request(
                "invalid_name",
                "a cluster name is 1 to 128 printable characters",
            ));
        }
        let current = load(&state).await?;
        let failover = update.failover_timeout_ms.unwrap_or(current.failover_timeout_ms);
        let lost = update.node_lost_timeout_ms.unwrap_or(current.node_lost_timeout_ms);
        if !FAILOVER_TIMEOUT_MS.contains(&failover) {
            return Err(ApiError::bad_request(
                "invalid_failover_timeout",
                format!(
                    "failover_timeout_ms must be between {} and {}",
                    FAILOVER_TIMEOUT_MS.start(),
                    FAILOVER_TIMEOUT_MS.end()
                ),
            ));
        }
        if !NODE_LOST_TIMEOUT_MS.contains(&lost) || lost <= failover {
            return Err(ApiError::bad_request(
                "invalid_node_lost_timeout",
                format!(
                    "node_lost_timeout_ms must be between {} and {} and more than failover_timeout_ms",
                    NODE_LOST_TIMEOUT_MS.start(),
                    NODE_LOST_TIMEOUT_MS.end()
                ),
            ));
        }
        if let Some(name) = &update.name {
            sqlx::query("UPDATE cluster SET name = ? WHERE id = 1")
                .bind(name)
                .execute(&state.db)
                .await?;
        }
        sqlx::query("UPDATE cluster SET failover_timeout_ms = ?, node_lost_timeout_ms = ? WHERE id = 1")
            .bind(failover)
            .bind(lost)
            .execute(&state.db)
            .await?;
        load(&state).await
    }
    .await;
    audit(&state, &caller, "cluster_update", "cluster", result)
        .await
        .map(Json)
}

/// The cluster's recent per-second figures (last 5 minutes).
#[utoipa::path(get, path = "/v1/cluster/stats", tag = "cluster",
    responses((status = 200, body = Stats<ClusterSample>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn cluster_stats(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Stats<ClusterSample>>> {
    caller.require(Permission::ViewCluster)?;
    let samples = state.live().cluster_series.iter().cloned().collect();
    Ok(Json(Stats {
        interval: "1sec".to_owned(),
        samples,
    }))
}

/// A database's recent per-second figures (last 5 minutes).
#[utoipa::path(get, path = "/v1/bdbs/{uid}/stats", tag = "bdbs", params(("uid" = i64, Path)),
    responses((status = 200, body = Stats<BdbSample>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn bdb_stats(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
) -> ApiResult<Json<Stats<BdbSample>>> {
    caller.require(Permission::ViewDb)?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT uid FROM bdbs WHERE uid = ?")
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    exists.ok_or_else(|| ApiError::not_found("db_not_found", format!("there is no database {uid}")))?;
    let samples = state
        .live()
        .bdb_series
        .get(&uid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    Ok(Json(Stats {
        interval: "1sec".to_owned(),
        samples,
    }))
}

/// A mean of shard latencies weighted by their ops/s.
#[derive(Default)]
struct Latency {
    sum: f64,
    weight: f64,
}

impl Latency {
    fn add(&mut self, s: &crate::agent::ShardStatus) {
        if let Some(usec) = s.avg_latency
            && s.role == "master"
        {
            // A shard with calls in the interval counts even if its ops/s
            // rounds to 0.
            let weight = s.ops_per_sec.max(1.0);
            self.sum += usec * weight;
            self.weight += weight;
        }
    }

    fn mean(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| self.sum / self.weight)
    }
}

/// Appends one sample per database and one for the cluster, from the last
/// heartbeats. `bdbs` maps each database to its memory limit.
pub fn sample(state: &AppState, bdbs: &HashMap<i64, i64>) {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut live = state.live();
    let mut per_bdb: HashMap<i64, (BdbSample, Latency)> = bdbs
        .iter()
        .map(|(&uid, &memory_limit)| {
            let sample = BdbSample {
                time,
                ops_per_sec: 0.0,
                used_memory: 0,
                memory_limit,
                keys: 0,
                connections: 0,
                shards_running: 0,
                avg_latency: None,
            };
            (uid, (sample, Latency::default()))
        })
        .collect();
    let mut c = ClusterSample {
        time,
        ops_per_sec: 0.0,
        nodes_up: 0,
        cpu_percent: 0.0,
        used_memory: 0,
        free_disk: 0,
        connections: 0,
        avg_latency: None,
    };
    let mut cluster_latency = Latency::default();
    for node in live.nodes.values().filter(|n| n.is_up()) {
        c.nodes_up += 1;
        c.cpu_percent += node.stats.cpu_percent;
        c.used_memory += node.stats.used_memory;
        c.free_disk += node.stats.free_disk;
        for s in &node.shards {
            c.ops_per_sec += s.ops_per_sec;
            c.connections += s.connected_clients;
            cluster_latency.add(s);
            if let Some((b, latency)) = per_bdb.get_mut(&s.bdb_uid) {
                b.ops_per_sec += s.ops_per_sec;
                b.used_memory += s.used_memory;
                b.connections += s.connected_clients;
                latency.add(s);
                if s.role == "master" {
                    b.keys += s.keys;
                }
                if s.status == "running" {
                    b.shards_running += 1;
                }
            }
        }
    }
    if c.nodes_up > 0 {
        c.cpu_percent /= c.nodes_up as f64;
    }
    c.avg_latency = cluster_latency.mean();
    live.bdb_series.retain(|uid, _| bdbs.contains_key(uid));
    for (uid, (mut s, latency)) in per_bdb {
        s.avg_latency = latency.mean();
        let series = live.bdb_series.entry(uid).or_default();
        if series.len() == SERIES_LEN {
            series.pop_front();
        }
        series.push_back(s);
    }
    if live.cluster_series.len() == SERIES_LEN {
        live.cluster_series.pop_front();
    }
    live.cluster_series.push_back(c);
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cluster", get(get_cluster).put(put_cluster))
        .route("/v1/cluster/stats", get(cluster_stats))
        .route("/v1/bdbs/{uid}/stats", get(bdb_stats))
}
