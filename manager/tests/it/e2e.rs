//! End to end with real processes: the tessera-manager binary and three
//! tessera-agent processes on 127.0.0.1 running real tessera-node shards.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) const TOKEN: &str = "e2e-cluster-token";
const PASSWORD: &str = "e2e-admin-password";

/// A child process killed on drop.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `tessera-agent` (and `tessera-node` beside it) from this workspace's target dir.
pub(crate) fn agent_binary() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_tessera-manager"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let agent = dir.join("tessera-agent");
    if !agent.exists() || !dir.join("tessera-node").exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "tessera-node", "--bins"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "cannot build tessera-agent");
    }
    agent
}

/// `tessera-proxy` from this workspace's target dir.
pub(crate) fn proxy_binary() -> PathBuf {
    let proxy = agent_binary().with_file_name("tessera-proxy");
    if !proxy.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "tessera-proxy"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "cannot build tessera-proxy");
    }
    proxy
}

pub(crate) struct Manager {
    pub(crate) proc: Proc,
    pub(crate) url: String,
    http: reqwest::Client,
}

pub(crate) fn start_manager(port: u16, data: &std::path::Path) -> Manager {
    let child = Command::new(env!("CARGO_BIN_EXE_tessera-manager"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env("TESSERA_CLUSTER_TOKEN", TOKEN)
        .env("TESSERA_ADMIN_PASSWORD", PASSWORD)
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
    pub(crate) async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .basic_auth("admin", Some(PASSWORD));
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

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub(crate) async fn wait_for(&self, what: &str, mut ok: impl FnMut(u16, &Value) -> bool, path: &str) -> Value {
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
}

pub(crate) fn redis_cli(addr: &str, password: &str, args: &[&str]) -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_and_three_agents_run_a_replicated_database() {
    tessera_manager::install_crypto_provider();
    let agent_bin = agent_binary();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut manager = start_manager(port, &dir.path().join("manager"));
    manager.wait_for("the manager", |s, _| s == 200, "/v1/cluster").await;

    let mut agents = Vec::new();
    for i in 0..3 {
        let listen = free_port();
        let base = 20000 + (u32::from(port) * 7 + i * 50) % 20000;
        let child = Command::new(&agent_bin)
            .args(["--manager", &manager.url, "--token", TOKEN, "--advertise", "127.0.0.1"])
            .args([
                "--listen",
                &format!("127.0.0.1:{listen}"),
                "--shard-ports",
                &format!("{base}-{}", base + 49),
            ])
            .arg("--data-dir")
            .arg(dir.path().join(format!("agent{i}")))
            // Heartbeats fail while the manager restarts: only errors are worth showing.
            .env("RUST_LOG", "error")
            .spawn()
            .expect("start tessera-agent");
        agents.push(Proc(child));
    }
    manager
        .wait_for(
            "3 active nodes",
            |_, v| {
                v.as_array()
                    .is_some_and(|n| n.iter().filter(|n| n["status"] == "active").count() == 3)
            },
            "/v1/nodes",
        )
        .await;

    let (s, db) = manager
        .call(
            reqwest::Method::POST,
            "/v1/bdbs",
            Some(
                json!({"name": "e2e", "memory_size": 64 << 20, "shards_count": 2, "replication": true,
                        "authentication_redis_pass": "dbpass", "data_persistence": "aof"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{db}");
    let uid = db["uid"].as_i64().expect("uid");
    let bdb = format!("/v1/bdbs/{uid}");
    manager
        .wait_for("an active database", |_, v| v["status"] == "active", &bdb)
        .await;

    let (_, shards) = manager.get("/v1/shards").await;
    let shards = shards.as_array().expect("shards").clone();
    assert_eq!(shards.len(), 4);
    let masters: Vec<String> = shards
        .iter()
        .filter(|s| s["role"] == "master")
        .map(|s| s["addr"].as_str().expect("addr").to_owned())
        .collect();
    assert_eq!(masters.len(), 2);
    for addr in &masters {
        assert_eq!(redis_cli(addr, "dbpass", &["PING"]), "PONG", "{addr}");
    }
    assert_eq!(redis_cli(&masters[0], "dbpass", &["SET", "k", "v"]), "OK");

    // Through a proxy following the topology: it authenticates to the
    // shards; its clients authenticate to it with the same password.
    let proxy = Proc(
        Command::new(proxy_binary())
            .args(["--manager", &manager.url, "--token", TOKEN, "--bind", "127.0.0.1"])
            .env("RUST_LOG", "error")
            .spawn()
            .expect("start tessera-proxy"),
    );
    let endpoint = format!("127.0.0.1:{}", db["port"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis_cli(&endpoint, "dbpass", &["PING"]) != "PONG" {
        assert!(Instant::now() < deadline, "the proxy does not serve {endpoint}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(redis_cli(&endpoint, "", &["GET", "k"]).contains("NOAUTH"));
    // Keys on both shards ({a} hashes to 15495, {b} to 3300).
    for (key, value) in [("{a}1", "x"), ("{b}1", "y")] {
        assert_eq!(redis_cli(&endpoint, "dbpass", &["SET", key, value]), "OK");
    }
    assert_eq!(redis_cli(&endpoint, "dbpass", &["MGET", "{a}1", "{b}1"]), "x\ny");
    drop(proxy);

    // Restart the manager: the same database and shards, nothing created twice.
    drop(manager);
    manager = start_manager(port, &dir.path().join("manager"));
    manager
        .wait_for("the manager again", |s, _| s == 200, "/v1/cluster")
        .await;
    manager
        .wait_for(
            "3 active nodes",
            |_, v| {
                v.as_array()
                    .is_some_and(|n| n.iter().filter(|n| n["status"] == "active").count() == 3)
            },
            "/v1/nodes",
        )
        .await;
    manager
        .wait_for(
            "shards running",
            |_, v| {
                v.as_array()
                    .is_some_and(|a| a.len() == 4 && a.iter().all(|s| s["status"] == "running"))
            },
            "/v1/shards",
        )
        .await;
    let (_, again) = manager.get("/v1/shards").await;
    let addrs = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(|s| s["addr"].clone()).collect::<Vec<_>>())
    };
    assert_eq!(addrs(&again), addrs(&Value::Array(shards.clone())));
    assert_eq!(manager.get(&bdb).await.1["status"], "active");
    assert_eq!(
        redis_cli(&masters[0], "dbpass", &["GET", "k"]),
        "v",
        "the shard kept running"
    );

    // Delete: processes stop, the database is gone.
    let (s, _) = manager.call(reqwest::Method::DELETE, &bdb, None).await;
    assert_eq!(s, 200);
    manager.wait_for("the database gone", |s, _| s == 404, &bdb).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while masters.iter().any(|a| redis_cli(a, "dbpass", &["PING"]) == "PONG") {
        assert!(Instant::now() < deadline, "shards still answer after the delete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(agents);
}
