//! Fault injection with real processes: a manager, three agents with their
//! tessera-node shards, and a tessera-proxy following the topology. A client
//! appends to per-key lists through the proxy and records every
//! acknowledged append; masters are SIGKILLed and SIGSTOPped and the manager
//! is stopped for a while. At the end every acknowledged append of a `sync`
//! database must be in its list.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::{Manager, Partition, Proc, Processes, TOKEN, binary, free_port, redis_cli, start_cluster};

const KEYS: usize = 8;

/// What the writer saw.
#[derive(Default)]
struct Log {
    /// Acknowledged appends: (key index, value).
    acked: Vec<(usize, u64)>,
    /// When the last acknowledged append to each key was sent.
    last_ack: [Option<Instant>; KEYS],
    errors: u64,
    last_error: Option<String>,
}

/// One RESP request and its one-line reply (`:n`, `+OK`, `-ERR …`).
async fn request(stream: &mut BufReader<TcpStream>, args: &[&str]) -> std::io::Result<String> {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.get_mut().write_all(out.as_bytes()).await?;
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end().to_owned())
}

/// Appends `0, 1, 2, …` round-robin to `ha:{k}` through the proxy until `stop`.
async fn writer(addr: String, log: Arc<Mutex<Log>>, stop: Arc<AtomicBool>) {
    let mut next = 0u64;
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let stream = match &mut conn {
            Some(s) => s,
            None => match TcpStream::connect(&addr).await {
                Ok(s) => conn.insert(BufReader::new(s)),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let key = (next % KEYS as u64) as usize;
        let value = next.to_string();
        let sent = Instant::now();
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            request(stream, &["RPUSH", &format!("ha:{key}"), &value]),
        )
        .await;
        match reply {
            Ok(Ok(line)) if line.starts_with(':') => {
                let mut log = log.lock().expect("log");
                log.acked.push((key, next));
                log.last_ack[key] = Some(sent);
            }
            Ok(Ok(line)) => {
                {
                    let mut log = log.lock().expect("log");
                    log.errors += 1;
                    log.last_error = Some(line);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => {
                let mut log = log.lock().expect("log");
                log.errors += 1;
                log.last_error = Some(format!("{other:?}"));
                conn = None;
            }
        }
        next += 1;
    }
}

fn kill(signal: &str, pid: &str) {
    // The process may be gone already: that is fine.
    let _ = Command::new("kill")
        .args([signal, pid])
        .stderr(Stdio::null())
        .status()
        .expect("kill");
}

/// `redis-cli` without a password (the database has none).
fn cli(addr: &str, args: &[&str]) -> String {
    redis_cli(addr, "", args)
}

fn pid_of(addr: &str) -> String {
    cli(addr, &["INFO", "server"])
        .lines()
        .find_map(|l| l.trim().strip_prefix("process_id:").map(str::to_owned))
        .unwrap_or_else(|| panic!("no process_id from {addr}"))
}

/// `idx` (0 or 1, by slot range) → (uid, addr) of its master, and the shards' JSON.
async fn masters(manager: &Manager) -> (HashMap<String, (i64, String)>, Value) {
    let (_, shards) = manager.get("/v1/shards").await;
    let map = shards
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["role"] == "master")
                .map(|s| {
                    (
                        s["assigned_slots"].as_str().unwrap_or_default().to_owned(),
                        (
                            s["uid"].as_i64().unwrap_or_default(),
                            s["addr"].as_str().unwrap_or_default().to_owned(),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (map, shards)
}

/// Every shard running and every replica's link up.
fn healthy(shards: &Value) -> bool {
    shards.as_array().is_some_and(|a| {
        a.len() == 4
            && a.iter()
                .all(|s| s["status"] == "running" && (s["role"] == "master" || s["master_link_status"] == "up"))
    })
}

/// Whether a key of slot range `range` (`"lo-hi"`, all when `None`) had an
/// append acknowledged after `t`.
async fn acks_after(log: &Mutex<Log>, range: Option<&str>, t: Instant) -> bool {
    let (lo, hi) = range.and_then(|r| r.split_once('-')).map_or((0, 16383), |(a, b)| {
        (a.parse().unwrap_or(0), b.parse().unwrap_or(16383))
    });
    let log = log.lock().expect("log");
    (0..KEYS).any(|k| {
        let slot = resp::key_slot(format!("ha:{k}").as_bytes());
        (lo..=hi).contains(&slot) && log.last_ack[k].is_some_and(|a| a > t)
    })
}

async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, secs: u64, mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One HA test at a time: each runs a whole cluster on this machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A manager, agents, a proxy, a 2-shard replicated database and a client
/// appending through the proxy.
struct Cluster {
    durability: &'static str,
    procs: Processes,
    _proxy: Proc,
    endpoint: String,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    writing: tokio::task::JoinHandle<()>,
}

impl Cluster {
    /// With 3 agents, `failover_timeout_ms` 1000.
    async fn start(durability: &'static str) -> Cluster {
        Cluster::with(durability, 3, json!({"failover_timeout_ms": 1000})).await
    }

    /// With `agents` agents and `settings` for `/v1/cluster`.
    async fn with(durability: &'static str, agents: usize, settings: Value) -> Cluster {
        let procs = start_cluster(agents).await;
        let manager = &procs.manager;
        let (s, c) = manager
            .call(reqwest::Method::PUT, "/v1/cluster", Some(settings.clone()))
            .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["failover_timeout_ms"], settings["failover_timeout_ms"], "{c}");
        let db_port = free_port();
        let (s, db) = manager
            .call(
                reqwest::Method::POST,
                "/v1/bdbs",
                Some(
                    json!({"name": "ha", "memory_size": 64 << 20, "shards_count": 2, "replication": true,
                            "durability": durability, "port": db_port}),
                ),
            )
            .await;
        assert_eq!(s, 200, "{db}");
        assert_eq!(db["durability"], durability);
        let bdb = format!("/v1/bdbs/{}", db["uid"]);
        manager
            .wait_for("an active database", |_, v| v["status"] == "active", &bdb)
            .await;
        manager
            .wait_for("replicas in sync", |_, v| healthy(v), "/v1/shards")
            .await;
        let proxy = Proc(
            Command::new(binary("tessera-proxy"))
                .args(["--manager", &manager.url, "--token", TOKEN, "--bind", "127.0.0.1"])
                .env("RUST_LOG", "error")
                .spawn()
                .expect("start tessera-proxy"),
        );
        let endpoint = format!("127.0.0.1:{db_port}");
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let writing = tokio::spawn(writer(endpoint.clone(), log.clone(), stop.clone()));
        let start = Instant::now();
        wait_until("writes through the proxy", 60, || acks_after(&log, None, start)).await;
        Cluster {
            durability,
            procs,
            _proxy: proxy,
            endpoint,
            log,
            stop,
            writing,
        }
    }

    fn manager(&self) -> &Manager {
        &self.procs.manager
    }

    /// SIGKILLs the master of each slot range in turn, `rounds` times: the
    /// replica is promoted and writes resume each time. Returns the times
    /// from kill to the first acknowledged write to that range.
    async fn kill_masters(&self, rounds: usize) -> Vec<Duration> {
        let mut times = Vec::new();
        for round in 0..rounds {
            let (before, _) = masters(self.manager()).await;
            let range = if round % 2 == 0 { "0-8191" } else { "8192-16383" };
            let (old_uid, old_addr) = before[range].clone();
            kill("-KILL", &pid_of(&old_addr));
            let killed = Instant::now();
            wait_until("writes after the kill", 60, || {
                acks_after(&self.log, Some(range), killed)
            })
            .await;
            times.push(killed.elapsed());
            let (after, _) = masters(self.manager()).await;
            assert_ne!(after[range].0, old_uid, "round {round}: the replica was promoted");
            self.manager()
                .wait_for("the old master back as a replica", |_, v| healthy(v), "/v1/shards")
                .await;
        }
        times
    }

    /// Acknowledged appends so far that are missing from their list.
    fn lost(&self) -> usize {
        let acked = self.log.lock().expect("log").acked.clone();
        let mut lost = 0;
        for key in 0..KEYS {
            let list = cli(&self.endpoint, &["LRANGE", &format!("ha:{key}"), "0", "-1"]);
            let have: std::collections::HashSet<u64> = list.lines().filter_map(|l| l.trim().parse().ok()).collect();
            lost += acked.iter().filter(|(k, v)| *k == key && !have.contains(v)).count();
        }
        lost
    }

    /// Stops the writer; returns (acknowledged, failed, acknowledged but missing).
    async fn finish(&mut self) -> (usize, u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        (&mut self.writing).await.expect("writer");
        let lost = self.lost();
        let log = self.log.lock().expect("log");
        println!(
            "{}: {} appends acknowledged, {} refused or failed (last: {:?}), {lost} acknowledged appends lost",
            self.durability,
            log.acked.len(),
            log.errors,
            log.last_error
        );
        (log.acked.len(), log.errors, lost)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_database_fails_over_and_planned_moves_lose_nothing() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::start("async").await;
    let times = cluster.kill_masters(2).await;
    println!("async: kill to first acknowledged write: {times:?}");
    // A planned failover of the whole database loses nothing, even async.
    let lost_before = cluster.lost();
    let (before, _) = masters(cluster.manager()).await;
    let (s, action) = cluster
        .manager()
        .call(reqwest::Method::POST, "/v1/bdbs/1/actions/failover", None)
        .await;
    assert_eq!(s, 200, "{action}");
    let (after, _) = masters(cluster.manager()).await;
    for range in ["0-8191", "8192-16383"] {
        assert_ne!(before[range].0, after[range].0, "{range} has a new master");
    }
    let planned = Instant::now();
    wait_until("writes after the planned failover", 60, || {
        acks_after(&cluster.log, None, planned)
    })
    .await;
    assert_eq!(
        cluster.lost(),
        lost_before,
        "a planned failover lost acknowledged writes"
    );

    // Maintenance mode moves a node's masters away first, losing nothing.
    let manager = cluster.manager();
    let (now, shards) = masters(manager).await;
    let node = node_of(&shards, now["0-8191"].0);
    let on_node = |shards: &Value| {
        shards.as_array().map_or(0, |a| {
            a.iter()
                .filter(|s| s["node_uid"] == node && s["role"] == "master")
                .count()
        })
    };
    let planned = events(manager, "shard_failover_planned").await.len();
    let (s, action) = manager
        .call(
            reqwest::Method::POST,
            &format!("/v1/nodes/{node}/actions/maintenance_on"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{action}");
    assert_eq!(on_node(&manager.get("/v1/shards").await.1), 0, "masters left the node");
    assert_eq!(manager.get(&format!("/v1/nodes/{node}")).await.1["maintenance"], true);
    assert_eq!(
        events(manager, "shard_failover_planned").await.len(),
        planned + on_node(&shards)
    );
    let moved = Instant::now();
    wait_until("writes after the maintenance", 60, || {
        acks_after(&cluster.log, None, moved)
    })
    .await;
    assert_eq!(cluster.lost(), lost_before, "maintenance lost acknowledged writes");
    let mut cluster = cluster;
    cluster.finish().await;
}

/// The node a shard runs on.
fn node_of(shards: &Value, uid: i64) -> Value {
    shards
        .as_array()
        .and_then(|a| a.iter().find(|s| s["uid"] == uid))
        .map(|s| s["node_uid"].clone())
        .expect("the shard's node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_database_survives_master_kills_pauses_and_a_manager_outage() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start("sync").await;
    let times = cluster.kill_masters(4).await;
    println!("sync: kill to first acknowledged write: {times:?}");
    let log = cluster.log.clone();
    let manager = cluster.manager();
    // SIGSTOP a master past the threshold: it is replaced, and its agent
    // kills it (a demoted master that cannot be told to follow); continued,
    // it never acknowledges a write.
    let (before, _) = masters(manager).await;
    let (old_uid, old_addr) = before["0-8191"].clone();
    let pid = pid_of(&old_addr);
    kill("-STOP", &pid);
    let stopped = Instant::now();
    wait_until("a new master for the paused one", 60, || async {
        masters(manager).await.0["0-8191"].0 != old_uid
    })
    .await;
    wait_until("writes after the pause", 60, || {
        acks_after(&log, Some("0-8191"), stopped)
    })
    .await;
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    wait_until("the paused master killed by its agent", 60, || {
        let gone = !proc_dir.exists();
        async move { gone }
    })
    .await;
    kill("-CONT", &pid);
    for _ in 0..20 {
        let reply = cli(&old_addr, &["SET", "ha:fenced", "x"]);
        assert_ne!(reply, "OK", "the paused master accepted a write after it was replaced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    manager
        .wait_for("the paused master back as a replica", |_, v| healthy(v), "/v1/shards")
        .await;

    // The manager stops for longer than the failover timeout: the data plane
    // keeps serving (the fencing lease sets in, but replicas keep up).
    let epoch_before = manager.get("/v1/cluster").await.1["epoch"].clone();
    let (now, shards) = masters(manager).await;
    let master = now["0-8191"].1.clone();
    let replica = shards
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|s| s["role"] == "replica" && s["assigned_slots"] == "0-8191")
        })
        .and_then(|s| s["addr"].as_str())
        .expect("a replica of 0-8191")
        .to_owned();
    cluster.procs.kill_manager();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        acks_after(&log, None, down + Duration::from_secs(3)).await,
        "writes stopped while the manager was down"
    );
    // Its replica stops too: cut off from both, the master refuses writes.
    let replica_pid = pid_of(&replica);
    kill("-STOP", &replica_pid);
    wait_until("the cut-off master fenced", 60, || {
        let reply = cli(&master, &["SET", "ha:fenced", "x"]);
        async move { reply.contains("NOREPLICAS") }
    })
    .await;
    kill("-CONT", &replica_pid);
    cluster.procs.restart_manager().await;
    // Its agent restarts as the manager comes back: the new one adopts the
    // master and lifts the fence the agent before it set once the manager
    // confirms the master.
    cluster.procs.agent_of(&master).restart();
    let manager = cluster.manager();
    let back = Instant::now();
    wait_until("writes after the outage", 60, || acks_after(&log, Some("0-8191"), back)).await;
    wait_until("the fence lifted", 60, || {
        let reply = cli(&master, &["CONFIG", "GET", "min-replicas-to-write"]);
        async move { reply.lines().nth(1) == Some("0") }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        manager.get("/v1/cluster").await.1["epoch"],
        epoch_before,
        "no failover after the outage"
    );
    assert_eq!(cli(&master, &["SET", "ha:fenced", "y"]), "OK", "the fence is lifted");

    let (_, _, lost) = cluster.finish().await;
    let manager = cluster.manager();
    assert_eq!(lost, 0, "acknowledged writes lost in sync mode");
    assert_eq!(events(manager, "shard_failover_automatic").await.len(), 5);
}

/// Every master's data equals its replica's (`DEBUG DIGEST`, once the
/// replica caught up) and is not empty.
async fn replicas_match_masters(manager: &Manager) {
    let (_, shards) = manager.get("/v1/shards").await;
    let shards = shards.as_array().expect("shards").clone();
    for master in shards.iter().filter(|s| s["role"] == "master") {
        let replica = shards
            .iter()
            .find(|s| s["role"] == "replica" && s["assigned_slots"] == master["assigned_slots"])
            .expect("a replica");
        let (m, r) = (
            master["addr"].as_str().expect("addr"),
            replica["addr"].as_str().expect("addr"),
        );
        assert_ne!(cli(m, &["DBSIZE"]), "0", "master {m} has data");
        wait_until("the replica's data equal to its master's", 60, || {
            let same = cli(m, &["DEBUG", "DIGEST"]) == cli(r, &["DEBUG", "DIGEST"]);
            async move { same }
        })
        .await;
    }
}

/// The `ok` events of `action`.
async fn events(manager: &Manager, action: &str) -> Vec<Value> {
    let (_, events) = manager.get("/v1/logs?limit=1000").await;
    events.as_array().map_or(Vec::new(), |e| {
        e.iter()
            .filter(|e| e["action"] == action && e["outcome"] == "ok")
            .cloned()
            .collect()
    })
}

/// SIGKILL of a whole agent with its shards: its master fails over, and
/// past `node_lost_timeout_ms` its replicas are re-created on the other
/// nodes and sync; the database is fully replicated again, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_node_has_its_replicas_recreated_on_the_others() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::with(
        "sync",
        3,
        json!({"failover_timeout_ms": 1000, "node_lost_timeout_ms": 3000}),
    )
    .await;
    let (before, shards) = masters(cluster.manager()).await;
    let (old_uid, old_addr) = before["0-8191"].clone();
    let lost_node = node_of(&shards, old_uid);
    let moving = shards
        .as_array()
        .map_or(0, |a| a.iter().filter(|s| s["node_uid"] == lost_node).count());
    cluster.procs.agent_of(&old_addr).kill_all();
    let killed = Instant::now();
    wait_until("writes after the node's loss", 60, || {
        acks_after(&cluster.log, Some("0-8191"), killed)
    })
    .await;
    let manager = cluster.manager();
    assert_ne!(
        masters(manager).await.0["0-8191"].0,
        old_uid,
        "the replica was promoted"
    );
    manager
        .wait_for(
            "every shard on the remaining nodes, replicas in sync",
            |_, v| {
                healthy(v)
                    && v.as_array()
                        .is_some_and(|a| a.iter().all(|s| s["node_uid"] != lost_node))
            },
            "/v1/shards",
        )
        .await;
    assert_eq!(events(manager, "replica_recreate").await.len(), moving);
    assert_eq!(events(manager, "node_lost").await.len(), 1);
    let (_, _, lost) = cluster.finish().await;
    assert_eq!(lost, 0, "acknowledged writes lost in sync mode");
    replicas_match_masters(cluster.manager()).await;
}

/// A key of slot range `range` (`"lo-hi"`) named `{prefix}{n}`.
fn key_in(range: &str, prefix: &str) -> String {
    let (lo, hi) = range.split_once('-').expect("lo-hi");
    let (lo, hi): (u16, u16) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
    (0..)
        .map(|n| format!("{prefix}{n}"))
        .find(|k| (lo..=hi).contains(&resp::key_slot(k.as_bytes())))
        .expect("some key falls in the range")
}

/// `RPUSH key value` on `addr` from a client on the partitioned node's side.
async fn minority_push(addr: &str, key: &str, value: &str) -> std::io::Result<String> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{}:0", Partition::MINORITY_CLIENT).parse().expect("addr"))?;
    let stream =
        tokio::time::timeout(Duration::from_secs(2), socket.connect(addr.parse().expect("host:port"))).await??;
    let mut stream = BufReader::new(stream);
    tokio::time::timeout(Duration::from_secs(2), request(&mut stream, &["RPUSH", key, value])).await?
}

/// A network partition of the node of a master (nftables on loopback): on
/// the minority side the old master takes writes only until its fence sets
/// in, then refuses every one; the majority promotes the replica and writes
/// resume through the proxy; healed, the old master rejoins as a replica of
/// the new master, and the writes only it had are counted in the event log
/// and the metrics, and are gone, not merged. (`async`: in `sync` mode the
/// new master, its only replica cut off, takes no write until a replica is
/// re-created, which the lost-node test covers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_master_is_fenced_replaced_and_rejoins_as_a_replica() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start("async").await;
    let range = "0-8191";
    let (before, _) = masters(cluster.manager()).await;
    let (old_uid, old_addr) = before[range].clone();
    let minority_key = key_in(range, "minority:");
    {
        let mut conn = BufReader::new(TcpStream::connect(&old_addr).await.expect("connect"));
        assert_eq!(
            request(&mut conn, &["RPUSH", &minority_key, "before"])
                .await
                .expect("RPUSH"),
            ":1"
        );
        assert_eq!(
            request(&mut conn, &["WAIT", "1", "5000"]).await.expect("WAIT"),
            ":1",
            "replicated"
        );
    }
    let cut = Partition::isolate(cluster.procs.agent_of(&old_addr));
    let cut_at = Instant::now();

    // Minority side: writes are taken until the fence, then never again.
    let mut taken = 0;
    let fenced = loop {
        match minority_push(&old_addr, &minority_key, &taken.to_string()).await {
            Ok(reply) if reply.starts_with(':') => taken += 1,
            Ok(reply) if reply.contains("NOREPLICAS") => break cut_at.elapsed(),
            other => panic!("the old master should take the write or refuse it with NOREPLICAS: {other:?}"),
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(20),
            "the cut-off master was never fenced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("partition: the old master took {taken} writes alone, fenced {fenced:?} after the cut");
    assert!(taken > 0, "the old master took writes until its fence");

    // Majority side: the replica was promoted and writes resumed.
    wait_until("writes after the partition", 60, || {
        acks_after(&cluster.log, Some(range), cut_at)
    })
    .await;
    assert_ne!(
        masters(cluster.manager()).await.0[range].0,
        old_uid,
        "the replica was promoted"
    );
    for n in 0..20 {
        let reply = minority_push(&old_addr, &minority_key, "late")
            .await
            .expect("reachable");
        assert!(reply.contains("NOREPLICAS"), "write {n} after the fence: {reply}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Healed: the old master rejoins as a replica; its lone writes are
    // counted, then discarded.
    drop(cut);
    let manager = cluster.manager();
    manager
        .wait_for("the old master back as a replica", |_, v| healthy(v), "/v1/shards")
        .await;
    let (_, shards) = manager.get("/v1/shards").await;
    let old = shards
        .as_array()
        .and_then(|a| a.iter().find(|s| s["uid"] == old_uid))
        .expect("the old master's shard")
        .clone();
    assert_eq!(old["role"], "replica", "{old}");
    let rejoins = events(manager, "old_master_rejoin").await;
    assert_eq!(rejoins.len(), 1, "{rejoins:?}");
    assert!(
        rejoins[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("bytes of writes")),
        "{rejoins:?}"
    );
    let metrics = manager.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("tessera_rejoins_discarding_writes_total{") && l.ends_with(" 1")),
        "{metrics}"
    );
    let list = cli(&cluster.endpoint, &["LRANGE", &minority_key, "0", "-1"]);
    assert_eq!(list, "before", "only the replicated write is kept");
    let (acked, _, lost) = cluster.finish().await;
    println!("partition: {lost} of {acked} acknowledged appends through the proxy lost (async)");
    replicas_match_masters(cluster.manager()).await;
}

/// A master SIGKILLed while the manager is down stays down past its restart
/// hold (restarted empty, it would wipe its replica); the manager back, its
/// replica is promoted and it rejoins as a replica: nothing acknowledged lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_crashed_while_the_manager_is_down_waits_for_the_manager() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start("sync").await;
    let (before, _) = masters(cluster.manager()).await;
    let (old_uid, old_addr) = before["0-8191"].clone();
    cluster.procs.kill_manager();
    kill("-KILL", &pid_of(&old_addr));
    // Past the hold (2 × failover_timeout_ms + 2 s) and the fencing lease.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_ne!(cli(&old_addr, &["PING"]), "PONG", "the crashed master was restarted");
    cluster.procs.restart_manager().await;
    let back = Instant::now();
    wait_until("writes after the manager is back", 60, || {
        acks_after(&cluster.log, Some("0-8191"), back)
    })
    .await;
    let manager = cluster.manager();
    assert_ne!(
        masters(manager).await.0["0-8191"].0,
        old_uid,
        "the replica was promoted"
    );
    manager
        .wait_for("the old master back as a replica", |_, v| healthy(v), "/v1/shards")
        .await;
    assert_eq!(events(manager, "shard_failover_automatic").await.len(), 1);
    let (_, _, lost) = cluster.finish().await;
    assert_eq!(lost, 0, "acknowledged writes lost in sync mode");
    replicas_match_masters(cluster.manager()).await;
}

/// The HA settings and endpoints through the REST API, in process.
#[tokio::test]
async fn ha_settings_durability_and_failover_requests_are_validated() {
    use crate::support::{Api, assert_error, cluster};
    use axum::http::StatusCode;
    let api = Api::new().await;
    let (s, c) = api.admin("GET", "/v1/cluster", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (c["failover_timeout_ms"].as_i64(), c["node_lost_timeout_ms"].as_i64()),
        (Some(1500), Some(30000))
    );
    let put = |body: Value| api.admin("PUT", "/v1/cluster", Some(body));
    assert_error(
        &put(json!({"failover_timeout_ms": 50})).await,
        StatusCode::BAD_REQUEST,
        "invalid_failover_timeout",
    );
    assert_error(
        &put(json!({"failover_timeout_ms": 5000, "node_lost_timeout_ms": 4000})).await,
        StatusCode::BAD_REQUEST,
        "invalid_node_lost_timeout",
    );
    let (s, c) = put(json!({"failover_timeout_ms": 800})).await;
    assert_eq!((s, c["failover_timeout_ms"].as_i64()), (StatusCode::OK, Some(800)));

    api.node("http://127.0.0.1:1", 4).await;
    api.node("http://127.0.0.1:2", 4).await;
    assert_error(
        &api.admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "s", "memory_size": 1 << 20, "durability": "sync"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_durability",
    );
    let (s, db) = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "s", "memory_size": 1 << 20, "replication": true, "durability": "sync"})),
        )
        .await;
    assert_eq!((s, &db["durability"]), (StatusCode::OK, &json!("sync")), "{db}");
    let (_, topology) = api.call("GET", "/v1/internal/topology", Some(&cluster()), None).await;
    assert_eq!(topology["databases"][0]["durability"], "sync");

    assert_error(
        &api.admin("POST", "/v1/shards/999/actions/failover", None).await,
        StatusCode::NOT_FOUND,
        "shard_not_found",
    );
    let (_, shards) = api.admin("GET", "/v1/shards", None).await;
    let uid_of = |role: &str| {
        shards
            .as_array()
            .and_then(|a| a.iter().find(|s| s["role"] == role))
            .and_then(|s| s["uid"].as_i64())
            .expect("shard")
    };
    assert_error(
        &api.admin(
            "POST",
            &format!("/v1/shards/{}/actions/failover", uid_of("replica")),
            None,
        )
        .await,
        StatusCode::CONFLICT,
        "not_a_master",
    );
    // No agent reports the replica running: nothing to promote, nothing changed.
    assert_error(
        &api.admin(
            "POST",
            &format!("/v1/shards/{}/actions/failover", uid_of("master")),
            None,
        )
        .await,
        StatusCode::CONFLICT,
        "no_replica",
    );
    let (_, doc) = api.call("GET", "/v1/openapi.json", None, None).await;
    assert!(doc["paths"]["/v1/bdbs/{uid}/actions/failover"].is_object());
    assert!(doc["paths"]["/v1/shards/{uid}/actions/failover"].is_object());
}

/// The figures of scripts/bench/failover.sh: time from a master's SIGKILL to
/// the first acknowledged write through the proxy over `HA_KILLS` kills
/// (default 20), and SET through the proxy with redis-benchmark, for an
/// `async` and a `sync` database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench/failover.sh"]
async fn failover_benchmark() {
    let _serial = SERIAL.lock().await;
    let kills: usize = std::env::var("HA_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for durability in ["async", "sync"] {
        let mut cluster = Cluster::start(durability).await;
        let mut times = cluster.kill_masters(kills).await;
        times.sort();
        let at = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)];
        cluster.finish().await;
        println!(
            "{durability}: kill to first acknowledged write over {kills} kills: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            at(50).as_secs_f64() * 1000.0,
            at(99).as_secs_f64() * 1000.0,
            times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
        );
        let (host, port) = cluster.endpoint.split_once(':').expect("host:port");
        let out = Command::new("redis-benchmark")
            .args([
                "-h", host, "-p", port, "-t", "set", "-n", "100000", "-c", "50", "-r", "100000", "-q",
            ])
            .output()
            .expect("redis-benchmark");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.rsplit('\r').next().unwrap_or_default().trim();
        println!("{durability}: redis-benchmark through the proxy: {line}");
    }
}
