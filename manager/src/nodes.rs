//! `/v1/nodes`: the hosts that registered, their health from heartbeats,
//! and node actions (maintenance, removal).

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Serialize;

use crate::actions;
use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::failover::{self, Trigger};
use crate::logs::audit;
use crate::state::AppState;

/// A node as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Node {
    pub uid: i64,
    pub addr: String,
    /// `active` while heartbeats arrive, `down` after 5 s without one.
    pub status: String,
    /// A node in maintenance receives no new shards; turning it on first
    /// moves its masters of replicated databases away (planned failovers).
    pub maintenance: bool,
    pub software_version: String,
    pub total_memory: i64,
    pub used_memory: i64,
    pub cores: i64,
    pub cpu_percent: f64,
    pub free_disk: i64,
    pub shard_count: i64,
    pub shard_ports: [u16; 2],
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NodeRow {
    pub uid: i64,
    pub addr: String,
    pub agent_url: String,
    pub version: String,
    pub total_memory: i64,
    pub cores: i64,
    pub free_disk: i64,
    pub port_min: i64,
    pub port_max: i64,
    pub maintenance: bool,
}

pub const SELECT_NODE: &str =
    "SELECT uid, addr, agent_url, version, total_memory, cores, free_disk, port_min, port_max, maintenance FROM nodes";

async fn view(state: &AppState, row: NodeRow) -> ApiResult<Node> {
    let shard_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shards WHERE node_uid = ?")
        .bind(row.uid)
        .fetch_one(&state.db)
        .await?;
    let live = state.live();
    let seen = live.nodes.get(&row.uid);
    let up = seen.is_some_and(|n| n.is_up());
    Ok(Node {
        uid: row.uid,
        addr: row.addr,
        status: if up { "active" } else { "down" }.to_owned(),
        maintenance: row.maintenance,
        software_version: row.version,
        total_memory: row.total_memory,
        used_memory: seen.map_or(0, |n| n.stats.used_memory),
        cores: row.cores,
        cpu_percent: seen.map_or(0.0, |n| n.stats.cpu_percent),
        free_disk: seen.map_or(row.free_disk, |n| n.stats.free_disk),
        shard_count,
        shard_ports: [row.port_min.clamp(0, 65535) as u16, row.port_max.clamp(0, 65535) as u16],
    })
}

async fn load(state: &AppState, uid: i64) -> ApiResult<NodeRow> {
    let row: Option<NodeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_NODE} WHERE uid = ?")))
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    row.ok_or_else(|| ApiError::not_found("node_not_found", format!("there is no node {uid}")))
}

/// Every node.
#[utoipa::path(get, path = "/v1/nodes", tag = "nodes",
    responses((status = 200, body = [Node]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Node>>> {
    caller.require(Permission::ViewCluster)?;
    let rows: Vec<NodeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_NODE} ORDER BY uid")))
        .fetch_all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(&state, row).await?);
    }
    Ok(Json(out))
}

/// One node.
#[utoipa::path(get, path = "/v1/nodes/{uid}", tag = "nodes", params(("uid" = i64, Path)),
    responses((status = 200, body = Node), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<Json<Node>> {
    caller.require(Permission::ViewCluster)?;
    let row = load(&state, uid).await?;
    view(&state, row).await.map(Json)
}

/// Runs a node action: `maintenance_on` (no new shards go to the node; its
/// master shards of replicated databases move away first, each by a planned
/// failover that loses no acknowledged write; its other shards stay),
/// `maintenance_off`, or `remove` (only a node without shards).
#[utoipa::path(post, path = "/v1/nodes/{uid}/actions/{action}", tag = "nodes",
    params(("uid" = i64, Path), ("action" = String, Path, description = "maintenance_on | maintenance_off | remove")),
    responses((status = 200, body = crate::bdbs::ActionStarted), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((uid, action)): Path<(i64, String)>,
) -> ApiResult<Json<crate::bdbs::ActionStarted>> {
    caller.require(Permission::EditCluster)?;
    let result = async {
        load(&state, uid).await?;
        if action == "maintenance_on" {
            move_masters(&state, uid, &caller.name).await?;
        }
        let mut conn = state.db.acquire().await?;
        match action.as_str() {
            "maintenance_on" | "maintenance_off" => {
                sqlx::query("UPDATE nodes SET maintenance = ? WHERE uid = ?")
                    .bind(action == "maintenance_on")
                    .bind(uid)
                    .execute(&mut *conn)
                    .await?;
            }
            "remove" => {
                let shards: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shards WHERE node_uid = ?")
                    .bind(uid)
                    .fetch_one(&mut *conn)
                    .await?;
                if shards > 0 {
                    return Err(ApiError::conflict(
                        "node_has_shards",
                        format!("node {uid} still hosts {shards} shard(s); delete or move their databases first"),
                    ));
                }
                sqlx::query("DELETE FROM nodes WHERE uid = ?")
                    .bind(uid)
                    .execute(&mut *conn)
                    .await?;
                state.live().nodes.remove(&uid);
            }
            other => {
                return Err(ApiError::not_found(
                    "unknown_action",
                    format!("unknown node action {other:?}: use maintenance_on, maintenance_off or remove"),
                ));
            }
        }
        let uid = actions::start(&mut conn, &format!("node_{action}"), None, "completed").await?;
        Ok(crate::bdbs::ActionStarted {
            action_uid: uid.to_string(),
        })
    }
    .await;
    audit(
        &state,
        &caller,
        &format!("node_{action}"),
        &format!("node:{uid}"),
        result,
    )
    .await
    .map(Json)
}

/// Fails over every master shard of a replicated database on node `uid` to
/// its replica (planned). Stops at the first that cannot move.
async fn move_masters(state: &AppState, uid: i64, user: &str) -> ApiResult<()> {
    let masters: Vec<i64> = sqlx::query_scalar(
        "SELECT s.uid FROM shards s JOIN bdbs b ON b.uid = s.bdb_uid \
         WHERE s.node_uid = ? AND s.role = 'master' AND b.replication \
         AND b.status IN ('active', 'active-change-pending') ORDER BY s.uid",
    )
    .bind(uid)
    .fetch_all(&state.db)
    .await?;
    for master in masters {
        failover::fail_over(state, master, Trigger::Planned(user.to_owned())).await?;
    }
    Ok(())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/nodes", get(list))
        .route("/v1/nodes/{uid}", get(get_one))
        .route("/v1/nodes/{uid}/actions/{action}", post(action))
}
