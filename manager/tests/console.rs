//! The web console through `oneshot`: every page and form, sign-in and
//! sign-out, CSRF rejection and role enforcement.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tessera_manager::AppState;
use tower::ServiceExt;

const TOKEN: &str = "console-cluster-token";
const ADMIN_PASSWORD: &str = "admin-password";

struct Page {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Page {
    /// The value of the first `name="csrf"` field.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        self.body[at..].split('"').next().expect("value").to_owned()
    }
    #[track_caller]
    fn ok(&self, contains: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert!(self.body.contains(contains), "no {contains:?} in {}", self.body);
    }
}

struct Console {
    state: AppState,
    /// `name=value` cookies sent with every request.
    cookies: Vec<String>,
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Console {
    async fn new() -> Console {
        Console::with_tls(None).await
    }

    async fn with_tls(tls: Option<tessera_manager::tls::TlsMaterial>) -> Console {
        tessera_manager::install_crypto_provider();
        let options = SqliteConnectOptions::new().in_memory(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("in-memory sqlite");
        let (state, _) = tessera_manager::prepare(pool, TOKEN, tls, "admin", Some(ADMIN_PASSWORD.to_owned()))
            .await
            .expect("prepare");
        Console {
            state,
            cookies: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, uri: &str, body: Option<String>) -> Page {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookies.join("; "));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                Body::from(b)
            }
            None => Body::empty(),
        };
        let response = tessera_manager::app(self.state.clone())
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().expect("ascii").to_owned());
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect();
        for c in &cookies {
            let pair = c.split(';').next().expect("pair").to_owned();
            let name = pair.split('=').next().expect("name").to_owned();
            self.cookies.retain(|k| !k.starts_with(&format!("{name}=")));
            if !pair.ends_with('=') {
                self.cookies.push(pair);
            }
        }
        let body =
            String::from_utf8(response.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
        Page {
            status,
            location,
            cookies,
            body,
        }
    }

    async fn get(&mut self, uri: &str) -> Page {
        self.send("GET", uri, None).await
    }

    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        self.send("POST", uri, Some(form(fields))).await
    }

    async fn login(&mut self, user: &str, password: &str) -> Page {
        let csrf = self.get("/console/login").await.csrf();
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await
    }

    /// Signs in and returns the session's CSRF token.
    async fn signed_in(&mut self, user: &str, password: &str) -> String {
        let page = self.login(user, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        self.get("/console").await.csrf()
    }

    /// A call of the internal API with the cluster token; its JSON answer.
    async fn internal(&self, uri: &str, body: serde_json::Value) -> serde_json::Value {
        let req = Request::builder()
            .method("POST")
            .uri(uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let r = tessera_manager::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible");
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        assert!(status.is_success(), "{status} {}", String::from_utf8_lossy(&bytes));
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default()
    }

    /// A REST GET as the admin (HTTP Basic): status and body.
    async fn rest(&self, uri: &str) -> (StatusCode, String) {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"));
        let req = Request::builder()
            .uri(uri)
            .header("authorization", format!("Basic {basic}"))
            .body(Body::empty())
            .expect("request");
        let r = tessera_manager::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible");
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8(bytes.to_vec()).expect("utf-8"))
    }

    /// Registers a node with 4 GiB and a heartbeat, through the internal
    /// API; returns its uid.
    async fn node(&self) -> i64 {
        self.node_at("http://127.0.0.1:1").await
    }

    /// Registers a node whose agent is at `agent_url` (none answers there).
    async fn node_at(&self, agent_url: &str) -> i64 {
        let node = self
            .internal(
                "/v1/internal/nodes",
                json!({"addr": "127.0.0.1", "agent_url": agent_url, "version": "0.1.0",
                       "total_memory": 4_i64 << 30, "cores": 2, "free_disk": 1_i64 << 36, "shard_ports": [30000, 30999]}),
            )
            .await;
        let uid = node["uid"].as_i64().expect("uid");
        self.heartbeat(uid, json!([])).await;
        uid
    }

    /// A heartbeat of node `uid` reporting `shards`.
    async fn heartbeat(&self, uid: i64, shards: serde_json::Value) {
        self.internal(
            &format!("/v1/internal/nodes/{uid}/heartbeat"),
            json!({"node": {"cpu_percent": 12.5, "used_memory": 1000, "free_disk": 5000}, "shards": shards}),
        )
        .await;
    }

    /// Creates a database through the console form; returns its uid.
    async fn create_db(&mut self, csrf: &str, name: &str) -> i64 {
        let page = self.post("/console/databases", &db_fields(csrf, name, "64")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location.expect("location");
        assert!(location.contains("done=created&action="), "{location}");
        location
            .trim_start_matches("/console/databases/")
            .split('?')
            .next()
            .and_then(|u| u.parse().ok())
            .expect("uid in the location")
    }
}

fn db_fields<'a>(csrf: &'a str, name: &'a str, memory_mb: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("memory_mb", memory_mb),
        ("shards_count", "1"),
        ("data_persistence", "aof"),
        ("aof_policy", "appendfsync-every-sec"),
        ("snapshot_secs", ""),
        ("snapshot_writes", ""),
        ("eviction_policy", "allkeys-lru"),
        ("password", "secret-pass"),
        ("tls_mode", "disabled"),
        ("port", ""),
    ]
}

