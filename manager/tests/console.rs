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

    /// Registers a node with 4 GiB and a heartbeat, through the internal API.
    async fn node(&self) {
        let call = |uri: String, body: serde_json::Value| {
            let state = self.state.clone();
            async move {
                let req = Request::builder()
                    .method("POST")
                    .uri(uri)
                    .header("authorization", format!("Bearer {TOKEN}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request");
                let r = tessera_manager::app(state).oneshot(req).await.expect("infallible");
                let status = r.status();
                let bytes = r.into_body().collect().await.expect("body").to_bytes();
                assert!(status.is_success(), "{status} {}", String::from_utf8_lossy(&bytes));
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default()
            }
        };
        let node = call(
            "/v1/internal/nodes".to_owned(),
            json!({"addr": "127.0.0.1", "agent_url": "http://127.0.0.1:1", "version": "0.1.0",
                   "total_memory": 4_i64 << 30, "cores": 2, "free_disk": 1_i64 << 36, "shard_ports": [30000, 30999]}),
        )
        .await;
        let uid = node["uid"].as_i64().expect("uid");
        call(
            format!("/v1/internal/nodes/{uid}/heartbeat"),
            json!({"node": {"cpu_percent": 12.5, "used_memory": 1000, "free_disk": 5000}, "shards": []}),
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
    assert!(edit.body.contains("Shards and replication are fixed"));
    let uri = format!("/console/databases/{uid}/edit");
    assert_eq!(
        c.post(&uri, &db_fields("", "sessions", "128")).await.status,
        StatusCode::FORBIDDEN
    );
    let saved = c.post(&uri, &db_fields(&csrf, "sessions", "128")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location.expect("location").contains("done=updated"));
    c.get(&format!("/console/databases/{uid}")).await.ok("128.0 MiB");
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
