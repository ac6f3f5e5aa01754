//! End to end with real processes: the tessera-manager binary and three
//! tessera-agent processes on 127.0.0.1 running real tessera-node shards.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Proc, TOKEN, binary, redis_cli, start_cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_and_three_agents_run_a_replicated_database() {
    let mut cluster = start_cluster(3).await;
    let manager = &cluster.manager;
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
        Command::new(binary("tessera-proxy"))
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
    cluster.kill_manager();
    cluster.restart_manager().await;
    let manager = &cluster.manager;
    manager.wait_nodes(3).await;
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
}
