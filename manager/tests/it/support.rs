//! Test harness: an app over an in-memory SQLite, request helpers, a fake
//! agent that runs shards "in its head" and answers like tessera-agent, and
//! real processes (the manager and agents on 127.0.0.1, killed on drop).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

    /// Posts a heartbeat for node `uid`; returns the master shards the
    /// manager answers with.
    pub async fn heartbeat(&self, uid: i64, shards: Value) -> Vec<i64> {
        let (status, body) = self
            .call(
                "POST",
                &format!("/v1/internal/nodes/{uid}/heartbeat"),
                Some(&cluster()),
                Some(json!({"node": {"cpu_percent": 12.5, "used_memory": 1000, "free_disk": 5000}, "shards": shards})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body["masters"].clone()).expect("a heartbeat answers {\"masters\": [uid…]}")
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

/// A running shard; a replica is in sync with its master.
fn status_of(spec: &Value) -> Value {
    let replica = spec["role"] == "replica";
    json!({"uid": spec["uid"], "bdb_uid": spec["bdb_uid"], "port": spec["port"], "role": spec["role"],
           "status": "running", "pid": 1, "restarts": 0, "last_exit": null,
           "master_link_status": if replica { json!("up") } else { Value::Null }, "synced": replica,
           "repl_offset": 7, "used_memory": 2048, "keys": 3, "ops_per_sec": 10.0, "connected_clients": 1,
           "rdb_last_bgsave_status": "ok", "aof_last_write_status": "ok"})
}

#[path = "../common/binaries.rs"]
mod binaries;
pub use binaries::binary;
#[path = "../common/ports.rs"]
mod ports;
pub use ports::free_port;

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tessera-manager process and an admin client of its REST API.
pub struct Manager {
    pub proc: Proc,
    pub url: String,
    http: reqwest::Client,
}

pub fn start_manager(port: u16, data: &Path) -> Manager {
    let child = Command::new(env!("CARGO_BIN_EXE_tessera-manager"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env("TESSERA_CLUSTER_TOKEN", TOKEN)
        .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start tessera-manager");
    Manager {
        proc: Proc(child),
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    }
}

impl Manager {
    /// Status 0 when the manager does not answer.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .basic_auth("admin", Some(ADMIN_PASSWORD));
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// The Prometheus text of `/metrics` (empty when the manager does not answer).
    pub async fn metrics(&self) -> String {
        match self.http.get(format!("{}/metrics", self.url)).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn wait_for(&self, what: &str, mut ok: impl FnMut(u16, &Value) -> bool, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, v) = self.get(path).await;
            if ok(s, &v) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {s} {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `n` nodes are active.
    pub async fn wait_nodes(&self, n: usize) {
        self.wait_for(
            &format!("{n} active nodes"),
            |_, v| {
                v.as_array()
                    .is_some_and(|a| a.iter().filter(|x| x["status"] == "active").count() == n)
            },
            "/v1/nodes",
        )
        .await;
    }
}

/// `redis-cli` at `addr`; `password` empty for none.
pub fn redis_cli(addr: &str, password: &str, args: &[&str]) -> String {
    let (host, port) = addr.split_once(':').expect("host:port");
    let auth: &[&str] = if password.is_empty() {
        &[]
    } else {
        &["-a", password, "--no-auth-warning"]
    };
    let out = Command::new("redis-cli")
        .args(["-h", host, "-p", port])
        .args(auth)
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A tessera-agent process (None once killed) and what it runs.
pub struct AgentProc {
    pub proc: Option<Proc>,
    pub data_dir: PathBuf,
    /// Its shard port range.
    pub ports: (u16, u16),
    /// The port of its agent API.
    pub api_port: u16,
    /// The group id it and its shard processes run as: what a
    /// [`Partition`] matches their packets by.
    pub gid: u32,
    manager_url: String,
}

impl AgentProc {
    /// Starts a tessera-agent for the manager at `manager_url`.
    fn start(manager_url: &str, data_dir: PathBuf, ports: (u16, u16), gid: u32) -> AgentProc {
        let mut agent = AgentProc {
            proc: None,
            data_dir,
            ports,
            api_port: free_port(),
            gid,
            manager_url: manager_url.to_owned(),
        };
        agent.spawn();
        agent
    }

    fn spawn(&mut self) {
        let child = Command::new(binary("tessera-agent"))
            .gid(self.gid)
            .args([
                "--manager",
                &self.manager_url,
                "--token",
                TOKEN,
                "--advertise",
                "127.0.0.1",
            ])
            .args(["--listen", &format!("127.0.0.1:{}", self.api_port)])
            .args(["--shard-ports", &format!("{}-{}", self.ports.0, self.ports.1)])
            .arg("--data-dir")
            .arg(&self.data_dir)
            // Heartbeats fail while a manager restarts: only errors are worth showing.
            .env("RUST_LOG", "error")
            .spawn()
            .expect("start tessera-agent");
        self.proc = Some(Proc(child));
    }

    /// SIGKILLs the agent alone and starts it again: its shard processes
    /// keep running and are adopted.
    pub fn restart(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            let _ = proc.0.kill();
            let _ = proc.0.wait();
        }
        self.spawn();
    }

    /// SIGKILLs the agent and every shard process it started.
    pub fn kill_all(&mut self) {
        self.proc = None;
        let Ok(shards) = std::fs::read_dir(self.data_dir.join("shards")) else {
            return;
        };
        for shard in shards.flatten() {
            let pid = std::fs::read_to_string(shard.path().join("node.pid")).unwrap_or_default();
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

/// A manager and agents on 127.0.0.1; every process (shards too) is killed on drop.
pub struct Processes {
    pub manager: Manager,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub agents: Vec<AgentProc>,
}

/// Starts a manager and `n_agents` agents, each with its own shard port
/// range, and waits until every node is active.
pub async fn start_cluster(n_agents: usize) -> Processes {
    tessera_manager::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let manager = start_manager(port, &dir.path().join("manager"));
    manager.wait_for("the manager", |s, _| s == 200, "/v1/cluster").await;
    let agents = (0..n_agents)
        .map(|i| {
            let base = (20000 + (u32::from(port) * 11 + i as u32 * 50) % 20000) as u16;
            let data_dir = dir.path().join(format!("agent{i}"));
            let gid = 61_000 + (std::process::id() % 500) * 8 + i as u32;
            AgentProc::start(&manager.url, data_dir, (base, base + 49), gid)
        })
        .collect();
    manager.wait_nodes(n_agents).await;
    Processes {
        manager,
        port,
        dir,
        agents,
    }
}

impl Processes {
    /// Stops the manager (SIGKILL).
    pub fn kill_manager(&mut self) {
        let _ = self.manager.proc.0.kill();
        let _ = self.manager.proc.0.wait();
    }

    /// Starts the manager again on its port and data and waits until it answers.
    pub async fn restart_manager(&mut self) {
        self.manager = start_manager(self.port, &self.dir.path().join("manager"));
        self.manager
            .wait_for("the manager again", |s, _| s == 200, "/v1/cluster")
            .await;
    }

    /// The agent whose shard ports hold `addr`'s port.
    pub fn agent_of(&mut self, addr: &str) -> &mut AgentProc {
        let port: u16 = addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .expect("host:port");
        self.agents
            .iter_mut()
            .find(|a| (a.ports.0..=a.ports.1).contains(&port))
            .unwrap_or_else(|| panic!("no agent runs {addr}"))
    }
}

/// A network partition of one node on loopback: nftables drops every packet
/// that the agent's processes (matched by their group id) send and every
/// packet sent to their ports, except on connections among themselves and
/// with [`Partition::MINORITY_CLIENT`], the address a test binds a client
/// to that stays on the node's side. Nothing crosses between the node and
/// the manager, the proxy or other nodes, either way. Healed on drop.
pub struct Partition {
    table: String,
}

impl Partition {
    /// The source address of a client on the partitioned node's side.
    pub const MINORITY_CLIENT: &str = "127.0.0.9";

    /// Cuts `agent` off.
    pub fn isolate(agent: &AgentProc) -> Partition {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let table = format!(
            "tessera_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (gid, (lo, hi), api) = (agent.gid, agent.ports, agent.api_port);
        let rules = format!(
            "table inet {table} {{\n\
               chain out {{\n\
                 type filter hook output priority 0;\n\
                 ct state new meta skgid {gid} tcp dport {lo}-{hi} ct mark set 0x7e55\n\
                 ct mark 0x7e55 accept\n\
                 meta skgid {gid} ip daddr {minority} accept\n\
                 meta skgid {gid} drop\n\
                 ip saddr {minority} accept\n\
                 tcp dport {{ {lo}-{hi}, {api} }} drop\n\
               }}\n\
             }}\n",
            minority = Partition::MINORITY_CLIENT
        );
        let mut nft = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("nft is installed (scripts/test.sh installs nftables)");
        use std::io::Write;
        nft.stdin
            .take()
            .expect("stdin")
            .write_all(rules.as_bytes())
            .expect("write rules");
        assert!(nft.wait().expect("nft").success(), "nft refused the partition rules");
        Partition { table }
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.table])
            .status();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for agent in &mut self.agents {
            agent.kill_all();
        }
    }
}
