//! The event log: who did what to which object, when, and how it ended.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;

/// One entry of the event log.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Event {
    pub uid: i64,
    pub time: String,
    /// The user name, or `system` for the manager's own steps.
    pub user: String,
    pub action: String,
    /// The object acted on, e.g. `bdb:3`.
    pub object: String,
    /// `ok`, or the error code the request ended with.
    pub outcome: String,
    /// What the step found, where the outcome alone does not say it.
    pub description: Option<String>,
}

/// Records an event; a failure to record is logged, never fatal.
pub async fn record(state: &AppState, user: &str, action: &str, object: &str, outcome: &str) {
    record_described(state, user, action, object, outcome, None).await;
}

/// Records an event with a description of what the step found.
pub async fn record_described(
    state: &AppState,
    user: &str,
    action: &str,
    object: &str,
    outcome: &str,
    description: Option<&str>,
) {
    let result = sqlx::query(
        "INSERT INTO events (time, user, action, object, outcome, description) \
         VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?, ?)",
    )
    .bind(user)
    .bind(action)
    .bind(object)
    .bind(outcome)
    .bind(description)
    .execute(&state.db)
    .await;
    if let Err(e) = result {
        tracing::error!("cannot record event {action} on {object}: {e}");
    }
}

/// Records the outcome of a user's request and passes the result on.
pub async fn audit<T>(
    state: &AppState,
    caller: &Caller,
    action: &str,
    object: &str,
    result: ApiResult<T>,
) -> ApiResult<T> {
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => error_code(e),
    };
    record(state, &caller.name, action, object, &outcome).await;
    result
}

/// The `error_code` an error answers with.
pub fn error_code(e: &ApiError) -> String {
    match e {
        ApiError::BadRequest { code, .. }
        | ApiError::NotFound { code, .. }
        | ApiError::NotAcceptable { code, .. }
        | ApiError::Conflict { code, .. } => (*code).to_owned(),
        ApiError::Unauthorized => "unauthorized".to_owned(),
        ApiError::Forbidden => "insufficient_permissions".to_owned(),
        ApiError::Internal(_) => "internal_error".to_owned(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Most recent entries to return (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// The event log, most recent first.
#[utoipa::path(get, path = "/v1/logs", params(LogQuery), tag = "logs",
    responses((status = 200, body = [Event]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    caller.require(Permission::ViewLogs)?;
    let limit = q.limit.unwrap_or(100).min(10_000);
    let events = sqlx::query_as(
        "SELECT uid, time, user, action, object, outcome, description FROM events ORDER BY uid DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(events))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/logs", get(list))
}
