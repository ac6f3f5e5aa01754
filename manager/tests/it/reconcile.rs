//! The reconciler against in-process agents: specs reach the right agents,
//! the database becomes active, a restarted manager re-sends nothing new,
//! an agent that lost its shards gets them back (a lost master only after
//! its replica is promoted), deletion removes them.

use axum::http::StatusCode;
use serde_json::json;
use std::time::Instant;

use tessera_manager::failover::{self, Trigger};
use tessera_manager::reconciler::Reconciler;

use crate::support::*;

#[tokio::test]
async fn specs_reach_agents_and_the_database_becomes_active() {
    let api = Api::new().await;
    let (a1, url1) = FakeAgent::start().await;
    let (a2, url2) = FakeAgent::start().await;
    let n1 = api.node(&url1, 4).await;
    let n2 = api.node(&url2, 4).await;
    let (s, db) = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(
                json!({"name": "db", "memory_size": 64 << 20, "shards_count": 2, "replication": true,
                                               "authentication_redis_pass": "pw", "data_persistence": "aof"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{db}");
    let uid = db["uid"].as_i64().expect("uid");

    let mut r = Reconciler::default();
    r.pass(&api.state).await.expect("pass");
    let (s1, s2) = (
        a1.shards.lock().expect("lock").clone(),
        a2.shards.lock().expect("lock").clone(),
    );
    assert_eq!(s1.len() + s2.len(), 4);
    assert_eq!((s1.len(), s2.len()), (2, 2));
    for spec in s1.values().chain(s2.values()) {
        assert_eq!(spec["memory_size"], 32 << 20);
        assert_eq!(spec["password"], "pw");
        assert_eq!(spec["data_persistence"], "aof");
        if spec["role"] == "replica" {
            let master = spec["master"].as_str().expect("a replica names its master");
            let all = s1.values().chain(s2.values());
            let m = all
                .filter(|m| m["role"] == "master" && format!("127.0.0.1:{}", m["port"]) == master)
                .count();
            assert_eq!(m, 1, "{master}");
        } else {
            assert!(spec["master"].is_null());
        }
    }
    // The PUT answers count as reports: the database is active after this pass.
    assert_eq!(
        api.admin("GET", &format!("/v1/bdbs/{uid}"), None).await.1["status"],
        "active"
    );
    let (_, action) = api
        .admin(
            "GET",
            &format!("/v1/actions/{}", db["action_uid"].as_str().expect("a")),
            None,
        )
        .await;
    assert_eq!(action["status"], "completed");
    assert_eq!(action["progress"], 100);

    // Heartbeats carry the shards; another pass sends nothing.
    api.heartbeat(n1, a1.report()).await;
    api.heartbeat(n2, a2.report()).await;
    let puts = *a1.puts.lock().expect("lock") + *a2.puts.lock().expect("lock");
    r.pass(&api.state).await.expect("pass");
    assert_eq!(*a1.puts.lock().expect("lock") + *a2.puts.lock().expect("lock"), puts);

    // A restarted manager (fresh reconciler) re-sends each spec once, idempotently.
    let mut fresh = Reconciler::default();
    fresh.pass(&api.state).await.expect("pass");
    assert_eq!(
        *a1.puts.lock().expect("lock") + *a2.puts.lock().expect("lock"),
        puts + 4
    );
    api.heartbeat(n1, a1.report()).await;
    api.heartbeat(n2, a2.report()).await;
    fresh.pass(&api.state).await.expect("pass");
    assert_eq!(
        *a1.puts.lock().expect("lock") + *a2.puts.lock().expect("lock"),
        puts + 4
    );
    assert_eq!(
        a1.shards.lock().expect("lock").len() + a2.shards.lock().expect("lock").len(),
        4,
        "nothing twice"
    );

    // A heartbeat answers with the node's masters (what lifts a fence).
    let mut on_n1: Vec<i64> = s1
        .iter()
        .filter(|(_, s)| s["role"] == "master")
        .map(|(u, _)| *u)
        .collect();
    let mut answered = api.heartbeat(n1, a1.report()).await;
    on_n1.sort();
    answered.sort();
    assert_eq!(answered, on_n1);
    assert!(!on_n1.is_empty());

    // An agent that lost its shards (restarted without data) gets its
    // replicas back at once, but not its masters while their replicas run
    // elsewhere: an empty master would wipe its replica as it resyncs.
    a1.shards.lock().expect("lock").clear();
    api.heartbeat(n1, a1.report()).await;
    let replicas_on_n1 = s1.len() - on_n1.len();
    for _ in 0..2 {
        fresh.pass(&api.state).await.expect("pass");
        let back = a1.shards.lock().expect("lock").clone();
        assert_eq!(back.len(), replicas_on_n1, "{back:?}");
        assert!(back.values().all(|s| s["role"] == "replica"), "{back:?}");
    }
    // Their replicas are promoted (as the watchdog does) and the old
    // masters come back as replicas of the new ones.
    api.heartbeat(n2, a2.report()).await;
    for master in &on_n1 {
        failover::fail_over(&api.state, *master, Trigger::Detected(Instant::now()))
            .await
            .expect("the running replica is promoted");
    }
    fresh.pass(&api.state).await.expect("pass");
    let back = a1.shards.lock().expect("lock").clone();
    assert_eq!(back.len(), s1.len(), "{back:?}");
    assert!(on_n1.iter().all(|m| back[m]["role"] == "replica"), "{back:?}");
    assert!(
        api.heartbeat(n1, a1.report()).await.is_empty(),
        "n1 holds no master now"
    );
    api.heartbeat(n2, a2.report()).await;

    // A change reaches the agents and comes back to active.
    let (s, _) = api
        .admin(
            "PUT",
            &format!("/v1/bdbs/{uid}"),
            Some(json!({"eviction_policy": "allkeys-lfu"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        api.admin("GET", &format!("/v1/bdbs/{uid}"), None).await.1["status"],
        "active-change-pending"
    );
    fresh.pass(&api.state).await.expect("pass");
    assert!(
        a1.shards
            .lock()
            .expect("lock")
            .values()
            .all(|s| s["eviction_policy"] == "allkeys-lfu")
    );
    assert_eq!(
        api.admin("GET", &format!("/v1/bdbs/{uid}"), None).await.1["status"],
        "active"
    );

    // Stats and metrics see the reported shards.
    let (_, stats) = api.admin("GET", &format!("/v1/bdbs/{uid}/stats"), None).await;
    let last = stats["samples"]
        .as_array()
        .and_then(|s| s.last())
        .expect("a sample")
        .clone();
    assert_eq!(last["keys"], 6, "two masters with 3 keys each");
    assert_eq!(last["shards_running"], 4);
    let (_, text) = api.raw("GET", "/metrics", None, None).await;
    assert!(
        text.contains(&format!("tessera_bdb_keys{{bdb=\"{uid}\",name=\"db\"}} 6")),
        "{text}"
    );
    assert!(text.contains(&format!("tessera_node_up{{node=\"{n1}\"}} 1")), "{text}");
    assert!(text.contains("tessera_shard_repl_offset_bytes"), "{text}");

    // Delete: the shards are removed from the agents, then the database row.
    let (s, del) = api.admin("DELETE", &format!("/v1/bdbs/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    fresh.pass(&api.state).await.expect("pass");
    assert!(a1.shards.lock().expect("lock").is_empty() && a2.shards.lock().expect("lock").is_empty());
    assert_error(
        &api.admin("GET", &format!("/v1/bdbs/{uid}"), None).await,
        StatusCode::NOT_FOUND,
        "db_not_found",
    );
    let (_, action) = api
        .admin(
            "GET",
            &format!("/v1/actions/{}", del["action_uid"].as_str().expect("a")),
            None,
        )
        .await;
    assert_eq!(action["status"], "completed");
    assert_eq!(api.admin("GET", "/v1/shards", None).await.1, json!([]));
}

#[tokio::test]
async fn metrics_pass_promtool() {
    let api = Api::new().await;
    let (a1, url1) = FakeAgent::start().await;
    let n1 = api.node(&url1, 4).await;
    let (s, _) = api
        .admin("POST", "/v1/bdbs", Some(json!({"name": "db", "memory_size": 64 << 20})))
        .await;
    assert_eq!(s, StatusCode::OK);
    Reconciler::default().pass(&api.state).await.expect("pass");
    api.heartbeat(n1, a1.report()).await;
    let (s, text) = api.raw("GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("tessera_shard_up{"), "{text}");
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/test.sh installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn replication_turned_on_and_off_adds_and_removes_replicas() {
    let api = Api::new().await;
    let (a1, url1) = FakeAgent::start().await;
    let (a2, url2) = FakeAgent::start().await;
    api.node(&url1, 4).await;
    api.node(&url2, 4).await;
    let (s, db) = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "db", "memory_size": 64 << 20, "shards_count": 2})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{db}");
    let uri = format!("/v1/bdbs/{}", db["uid"]);
    let mut r = Reconciler::default();
    r.pass(&api.state).await.expect("pass");
    let specs = || {
        let mut all: Vec<serde_json::Value> = a1.shards.lock().expect("lock").values().cloned().collect();
        all.extend(a2.shards.lock().expect("lock").values().cloned());
        all
    };
    assert_eq!(specs().len(), 2);

    // A dry run plans a replica per master, on the other node, and changes nothing.
    let (s, plan) = api
        .admin("PUT", &format!("{uri}?dry_run=1"), Some(json!({"replication": true})))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["shards"].as_array().map(Vec::len), Some(2), "{plan}");
    assert_eq!(api.admin("GET", &uri, None).await.1["replication"], false);

    let (s, on) = api.admin("PUT", &uri, Some(json!({"replication": true}))).await;
    assert_eq!(s, StatusCode::OK, "{on}");
    assert_eq!(on["replication"], true);
    assert_eq!(on["shard_list"].as_array().map(Vec::len), Some(4));
    r.pass(&api.state).await.expect("pass");
    let all = specs();
    let replicas: Vec<_> = all.iter().filter(|s| s["role"] == "replica").collect();
    assert_eq!(replicas.len(), 2, "{all:?}");
    for replica in replicas {
        let master = replica["master"].as_str().expect("a replica names its master");
        assert!(
            all.iter()
                .any(|m| m["role"] == "master" && format!("127.0.0.1:{}", m["port"]) == master),
            "{master}"
        );
    }
    let (_, shards) = api.admin("GET", "/v1/shards", None).await;
    for idx in ["0-8191", "8192-16383"] {
        let nodes: Vec<_> = shards
            .as_array()
            .expect("array")
            .iter()
            .filter(|s| s["assigned_slots"] == idx)
            .map(|s| s["node_uid"].clone())
            .collect();
        assert_eq!(nodes.len(), 2);
        assert_ne!(nodes[0], nodes[1], "master and replica of {idx} on different nodes");
    }

    // Sync durability needs the replicas: off again is refused while sync.
    let (s, _) = api.admin("PUT", &uri, Some(json!({"durability": "sync"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_error(
        &api.admin("PUT", &uri, Some(json!({"replication": false}))).await,
        StatusCode::BAD_REQUEST,
        "invalid_durability",
    );
    let (s, off) = api
        .admin("PUT", &uri, Some(json!({"replication": false, "durability": "async"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{off}");
    assert_eq!(off["shard_list"].as_array().map(Vec::len), Some(2));
    r.pass(&api.state).await.expect("pass");
    let all = specs();
    assert_eq!(all.len(), 2, "the replicas are gone from the agents: {all:?}");
    assert!(all.iter().all(|s| s["role"] == "master"));
}
