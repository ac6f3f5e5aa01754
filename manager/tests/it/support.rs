//! Test harness: an app over an in-memory SQLite, request helpers, and a
//! fake agent that runs shards "in its head" and answers like tessera-agent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tessera_manager::AppState;
use tower::ServiceExt;

pub const TOKEN: &str = "cluster-secret-token";
pub const ADMIN_PASSWORD: &str = "admin-password";

pub struct Api {
    pub state: AppState,
    /// A bearer token of the admin: argon2 runs once, not on every call.
    pub admin_token: String,
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

pub fn admin() -> String {
    basic("admin", ADMIN_PASSWORD)
}

pub fn cluster() -> String {
    format!("Bearer {TOKEN}")
}

impl Api {
    /// An app over an in-memory database (one connection).
    pub async fn new() -> Api {
        let options = SqliteConnectOptions::new().in_memory(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("in-memory sqlite");
        Api::with_pool(pool).await
    }

    /// An app over a database file in `dir`, opened as the manager opens its
    /// own: several connections, so writers really contend.
    pub async fn on_disk(dir: &std::path::Path) -> Api {
        let pool = tessera_manager::open_pool(&dir.join("manager.db"))
            .await
            .expect("sqlite file");
        Api::with_pool(pool).await
    }

    async fn with_pool(pool: sqlx::SqlitePool) -> Api {
        tessera_manager::install_crypto_provider();
        let (state, generated) = tessera_manager::prepare(pool, TOKEN, None, "admin", Some(ADMIN_PASSWORD.to_owned()))
            .await
            .expect("prepare");
        assert!(generated.is_none());
        let admin_token = tessera_manager::auth::new_session(&state, 1, std::time::Duration::from_secs(3600));
        Api { state, admin_token }
    }

    pub fn app(&self) -> Router {
        tessera_manager::app(self.state.clone())
    }

    /// Sends a request; `body` is JSON unless it is a `Value::String` (sent raw).
    pub async fn raw(&self, method: &str, uri: &str, auth: Option<&str>, body: Option<Value>) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let body = match body {
            None => Body::empty(),
            Some(Value::String(s)) => {
                req = req.header("content-type", "application/json");
                Body::from(s)
            }
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
        };
        let response = self
            .app()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8(bytes.to_vec()).expect("utf-8 body"))
    }

    pub async fn call(&self, method: &str, uri: &str, auth: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = self.raw(method, uri, auth, body).await;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, value)
    }

    pub async fn admin(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, uri, Some(&format!("Bearer {}", self.admin_token)), body)
            .await
    }

    /// Registers a node with `gib` GiB of memory and a heartbeat; returns its uid.
    pub async fn node(&self, agent_url: &str, gib: i64) -> i64 {
        let (status, body) = self
            .call(
                "POST",
                "/v1/internal/nodes",
                Some(&cluster()),
                Some(node_info(None, agent_url, gib)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let uid = body["uid"].as_i64().expect("uid");
        self.heartbeat(uid, json!([])).await;
        uid
    }

    pub async fn heartbeat(&self, uid: i64, shards: Value) {
        let (status, body) = self
            .call(
                "POST",
                &format!("/v1/internal/nodes/{uid}/heartbeat"),
                Some(&cluster()),
                Some(json!({"node": {"cpu_percent": 12.5, "used_memory": 1000, "free_disk": 5000}, "shards": shards})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
}

pub fn node_info(uid: Option<i64>, agent_url: &str, gib: i64) -> Value {
    json!({"uid": uid, "addr": "127.0.0.1", "agent_url": agent_url, "version": "0.1.0",
           "total_memory": gib << 30, "cores": 2, "free_disk": 1_i64 << 36, "shard_ports": [30000, 30999]})
}

/// Asserts an error answer's status and code.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error_code"], code, "{}", got.1);
    assert!(
        got.1["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        got.1
    );
}

/// An in-process agent: PUT records the spec and reports the shard running,
/// DELETE forgets it. It serves the agent API on 127.0.0.1.
#[derive(Clone, Default)]
pub struct FakeAgent {
    pub shards: Arc<Mutex<BTreeMap<i64, Value>>>,
    pub puts: Arc<Mutex<usize>>,
}

impl FakeAgent {
    pub async fn start() -> (FakeAgent, String) {
        use axum::extract::{Path, State};
        use axum::routing::put;
        let agent = FakeAgent::default();
        let app = Router::new()
            .route(
                "/v1/shards/{uid}",
                put(
                    |State(a): State<FakeAgent>,
                     headers: axum::http::HeaderMap,
                     Path(uid): Path<i64>,
                     axum::Json(spec): axum::Json<Value>| async move {
                        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&cluster()) {
                            return (
                                StatusCode::UNAUTHORIZED,
                                axum::Json(json!({"error_code": "unauthorized", "description": "token"})),
                            );
                        }
                        *a.puts.lock().expect("lock") += 1;
                        let status = status_of(&spec);
                        a.shards.lock().expect("lock").insert(uid, spec);
                        (StatusCode::OK, axum::Json(status))
                    },
                )
                .delete(|State(a): State<FakeAgent>, Path(uid): Path<i64>| async move {
                    a.shards.lock().expect("lock").remove(&uid);
                    StatusCode::NO_CONTENT
                }),
            )
            .with_state(agent.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (agent, url)
    }

    /// What a heartbeat of this agent would report.
    pub fn report(&self) -> Value {
        Value::Array(self.shards.lock().expect("lock").values().map(status_of).collect())
    }
}

fn status_of(spec: &Value) -> Value {
    json!({"uid": spec["uid"], "bdb_uid": spec["bdb_uid"], "port": spec["port"], "role": spec["role"],
           "status": "running", "pid": 1, "restarts": 0, "last_exit": null, "master_link_status": null,
           "repl_offset": 7, "used_memory": 2048, "keys": 3, "ops_per_sec": 10.0, "connected_clients": 1,
           "rdb_last_bgsave_status": "ok", "aof_last_write_status": "ok"})
}
