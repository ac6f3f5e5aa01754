//! `/v1/internal`: what agents and proxies call with the cluster token —
//! node registration, heartbeats and the topology long-poll.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::agent::{Heartbeat, HeartbeatReply, NodeInfo, Registered};
use crate::auth::ClusterToken;
use crate::error::{ApiError, ApiResult, Json, Path, Query};
use crate::logs;
use crate::scheduler::slot_range;
use crate::state::{AppState, NodeLive};

/// How long a topology request waits for a newer epoch.
pub const LONG_POLL: Duration = Duration::from_secs(30);

/// Registers a node, or re-registers one that kept its uid.
#[utoipa::path(post, path = "/v1/internal/nodes", tag = "internal", request_body = NodeInfo,
    responses((status = 200, body = Registered), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    _: ClusterToken,
    Json(info): Json<NodeInfo>,
) -> ApiResult<Json<Registered>> {
    if info.addr.is_empty() || info.agent_url.is_empty() {
        return Err(ApiError::bad_request("invalid_node", "addr and agent_url are required"));
    }
    if info.shard_ports[0] == 0 || info.shard_ports[0] > info.shard_ports[1] {
        return Err(ApiError::bad_request(
            "invalid_node",
            "shard_ports must be a range [low, high] of ports",
        ));
    }
    let mut tx = state.write_tx().await?;
    // A node that lost its uid but keeps its agent URL is the same node.
    let known: Option<i64> = match info.uid {
        Some(uid) => Some(uid),
        None => {
            sqlx::query_scalar("SELECT uid FROM nodes WHERE agent_url = ?")
                .bind(&info.agent_url)
                .fetch_optional(&mut *tx)
                .await?
        }
    };
    if let Some(uid) = known {
        // Another node registered this agent URL since: it moved here.
        sqlx::query("DELETE FROM nodes WHERE agent_url = ? AND uid != ? AND uid NOT IN (SELECT node_uid FROM shards)")
            .bind(&info.agent_url)
            .bind(uid)
            .execute(&mut *tx)
            .await?;
    }
    let uid: i64 = sqlx::query_scalar(
        "INSERT INTO nodes (uid, addr, agent_url, version, total_memory, cores, free_disk, port_min, port_max) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (uid) DO UPDATE SET addr = excluded.addr, agent_url = excluded.agent_url, version = excluded.version, \
         total_memory = excluded.total_memory, cores = excluded.cores, free_disk = excluded.free_disk, \
         port_min = excluded.port_min, port_max = excluded.port_max RETURNING uid",
    )
    .bind(known)
    .bind(&info.addr)
    .bind(&info.agent_url)
    .bind(&info.version)
    .bind(info.total_memory)
    .bind(info.cores)
    .bind(info.free_disk)
    .bind(i64::from(info.shard_ports[0]))
    .bind(i64::from(info.shard_ports[1]))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ApiError::conflict(
            "agent_url_taken",
            format!("another node with shards already uses agent_url {}", info.agent_url),
        ),
        other => other.into(),
    })?;
    tx.commit().await?;
    tracing::info!(node = uid, addr = %info.addr, agent = %info.agent_url, "node registered");
    logs::record(&state, "system", "node_register", &format!("node:{uid}"), "ok").await;
    state.reconcile.notify_one();
    Ok(Json(Registered { uid }))
}

