//! Every endpoint and its error paths, through `oneshot`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn authentication_401_and_roles_403() {
    let api = Api::new().await;
    assert_error(
        &api.call("GET", "/v1/bdbs", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let wrong = basic("admin", "nope");
    assert_error(
        &api.call("GET", "/v1/bdbs", Some(&wrong), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &api.call("GET", "/v1/bdbs", Some("Basic !!!"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &api.call("GET", "/v1/bdbs", Some("Bearer nope"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // The cluster token is not a user credential, and a user is not the cluster.
    assert_error(
        &api.call("GET", "/v1/bdbs", Some(&cluster()), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &api.call("GET", "/v1/internal/topology", Some(&admin()), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    let (s, viewer) = api
        .admin(
            "POST",
            "/v1/users",
            Some(json!({"name": "viewer", "role": "db_viewer", "password": "viewer-pass"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{viewer}");
    assert_eq!(viewer["role"], "db_viewer");
    assert!(viewer.get("password").is_none());
    let v = basic("viewer", "viewer-pass");
    assert_eq!(api.call("GET", "/v1/bdbs", Some(&v), None).await.0, StatusCode::OK);
    let create = json!({"name": "x", "memory_size": 1 << 20});
    assert_error(
        &api.call("POST", "/v1/bdbs", Some(&v), Some(create)).await,
        StatusCode::FORBIDDEN,
        "insufficient_permissions",
    );
    assert_error(
        &api.call("GET", "/v1/users", Some(&v), None).await,
        StatusCode::FORBIDDEN,
        "insufficient_permissions",
    );
    assert_error(
        &api.call("GET", "/v1/logs", Some(&v), None).await,
        StatusCode::FORBIDDEN,
        "insufficient_permissions",
    );
    assert_error(
        &api.call("PUT", "/v1/cluster", Some(&v), Some(json!({"name": "y"})))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_permissions",
    );
    // A user reads their own account.
    let own = format!("/v1/users/{}", viewer["uid"]);
    assert_eq!(api.call("GET", &own, Some(&v), None).await.0, StatusCode::OK);
    assert_error(
        &api.call("GET", "/v1/users/1", Some(&v), None).await,
        StatusCode::FORBIDDEN,
        "insufficient_permissions",
    );
}

#[tokio::test]
async fn tokens_from_authorize() {
    let api = Api::new().await;
    let bad = api
        .call(
            "POST",
            "/v1/users/authorize",
            None,
            Some(json!({"username": "admin", "password": "x"})),
        )
        .await;
    assert_error(&bad, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, body) = api
        .call(
            "POST",
            "/v1/users/authorize",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let bearer = format!("Bearer {}", body["access_token"].as_str().expect("token"));
    let (s, users) = api.call("GET", "/v1/users", Some(&bearer), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(users[0]["name"], "admin");
    let ttl = api
        .call(
            "POST",
            "/v1/users/authorize",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD, "ttl": 0})),
        )
        .await;
    assert_error(&ttl, StatusCode::BAD_REQUEST, "invalid_ttl");
    // Changing the password ends the user's sessions.
    let (s, _) = api
        .admin("PUT", "/v1/users/1", Some(json!({"password": "another-password"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_error(
        &api.call("GET", "/v1/users", Some(&bearer), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let (s, _) = api
        .call("GET", "/v1/users", Some(&basic("admin", "another-password")), None)
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn users_crud_and_errors() {
    let api = Api::new().await;
    let short = api
        .admin(
            "POST",
            "/v1/users",
            Some(json!({"name": "a", "role": "admin", "password": "short"})),
        )
        .await;
    assert_error(&short, StatusCode::BAD_REQUEST, "password_too_short");
    let role = api
        .admin(
            "POST",
            "/v1/users",
            Some(json!({"name": "a", "role": "root", "password": "long-enough"})),
        )
        .await;
    assert_error(&role, StatusCode::BAD_REQUEST, "invalid_schema");
    let name = api
        .admin(
            "POST",
            "/v1/users",
            Some(json!({"name": "a:b", "role": "admin", "password": "long-enough"})),
        )
        .await;
    assert_error(&name, StatusCode::BAD_REQUEST, "invalid_name");
    let (s, u) = api
        .admin(
            "POST",
            "/v1/users",
            Some(
                json!({"name": "ops", "email": "ops@example.com", "role": "cluster_member", "password": "long-enough"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    let dup = api
        .admin(
            "POST",
            "/v1/users",
            Some(json!({"name": "ops", "role": "admin", "password": "long-enough"})),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "name_already_exists");
    let uri = format!("/v1/users/{}", u["uid"]);
    let (s, changed) = api.admin("PUT", &uri, Some(json!({"role": "db_member"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(changed["role"], "db_member");
    assert_eq!(changed["email"], "ops@example.com");
    let (_, all) = api.admin("GET", "/v1/users", None).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    // The last admin stays.
    assert_error(
        &api.admin("DELETE", "/v1/users/1", None).await,
        StatusCode::NOT_ACCEPTABLE,
        "last_admin",
    );
    assert_error(
        &api.admin("PUT", "/v1/users/1", Some(json!({"role": "db_viewer"})))
            .await,
        StatusCode::NOT_ACCEPTABLE,
        "last_admin",
    );
    assert_eq!(api.admin("DELETE", &uri, None).await.0, StatusCode::OK);
    assert_error(
        &api.admin("GET", &uri, None).await,
        StatusCode::NOT_FOUND,
        "user_not_found",
    );
    assert_error(
        &api.admin("DELETE", &uri, None).await,
        StatusCode::NOT_FOUND,
        "user_not_found",
    );
    assert_error(
        &api.admin("GET", "/v1/users/abc", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_path",
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_not_500() {
    let api = Api::new().await;
    let cases = [
        (Value::String("{".into()), "invalid_json"),
        (Value::String("[]".into()), "invalid_schema"),
        (json!({"name": "db", "memory_size": "big"}), "invalid_schema"),
        (
            json!({"name": "db", "memory_size": 1048576, "colour": "red"}),
            "invalid_schema",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "port": 70000}),
            "invalid_schema",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "data_persistence": "sometimes"}),
            "invalid_schema",
        ),
        (
            Value::String(format!("{{\"name\": \"{}\"}}", "x".repeat(300 * 1024))),
            "request_too_large",
        ),
    ];
    for (body, code) in cases {
        assert_error(
            &api.admin("POST", "/v1/bdbs", Some(body)).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }
    let (s, text) = api.raw("POST", "/v1/bdbs", Some(&admin()), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{text}");
    assert_error(
        &api.admin("GET", "/v1/nope", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &api.admin("POST", "/v1/bdbs?dry_run=x", Some(json!({}))).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
}

#[tokio::test]
async fn bdb_validation_codes() {
    let api = Api::new().await;
    api.node("http://127.0.0.1:1", 4).await;
    let cases = [
        (
            json!({"memory_size": 1048576}),
            StatusCode::BAD_REQUEST,
            "missing_db_name",
        ),
        (json!({"name": "db"}), StatusCode::BAD_REQUEST, "missing_memory_size"),
        (
            json!({"name": "bad name", "memory_size": 1048576}),
            StatusCode::BAD_REQUEST,
            "invalid_db_name",
        ),
        (
            json!({"name": "db", "memory_size": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_memory_size",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "shards_count": 0}),
            StatusCode::BAD_REQUEST,
            "invalid_shards_count",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "port": 80}),
            StatusCode::BAD_REQUEST,
            "invalid_port",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "authentication_redis_pass": "a b"}),
            StatusCode::BAD_REQUEST,
            "invalid_password",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "data_persistence": "snapshot"}),
            StatusCode::BAD_REQUEST,
            "invalid_snapshot_policy",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "snapshot_policy": [{"secs": 0, "writes": 1}]}),
            StatusCode::BAD_REQUEST,
            "invalid_snapshot_policy",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "tls_mode": "enabled"}),
            StatusCode::NOT_ACCEPTABLE,
            "tls_not_configured",
        ),
        (
            json!({"name": "db", "memory_size": 1048576, "replication": true}),
            StatusCode::CONFLICT,
            "insufficient_resources",
        ),
        (
            json!({"name": "db", "memory_size": 8_i64 << 30}),
            StatusCode::CONFLICT,
            "insufficient_resources",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&api.admin("POST", "/v1/bdbs", Some(body)).await, status, code);
    }
    let (_, all) = api.admin("GET", "/v1/bdbs", None).await;
    assert_eq!(all, json!([]), "nothing was created");
}

#[tokio::test]
async fn bdb_lifecycle_actions_logs_and_topology() {
    let api = Api::new().await;
    let n1 = api.node("http://127.0.0.1:1", 4).await;
    let n2 = api.node("http://127.0.0.1:2", 4).await;
    let body = json!({"name": "cache", "memory_size": 200 << 20, "shards_count": 2, "replication": true,
                      "authentication_redis_pass": "s3cret", "data_persistence": "aof"});
    let (s, dry) = api.admin("POST", "/v1/bdbs?dry_run=1", Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!(dry["valid"], true);
    assert_eq!(dry["shards"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        api.admin("GET", "/v1/bdbs", None).await.1,
        json!([]),
        "dry run creates nothing"
    );
    let (_, topo) = api.call("GET", "/v1/internal/topology", Some(&cluster()), None).await;
    let epoch = topo["epoch"].as_i64().expect("epoch");

    let (s, db) = api.admin("POST", "/v1/bdbs", Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK, "{db}");
    assert_eq!(db["status"], "pending");
    assert_eq!(db["port"], 12000, "the first free port");
    assert_eq!(db["eviction_policy"], "volatile-lru");
    assert_eq!(db["aof_policy"], "appendfsync-every-sec");
    assert_eq!(db["endpoints"][0]["port"], 12000);
    let action = db["action_uid"].as_str().expect("action").to_owned();
    let (s, a) = api.admin("GET", &format!("/v1/actions/{action}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["name"], "bdb_create");
    assert_eq!(a["status"], "active");
    assert_error(
        &api.admin("GET", "/v1/actions/999", None).await,
        StatusCode::NOT_FOUND,
        "action_not_found",
    );
    let uid = db["uid"].as_i64().expect("uid");

    // Shards: master and replica of each range on different nodes.
    let (_, shards) = api.admin("GET", "/v1/shards", None).await;
    let shards = shards.as_array().expect("array").clone();
    assert_eq!(shards.len(), 4);
    for range in ["0-8191", "8192-16383"] {
        let pair: Vec<&Value> = shards.iter().filter(|s| s["assigned_slots"] == range).collect();
        assert_eq!(pair.len(), 2, "{range}");
        assert_ne!(pair[0]["node_uid"], pair[1]["node_uid"]);
        assert!(pair.iter().any(|s| s["role"] == "master") && pair.iter().any(|s| s["role"] == "replica"));
        assert!(
            pair.iter()
                .all(|s| s["status"] == "unknown" && s["addr"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:30")))
        );
    }
    let (s, one) = api
        .admin("GET", &format!("/v1/shards/{}", shards[0]["uid"]), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["uid"], shards[0]["uid"]);
    assert_error(
        &api.admin("GET", "/v1/shards/999", None).await,
        StatusCode::NOT_FOUND,
        "shard_not_found",
    );
    let (_, nodes) = api.admin("GET", "/v1/nodes", None).await;
    assert_eq!(nodes[0]["shard_count"], 2);
    assert_eq!(nodes[1]["shard_count"], 2);

    // Topology: the new database with its masters and replicas, a newer epoch.
    let (_, topo) = api
        .call(
            "GET",
            &format!("/v1/internal/topology?after={epoch}"),
            Some(&cluster()),
            None,
        )
        .await;
    assert!(topo["epoch"].as_i64().expect("epoch") > epoch);
    let t = &topo["databases"][0];
    assert_eq!(t["name"], "cache");
    assert_eq!(t["port"], 12000);
    assert!(t["password_hash"].as_str().is_some_and(|h| h.starts_with("$argon2id$")));
    assert_eq!(t["shard_password"], "s3cret");
    assert_eq!(t["shards"][0]["slots"], json!([0, 8191]));
    assert_eq!(t["shards"][1]["slots"], json!([8192, 16383]));
    assert_eq!(t["shards"][1]["replicas"].as_array().map(Vec::len), Some(1));

    // Conflicts.
    let dup = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "cache", "memory_size": 1 << 20})),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "db_name_exists");
    let port = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "other", "memory_size": 1 << 20, "port": 12000})),
        )
        .await;
    assert_error(&port, StatusCode::CONFLICT, "port_unavailable");
    let (s, other) = api
        .admin(
            "POST",
            "/v1/bdbs",
            Some(json!({"name": "other", "memory_size": 1 << 20})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(other["port"], 12001);

    // Update: allowed fields change, shape does not.
    let uri = format!("/v1/bdbs/{uid}");
    let (s, updated) = api
        .admin(
            "PUT",
            &uri,
            Some(json!({"eviction_policy": "allkeys-lru", "port": 12100})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["eviction_policy"], "allkeys-lru");
    assert_eq!(updated["port"], 12100);
    assert_eq!(updated["authentication_redis_pass"], "s3cret");
    assert_error(
        &api.admin("PUT", &uri, Some(json!({"shards_count": 3}))).await,
        StatusCode::NOT_ACCEPTABLE,
        "unsupported_change",
    );
    assert_error(
        &api.admin("PUT", &uri, Some(json!({"port": 12001}))).await,
        StatusCode::CONFLICT,
        "port_unavailable",
    );
    assert_error(
        &api.admin("PUT", &uri, Some(json!({"name": "other"}))).await,
        StatusCode::CONFLICT,
        "db_name_exists",
    );
    assert_error(
        &api.admin("PUT", &uri, Some(json!({"memory_size": 100_i64 << 30})))
            .await,
        StatusCode::CONFLICT,
        "insufficient_resources",
    );
    assert_error(
        &api.admin("PUT", "/v1/bdbs/999", Some(json!({}))).await,
        StatusCode::NOT_FOUND,
        "db_not_found",
    );
    // Flush needs an active database.
    assert_error(
        &api.admin("PUT", &format!("{uri}/flush"), None).await,
        StatusCode::CONFLICT,
        "busy",
    );

    // Stats exist for the database; the cluster answers.
    assert_eq!(api.admin("GET", &format!("{uri}/stats"), None).await.0, StatusCode::OK);
    assert_error(
        &api.admin("GET", "/v1/bdbs/999/stats", None).await,
        StatusCode::NOT_FOUND,
        "db_not_found",
    );

    // Delete: delete-pending at once, leaves the topology, second delete is busy.
    let (s, del) = api.admin("DELETE", &uri, None).await;
    assert_eq!(s, StatusCode::OK, "{del}");
    assert!(del["action_uid"].is_string());
    assert_eq!(api.admin("GET", &uri, None).await.1["status"], "delete-pending");
    assert_error(&api.admin("DELETE", &uri, None).await, StatusCode::CONFLICT, "busy");
    assert_error(
        &api.admin("PUT", &uri, Some(json!({}))).await,
        StatusCode::CONFLICT,
        "busy",
    );
    let (_, topo) = api.call("GET", "/v1/internal/topology", Some(&cluster()), None).await;
    assert_eq!(topo["databases"].as_array().map(Vec::len), Some(1));
    assert_eq!(topo["databases"][0]["name"], "other");

    // The event log saw who did what.
    let (s, logs) = api.admin("GET", "/v1/logs?limit=50", None).await;
    assert_eq!(s, StatusCode::OK);
    let logs = logs.as_array().expect("array");
    let has = |action: &str, outcome: &str| {
        logs.iter()
            .any(|e| e["action"] == action && e["outcome"] == outcome && e["user"] == "admin")
    };
    assert!(
        has("bdb_create", "ok")
            && has("bdb_create", "port_unavailable")
            && has("bdb_update", "unsupported_change")
            && has("bdb_delete", "ok")
    );
    let (_, actions) = api.admin("GET", "/v1/actions", None).await;
    assert!(
        actions
            .as_array()
            .expect("array")
            .iter()
            .any(|a| a["name"] == "bdb_delete")
    );
    let _ = (n1, n2);
}

#[tokio::test]
async fn nodes_registration_heartbeat_and_actions() {
    let api = Api::new().await;
    let bad = api
        .call(
            "POST",
            "/v1/internal/nodes",
            Some("Bearer wrong"),
            Some(node_info(None, "http://x", 1)),
        )
        .await;
    assert_error(&bad, StatusCode::UNAUTHORIZED, "unauthorized");
    let uid = api.node("http://127.0.0.1:9101", 4).await;
    // The same agent URL without its uid, or with it, is the same node.
    for again in [None, Some(uid)] {
        let (_, body) = api
            .call(
                "POST",
                "/v1/internal/nodes",
                Some(&cluster()),
                Some(node_info(again, "http://127.0.0.1:9101", 4)),
            )
            .await;
        assert_eq!(body["uid"], uid);
    }
    let beat = api
        .call(
            "POST",
            "/v1/internal/nodes/99/heartbeat",
            Some(&cluster()),
            Some(json!({"node": {}, "shards": []})),
        )
        .await;
    assert_error(&beat, StatusCode::NOT_FOUND, "node_not_found");
    let (s, node) = api.admin("GET", &format!("/v1/nodes/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(node["status"], "active");
    assert_eq!(node["cpu_percent"], 12.5);
    assert_eq!(node["total_memory"], 4_i64 << 30);
    assert_error(
        &api.admin("GET", "/v1/nodes/99", None).await,
        StatusCode::NOT_FOUND,
        "node_not_found",
    );

    let act = |a: &str| format!("/v1/nodes/{uid}/actions/{a}");
    assert_eq!(api.admin("POST", &act("maintenance_on"), None).await.0, StatusCode::OK);
    assert_eq!(
        api.admin("GET", &format!("/v1/nodes/{uid}"), None).await.1["maintenance"],
        true
    );
    let none = api
        .admin("POST", "/v1/bdbs", Some(json!({"name": "db", "memory_size": 1 << 20})))
        .await;
    assert_error(&none, StatusCode::CONFLICT, "insufficient_resources");
    assert_eq!(api.admin("POST", &act("maintenance_off"), None).await.0, StatusCode::OK);
    let (s, _) = api
        .admin("POST", "/v1/bdbs", Some(json!({"name": "db", "memory_size": 1 << 20})))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_error(
        &api.admin("POST", &act("remove"), None).await,
        StatusCode::CONFLICT,
        "node_has_shards",
    );
    assert_error(
        &api.admin("POST", &act("explode"), None).await,
        StatusCode::NOT_FOUND,
        "unknown_action",
    );
    let empty = api.node("http://127.0.0.1:9102", 4).await;
    assert_eq!(
        api.admin("POST", &format!("/v1/nodes/{empty}/actions/remove"), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &api.admin("GET", &format!("/v1/nodes/{empty}"), None).await,
        StatusCode::NOT_FOUND,
        "node_not_found",
    );
}

#[tokio::test]
async fn topology_long_poll_waits_for_a_newer_epoch() {
    let api = Api::new().await;
    let (_, topo) = api.call("GET", "/v1/internal/topology", Some(&cluster()), None).await;
    let epoch = topo["epoch"].as_i64().expect("epoch");
    api.node("http://127.0.0.1:1", 4).await;
    let poll = {
        let api = Api {
            state: api.state.clone(),
            admin_token: api.admin_token.clone(),
        };
        tokio::spawn(async move {
            api.call(
                "GET",
                &format!("/v1/internal/topology?after={epoch}"),
                Some(&cluster()),
                None,
            )
            .await
        })
    };
    tokio::task::yield_now().await;
    assert!(!poll.is_finished());
    let (s, _) = api
        .admin("POST", "/v1/bdbs", Some(json!({"name": "db", "memory_size": 1 << 20})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, topo) = poll.await.expect("poll");
    assert_eq!(s, StatusCode::OK);
    assert_eq!(topo["epoch"], epoch + 1);
    assert_eq!(topo["databases"][0]["name"], "db");
}

#[tokio::test]
async fn topology_long_poll_answers_304_when_nothing_changes() {
    let api = Api::new().await;
    let (_, topo) = api.call("GET", "/v1/internal/topology", Some(&cluster()), None).await;
    let epoch = topo["epoch"].as_i64().expect("epoch");
    let (s, body) = api
        .raw(
            "GET",
            &format!("/v1/internal/topology?after={epoch}"),
            Some(&cluster()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert_eq!(body, "", "a 304 has no body");
}

/// Writers on several connections of a database file: SQLite's "database is
/// locked" must never reach a client as a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_see_database_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let api = std::sync::Arc::new(Api::on_disk(dir.path()).await);
    let nodes = [
        api.node("http://127.0.0.1:1", 64).await,
        api.node("http://127.0.0.1:2", 64).await,
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let writer = api.clone();
        tasks.spawn(async move {
            let body = json!({"name": format!("db{i}"), "memory_size": 1 << 20, "replication": true});
            let (s, db) = writer.admin("POST", "/v1/bdbs", Some(body)).await;
            assert_eq!(s, StatusCode::OK, "POST db{i}: {db}");
        });
        let beater = api.clone();
        let node = nodes[i % 2];
        tasks.spawn(async move { drop(beater.heartbeat(node, json!([])).await) });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("writer");
    }
    let (_, dbs) = api.admin("GET", "/v1/bdbs", None).await;
    let dbs = dbs.as_array().expect("array");
    assert_eq!(dbs.len(), 12);
    let ports: std::collections::BTreeSet<_> = dbs.iter().map(|d| d["port"].as_i64()).collect();
    assert_eq!(ports.len(), 12, "every database has its own port");
    assert!(
        dbs.iter().all(|d| d["shard_list"].as_array().map(Vec::len) == Some(2)),
        "{dbs:?}"
    );
}

#[tokio::test]
async fn cluster_settings_and_stats() {
    let api = Api::new().await;
    let (s, c) = api.admin("GET", "/v1/cluster", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["name"], "tessera");
    let (s, c) = api.admin("PUT", "/v1/cluster", Some(json!({"name": "prod"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["name"], "prod");
    assert_error(
        &api.admin("PUT", "/v1/cluster", Some(json!({"name": ""}))).await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    assert_error(
        &api.admin("PUT", "/v1/cluster", Some(json!({"nodes": 3}))).await,
        StatusCode::BAD_REQUEST,
        "invalid_schema",
    );
    let (s, stats) = api.admin("GET", "/v1/cluster/stats", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stats["interval"], "1sec");
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let api = Api::new().await;
    let (s, doc) = api.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/v1/bdbs",
        "/v1/bdbs/{uid}",
        "/v1/bdbs/{uid}/flush",
        "/v1/nodes/{uid}/actions/{action}",
        "/v1/shards/{uid}",
        "/v1/users/authorize",
        "/v1/actions/{uid}",
        "/v1/logs",
        "/v1/cluster/stats",
        "/v1/internal/topology",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("Bdb").is_some());
}
