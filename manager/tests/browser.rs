//! The web console in a real headless Chromium (through chromedriver),
//! against the real tessera-manager binary, two real tessera-agents running
//! tessera-node shards and a tessera-proxy following the manager: sign in,
//! create a replicated database, watch it become active, write keys with a
//! Redis client through its endpoint and see them on its page, fail its
//! master over and read the keys again, change its memory limit, delete it,
//! sign out; a viewer cannot create. Screenshots of the main pages land in
//! `target/console-screenshots/`.
//!
//! Needs `chromium` and `chromium-driver` (scripts/test.sh installs them);
//! without them the test fails and says so.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

#[path = "common/binaries.rs"]
mod binaries;
#[path = "common/ports.rs"]
mod ports;
use ports::free_port;

const TOKEN: &str = "browser-cluster-token";
const PASSWORD: &str = "browser-admin-password";
/// Generous: the machine may be busy building and testing in parallel.
const WAIT: Duration = Duration::from_secs(90);

/// A child process (and its process group) killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: the console's browser tests need it (apt-get install -y chromium chromium-driver, or run scripts/test.sh)")
    })
}

struct Rest {
    url: String,
    http: reqwest::Client,
}

impl Rest {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .basic_auth("admin", Some(PASSWORD));
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    async fn wait_for(&self, what: &str, path: &str, ok: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let (s, v) = self.call(reqwest::Method::GET, path, None).await;
            if ok(s, &v) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {s} {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("goto");
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// Waits until `css`'s text satisfies `ok`, reloading every few seconds if `reload`.
    async fn wait_text(&self, what: &str, css: &str, reload: bool, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last_reload = Instant::now();
        loop {
            let found = self.client.find(Locator::Css(css)).await;
            if let Ok(e) = found
                && let Ok(t) = e.text().await
                && ok(&t)
            {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} in {}",
                self.source().await
            );
            if reload && last_reload.elapsed() > Duration::from_secs(3) {
                let _ = self.client.refresh().await;
                last_reload = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn sign_in(&self, user: &str, password: &str) {
        self.goto("/console").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("button[type=submit]").await;
        self.wait_text("the signed-in user", "#whoami", false, |t| t == user)
            .await;
    }
}

fn chrome_capabilities() -> serde_json::Map<String, Value> {
    let profile = std::env::temp_dir().join(format!("tessera-chromium-{}", std::process::id()));
    let caps = json!({
        "goog:chromeOptions": {
            "binary": require_tool("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.display())]
        }
    });
    match caps {
        Value::Object(m) => m,
        _ => unreachable!("a JSON object"),
    }
}

async fn start_chromedriver() -> (Proc, String) {
    let driver = require_tool("chromedriver");
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    while http.get(format!("{url}/status")).send().await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Proc(child), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_a_real_browser() {
    tessera_manager::install_crypto_provider();
    require_tool("chromium");
    require_tool("chromedriver");
    let agent_bin = binaries::binary("tessera-agent");
    let dir = tempfile::tempdir().expect("tempdir");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let port = free_port();
    let _manager = Proc(
        Command::new(env!("CARGO_BIN_EXE_tessera-manager"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.path().join("manager"))
            .env("TESSERA_CLUSTER_TOKEN", TOKEN)
            .env("TESSERA_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start tessera-manager"),
    );
    let rest = Rest {
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    rest.wait_for("the manager", "/v1/cluster", |s, _| s == 200).await;
    // Two nodes, so that the database's replica sits apart from its master.
    let start_agent = |i: u32| {
        let listen = free_port();
        let base = 20000 + (u32::from(port) * 7 + i * 50) % 20000;
        Proc(
            Command::new(&agent_bin)
                .args(["--manager", &rest.url, "--token", TOKEN, "--advertise", "127.0.0.1"])
                .args([
                    "--listen",
                    &format!("127.0.0.1:{listen}"),
                    "--shard-ports",
                    &format!("{base}-{}", base + 49),
                ])
                .arg("--data-dir")
                .arg(dir.path().join(format!("agent{i}")))
                .env("RUST_LOG", "error")
                .process_group(0)
                .spawn()
                .expect("start tessera-agent"),
        )
    };
    let _agents = [start_agent(0), start_agent(1)];
    rest.wait_for("two active nodes", "/v1/nodes", |_, v| {
        v.as_array()
            .is_some_and(|n| n.iter().filter(|n| n["status"] == "active").count() == 2)
    })
    .await;
    // The proxy serving database endpoints, as `tessera up` runs it.
    let _proxy = Proc(
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["tessera-proxy", "--manager", &rest.url, "--bind", "127.0.0.1"])
            .env("TESSERA_CLUSTER_TOKEN", TOKEN)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start tessera-proxy"),
    );
    let (s, _) = rest
        .call(
            reqwest::Method::POST,
            "/v1/users",
            Some(json!({"name": "viewer", "role": "db_viewer", "password": "viewer-password"})),
        )
        .await;
    assert_eq!(s, 200);

    let (_driver, driver_url) = start_chromedriver().await;
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(chrome_capabilities())
        .connect(&driver_url)
        .await
        .expect("a Chromium session through chromedriver");
    let b = Browser {
        client,
        base: rest.url.clone(),
        shots,
    };
    // Every step has its own wait; this bounds a hung WebDriver call.
    tokio::time::timeout(Duration::from_secs(300), walk_through(&b, &rest))
        .await
        .expect("the browser walk-through finished in time");
    let _ = b.client.close().await;
}

/// A connection to a database endpoint, retried while the proxy is not
/// serving it yet.
async fn connect(endpoint: &redis::Client) -> redis::aio::MultiplexedConnection {
    let deadline = Instant::now() + WAIT;
    loop {
        match endpoint.get_multiplexed_async_connection().await {
            Ok(mut con) => {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut con).await;
                if pong.is_ok() {
                    return con;
                }
            }
            Err(e) => assert!(Instant::now() < deadline, "the endpoint does not answer: {e}"),
        }
        assert!(Instant::now() < deadline, "the endpoint does not answer PING");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn walk_through(b: &Browser, rest: &Rest) {
    // Sign in.
    b.goto("/console").await;
    b.find("#username").await;
    b.shot("01-login").await;
    b.sign_in("admin", PASSWORD).await;
    b.shot("02-overview-empty").await;

    // Create a database through the form; a mistake first, kept as typed.
    let db_port = free_port();
    b.click("#create-db, a[href='/console/databases/new']").await;
    b.fill("#name", "shop floor").await;
    b.fill("#memory_mb", "64").await;
    b.fill("#port", &db_port.to_string()).await;
    b.click("#replication").await;
    b.fill("#password", "shop-pass").await;
    b.click("#save-db").await;
    b.find("#name-error").await;
    assert_eq!(
        b.find("#name").await.prop("value").await.expect("value").as_deref(),
        Some("shop floor")
    );
    assert_eq!(
        b.find("#replication")
            .await
            .prop("checked")
            .await
            .expect("checked")
            .as_deref(),
        Some("true")
    );
    b.shot("03-create-error").await;
    b.fill("#name", "shop").await;
    b.fill("#password", "shop-pass").await;
    b.click("#save-db").await;

    // Its page follows the action until the database is active.
    b.wait_text("the database to become active", "#db-status", true, |t| t == "active")
        .await;
    let cli = b.text("#redis-cli").await;
    assert!(
        cli.starts_with(&format!("redis-cli -h 127.0.0.1 -p {db_port} -a 'shop-pass'")),
        "{cli}"
    );

    // Write keys through the database's endpoint (the proxy) with a Redis
    // client; keep it busy.
    let shards = rest
        .wait_for("a running master and replica", "/v1/shards", |_, v| {
            v.as_array().is_some_and(|a| {
                a.iter().filter(|s| s["status"] == "running").count() == 2 && a.iter().any(|s| s["role"] == "master")
            })
        })
        .await;
    let uid_of = |role: &str| {
        shards
            .as_array()
            .and_then(|a| a.iter().find(|s| s["role"] == role))
            .and_then(|s| s["uid"].as_i64())
            .expect("shard uid")
    };
    let (master, replica) = (uid_of("master"), uid_of("replica"));
    let endpoint = redis::Client::open(format!("redis://:shop-pass@127.0.0.1:{db_port}/")).expect("redis url");
    let mut con = connect(&endpoint).await;
    for i in 0..500 {
        let _: () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(i)
            .query_async(&mut con)
            .await
            .expect("SET through the endpoint");
    }
    let load = tokio::spawn(async move {
        for i in 0.. {
            let _: Result<Option<String>, _> = redis::cmd("GET")
                .arg(format!("key:{}", i % 500))
                .query_async(&mut con)
                .await;
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    // The live panel refreshes on its own: no reload.
    b.wait_text("500 keys on the page", "strong.now[data-metric='Keys']", false, |t| {
        t == "500"
    })
    .await;
    b.wait_text("ops/s above 0", "strong.now[data-metric='Operations/s']", false, |t| {
        t != "0" && t != "—"
    })
    .await;
    b.wait_text("a latency", "strong.now[data-metric='Latency']", false, |t| {
        t.ends_with(" µs") || t.ends_with(" ms")
    })
    .await;
    b.shot("04-database").await;
    load.abort();

    // Fail the master over from its page once the replica has every key.
    rest.wait_for("the replica in sync", "/v1/shards", |_, v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|s| s["uid"] == replica && s["keys"] == 500))
    })
    .await;
    b.goto("/console/databases/1").await;
    b.click(&format!("#failover-{master}")).await;
    b.client.accept_alert().await.expect("confirm the failover");
    b.wait_text("the new master", &format!("#shard-{replica} .role"), true, |t| {
        t == "master"
    })
    .await;
    b.wait_text(
        "the old master a replica",
        &format!("#shard-{master} .role"),
        true,
        |t| t == "replica",
    )
    .await;
    b.shot("05-after-failover").await;
    // Every key is still served through the same endpoint.
    let deadline = Instant::now() + WAIT;
    let mut con = connect(&endpoint).await;
    for i in 0..500 {
        loop {
            let got: Result<Option<String>, _> = redis::cmd("GET").arg(format!("key:{i}")).query_async(&mut con).await;
            match got {
                Ok(v) => {
                    assert_eq!(v, Some(i.to_string()), "key:{i} after the failover");
                    break;
                }
                Err(e) => {
                    assert!(Instant::now() < deadline, "key:{i} unreadable after the failover: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    con = connect(&endpoint).await;
                }
            }
        }
    }

    // Change the memory limit.
    b.click("#edit-db").await;
    b.fill("#memory_mb", "128").await;
    b.click("#save-db").await;
    b.wait_text("the new memory limit", "#memory-limit", true, |t| t == "128.0 MiB")
        .await;
    let (_, db) = rest.call(reqwest::Method::GET, "/v1/bdbs/1", None).await;
    assert_eq!(db["memory_size"], 128 << 20);

    // The other pages.
    for (path, name, expect) in [
        ("/console", "06-overview", "shop"),
        ("/console/databases", "07-databases", "shop"),
        ("/console/nodes", "08-nodes", "127.0.0.1"),
        ("/console/shards", "09-shards", "master"),
        ("/console/events", "10-events", "bdb_update"),
        ("/console/users", "11-users", "viewer"),
        ("/console/databases/new", "12-create-form", "Eviction policy"),
    ] {
        b.goto(path).await;
        b.find("main").await;
        assert!(b.source().await.contains(expect), "{path} shows {expect}");
        b.shot(name).await;
    }
    // A phone-sized overview.
    b.client.set_window_size(390, 844).await.expect("resize");
    b.goto("/console").await;
    b.find("main").await;
    b.shot("13-overview-phone").await;
    b.client.set_window_size(1280, 900).await.expect("resize");

    // Delete, confirming with the name.
    b.goto("/console/databases/1").await;
    b.click("#delete-db").await;
    b.shot("14-delete-confirm").await;
    b.fill("#confirm", "shop").await;
    b.click("#confirm-delete").await;
    rest.wait_for("the database gone", "/v1/bdbs/1", |s, _| s == 404).await;
    b.goto("/console/databases").await;
    b.wait_text("the empty state", ".empty-state", true, |t| {
        t.contains("No databases yet")
    })
    .await;

    // Sign out: the console asks to sign in again.
    b.click("#logout").await;
    b.find("#username").await;
    b.goto("/console/databases").await;
    b.find("#username").await;

    // A viewer sees but cannot create.
    b.sign_in("viewer", "viewer-password").await;
    b.goto("/console/databases").await;
    b.find(".empty-state").await;
    assert!(
        !b.source().await.contains("Create database"),
        "no create button for a viewer"
    );
    b.goto("/console/databases/new").await;
    assert_eq!(b.text("h1").await, "Not allowed");
    b.shot("15-viewer-forbidden").await;
}