/// Records a node's heartbeat: its figures and the state of its shards.
/// Answers with the shards the manager counts as masters on the node.
#[utoipa::path(post, path = "/v1/internal/nodes/{uid}/heartbeat", tag = "internal", request_body = Heartbeat,
    params(("uid" = i64, Path)),
    responses((status = 200, body = HeartbeatReply), (status = 404, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    _: ClusterToken,
    Path(uid): Path<i64>,
    Json(beat): Json<Heartbeat>,
) -> ApiResult<Json<HeartbeatReply>> {
    let known: Option<i64> = sqlx::query_scalar("SELECT uid FROM nodes WHERE uid = ?")
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    if known.is_none() {
        return Err(ApiError::not_found(
            "node_not_found",
            format!("node {uid} is not registered; register again"),
        ));
    }
    for shard in &beat.shards {
        crate::failover::record_demotion(&state, shard).await;
    }
    let was_up = {
        let mut live = state.live();
        let was_up = live.node_up(uid);
        live.nodes.insert(
            uid,
            NodeLive {
                last_seen: Instant::now(),
                stats: beat.node,
                shards: beat.shards,
            },
        );
        was_up
    };
    if !was_up {
        tracing::info!(node = uid, "node is up");
    }
    state.reconcile.notify_one();
    let masters = sqlx::query_scalar("SELECT uid FROM shards WHERE node_uid = ? AND role = 'master'")
        .bind(uid)
        .fetch_all(&state.db)
        .await?;
    Ok(Json(HeartbeatReply { masters }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TopologyQuery {
    /// The epoch the caller has; the answer waits until a newer one exists.
    pub after: Option<i64>,
}

/// The routing table a proxy applies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Topology {
    pub epoch: i64,
    pub databases: Vec<TopologyDb>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopologyDb {
    pub uid: i64,
    pub name: String,
    pub port: u16,
    pub tls_mode: String,
    pub tls: Option<TopologyTls>,
    pub password_hash: Option<String>,
    /// The shards' `requirepass`, which the proxy sends with `AUTH` on each
    /// link it opens to them; null when the database has no password.
    pub shard_password: Option<String>,
    pub read_policy: String,
    pub max_connections: i64,
    /// `async` or `sync`: whether the proxy acknowledges a write only once a replica has it.
    pub durability: String,
    pub shards: Vec<TopologyShard>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopologyTls {
    pub cert_pem: String,
    pub key_pem: String,
    pub client_ca_pem: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopologyShard {
    /// Inclusive slot range.
    pub slots: [i64; 2],
    pub master: Option<String>,
    pub replicas: Vec<String>,
}

/// The topology once the epoch is past `after` (at once, or up to 30 s later; 304 if none).
#[utoipa::path(get, path = "/v1/internal/topology", tag = "internal", params(TopologyQuery),
    responses((status = 200, body = Topology), (status = 304), (status = 401, body = crate::error::ErrorBody)))]
pub async fn topology(
    State(state): State<AppState>,
    _: ClusterToken,
    Query(q): Query<TopologyQuery>,
) -> ApiResult<Response> {
    if let Some(after) = q.after {
        let mut rx = state.epoch.subscribe();
        let newer = tokio::time::timeout(LONG_POLL, rx.wait_for(|e| *e > after)).await;
        if newer.is_err() {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    Ok(Json(build_topology(&state).await?).into_response())
}

/// Reads the routing table and its epoch in one transaction.
///
/// # Errors
/// A database failure.
pub async fn build_topology(state: &AppState) -> ApiResult<Topology> {
    #[derive(sqlx::FromRow)]
    struct Db {
        uid: i64,
        name: String,
        port: i64,
        tls_mode: String,
        password_hash: Option<String>,
        password: Option<String>,
        shards_count: i64,
        durability: String,
    }
    #[derive(sqlx::FromRow)]
    struct Shard {
        bdb_uid: i64,
        idx: i64,
        role: String,
        addr: String,
    }
    let mut tx = state.write_tx().await?;
    let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM cluster WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let dbs: Vec<Db> = sqlx::query_as(
        "SELECT uid, name, port, tls_mode, password_hash, password, shards_count, durability FROM bdbs \
         WHERE status NOT IN ('delete-pending', 'creation-failed') ORDER BY uid",
    )
    .fetch_all(&mut *tx)
    .await?;
    let shards: Vec<Shard> = sqlx::query_as(
        "SELECT s.bdb_uid, s.idx, s.role, n.addr || ':' || s.port AS addr FROM shards s JOIN nodes n ON n.uid = s.node_uid \
         ORDER BY s.bdb_uid, s.idx, s.role",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut by_db: HashMap<i64, Vec<Shard>> = HashMap::new();
    for s in shards {
        by_db.entry(s.bdb_uid).or_default().push(s);
    }
    let databases = dbs
        .into_iter()
        .map(|d| {
            let mine = by_db.remove(&d.uid).unwrap_or_default();
            let shards = (0..d.shards_count)
                .map(|idx| {
                    let (lo, hi) = slot_range(idx, d.shards_count);
                    let of_range = mine.iter().filter(|s| s.idx == idx);
                    TopologyShard {
                        slots: [lo, hi],
                        master: of_range.clone().find(|s| s.role == "master").map(|s| s.addr.clone()),
                        replicas: of_range
                            .filter(|s| s.role == "replica")
                            .map(|s| s.addr.clone())
                            .collect(),
                    }
                })
                .collect();
            let tls = (d.tls_mode == "enabled")
                .then(|| state.tls.as_ref())
                .flatten()
                .map(|t| TopologyTls {
                    cert_pem: t.cert_pem.clone(),
                    key_pem: t.key_pem.clone(),
                    client_ca_pem: None,
                });
            TopologyDb {
                uid: d.uid,
                name: d.name,
                port: u16::try_from(d.port).unwrap_or_default(),
                tls_mode: d.tls_mode,
                tls,
                password_hash: d.password_hash,
                shard_password: d.password,
                read_policy: "master".to_owned(),
                max_connections: 10_000,
                durability: d.durability,
                shards,
            }
        })
        .collect();
    Ok(Topology { epoch, databases })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/internal/nodes", post(register))
        .route("/v1/internal/nodes/{uid}/heartbeat", post(heartbeat))
        .route("/v1/internal/topology", get(topology))
}
