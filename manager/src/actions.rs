//! Long operations (`/v1/actions`): each database create, update, delete
//! and node action answers at once with an action the caller can follow.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::state::AppState;

#[derive(Debug, sqlx::FromRow)]
struct ActionRow {
    uid: i64,
    name: String,
    bdb_uid: Option<i64>,
    status: String,
    progress: i64,
    error: Option<String>,
    created_time: String,
    updated_time: String,
}

/// A long operation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Action {
    pub action_uid: String,
    /// What it does: `bdb_create`, `bdb_update`, `bdb_delete`, `bdb_flush`, `node_maintenance_on`, …
    pub name: String,
    pub object_name: Option<String>,
    /// `pending | active | completed | failed`.
    pub status: String,
    /// Percent done.
    pub progress: i64,
    pub error: Option<String>,
    pub creation_time: String,
    pub update_time: String,
}

impl From<ActionRow> for Action {
    fn from(r: ActionRow) -> Self {
        Action {
            action_uid: r.uid.to_string(),
            name: r.name,
            object_name: r.bdb_uid.map(|b| format!("bdb:{b}")),
            status: r.status,
            progress: r.progress,
            error: r.error,
            creation_time: r.created_time,
            update_time: r.updated_time,
        }
    }
}

const SELECT: &str = "SELECT uid, name, bdb_uid, status, progress, error, created_time, updated_time FROM actions";

/// Starts an action in `status`; returns its uid.
pub async fn start(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
    bdb_uid: Option<i64>,
    status: &str,
) -> Result<i64, sqlx::Error> {
    let progress = if status == "completed" { 100 } else { 0 };
    sqlx::query_scalar(
        "INSERT INTO actions (name, bdb_uid, status, progress, created_time, updated_time) \
         VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) RETURNING uid",
    )
    .bind(name)
    .bind(bdb_uid)
    .bind(status)
    .bind(progress)
    .fetch_one(conn)
    .await
}

/// Moves every unfinished action of a database forward.
pub async fn update_for_bdb(
    db: &sqlx::SqlitePool,
    bdb_uid: i64,
    status: &str,
    progress: i64,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE actions SET status = ?, progress = ?, error = ?, updated_time = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') \
         WHERE bdb_uid = ? AND status IN ('pending', 'active') \
         AND (status != ? OR progress != ? OR error IS NOT ?)",
    )
    .bind(status)
    .bind(progress)
    .bind(error)
    .bind(bdb_uid)
    .bind(status)
    .bind(progress)
    .bind(error)
    .execute(db)
    .await
    .map(drop)
}

/// Every action, most recent first.
#[utoipa::path(get, path = "/v1/actions", tag = "actions",
    responses((status = 200, body = [Action]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Action>>> {
    caller.require(Permission::ViewDb)?;
    let rows: Vec<ActionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY uid DESC LIMIT 1000")))
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(Action::from).collect()))
}

/// One action.
#[utoipa::path(get, path = "/v1/actions/{uid}", tag = "actions", params(("uid" = i64, Path)),
    responses((status = 200, body = Action), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<Json<Action>> {
    caller.require(Permission::ViewDb)?;
    let row: Option<ActionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE uid = ?")))
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    row.map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::not_found("action_not_found", format!("there is no action {uid}")))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/actions", get(list))
        .route("/v1/actions/{uid}", get(get_one))
}