/// `fields` with its snapshot rows replaced by `rules`, in order.
fn with_rules<'a>(mut fields: Vec<(&'a str, &'a str)>, rules: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    fields.retain(|(k, _)| !k.starts_with("snapshot_"));
    for (secs, writes) in rules {
        fields.push(("snapshot_secs", secs));
        fields.push(("snapshot_writes", writes));
    }
    fields
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it() {
    let mut c = Console::new().await;
    // Not signed in: every page sends to the sign-in page.
    for uri in ["/console", "/console/databases", "/console/nodes", "/console/users"] {
        let page = c.get(uri).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(page.location.as_deref(), Some("/console/login"), "{uri}");
    }
    assert_eq!(c.get("/").await.location.as_deref(), Some("/console"));

    let login = c.get("/console/login").await;
    login.ok("<label for=\"password\">Password</label>");
    assert!(login.cookies[0].contains("HttpOnly") && login.cookies[0].contains("SameSite=Strict"));

    // Wrong password: 401, the user name kept, no session.
    let wrong = c.login("admin", "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong user name or password") && wrong.body.contains("value=\"admin\""));
    // A sign-in form without its CSRF pair is refused.
    c.cookies.clear();
    let forged = c
        .post(
            "/console/login",
            &[("csrf", "forged"), ("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let ok = c.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/console"));
    let session = ok
        .cookies
        .iter()
        .find(|c| c.starts_with("tessera_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");

    let overview = c.get("/console").await;
    overview.ok("Overview");
    assert!(overview.body.contains("<strong id=\"whoami\">admin</strong>"));
    let csrf = overview.csrf();

    // Sign-out needs the CSRF token too.
    assert_eq!(
        c.post("/console/logout", &[("csrf", "bad")]).await.status,
        StatusCode::FORBIDDEN
    );
    let out = c.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/console/login"));
    // The cookie is cleared and the old token is dead even if replayed.
    let replay = session.split(';').next().expect("pair").to_owned();
    c.cookies = vec![replay];
    assert_eq!(c.get("/console").await.location.as_deref(), Some("/console/login"));
}

#[tokio::test]
async fn cookies_are_secure_under_https() {
    tessera_manager::install_crypto_provider();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let tls = tessera_manager::tls::material(cert.cert.pem(), cert.signing_key.serialize_pem()).expect("TLS material");
    let mut c = Console::with_tls(Some(tls)).await;
    let login = c.get("/console/login").await;
    assert!(login.cookies[0].ends_with("; Secure"), "{:?}", login.cookies);
    let ok = c.login("admin", ADMIN_PASSWORD).await;
    assert!(
        ok.cookies
            .iter()
            .all(|c| c.contains("HttpOnly; SameSite=Strict") && c.ends_with("; Secure")),
        "{:?}",
        ok.cookies
    );
}

#[tokio::test]
async fn every_page_renders_with_empty_states() {
    let mut c = Console::new().await;
    c.signed_in("admin", ADMIN_PASSWORD).await;
    c.get("/console").await.ok("No nodes yet");
    c.get("/console").await.ok("No databases yet");
    c.get("/console/databases").await.ok("create one");
    c.get("/console/nodes").await.ok("No nodes yet");
    c.get("/console/shards").await.ok("No shards yet");
    c.get("/console/events").await.ok("Event log");
    c.get("/console/users").await.ok("Users and roles");
    c.get("/console/databases/new").await.ok("Memory limit (MB)");
    assert_eq!(c.get("/console/databases/99").await.status, StatusCode::NOT_FOUND);
    let css = c.get("/console/static/console.css").await;
    css.ok(".badge");
    c.get("/console/static/console.js").await.ok("followAction");
    c.get("/console/static/icon.svg").await.ok("<svg");
}

#[tokio::test]
async fn create_keeps_what_was_typed_on_errors_and_then_succeeds() {
    let mut c = Console::new().await;
    let csrf = c.signed_in("admin", ADMIN_PASSWORD).await;
    c.node().await;

    // Without a CSRF token, or with another one: 403, nothing created.
    let mut fields = db_fields("", "cache", "64");
    assert_eq!(
        c.post("/console/databases", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    fields[0].1 = "0123";
    assert_eq!(
        c.post("/console/databases", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    c.get("/console/databases").await.ok("No databases yet");

    // The REST API's validation, shown next to the field, input kept.
    let bad = c.post("/console/databases", &db_fields(&csrf, "bad name!", "64")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"name-error\""), "{}", bad.body);
    assert!(bad.body.contains("a database name is 1 to 63 characters"));
    assert!(bad.body.contains("value=\"bad name!\""));
    assert!(bad.body.contains("<option value=\"allkeys-lru\" selected>"));
    assert!(bad.body.contains("<option value=\"aof\" selected>"));
    let small = c.post("/console/databases", &db_fields(&csrf, "cache", "abc")).await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST);
    assert!(small.body.contains("id=\"memory-error\"") && small.body.contains("value=\"abc\""));
    let mut snap = db_fields(&csrf, "cache", "64");
    snap[4].1 = "snapshot";
    let snap = c.post("/console/databases", &snap).await;
    assert!(snap.body.contains("id=\"snapshot-error\""), "{}", snap.body);

    let uid = c.create_db(&csrf, "cache").await;
    let page = c.get(&format!("/console/databases/{uid}?done=created&action=1")).await;
    page.ok("cache");
    assert!(
        page.body
            .contains("redis-cli -h 127.0.0.1 -p 12000 -a &#39;secret-pass&#39; --no-auth-warning"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-action=\"/console/actions/1\""));
    assert!(page.body.contains("Database created"));
    assert!(page.body.contains("AOF, appendfsync-every-sec"));
    assert!(page.body.contains("<svg class=\"chart\""));
    // The name is taken now: a conflict from the REST API, next to the name.
    let taken = c.post("/console/databases", &db_fields(&csrf, "cache", "64")).await;
    assert!(taken.body.contains("already exists") && taken.body.contains("id=\"name-error\""));

    c.get("/console/databases").await.ok("127.0.0.1:12000");
    c.get("/console/shards").await.ok("0-16383");
    c.get("/console/actions/1").await.ok("bdb_create");
    c.get(&format!("/console/databases/{uid}/live"))
        .await
        .ok("Operations/s");
    let events = c.get("/console/events?action=bdb_create").await;
    events.ok("bdb:cache");
    let none = c.get("/console/events?user=nobody").await;
    none.ok("No events match");
}

#[tokio::test]
async fn edit_delete_and_flush() {
    let mut c = Console::new().await;
    let csrf = c.signed_in("admin", ADMIN_PASSWORD).await;
    c.node().await;
    let uid = c.create_db(&csrf, "sessions").await;

    let edit = c.get(&format!("/console/databases/{uid}/edit")).await;
    edit.ok("value=\"64\"");
    assert!(edit.body.contains("The number of shards is fixed"));
    let uri = format!("/console/databases/{uid}/edit");
    assert_eq!(
        c.post(&uri, &db_fields("", "sessions", "128")).await.status,
        StatusCode::FORBIDDEN
    );
    let saved = c.post(&uri, &db_fields(&csrf, "sessions", "128")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location.expect("location").contains("done=updated"));
    c.get(&format!("/console/databases/{uid}")).await.ok("128.0 MiB");
    // Replication is turned on and off from the form (a second node holds the replica).
    c.node_at("http://127.0.0.1:2").await;
    let mut replicated = db_fields(&csrf, "sessions", "128");
    replicated.push(("replication", "on"));
    let on = c.post(&uri, &replicated).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    c.get(&format!("/console/databases/{uid}"))
        .await
        .ok("each with a replica");
    c.get(&format!("/console/databases/{uid}/edit")).await.ok("checked");
    let off = c.post(&uri, &db_fields(&csrf, "sessions", "128")).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    c.get(&format!("/console/databases/{uid}")).await.ok("no replication");
    let bad = c.post(&uri, &db_fields(&csrf, "sessions", "0")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("value=\"0\""));

    // Flush needs an active database: the REST API's refusal is shown.
    let flush = format!("/console/databases/{uid}/flush");
    assert_eq!(c.post(&flush, &[("csrf", "x")]).await.status, StatusCode::FORBIDDEN);
    let busy = c.post(&flush, &[("csrf", &csrf)]).await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    assert!(busy.body.contains("it can be flushed once active"), "{}", busy.body);

    // Failover of a shard: CSRF-checked, and the REST API's answer is shown.
    let failover = format!("/console/databases/{uid}/shards/9999/failover");
    assert_eq!(c.post(&failover, &[("csrf", "x")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.post(&failover, &[("csrf", &csrf)]).await.status,
        StatusCode::NOT_FOUND
    );

    let confirm = c.get(&format!("/console/databases/{uid}/delete")).await;
    confirm.ok("Type <strong>sessions</strong> to confirm");
    let delete = format!("/console/databases/{uid}/delete");
    let wrong = c.post(&delete, &[("csrf", &csrf), ("confirm", "other")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("Type sessions exactly"));
    assert_eq!(
        c.post(&delete, &[("csrf", "x"), ("confirm", "sessions")]).await.status,
        StatusCode::FORBIDDEN
    );
    let gone = c.post(&delete, &[("csrf", &csrf), ("confirm", "sessions")]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(
        gone.location
            .expect("location")
            .starts_with("/console/databases?done=deleted&action=")
    );
    c.get("/console/databases").await.ok("delete-pending");
}

fn user_form<'a>(csrf: &'a str, name: &'a str, role: &'a str, password: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("csrf", csrf),
        ("name", name),
        ("email", ""),
        ("role", role),
        ("password", password),
    ]
}

#[tokio::test]
async fn users_and_roles_and_what_a_viewer_may_do() {
    let mut c = Console::new().await;
    let csrf = c.signed_in("admin", ADMIN_PASSWORD).await;
    c.node().await;
    let uid = c.create_db(&csrf, "orders").await;

    let created = c
        .post(
            "/console/users",
            &user_form(&csrf, "viewer", "db_viewer", "viewer-pass"),
        )
        .await;
    assert_eq!(
        created.location.as_deref(),
        Some("/console/users?done=user-created"),
        "{}",
        created.body
    );
    c.get("/console/users").await.ok("<td>viewer</td>");
    // The REST rules: a short password is refused, the name kept.
    let refused = c
        .post("/console/users", &user_form(&csrf, "shorty", "db_member", "short"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("at least 8 characters") && refused.body.contains("value=\"shorty\""));
    assert_eq!(
        c.post(
            "/console/users",
            &[
                ("csrf", "x"),
                ("name", "z"),
                ("role", "admin"),
                ("password", "longenough")
            ]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Change the viewer's role and back; reset the password.
    let viewer_uid = 2;
    let uri = format!("/console/users/{viewer_uid}");
    let changed = c.post(&uri, &[("csrf", &csrf), ("role", "cluster_viewer")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert!(
        c.get("/console/users")
            .await
            .body
            .contains("<option value=\"cluster_viewer\" selected>cluster_viewer</option>")
    );
    c.post(&uri, &[("csrf", &csrf), ("role", "db_viewer")]).await;
    let reset = c.post(&uri, &[("csrf", &csrf), ("password", "new-viewer-pass")]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    // The last admin cannot lose the role: shown as an error on the page.
    let last = c
        .post("/console/users/1", &[("csrf", &csrf), ("role", "db_viewer")])
        .await;
    assert_eq!(last.status, StatusCode::BAD_REQUEST);
    assert!(last.body.contains("at least one admin"));

    // The viewer sees but cannot change.
    let mut v = Console {
        state: c.state.clone(),
        cookies: Vec::new(),
    };
    assert_eq!(v.login("viewer", "viewer-pass").await.status, StatusCode::UNAUTHORIZED);
    let vcsrf = v.signed_in("viewer", "new-viewer-pass").await;
    let list = v.get("/console/databases").await;
    list.ok("orders");
    assert!(!list.body.contains("Create database"));
    let page = v.get(&format!("/console/databases/{uid}")).await;
    page.ok("orders");
    assert!(!page.body.contains("id=\"edit-db\"") && !page.body.contains("Flush"));
    assert!(
        !page.body.contains("href=\"/console/users\""),
        "no users entry for a viewer"
    );
    for uri in [
        "/console/databases/new".to_owned(),
        format!("/console/databases/{uid}/edit"),
        format!("/console/databases/{uid}/delete"),
        "/console/users".to_owned(),
        "/console/events".to_owned(),
    ] {
        let p = v.get(&uri).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(p.body.contains("Not allowed"), "{uri}");
    }
    let create = v.post("/console/databases", &db_fields(&vcsrf, "nope", "64")).await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert!(create.body.contains("does not allow"));
    let delete = v
        .post(
            &format!("/console/databases/{uid}/delete"),
            &[("csrf", &vcsrf), ("confirm", "orders")],
        )
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    // The admin's CSRF token is not the viewer's.
    assert_eq!(
        v.post("/console/databases", &db_fields(&csrf, "nope", "64"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    c.get("/console/databases").await.ok("orders");
    assert!(!c.get("/console/databases").await.body.contains("nope"));
}

#[tokio::test]
async fn latency_reaches_the_stats_the_metrics_and_the_chart() {
    let mut c = Console::new().await;
    let csrf = c.signed_in("admin", ADMIN_PASSWORD).await;
    let node = c.node().await;
    let mut fields = db_fields(&csrf, "timed", "64");
    fields[3].1 = "2";
    let page = c.post("/console/databases", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let (_, shards) = c.rest("/v1/shards").await;
    let shards: Vec<serde_json::Value> = serde_json::from_str(&shards).expect("shards");
    let uid = shards[0]["bdb_uid"].as_i64().expect("bdb_uid");
    assert_eq!(shards.len(), 2);
    let report = |latencies: [Option<f64>; 2]| {
        let rows: Vec<serde_json::Value> = shards
            .iter()
            .zip(latencies)
            .zip([30.0, 10.0])
            .map(|((s, latency), ops)| {
                json!({"uid": s["uid"], "bdb_uid": uid, "port": 30000, "role": "master",
                       "status": "running", "pid": 1, "last_exit": null, "master_link_status": null,
                       "used_memory": 1024, "keys": 5, "ops_per_sec": ops, "connected_clients": 1,
                       "rdb_last_bgsave_status": "ok", "aof_last_write_status": "ok",
                       "avg_latency": latency})
            })
            .collect();
        serde_json::Value::Array(rows)
    };
    let limits = std::collections::HashMap::from([(uid, 64_i64 << 20)]);
    let last_sample = |body: &str| {
        let v: serde_json::Value = serde_json::from_str(body).expect("stats");
        v["samples"]
            .as_array()
            .and_then(|s| s.last())
            .cloned()
            .expect("a sample")
    };

    // 100 µs at 30 ops/s and 400 µs at 10 ops/s: 175 µs weighted by ops.
    c.heartbeat(node, report([Some(100.0), Some(400.0)])).await;
    tessera_manager::cluster::sample(&c.state, &limits);
    let (status, stats) = c.rest(&format!("/v1/bdbs/{uid}/stats")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last_sample(&stats)["avg_latency"], 175.0, "{stats}");
    assert_eq!(last_sample(&c.rest("/v1/cluster/stats").await.1)["avg_latency"], 175.0);
    let (_, metrics) = c.rest("/metrics").await;
    assert!(
        metrics.contains(&format!(
            "tessera_bdb_avg_latency_seconds{{bdb=\"{uid}\",name=\"timed\"}} 0.000175"
        )),
        "{metrics}"
    );
    let live = c.get(&format!("/console/databases/{uid}/live")).await;
    live.ok("data-metric=\"Latency\">175 µs</strong>");

    // One shard without traffic: the other's latency alone.
    c.heartbeat(node, report([None, Some(400.0)])).await;
    tessera_manager::cluster::sample(&c.state, &limits);
    assert_eq!(
        last_sample(&c.rest(&format!("/v1/bdbs/{uid}/stats")).await.1)["avg_latency"],
        400.0
    );

    // No traffic: no figure, as Redis Enterprise leaves it out.
    c.heartbeat(node, report([None, None])).await;
    tessera_manager::cluster::sample(&c.state, &limits);
    let (_, stats) = c.rest(&format!("/v1/bdbs/{uid}/stats")).await;
    assert!(last_sample(&stats).get("avg_latency").is_none(), "{stats}");
    assert!(!c.rest("/metrics").await.1.contains("tessera_bdb_avg_latency_seconds{"));
    let live = c.get(&format!("/console/databases/{uid}/live")).await;
    live.ok("data-metric=\"Latency\">—</strong>");
    assert!(
        live.body.contains("Latency over the last 1 min, now —, peak 400 µs"),
        "{}",
        live.body
    );
}

#[tokio::test]
async fn several_snapshot_rules() {
    let mut c = Console::new().await;
    let csrf = c.signed_in("admin", ADMIN_PASSWORD).await;
    c.node().await;
    let mut base = db_fields(&csrf, "snaps", "64");
    base[4].1 = "snapshot";

    // The new form starts with one rule and an empty row to add another.
    let new = c.get("/console/databases/new").await;
    new.ok("id=\"snapshot_secs_1\" name=\"snapshot_secs\" value=\"3600\"");
    assert!(
        new.body
            .contains("id=\"snapshot_secs_2\" name=\"snapshot_secs\" value=\"\"")
    );

    // A rule that is not a number: every row kept, the second one marked.
    let bad = c
        .post(
            "/console/databases",
            &with_rules(base.clone(), &[("900", "1"), ("soon", "10")]),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("rule 2: enter whole numbers of seconds and writes"),
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("id=\"snapshot_secs_1\" name=\"snapshot_secs\" value=\"900\"")
    );
    assert!(
        bad.body
            .contains("id=\"snapshot_secs_2\" name=\"snapshot_secs\" value=\"soon\" inputmode=\"numeric\"\n            aria-invalid=\"true\""),
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("id=\"snapshot_writes_2\" name=\"snapshot_writes\" value=\"10\"")
    );
    // The REST API's rule (secs > 0) shown the same way.
    let zero = c
        .post("/console/databases", &with_rules(base.clone(), &[("0", "5")]))
        .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert!(
        zero.body.contains("needs secs &#62; 0 and writes &#62; 0"),
        "{}",
        zero.body
    );
    assert!(zero.body.contains("value=\"0\""));

    // Two rules and an empty row: two rules saved.
    let created = c
        .post(
            "/console/databases",
            &with_rules(base.clone(), &[("900", "1"), ("", ""), ("300", "10")]),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let (_, dbs) = c.rest("/v1/bdbs").await;
    let dbs: serde_json::Value = serde_json::from_str(&dbs).expect("bdbs");
    let uid = dbs[0]["uid"].as_i64().expect("uid");
    assert_eq!(
        dbs[0]["snapshot_policy"],
        json!([{"secs": 900, "writes": 1}, {"secs": 300, "writes": 10}])
    );
    c.get(&format!("/console/databases/{uid}"))
        .await
        .ok("snapshots, every 900 s if 1 writes; every 300 s if 10 writes");

    // Edit shows both, then a removed row (sent empty) and an added one.
    let uri = format!("/console/databases/{uid}/edit");
    let edit = c.get(&uri).await;
    edit.ok("id=\"snapshot_writes_2\" name=\"snapshot_writes\" value=\"10\"");
    assert!(
        edit.body
            .contains("id=\"snapshot_secs_3\" name=\"snapshot_secs\" value=\"\"")
    );
    let saved = c
        .post(&uri, &with_rules(base, &[("", ""), ("300", "10"), ("60", "10000")]))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, db) = c.rest(&format!("/v1/bdbs/{uid}")).await;
    let db: serde_json::Value = serde_json::from_str(&db).expect("bdb");
    assert_eq!(
        db["snapshot_policy"],
        json!([{"secs": 300, "writes": 10}, {"secs": 60, "writes": 10000}])
    );
}
