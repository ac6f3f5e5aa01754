//! `tessera-agent` end to end: a real agent process supervising real
//! `tessera-node` shards, driven through its HTTP API, with a small HTTP
//! server in the test standing in for the manager's two internal endpoints
//! (it records registrations and heartbeats).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use resp::Frame;
use serde_json::{Value, json};
use tessera_node::agent::spec::{Heartbeat, NodeInfo, ShardStatus, Status};

use crate::support::{Conn, free_port};

const TOKEN: &str = "test-cluster-token";
/// The uid the stand-in manager gives a node registering without one.
const NODE_UID: u64 = 42;
/// How long a polled condition may take.
const WAIT: Duration = Duration::from_secs(30);

/// What the stand-in manager received.
#[derive(Default)]
struct Received {
    registrations: Vec<NodeInfo>,
    heartbeats: Vec<(u64, Heartbeat)>,
}

/// The manager's internal endpoints, recording what arrives.
struct FakeManager {
    url: String,
    received: Arc<Mutex<Received>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeManager {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

impl FakeManager {
    async fn start(listener: tokio::net::TcpListener) -> FakeManager {
        type Shared = State<Arc<Mutex<Received>>>;
        async fn register(
            State(r): Shared,
            headers: HeaderMap,
            Json(info): Json<NodeInfo>,
        ) -> (StatusCode, Json<Value>) {
            if !authorized(&headers) {
                return (StatusCode::UNAUTHORIZED, Json(json!({"error_code": "unauthorized"})));
            }
            let uid = info.uid.unwrap_or(NODE_UID);
            r.lock().expect("lock").registrations.push(info);
            (StatusCode::OK, Json(json!({ "uid": uid })))
        }
        async fn heartbeat(
            State(r): Shared,
            axum::extract::Path(uid): axum::extract::Path<u64>,
            headers: HeaderMap,
            Json(hb): Json<Heartbeat>,
        ) -> StatusCode {
            if !authorized(&headers) {
                return StatusCode::UNAUTHORIZED;
            }
            r.lock().expect("lock").heartbeats.push((uid, hb));
            StatusCode::NO_CONTENT
        }
        let received = Arc::new(Mutex::new(Received::default()));
        let app = axum::Router::new()
            .route("/v1/internal/nodes", post(register))
            .route("/v1/internal/nodes/{uid}/heartbeat", post(heartbeat))
            .with_state(received.clone());
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeManager { url, received, task }
    }

    async fn bind() -> FakeManager {
        FakeManager::start(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    fn registrations(&self) -> Vec<NodeInfo> {
        self.received.lock().expect("lock").registrations.clone()
    }

    fn heartbeats(&self) -> Vec<(u64, Heartbeat)> {
        self.received.lock().expect("lock").heartbeats.clone()
    }
}

/// A data dir; on drop, kills every shard process whose pid file is in it
/// (shards outlive their agent by design).
struct DataDir(tempfile::TempDir);

impl DataDir {
    fn new() -> DataDir {
        DataDir(
            tempfile::Builder::new()
                .prefix("tessera-it-agent-")
                .tempdir()
                .expect("tempdir"),
        )
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn shard_dir(&self, uid: u64) -> PathBuf {
        self.path().join("shards").join(uid.to_string())
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.path().join("shards")) else {
            return;
        };
        for e in entries.flatten() {
            if let Some(pid) = std::fs::read_to_string(e.path().join("node.pid"))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
            {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

/// A running `tessera-agent`, killed on drop.
struct Agent {
    child: Child,
    base: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

impl Agent {
    /// Starts an agent on a free port with its shards on 127.0.0.1; waits
    /// until its API answers.
    async fn start(data: &DataDir, manager_url: &str) -> Agent {
        Agent::start_with(data, manager_url, &[]).await
    }

    /// [`Agent::start`] with more command-line arguments.
    async fn start_with(data: &DataDir, manager_url: &str, extra: &[&str]) -> Agent {
        let mut failures = String::new();
        for _ in 0..5 {
            match Agent::try_start(data, manager_url, extra).await {
                Ok(a) => return a,
                Err(why) => failures.push_str(&why),
            }
        }
        panic!("tessera-agent did not start:\n{failures}");
    }

    async fn try_start(data: &DataDir, manager_url: &str, extra: &[&str]) -> Result<Agent, String> {
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = data.path().join(format!("agent-{}.log", listen.port()));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(env!("CARGO_BIN_EXE_tessera-agent"))
            .args([
                "--manager",
                manager_url,
                "--advertise",
                "127.0.0.1",
                "--shard-ports",
                "1024-65535",
            ])
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--data-dir")
            .arg(data.path())
            .arg("--node-bin")
            .arg(env!("CARGO_BIN_EXE_tessera-node"))
            .args(extra)
            .env("TESSERA_CLUSTER_TOKEN", TOKEN)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut agent = Agent {
            child,
            base: format!("http://{listen}"),
            log,
            http: http_client(),
        };
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = agent.child.try_wait() {
                return Err(format!("exited with {status}:\n{}\n", agent.log_text()));
            }
            if let Ok(r) = agent
                .http
                .get(format!("{}/v1/node", agent.base))
                .bearer_auth(TOKEN)
                .send()
                .await
                && r.status() == StatusCode::OK
            {
                return Ok(agent);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("no answer within {WAIT:?}:\n{}\n", agent.log_text()))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// One API call with the token; the status and the JSON body (null when empty).
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("agent API request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn put_shard(&self, spec: &Value) -> ShardStatus {
        let uid = spec["uid"].as_u64().expect("uid");
        let (status, body) = self
            .call(reqwest::Method::PUT, &format!("/v1/shards/{uid}"), Some(spec))
            .await;
        assert_eq!(status, StatusCode::OK, "PUT shard {uid}: {body}");
        serde_json::from_value(body).expect("ShardStatus")
    }

    async fn shard(&self, uid: u64) -> Option<ShardStatus> {
        let (status, body) = self
            .call(reqwest::Method::GET, &format!("/v1/shards/{uid}"), None)
            .await;
        (status == StatusCode::OK).then(|| serde_json::from_value(body).expect("ShardStatus"))
    }

    /// Polls shard `uid` until `pred` holds.
    async fn wait_shard(&self, uid: u64, what: &str, pred: impl Fn(&ShardStatus) -> bool) -> ShardStatus {
        let deadline = Instant::now() + WAIT;
        let mut last = None;
        while Instant::now() < deadline {
            last = self.shard(uid).await;
            if let Some(s) = &last
                && pred(s)
            {
                return s.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "shard {uid}: {what} did not happen within {WAIT:?}; last status {last:?}\n{}",
            self.log_text()
        );
    }

    async fn wait_running(&self, uid: u64) -> ShardStatus {
        self.wait_shard(uid, "running", |s| s.status == Status::Running).await
    }
}

/// Polls `f` until it is true.
async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn master_spec(uid: u64, port: u16) -> Value {
    json!({"uid": uid, "bdb_uid": 5, "port": port, "role": "master", "master": null,
           "memory_size": 67108864, "eviction_policy": "allkeys-lru", "password": "pw 1",
           "data_persistence": "disabled"})
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_owned()))
        .is_some_and(|r| !r.starts_with('Z'))
}

fn kill9(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill -9 the shard");
}

/// An authenticated connection to a shard.
fn shard_conn(port: u16) -> Conn {
    let mut c = Conn::connect(port);
    assert_eq!(c.cmd(&["AUTH", "pw 1"]), Frame::Simple("OK".into()));
    c
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_lifecycle() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let agent = Agent::start(&data, &manager.url).await;

    // A master: config written, process answers a real connection.
    let p1 = free_port();
    let created = agent.put_shard(&master_spec(1, p1)).await;
    assert_eq!((created.uid, created.bdb_uid, created.port), (1, 5, p1));
    let s1 = agent.wait_running(1).await;
    let conf = std::fs::read_to_string(data.shard_dir(1).join("redis.conf")).expect("redis.conf");
    assert!(
        conf.contains(&format!("\nport {p1}\n")) && conf.contains("\nrequirepass \"pw 1\"\n"),
        "{conf}"
    );
    let mut c = Conn::connect(p1);
    assert!(matches!(c.cmd(&["PING"]), Frame::Error(e) if e.starts_with(b"NOAUTH")));
    assert_eq!(c.cmd(&["AUTH", "pw 1"]), Frame::Simple("OK".into()));
    assert_eq!(c.cmd(&["PING"]), Frame::Simple("PONG".into()));
    assert_eq!(c.cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory-policy"]),
        Frame::Array(vec![bulk("maxmemory-policy"), bulk("allkeys-lru")])
    );

    // The same spec again changes nothing; a new memory size applies live.
    assert_eq!(agent.put_shard(&master_spec(1, p1)).await.pid, s1.pid);
    let mut bigger = master_spec(1, p1);
    bigger["memory_size"] = json!(134217728);
    agent.put_shard(&bigger).await;
    wait_until("maxmemory applied", || {
        shard_conn(p1).cmd(&["CONFIG", "GET", "maxmemory"]) == Frame::Array(vec![bulk("maxmemory"), bulk("134217728")])
    })
    .await;
    assert_eq!(
        agent.shard(1).await.expect("shard 1").pid,
        s1.pid,
        "a memory change needs no restart"
    );

    // A replica of it.
    let p2 = free_port();
    let mut replica = master_spec(2, p2);
    replica["role"] = json!("replica");
    replica["master"] = json!(format!("127.0.0.1:{p1}"));
    agent.put_shard(&replica).await;
    agent.wait_running(2).await;
    assert_eq!(
        shard_conn(p2).cmd(&["CONFIG", "GET", "replicaof"]),
        Frame::Array(vec![bulk("replicaof"), bulk(&format!("127.0.0.1 {p1}"))])
    );
    // Synced once its link to the master was up; a master never is.
    agent.wait_shard(2, "the replica synced", |s| s.synced).await;
    assert!(!agent.shard(1).await.expect("shard 1").synced);
    // Told to follow a master that never answers, it is not synced (a
    // failover must not promote it), until it follows one that answers.
    let mut astray = replica.clone();
    astray["master"] = json!(format!("127.0.0.1:{}", free_port()));
    agent.put_shard(&astray).await;
    agent.wait_shard(2, "the replica no longer synced", |s| !s.synced).await;
    agent.put_shard(&replica).await;
    agent.wait_shard(2, "the replica synced again", |s| s.synced).await;
    // Its port is taken.
    let (status, body) = agent
        .call(reqwest::Method::PUT, "/v1/shards/3", Some(&master_spec(3, p2)))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("port_in_use"))
    );

    // kill -9: the agent restarts it and says how it ended.
    let old_pid = s1.pid.expect("pid");
    kill9(old_pid);
    let restarted = agent
        .wait_shard(1, "restart after kill -9", |s| {
            s.restarts == 1 && s.status == Status::Running
        })
        .await;
    assert_eq!(restarted.last_exit.as_deref(), Some("signal 9"));
    // The replica stays synced through its master's crash and restart.
    assert!(agent.shard(2).await.expect("shard 2").synced);
    assert_ne!(restarted.pid, Some(old_pid));
    assert_eq!(shard_conn(p1).cmd(&["PING"]), Frame::Simple("PONG".into()));

    // Heartbeats carry the shards' stats.
    wait_until("a heartbeat with both shards running", || {
        manager.heartbeats().iter().any(|(uid, hb)| {
            *uid == NODE_UID
                && hb.shards.len() == 2
                && hb
                    .shards
                    .iter()
                    .all(|s| s.status == Status::Running && s.used_memory > 0)
        })
    })
    .await;
    let reg = &manager.registrations()[0];
    assert_eq!((reg.uid, reg.addr.as_str()), (None, "127.0.0.1"));
    assert!(reg.total_memory > 0 && reg.cores > 0, "{reg:?}");

    // DELETE: process gone, directory removed.
    let pid = restarted.pid.expect("pid");
    let (status, _) = agent.call(reqwest::Method::DELETE, "/v1/shards/1", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!pid_alive(pid), "shard 1 still runs after DELETE");
    assert!(!data.shard_dir(1).exists(), "shard 1's directory is still there");
    assert!(agent.shard(1).await.is_none());
    let (status, _) = agent.call(reqwest::Method::DELETE, "/v1/shards/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = agent.call(reqwest::Method::GET, "/v1/shards", None).await;
    assert_eq!(all.as_array().map(|a| a.len()), Some(1), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_bad_requests() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let agent = Agent::start(&data, &manager.url).await;
    for path in ["/v1/node", "/v1/shards", "/metrics", "/v1/shards/1"] {
        for token in [None, Some("wrong"), Some("")] {
            let mut req = agent.http.get(format!("{}{path}", agent.base));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.expect("request");
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path} with {token:?}");
            let body: Value = resp.json().await.expect("JSON error");
            assert_eq!(body["error_code"], "unauthorized");
        }
    }
    let put = |uid: &str, body: &str| {
        agent
            .http
            .put(format!("{}/v1/shards/{uid}", agent.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
    };
    for (uid, body, code) in [
        ("1", "{not json", "invalid_spec"),
        (
            "1",
            r#"{"uid": 1, "bdb_uid": 1, "port": 30000, "role": "boss"}"#,
            "invalid_spec",
        ),
        (
            "2",
            r#"{"uid": 1, "bdb_uid": 1, "port": 30000, "role": "master"}"#,
            "invalid_spec",
        ),
        (
            "1",
            r#"{"uid": 1, "bdb_uid": 1, "port": 80, "role": "master"}"#,
            "invalid_spec",
        ),
        (
            "1",
            r#"{"uid": 1, "bdb_uid": 1, "port": 30000, "role": "replica"}"#,
            "invalid_spec",
        ),
        ("x", r#"{}"#, "invalid_uid"),
    ] {
        let resp = put(uid, body).await.expect("request");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = resp.json().await.expect("JSON error");
        assert_eq!(err["error_code"], code, "{body}: {err}");
        assert!(err["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (status, body) = agent.call(reqwest::Method::GET, "/v1/nope", None).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, node) = agent.call(reqwest::Method::GET, "/v1/node", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(node["shard_ports"], json!([1024, 65535]));
    assert_eq!(node["agent_url"], json!(agent.base));
    assert!(
        data.path()
            .join("shards")
            .read_dir()
            .expect("shards dir")
            .next()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_agent_adopts_its_shards() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let mut agent = Agent::start(&data, &manager.url).await;
    let port = free_port();
    agent.put_shard(&master_spec(1, port)).await;
    let pid = agent.wait_running(1).await.pid.expect("pid");
    wait_until("registration", || !manager.registrations().is_empty()).await;
    assert_eq!(shard_conn(port).cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));

    // Stop the agent: the shard keeps running and keeps its data.
    let agent_pid = nix::unistd::Pid::from_raw(i32::try_from(agent.child.id()).expect("pid"));
    nix::sys::signal::kill(agent_pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    wait_until("the agent exits", || !agent.is_running()).await;
    assert!(pid_alive(pid));
    assert_eq!(shard_conn(port).cmd(&["GET", "k"]), bulk("v"));
    let node_json = std::fs::read_to_string(data.path().join("node.json")).expect("node.json");
    assert_eq!(
        serde_json::from_str::<Value>(&node_json).expect("JSON")["uid"],
        NODE_UID
    );
    drop(agent);

    // A new agent on the same data dir: same node, same shard process.
    let agent = Agent::start(&data, &manager.url).await;
    let adopted = agent.wait_running(1).await;
    assert_eq!((adopted.pid, adopted.restarts), (Some(pid), 0));
    wait_until("a second registration", || manager.registrations().len() >= 2).await;
    assert_eq!(manager.registrations()[1].uid, Some(NODE_UID));
    assert_eq!(shard_conn(port).cmd(&["GET", "k"]), bulk("v"));

    // An adopted process that dies is restarted too.
    kill9(pid);
    let restarted = agent
        .wait_shard(1, "restart of the adopted process", |s| {
            s.restarts == 1 && s.status == Status::Running
        })
        .await;
    assert_ne!(restarted.pid, Some(pid));
    assert_eq!(shard_conn(port).cmd(&["PING"]), Frame::Simple("PONG".into()));
}

/// A replicated master's restart hold applies to one that went down
/// unseen, not to one its agent stopped that saved its data on the way out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_stopped_cleanly_resumes_without_a_hold() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let stop_shards = ["--stop-shards-on-exit"];
    let port = free_port();
    let mut spec = master_spec(1, port);
    spec["data_persistence"] = json!("aof");
    // Far longer than the test: a held master never starts in it.
    spec["restart_hold_ms"] = json!(600_000);
    let mut agent = Agent::start_with(&data, &manager.url, &stop_shards).await;
    agent.put_shard(&spec).await;
    agent.wait_running(1).await;
    assert_eq!(shard_conn(port).cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));
    let stopped = data.shard_dir(1).join("stopped-cleanly");
    let stop = |agent: &mut Agent| {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(agent.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    };

    // Stopped with its shards: the mark is there, the master comes back at once with its data.
    stop(&mut agent);
    wait_until("the agent exits", || !agent.is_running()).await;
    assert!(stopped.exists(), "{}", agent.log_text());
    drop(agent);
    let mut agent = Agent::start_with(&data, &manager.url, &stop_shards).await;
    agent.wait_running(1).await;
    assert!(!stopped.exists(), "the mark counts for one start");
    assert_eq!(shard_conn(port).cmd(&["GET", "k"]), bulk("v"));

    // Down without the mark, as after a crash: held.
    stop(&mut agent);
    wait_until("the agent exits", || !agent.is_running()).await;
    drop(agent);
    std::fs::remove_file(&stopped).expect("remove the mark");
    let agent = Agent::start_with(&data, &manager.url, &stop_shards).await;
    wait_until("a heartbeat", || !manager.heartbeats().is_empty()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = agent.shard(1).await.expect("the shard is known");
    assert_eq!(
        (held.pid, held.status),
        (None, Status::Starting),
        "{}",
        agent.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_an_unreachable_manager() {
    let data = DataDir::new();
    // Nothing listens there yet.
    let manager_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let manager_addr = manager_listener.local_addr().expect("addr");
    drop(manager_listener);
    let mut agent = Agent::start(&data, &format!("http://{manager_addr}")).await;
    let port = free_port();
    agent.put_shard(&master_spec(1, port)).await;
    agent.wait_running(1).await;
    wait_until("a failed registration is logged", || {
        agent.log_text().contains("cannot register")
    })
    .await;
    assert!(agent.is_running());
    let (_, node) = agent.call(reqwest::Method::GET, "/v1/node", None).await;
    assert_eq!(node["uid"], Value::Null);

    // The manager comes up: the agent registers and heartbeats.
    let listener = tokio::net::TcpListener::bind(manager_addr)
        .await
        .expect("rebind the manager's port");
    let manager = FakeManager::start(listener).await;
    wait_until("a heartbeat with the shard", || {
        manager
            .heartbeats()
            .iter()
            .any(|(_, hb)| hb.shards.iter().any(|s| s.uid == 1 && s.port == port))
    })
    .await;
    let (_, node) = agent.call(reqwest::Method::GET, "/v1/node", None).await;
    assert_eq!(node["uid"], NODE_UID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_of_client_commands() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let agent = Agent::start(&data, &manager.url).await;
    let port = free_port();
    agent.put_shard(&master_spec(1, port)).await;
    agent.wait_running(1).await;

    // The agent's own probes (AUTH, INFO) are not client traffic: after two
    // of them there is still no latency to report.
    let mut c = shard_conn(port);
    wait_until("two probes", || {
        let Frame::Bulk(text) = c.cmd(&["INFO", "commandstats"]) else {
            panic!("INFO is text")
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        let calls = text
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_info:calls="))
            .and_then(|v| v.split(',').next()?.parse::<u64>().ok())
            .unwrap_or(0);
        calls >= 3
    })
    .await;
    assert_eq!(agent.shard(1).await.expect("shard 1").avg_latency, None);

    // Client commands: a latency, then none again once they stop.
    let deadline = Instant::now() + WAIT;
    let busy = loop {
        for i in 0..50 {
            assert_eq!(c.cmd(&["SET", &format!("k{i}"), "v"]), Frame::Simple("OK".into()));
        }
        let s = agent.shard(1).await.expect("shard 1");
        if s.avg_latency.is_some() {
            break s;
        }
        assert!(Instant::now() < deadline, "no latency within {WAIT:?}: {s:?}");
    };
    assert!(busy.avg_latency.is_some_and(|l| l >= 0.0 && l.is_finite()), "{busy:?}");
    agent.wait_shard(1, "idle again", |s| s.avg_latency.is_none()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool() {
    let data = DataDir::new();
    let manager = FakeManager::bind().await;
    let agent = Agent::start(&data, &manager.url).await;
    let port = free_port();
    agent.put_shard(&master_spec(1, port)).await;
    agent.wait_running(1).await;
    wait_until("registration", || !manager.registrations().is_empty()).await;
    let (status, text) = agent.call(reqwest::Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("metrics text").to_owned();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains("shard=\"1\""))
            .unwrap_or_else(|| panic!("no {name} for shard 1 in\n{text}"))
            .to_owned()
    };
    assert!(line("tessera_shard_up{").ends_with(" 1"), "{text}");
    assert!(line("tessera_shard_up{").contains(&format!("node=\"{NODE_UID}\"")));
    assert!(line("tessera_shard_role{").contains("role=\"master\""));
    assert!(line("tessera_shard_restarts_total{").ends_with(" 0"));
    assert!(text.contains("tessera_node_memory_total_bytes{"));
    if !crate::support::tool_installed("promtool") {
        eprintln!("skipping the promtool check: promtool not installed");
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    std::io::Write::write_all(&mut check.stdin.take().expect("stdin"), text.as_bytes()).expect("write to promtool");
    let out = check.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
