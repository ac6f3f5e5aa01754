//! The agent API over HTTP (axum): node identity, shard specs and statuses,
//! `/metrics`. Every route needs `Authorization: Bearer <cluster token>`,
//! compared in constant time. Errors are JSON `{"error_code", "description"}`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use subtle::ConstantTimeEq as _;

use super::Agent;
use super::spec::{NodeInfo, ShardSpec, ShardStatus};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl ApiError {
    /// 400.
    pub fn bad_request(code: &'static str, description: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            description,
        }
    }

    /// 409.
    pub fn conflict(code: &'static str, description: String) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code,
            description,
        }
    }

    /// 404.
    pub fn not_found(description: String) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            description,
        }
    }

    /// 500; the details go to the log, not to the caller.
    pub fn internal(details: String) -> ApiError {
        tracing::error!("{details}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            description: "internal error; see the agent's log".to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error_code": self.code, "description": self.description});
        (self.status, Json(body)).into_response()
    }
}

/// The API's routes, behind the token check.
pub fn router(agent: Arc<Agent>) -> Router {
    Router::new()
        .route("/v1/node", get(node))
        .route("/v1/shards", get(shards))
        .route("/v1/shards/{uid}", put(put_shard).get(get_shard).delete(delete_shard))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("no such endpoint".to_owned()) })
        .layer(middleware::from_fn_with_state(agent.clone(), require_token))
        .with_state(agent)
}

async fn require_token(State(agent): State<Arc<Agent>>, req: Request, next: Next) -> Response {
    let expected = agent.config().token.as_bytes();
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    match given {
        Some(token) if bool::from(token.ct_eq(expected)) => next.run(req).await,
        _ => {
            let mut resp = ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                description: "this API needs the header Authorization: Bearer <cluster token>".to_owned(),
            }
            .into_response();
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            resp
        }
    }
}

fn parse_uid(uid: &str) -> Result<u64, ApiError> {
    uid.parse()
        .map_err(|_| ApiError::bad_request("invalid_uid", format!("shard uid must be a number, got {uid:?}")))
}

async fn node(State(agent): State<Arc<Agent>>) -> Json<NodeInfo> {
    Json(agent.node_info())
}

async fn shards(State(agent): State<Arc<Agent>>) -> Json<Vec<ShardStatus>> {
    Json(agent.shard_statuses())
}

async fn get_shard(State(agent): State<Arc<Agent>>, Path(uid): Path<String>) -> Result<Json<ShardStatus>, ApiError> {
    let uid = parse_uid(&uid)?;
    agent
        .shard_status(uid)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no shard {uid} on this node")))
}

async fn put_shard(
    State(agent): State<Arc<Agent>>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Result<Json<ShardStatus>, ApiError> {
    let uid = parse_uid(&uid)?;
    let spec: ShardSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_spec", format!("the body is not a valid ShardSpec: {e}")))?;
    agent.put_shard(uid, spec).map(Json)
}

async fn delete_shard(State(agent): State<Arc<Agent>>, Path(uid): Path<String>) -> Result<StatusCode, ApiError> {
    let uid = parse_uid(&uid)?;
    match agent.delete_shard(uid).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::not_found(format!("no shard {uid} on this node"))),
        Err(e) => Err(ApiError::internal(format!("deleting shard {uid}: {e:#}"))),
    }
}

async fn metrics(State(agent): State<Arc<Agent>>) -> Result<Response, ApiError> {
    let text = super::metrics::render(&agent).map_err(|e| ApiError::internal(format!("rendering metrics: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
