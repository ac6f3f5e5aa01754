//! `/v1/shards`: every shard of every database, where it runs and how it is.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::scheduler::slot_range;
use crate::state::AppState;

/// A shard as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Shard {
    pub uid: i64,
    pub bdb_uid: i64,
    pub node_uid: i64,
    /// `master` or `replica`.
    pub role: String,
    /// As its agent last reported it (`running`, `starting`, …), or `unknown`
    /// when its node is down or has not reported it yet.
    pub status: String,
    /// `host:port` of the shard process.
    pub addr: String,
    /// Inclusive slot range, e.g. `0-8191`.
    pub assigned_slots: String,
    pub used_memory: i64,
    pub keys: i64,
    pub ops_per_sec: f64,
    pub master_link_status: Option<String>,
    pub repl_offset: i64,
    pub restarts: i64,
    pub last_exit: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct ShardRow {
    uid: i64,
    bdb_uid: i64,
    idx: i64,
    role: String,
    node_uid: i64,
    port: i64,
    addr: String,
    shards_count: i64,
}

const SELECT: &str = "SELECT s.uid, s.bdb_uid, s.idx, s.role, s.node_uid, s.port, n.addr, b.shards_count \
     FROM shards s JOIN nodes n ON n.uid = s.node_uid JOIN bdbs b ON b.uid = s.bdb_uid";

fn view(state: &AppState, r: ShardRow) -> Shard {
    let live = state.live();
    let reported = live.shard(r.node_uid, r.uid);
    let (lo, hi) = slot_range(r.idx, r.shards_count);
    Shard {
        uid: r.uid,
        bdb_uid: r.bdb_uid,
        node_uid: r.node_uid,
        role: r.role,
        status: reported.map_or_else(|| "unknown".to_owned(), |s| s.status.clone()),
        addr: format!("{}:{}", r.addr, r.port),
        assigned_slots: format!("{lo}-{hi}"),
        used_memory: reported.map_or(0, |s| s.used_memory),
        keys: reported.map_or(0, |s| s.keys),
        ops_per_sec: reported.map_or(0.0, |s| s.ops_per_sec),
        master_link_status: reported.and_then(|s| s.master_link_status.clone()),
        repl_offset: reported.map_or(0, |s| s.repl_offset),
        restarts: reported.map_or(0, |s| s.restarts),
        last_exit: reported.and_then(|s| s.last_exit.clone()),
    }
}

/// Every shard.
#[utoipa::path(get, path = "/v1/shards", tag = "shards",
    responses((status = 200, body = [Shard]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Shard>>> {
    caller.require(Permission::ViewDb)?;
    let rows: Vec<ShardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY s.uid")))
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(|r| view(&state, r)).collect()))
}

/// One shard.
#[utoipa::path(get, path = "/v1/shards/{uid}", tag = "shards", params(("uid" = i64, Path)),
    responses((status = 200, body = Shard), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<Json<Shard>> {
    caller.require(Permission::ViewDb)?;
    let row: Option<ShardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.uid = ?")))
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found("shard_not_found", format!("there is no shard {uid}")))?;
    Ok(Json(view(&state, row)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/shards", get(list))
        .route("/v1/shards/{uid}", get(get_one))
}
