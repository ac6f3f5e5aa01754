//! The `tessera` binary end to end: `tessera up` in a temp dir on free ports
//! (every line it prints is checked, then it is stopped with SIGINT and
//! resumed with its data), and every admin command with its exit codes.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");
/// Generous: the first start builds nothing but registers three agents and
/// starts shards on a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(240);

fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// `n` consecutive free ports (a start port picked by the OS, checked upwards).
fn free_ports(n: u16) -> u16 {
    loop {
        let base = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        if base < 60000 && (base..base + n).all(bindable) {
            return base;
        }
    }
}

/// The ports of one `tessera up`.
struct Ports {
    http: u16,
    db: u16,
    agent: u16,
    shards: u16,
}

impl Ports {
    fn pick() -> Ports {
        Ports {
            http: free_ports(1),
            db: free_ports(1),
            agent: free_ports(3),
            shards: free_ports(30),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--port".into(),
            self.http.to_string(),
            "--db-port".into(),
            self.db.to_string(),
            "--agent-port".into(),
            self.agent.to_string(),
            "--shard-ports".into(),
            format!("{}-{}", self.shards, self.shards + 29),
        ]
    }
}

/// A running `tessera up` in its own process group; stopped with SIGINT on drop.
struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Up {
    fn start(dir: &Path, ports: &Ports, extra: &[&str]) -> Up {
        let mut child = Command::new(TESSERA)
            .arg("up")
            .arg("--data-dir")
            .arg(dir)
            .args(ports.args())
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start tessera up");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Up { child, lines }
    }

    /// Every line up to and including "Press Ctrl-C …".
    fn banner(&mut self) -> Vec<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("Press Ctrl-C");
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(e) => panic!(
                    "tessera up did not finish starting ({e}); it printed:\n{}",
                    seen.join("\n")
                ),
            }
        }
    }

    /// SIGINT, as Ctrl-C in a terminal; returns the rest of the output once it exited 0.
    fn interrupt(&mut self) -> Vec<String> {
        let pgid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        killpg(pgid, Signal::SIGINT).expect("SIGINT");
        let status = self.child.wait().expect("wait");
        let rest: Vec<String> = self.lines.try_iter().collect();
        assert!(status.success(), "tessera up exited with {status}: {}", rest.join("\n"));
        rest
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let pgid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
            let _ = killpg(pgid, Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(60);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value after `label` on the line that starts with it (after indentation).
fn field<'a>(lines: &'a [String], label: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no line {label:?} in:\n{}", lines.join("\n")))
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    redis_cli_at("127.0.0.1", port, args)
}

fn redis_cli_at(host: &str, port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", host, "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn get(url: &str, login: Option<(&str, &str)>) -> u16 {
    let mut req = reqwest::Client::new().get(url);
    if let Some((user, password)) = login {
        req = req.basic_auth(user, Some(password));
    }
    req.send().await.map_or(0, |r| r.status().as_u16())
}

/// `tessera ARGS` → (exit code, stdout, stderr), with a clean environment.
fn tessera(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = Command::new(TESSERA)
        .current_dir(dir)
        .args(args)
        .env_remove("TESSERA_URL")
        .env_remove("TESSERA_USER")
        .env_remove("TESSERA_PASSWORD")
        .output()
        .expect("run tessera");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Polls `tessera` until `ok` accepts its JSON output.
fn wait_json(dir: &Path, args: &[&str], what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let (code, out, err) = tessera(dir, args);
        if code == 0 && ok(&json(&out)) {
            return json(&out);
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {code} {out} {err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_prints_a_working_cluster_stops_on_ctrl_c_and_resumes() {
    tessera_manager::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let ports = Ports::pick();
    let mut up = Up::start(&data, &ports, &[]);
    let lines = up.banner();
    let url = format!("http://127.0.0.1:{}", ports.http);

    // Progress, in order.
    let d = data.display();
    assert_eq!(lines[0], format!("Starting Tessera in {d} (logs in {d}/logs)"));
    assert_eq!(lines[1], format!("  manager   {url} … ready"));
    let agents = format!("  agents    3 on 127.0.0.1:{}-{} … ready", ports.agent, ports.agent + 2);
    assert_eq!(lines[2], agents);
    assert_eq!(lines[3], "  proxy     … started");
    assert_eq!(
        lines[4],
        format!("  database  \"default\" on port {} … created", ports.db)
    );
    assert_eq!(lines[5], "  endpoints 1 database(s) … answering");
    assert_eq!(lines[6], "");
    assert_eq!(lines[7], "Tessera is running.");

    // Every advertised address answers.
    assert_eq!(field(&lines, "Console and REST API:"), format!("{url}/"));
    let login = field(&lines, "Login:");
    let (user, password) = login.split_once(" / ").expect("user / password");
    assert_eq!(user, "admin");
    assert_eq!(get(&format!("{url}/v1/cluster"), None).await, 401, "REST needs a login");
    assert_eq!(
        get(&format!("{url}/v1/cluster"), Some((user, password))).await,
        200,
        "the login works"
    );
    assert_eq!(get(&format!("{url}/v1/cluster"), Some((user, "wrong"))).await, 401);
    let metrics = field(&lines, "Metrics:");
    assert_eq!(metrics, format!("{url}/metrics"));
    assert_eq!(get(metrics, Some((user, password))).await, 200);
    let connect = field(&lines, "Database default");
    assert_eq!(connect, format!("redis-cli -p {}", ports.db));
    assert_eq!(redis_cli(ports.db, &["PING"]), "PONG");
    assert_eq!(redis_cli(ports.db, &["SET", "greeting", "hello"]), "OK");
    let admin = field(&lines, "Admin CLI:");
    assert_eq!(admin, format!("tessera --data-dir {d} status"));
    let (code, out, err) = tessera(tmp.path(), &["--data-dir", &d.to_string(), "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("default") && out.contains("active"), "{out}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("Press Ctrl-C to stop; `tessera up` again resumes with the same data.")
    );

    // Ctrl-C stops everything, shards included.
    let rest = up.interrupt();
    assert_eq!(
        rest.last().map(String::as_str),
        Some(format!("Stopped. Data is kept in {d}.").as_str())
    );
    for port in [ports.http, ports.db, ports.agent, ports.agent + 1, ports.agent + 2] {
        assert!(bindable(port), "port {port} is still in use after Ctrl-C");
    }
    assert!((ports.shards..ports.shards + 30).all(bindable), "a shard still runs");

    // Again: the same cluster, the same data, no second default database.
    let mut up = Up::start(&data, &ports, &[]);
    let lines = up.banner();
    assert_eq!(lines[0], format!("Resuming Tessera in {d} (logs in {d}/logs)"));
    assert!(!lines.iter().any(|l| l.contains("created")), "{lines:?}");
    assert_eq!(field(&lines, "Login:"), format!("admin (password in {d}/cluster.json)"));
    assert_eq!(get(&format!("{url}/v1/cluster"), Some((user, password))).await, 200);
    assert_eq!(redis_cli(ports.db, &["GET", "greeting"]), "hello");
    let (code, out, _) = tessera(tmp.path(), &["--data-dir", &d.to_string(), "db", "list", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out).as_array().map(Vec::len), Some(1), "{out}");
    up.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_answer_with_documented_exit_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = tmp.path().join("tessera-data");
    let ports = Ports::pick();
    // Another loopback address than the default: everything follows --bind.
    let mut up = Up::start(&data, &ports, &["--bind", "127.0.0.2"]);
    let lines = up.banner();
    let url = format!("http://127.0.0.2:{}", ports.http);
    assert_eq!(field(&lines, "Console and REST API:"), format!("{url}/"));
    assert_eq!(
        field(&lines, "Database default"),
        format!("redis-cli -h 127.0.0.2 -p {}", ports.db)
    );
    assert_eq!(redis_cli_at("127.0.0.2", ports.db, &["PING"]), "PONG");
    assert!(
        bindable(ports.http) && bindable(ports.db),
        "nothing listens on 127.0.0.1"
    );
    let (_, password) = field(&lines, "Login:").split_once(" / ").expect("login");
    let password = password.to_owned();
    // Run from the directory holding ./tessera-data: the stored login is the default.
    let dir = tmp.path();

    let (code, out, err) = tessera(dir, &["status"]);
    assert_eq!(code, 0, "{err}");
    for section in ["NODES:", "DATABASES:", "SHARDS:", "default"] {
        assert!(out.contains(section), "{section} missing in:\n{out}");
    }
    let status = json(&tessera(dir, &["status", "--json"]).1);
    assert_eq!(status["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        status["shards"].as_array().map(Vec::len),
        Some(2),
        "a master and its replica"
    );

    // db create | list | show | update | delete
    let port = free_ports(1).to_string();
    let args = [
        "db", "create", "cache", "--memory", "64MB", "--shards", "2", "--port", &port, "--json",
    ];
    let (code, out, err) = tessera(dir, &args);
    assert_eq!(code, 0, "{err}");
    let created = json(&out);
    assert_eq!(created["name"], "cache");
    assert_eq!(created["memory_size"], 64 << 20);
    let uid = created["uid"].as_i64().expect("uid").to_string();
    let (code, out, _) = tessera(dir, &["db", "list"]);
    assert_eq!(code, 0);
    assert!(out.lines().next().is_some_and(|h| h.starts_with("ID  NAME")), "{out}");
    assert!(out.lines().any(|l| l.contains("cache")), "{out}");
    wait_json(dir, &["db", "show", "cache", "--json"], "cache active", |v| {
        v["status"] == "active"
    });
    let (code, out, _) = tessera(dir, &["db", "show", &uid]);
    assert_eq!(code, 0);
    assert!(
        out.lines().any(|l| l.starts_with("name:") && l.ends_with("cache")),
        "{out}"
    );
    let (code, out, err) = tessera(dir, &["db", "update", "cache", "--memory", "128MB", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["memory_size"], 128 << 20);
    // --durability: sync needs a replica, which cache has not; default has one.
    assert_eq!(created["durability"], "async");
    let (code, _, err) = tessera(dir, &["db", "update", "cache", "--durability", "sync"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("replication"), "{err}");
    assert_eq!(
        tessera(dir, &["db", "create", "loose", "--durability", "eventually"]).0,
        2
    );
    let (code, out, err) = tessera(dir, &["db", "update", "default", "--durability", "sync", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["durability"], "sync");
    assert_eq!(
        tessera(dir, &["db", "update", "cache"]).0,
        2,
        "nothing to change is a usage error"
    );
    assert_eq!(
        tessera(dir, &["db", "create", "cache"]).0,
        5,
        "a second database named cache is rejected"
    );
    assert_eq!(tessera(dir, &["db", "create", "big", "--memory", "12XB"]).0, 2);
    let (code, _, err) = tessera(dir, &["db", "show", "nope"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("no database named \"nope\""), "{err}");
    assert_eq!(tessera(dir, &["db", "show", "999"]).0, 4);
    let (code, out, _) = tessera(dir, &["db", "delete", "cache"]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("database {uid} deleted\n"));
    wait_json(dir, &["db", "list", "--json"], "cache gone", |v| {
        v.as_array().is_some_and(|l| l.iter().all(|b| b["name"] != "cache"))
    });
    assert_eq!(tessera(dir, &["db", "delete", "cache"]).0, 4);

    // node list | maintenance
    let (code, out, _) = tessera(dir, &["node", "list"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().filter(|l| l.contains("active")).count(), 3, "{out}");
    let (code, out, err) = tessera(dir, &["node", "maintenance", "1", "on"]);
    assert_eq!((code, out.as_str()), (0, "node 1: maintenance on\n"), "{err}");
    let nodes = json(&tessera(dir, &["node", "list", "--json"]).1);
    assert_eq!(nodes[0]["maintenance"], true);
    assert_eq!(tessera(dir, &["node", "maintenance", "1", "off"]).0, 0);
    assert_eq!(tessera(dir, &["node", "maintenance", "99", "on"]).0, 4);
    assert_eq!(tessera(dir, &["node", "maintenance", "1", "maybe"]).0, 2);

    // failover: the default database is replicated, so its replica takes over.
    let (code, out, err) = tessera(dir, &["failover", "default"]);
    assert_eq!(code, 0, "failover: {out} {err}");
    assert!(out.starts_with("database 1 failed over\n"), "{out}");
    assert_eq!(tessera(dir, &["failover", "nope"]).0, 4);

    // events: what was done above, most recent first.
    let (code, out, _) = tessera(dir, &["events", "--limit", "50"]);
    assert_eq!(code, 0);
    for action in [
        "bdb_create",
        "bdb_delete",
        "node_maintenance_on",
        "shard_failover_planned",
    ] {
        assert!(out.contains(action), "{action} missing in:\n{out}");
    }
    assert_eq!(
        json(&tessera(dir, &["events", "--limit", "2", "--json"]).1)
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Logins: flags, the environment, bad credentials, no manager.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let (code, _, err) = tessera(&elsewhere, &["--url", &url, "status"]);
    assert_eq!(code, 3, "no password: {err}");
    let (code, _, err) = tessera(&elsewhere, &["--url", &url, "--password", "wrong", "db", "list"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("HTTP 401"), "{err}");
    assert_eq!(
        tessera(&elsewhere, &["--url", &url, "--password", &password, "db", "list"]).0,
        0
    );
    let out = Command::new(TESSERA)
        .current_dir(&elsewhere)
        .args(["node", "list"])
        .env("TESSERA_URL", &url)
        .env("TESSERA_USER", "admin")
        .env("TESSERA_PASSWORD", &password)
        .output()
        .expect("tessera");
    assert!(out.status.success(), "login from the environment");
    let closed = free_ports(1);
    assert_eq!(
        tessera(&elsewhere, &["--url", &format!("http://127.0.0.1:{closed}"), "status"]).0,
        6
    );
    assert_eq!(tessera(dir, &["no-such-command"]).0, 2);
    assert_eq!(tessera(dir, &["--help"]).0, 0);
    up.interrupt();
}
