//! Database pages: the list, create and edit forms (validated by the REST
//! API's own handlers, so the rules live in one place), the database page
//! with its shards and live charts, flush and delete.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::Permission;
use crate::bdbs::{self, Bdb, BdbFields, DryRun, SnapshotRule};
use crate::console::chart::{self, Chart};
use crate::console::login::CsrfForm;
use crate::console::page::{self, Layout, PageError, PageResult};
use crate::console::session::Console;
use crate::error::{ApiError, Json};
use crate::shards::Shard;
use crate::state::AppState;

/// What a page was asked to show after a redirect: an action to follow, a notice.
#[derive(Debug, Default, Deserialize)]
pub struct After {
    pub action: Option<i64>,
    pub done: Option<String>,
}

impl After {
    /// The notice text for a known `done` key (never echoes the query).
    pub fn notice(&self) -> Option<&'static str> {
        match self.done.as_deref()? {
            "created" => Some("Database created; its shards are starting."),
            "updated" => Some("Changes saved; the shards are being reconfigured."),
            "deleted" => Some("Database deleted; its shards are being removed."),
            "flushed" => Some("Every key of the database was removed."),
            "failed-over" => Some("Failover done: the shard's replica is now its master."),
            "user-created" => Some("User created."),
            "user-updated" => Some("User updated."),
            _ => None,
        }
    }
}

/// A database in a table.
#[derive(Debug, Clone)]
pub struct DbRow {
    pub uid: i64,
    pub name: String,
    pub status: String,
    pub badge: &'static str,
    pub endpoint: String,
    pub used: String,
    pub limit: String,
    pub used_percent: i64,
    pub ops: String,
    pub keys: String,
    pub shards: i64,
    pub replication: bool,
}

/// Per-database sums over master shards: used memory, ops/s, keys.
pub fn usage(shards: &[Shard]) -> HashMap<i64, (i64, f64, i64)> {
    let mut out: HashMap<i64, (i64, f64, i64)> = HashMap::new();
    for s in shards {
        let e = out.entry(s.bdb_uid).or_default();
        e.1 += s.ops_per_sec;
        if s.role == "master" {
            e.0 += s.used_memory;
            e.2 += s.keys;
        }
    }
    out
}

pub fn endpoint(b: &Bdb) -> String {
    let host = b
        .endpoints
        .first()
        .and_then(|e| e.addr.first())
        .map_or("localhost", String::as_str);
    format!("{host}:{}", b.port)
}

pub fn db_row(b: &Bdb, usage: &HashMap<i64, (i64, f64, i64)>) -> DbRow {
    let (used, ops, keys) = usage.get(&b.uid).copied().unwrap_or_default();
    DbRow {
        uid: b.uid,
        name: b.name.clone(),
        status: b.status.clone(),
        badge: page::badge(&b.status),
        endpoint: endpoint(b),
        used: page::bytes(used),
        limit: page::bytes(b.memory_size),
        used_percent: page::percent(used, b.memory_size),
        ops: page::number(ops),
        keys: page::number(keys as f64),
        shards: b.shards_count,
        replication: b.replication,
    }
}

/// Every database and every shard, through the REST handlers.
pub async fn load_all(state: &AppState, console: &Console) -> PageResult<(Vec<Bdb>, Vec<Shard>)> {
    let Json(bdbs) = bdbs::list(State(state.clone()), console.caller.clone()).await?;
    let Json(shards) = crate::shards::list(State(state.clone()), console.caller.clone()).await?;
    Ok((bdbs, shards))
}

#[derive(Template, WebTemplate)]
#[template(path = "databases.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<DbRow>,
    notice: Option<&'static str>,
    action: Option<i64>,
}

pub async fn list(State(state): State<AppState>, console: Console, Query(after): Query<After>) -> PageResult<Response> {
    let (bdbs, shards) = load_all(&state, &console).await?;
    let usage = usage(&shards);
    Ok(ListPage {
        layout: Layout::new(&console, "databases", "Databases"),
        rows: bdbs.iter().map(|b| db_row(b, &usage)).collect(),
        notice: after.notice(),
        action: after.action,
    }
    .into_response())
}

/// A `<select>` option.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn options(choices: &[(&'static str, &'static str)], current: &str) -> Vec<Opt> {
    choices
        .iter()
        .map(|&(value, label)| Opt {
            value,
            label,
            selected: value == current,
        })
        .collect()
}

const PERSISTENCE: [(&str, &str); 3] = [
    ("disabled", "None (in memory only)"),
    ("aof", "Append-only file (AOF)"),
    ("snapshot", "Snapshots (RDB)"),
];
const AOF: [(&str, &str); 2] = [
    ("appendfsync-every-sec", "fsync every second"),
    ("appendfsync-always", "fsync every write"),
];
const EVICTION: [(&str, &str); 8] = [
    ("volatile-lru", "volatile-lru"),
    ("volatile-lfu", "volatile-lfu"),
    ("volatile-random", "volatile-random"),
    ("volatile-ttl", "volatile-ttl"),
    ("allkeys-lru", "allkeys-lru"),
    ("allkeys-lfu", "allkeys-lfu"),
    ("allkeys-random", "allkeys-random"),
    ("noeviction", "noeviction"),
];
const TLS: [(&str, &str); 2] = [("disabled", "Disabled"), ("enabled", "Enabled")];
const DURABILITY: [(&str, &str); 2] = [
    ("async", "Async: acknowledged once the master has it"),
    ("sync", "Sync: acknowledged once a replica has it too"),
];

/// The database form as typed: strings, so a bad value comes back as typed.
#[derive(Debug, Clone, Deserialize)]
pub struct DbForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub memory_mb: String,
    #[serde(default)]
    pub shards_count: String,
    #[serde(default)]
    pub replication: Option<String>,
    #[serde(default)]
    pub data_persistence: String,
    #[serde(default)]
    pub aof_policy: String,
    /// The snapshot rules as typed, in order (repeated `snapshot_secs` and
    /// `snapshot_writes` fields).
    #[serde(skip)]
    pub snapshot: Vec<SnapshotRow>,
    #[serde(default)]
    pub eviction_policy: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub tls_mode: String,
    #[serde(default)]
    pub durability: String,
    #[serde(default)]
    pub port: String,
}

/// One snapshot rule of the form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotRow {
    pub secs: String,
    pub writes: String,
}

impl SnapshotRow {
    fn is_blank(&self) -> bool {
        self.secs.trim().is_empty() && self.writes.trim().is_empty()
    }
}

/// A posted database form: its fields in order, the snapshot rules repeated.
pub struct PostedDbForm(pub DbForm);

impl<S: Send + Sync> axum::extract::FromRequest<S> for PostedDbForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (mut secs, mut writes, mut rest) = (Vec::new(), Vec::new(), serde_json::Map::new());
        for (key, value) in pairs {
            match key.as_str() {
                "snapshot_secs" => secs.push(value),
                "snapshot_writes" => writes.push(value),
                _ => {
                    rest.insert(key, serde_json::Value::String(value));
                }
            }
        }
        let mut form: DbForm = serde_json::from_value(serde_json::Value::Object(rest))
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad form: {e}")).into_response())?;
        writes.resize(secs.len().max(writes.len()), String::new());
        secs.resize(writes.len(), String::new());
        form.snapshot = secs
            .into_iter()
            .zip(writes)
            .map(|(secs, writes)| SnapshotRow { secs, writes })
            .collect();
        Ok(PostedDbForm(form))
    }
}

impl Default for DbForm {
    fn default() -> Self {
        DbForm {
            csrf: String::new(),
            name: String::new(),
            memory_mb: "100".to_owned(),
            shards_count: "1".to_owned(),
            replication: None,
            data_persistence: "disabled".to_owned(),
            aof_policy: "appendfsync-every-sec".to_owned(),
            snapshot: vec![SnapshotRow {
                secs: "3600".to_owned(),
                writes: "1".to_owned(),
            }],
            eviction_policy: "volatile-lru".to_owned(),
            password: String::new(),
            tls_mode: "disabled".to_owned(),
            durability: "async".to_owned(),
            port: String::new(),
        }
    }
}

/// Errors shown next to the fields they concern.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub memory: Option<String>,
    pub shards: Option<String>,
    pub snapshot: Option<String>,
    /// The rule (from 1) the snapshot error is about, when known.
    pub snapshot_rule: Option<usize>,
    pub port: Option<String>,
    pub password: Option<String>,
    pub tls: Option<String>,
    pub durability: Option<String>,
    pub general: Option<String>,
}

impl FieldErrors {
    /// Whether rule `n` (from 1) is the one to fix: the one named, else the first.
    pub fn invalid_rule(&self, n: &usize) -> bool {
        self.snapshot.is_some() && self.snapshot_rule.unwrap_or(1) == *n
    }

    fn any(&self) -> bool {
        self.name.is_some()
            || self.memory.is_some()
            || self.shards.is_some()
            || self.snapshot.is_some()
            || self.port.is_some()
            || self.password.is_some()
            || self.tls.is_some()
            || self.durability.is_some()
            || self.general.is_some()
    }

    /// Puts a REST error next to the field its code names.
    fn from_api(e: &ApiError) -> Option<FieldErrors> {
        let (code, text) = match e {
            ApiError::BadRequest { code, description }
            | ApiError::NotAcceptable { code, description }
            | ApiError::Conflict { code, description } => (*code, description.clone()),
            _ => return None,
        };
        let mut f = FieldErrors::default();
        let slot = match code {
            "invalid_db_name" | "missing_db_name" | "db_name_exists" => &mut f.name,
            "invalid_memory_size" | "missing_memory_size" | "insufficient_resources" => &mut f.memory,
            "invalid_shards_count" => &mut f.shards,
            "invalid_snapshot_policy" => &mut f.snapshot,
            "invalid_port" | "port_unavailable" => &mut f.port,
            "invalid_password" => &mut f.password,
            "tls_not_configured" => &mut f.tls,
            "invalid_durability" => &mut f.durability,
            _ => &mut f.general,
        };
        *slot = Some(text);
        Some(f)
    }
}

fn choice<T: DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
}

impl DbForm {
    fn from_bdb(b: &Bdb) -> Self {
        DbForm {
            csrf: String::new(),
            name: b.name.clone(),
            memory_mb: (b.memory_size >> 20).to_string(),
            shards_count: b.shards_count.to_string(),
            replication: b.replication.then(|| "on".to_owned()),
            data_persistence: bdbs::enum_text(&b.data_persistence),
            aof_policy: bdbs::enum_text(&b.aof_policy),
            snapshot: b
                .snapshot_policy
                .iter()
                .map(|r| SnapshotRow {
                    secs: r.secs.to_string(),
                    writes: r.writes.to_string(),
                })
                .collect(),
            eviction_policy: bdbs::enum_text(&b.eviction_policy),
            password: String::new(),
            tls_mode: bdbs::enum_text(&b.tls_mode),
            durability: bdbs::enum_text(&b.durability),
            port: b.port.to_string(),
        }
    }

    /// The REST fields this form asks for; what cannot even be parsed is
    /// reported here, everything else is the REST API's to judge.
    fn fields(&self, creating: bool) -> Result<BdbFields, Box<FieldErrors>> {
        let mut errors = FieldErrors::default();
        let memory_mb = self.memory_mb.trim().parse::<i64>().ok().filter(|m| *m > 0);
        if memory_mb.is_none() {
            errors.memory = Some("enter the memory limit as a whole number of MB".to_owned());
        }
        let shards = self.shards_count.trim().parse::<i64>().ok();
        if creating && shards.is_none() {
            errors.shards = Some("enter a whole number of shards".to_owned());
        }
        let port = if self.port.trim().is_empty() {
            None
        } else {
            let p = self.port.trim().parse::<u16>().ok();
            if p.is_none() {
                errors.port = Some("port must be between 1024 and 65535".to_owned());
            }
            p
        };
        let mut snapshot = Vec::new();
        for (i, row) in self.snapshot.iter().filter(|r| !r.is_blank()).enumerate() {
            match (row.secs.trim().parse(), row.writes.trim().parse()) {
                (Ok(secs), Ok(writes)) => snapshot.push(SnapshotRule { secs, writes }),
                _ => {
                    errors.snapshot = Some(format!("rule {}: enter whole numbers of seconds and writes", i + 1));
                    errors.snapshot_rule = Some(i + 1);
                    break;
                }
            }
        }
        if errors.any() {
            return Err(Box::new(errors));
        }
        Ok(BdbFields {
            name: Some(self.name.trim().to_owned()),
            memory_size: memory_mb.map(|m| m.saturating_mul(1 << 20)),
            shards_count: if creating { shards } else { None },
            replication: Some(self.replication.is_some()),
            data_persistence: choice(&self.data_persistence),
            aof_policy: choice(&self.aof_policy),
            snapshot_policy: Some(snapshot),
            port,
            eviction_policy: choice(&self.eviction_policy),
            authentication_redis_pass: Some(self.password.clone()).filter(|p| creating || !p.is_empty()),
            tls_mode: choice(&self.tls_mode),
            durability: choice(&self.durability),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "database_form.html")]
struct FormPage {
    layout: Layout,
    /// `None` when creating.
    uid: Option<i64>,
    form: DbForm,
    errors: FieldErrors,
    persistence: Vec<Opt>,
    aof: Vec<Opt>,
    eviction: Vec<Opt>,
    tls: Vec<Opt>,
    durability: Vec<Opt>,
    /// The typed rules and a blank one to add another.
    snapshot: Vec<SnapshotRow>,
}

fn form_page(console: &Console, uid: Option<i64>, form: DbForm, errors: FieldErrors) -> FormPage {
    let title = match uid {
        None => "New database".to_owned(),
        Some(_) => format!("Edit {}", form.name),
    };
    FormPage {
        layout: Layout::new(console, "databases", title),
        uid,
        persistence: options(&PERSISTENCE, &form.data_persistence),
        aof: options(&AOF, &form.aof_policy),
        eviction: options(&EVICTION, &form.eviction_policy),
        tls: options(&TLS, &form.tls_mode),
        durability: options(&DURABILITY, &form.durability),
        snapshot: form
            .snapshot
            .iter()
            .filter(|r| !r.is_blank())
            .cloned()
            .chain([SnapshotRow::default()])
            .collect(),
        form,
        errors,
    }
}

pub async fn new_form(console: Console) -> PageResult<Response> {
    console.require(Permission::EditDb)?;
    Ok(form_page(&console, None, DbForm::default(), FieldErrors::default()).into_response())
}

/// The JSON body of a REST answer that started an action.
async fn started(response: Response) -> PageResult<serde_json::Value> {
    let body = axum::body::to_bytes(response.into_body(), crate::MAX_BODY)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot read a REST answer: {e}")))?;
    serde_json::from_slice(&body)
        .map_err(|e| PageError::Api(ApiError::Internal(anyhow::anyhow!("bad REST answer: {e}"))))
}

fn action_of(v: &serde_json::Value) -> String {
    v["action_uid"].as_str().unwrap_or_default().to_owned()
}

/// A form error page (400), or the error page for what is not about a field.
fn rejected(console: &Console, uid: Option<i64>, mut form: DbForm, e: ApiError) -> PageResult<Response> {
    let errors = FieldErrors::from_api(&e).ok_or(PageError::Api(e))?;
    form.password.clear();
    Ok((StatusCode::BAD_REQUEST, form_page(console, uid, form, errors)).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    console: Console,
    PostedDbForm(form): PostedDbForm,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::EditDb)?;
    let fields = match form.fields(true) {
        Ok(f) => f,
        Err(errors) => return Ok((StatusCode::BAD_REQUEST, form_page(&console, None, form, *errors)).into_response()),
    };
    let dry = crate::error::Query(DryRun { dry_run: None });
    match bdbs::post(State(state), console.caller.clone(), dry, Json(fields)).await {
        Ok(response) => {
            let v = started(response).await?;
            let uid = v["uid"].as_i64().unwrap_or_default();
            let action = action_of(&v);
            Ok(Redirect::to(&format!("/console/databases/{uid}?done=created&action={action}")).into_response())
        }
        Err(e) => rejected(&console, None, form, e),
    }
}

async fn load_one(state: &AppState, console: &Console, uid: i64) -> PageResult<Bdb> {
    let Json(b) = bdbs::get_one(State(state.clone()), console.caller.clone(), crate::error::Path(uid)).await?;
    Ok(b)
}

pub async fn edit_form(State(state): State<AppState>, console: Console, Path(uid): Path<i64>) -> PageResult<Response> {
    console.require(Permission::EditDb)?;
    let b = load_one(&state, &console, uid).await?;
    Ok(form_page(&console, Some(uid), DbForm::from_bdb(&b), FieldErrors::default()).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
    PostedDbForm(mut form): PostedDbForm,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::EditDb)?;
    let current = load_one(&state, &console, uid).await?;
    // Shown but not editable: keep the current value on the page.
    form.shards_count = current.shards_count.to_string();
    let fields = match form.fields(false) {
        Ok(f) => f,
        Err(errors) => {
            return Ok((StatusCode::BAD_REQUEST, form_page(&console, Some(uid), form, *errors)).into_response());
        }
    };
    let dry = DryRun { dry_run: None };
    match bdbs::put_one(
        State(state),
        console.caller.clone(),
        crate::error::Path(uid),
        crate::error::Query(dry),
        Json(fields),
    )
    .await
    {
        Ok(response) => {
            let action = action_of(&started(response).await?);
            Ok(Redirect::to(&format!("/console/databases/{uid}?done=updated&action={action}")).into_response())
        }
        Err(e) => rejected(&console, Some(uid), form, e),
    }
}

/// A shard in the database page.
#[derive(Debug, Clone)]
pub struct ShardRow {
    pub uid: i64,
    pub role: String,
    pub node_uid: i64,
    pub addr: String,
    pub slots: String,
    pub status: String,
    pub badge: &'static str,
    pub used: String,
    pub keys: String,
    pub ops: String,
    /// Replication offset bytes behind the master (replicas only).
    pub lag: String,
    /// A master with a replica to hand over to.
    pub can_fail_over: bool,
}

pub fn shard_rows(shards: &[Shard]) -> Vec<ShardRow> {
    shards
        .iter()
        .map(|s| {
            let master = shards
                .iter()
                .find(|m| m.bdb_uid == s.bdb_uid && m.role == "master" && m.assigned_slots == s.assigned_slots);
            let has_replica = shards
                .iter()
                .any(|r| r.bdb_uid == s.bdb_uid && r.role != "master" && r.assigned_slots == s.assigned_slots);
            let lag = match master {
                Some(m) if s.role != "master" => page::bytes((m.repl_offset - s.repl_offset).max(0)),
                _ => "—".to_owned(),
            };
            ShardRow {
                uid: s.uid,
                role: s.role.clone(),
                node_uid: s.node_uid,
                addr: s.addr.clone(),
                slots: s.assigned_slots.clone(),
                status: s.status.clone(),
                badge: page::badge(&s.status),
                used: page::bytes(s.used_memory),
                keys: page::number(s.keys as f64),
                ops: page::number(s.ops_per_sec),
                lag,
                can_fail_over: s.role == "master" && has_replica,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePanel {
    charts: Vec<Chart>,
}

/// The live figures and charts of database `uid` (the page polls this).
async fn live_panel(state: &AppState, console: &Console, uid: i64) -> PageResult<String> {
    let Json(stats) =
        crate::cluster::bdb_stats(State(state.clone()), console.caller.clone(), crate::error::Path(uid)).await?;
    let s = &stats.samples;
    let series = |f: fn(&crate::state::BdbSample) -> f64| s.iter().map(f).collect::<Vec<f64>>();
    let charts = vec![
        chart::chart("Operations/s", &series(|x| x.ops_per_sec), page::number),
        // Seconds without traffic have no latency: drawn at 0, shown as a dash.
        chart::chart("Latency", &series(|x| x.avg_latency.unwrap_or(0.0)), page::latency),
        chart::chart("Memory", &series(|x| x.used_memory as f64), |v| page::bytes(v as i64)),
        chart::chart("Connections", &series(|x| x.connections as f64), page::number),
        chart::chart("Keys", &series(|x| x.keys as f64), page::number),
    ];
    LivePanel { charts }
        .render()
        .map_err(|e| PageError::Api(ApiError::Internal(anyhow::anyhow!("cannot render: {e}"))))
}

pub async fn live(State(state): State<AppState>, console: Console, Path(uid): Path<i64>) -> PageResult<Response> {
    let html = live_panel(&state, &console, uid).await?;
    Ok(axum::response::Html(html).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "database.html")]
struct DbPage {
    layout: Layout,
    db: DbRow,
    bdb: Bdb,
    persistence: String,
    eviction: String,
    redis_cli: String,
    shards: Vec<ShardRow>,
    live: String,
    notice: Option<&'static str>,
    action: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
    Query(after): Query<After>,
) -> PageResult<Response> {
    let b = load_one(&state, &console, uid).await?;
    let Json(all) = crate::shards::list(State(state.clone()), console.caller.clone()).await?;
    let mine: Vec<Shard> = all.into_iter().filter(|s| s.bdb_uid == uid).collect();
    let (host, port) = endpoint(&b)
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.to_owned()))
        .unwrap_or_default();
    let mut redis_cli = format!("redis-cli -h {host} -p {port}");
    if let Some(p) = &b.authentication_redis_pass {
        redis_cli.push_str(&format!(" -a '{p}' --no-auth-warning"));
    }
    if b.tls_mode == bdbs::TlsMode::Enabled {
        redis_cli.push_str(" --tls --insecure");
    }
    let persistence = match b.data_persistence {
        bdbs::Persistence::Disabled => "none".to_owned(),
        bdbs::Persistence::Aof => format!("AOF, {}", bdbs::enum_text(&b.aof_policy)),
        bdbs::Persistence::Snapshot => {
            let rules: Vec<String> = b
                .snapshot_policy
                .iter()
                .map(|r| format!("every {} s if {} writes", r.secs, r.writes))
                .collect();
            format!("snapshots, {}", rules.join("; "))
        }
    };
    let live = live_panel(&state, &console, uid).await?;
    Ok(DbPage {
        layout: Layout::new(&console, "databases", b.name.clone()),
        db: db_row(&b, &usage(&mine)),
        shards: shard_rows(&mine),
        persistence,
        eviction: bdbs::enum_text(&b.eviction_policy),
        redis_cli,
        bdb: b,
        live,
        notice: after.notice(),
        action: after.action,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "database_delete.html")]
struct DeletePage {
    layout: Layout,
    uid: i64,
    name: String,
    error: Option<String>,
}

pub async fn delete_confirm(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
) -> PageResult<Response> {
    console.require(Permission::EditDb)?;
    let b = load_one(&state, &console, uid).await?;
    Ok(DeletePage {
        layout: Layout::new(&console, "databases", format!("Delete {}", b.name)),
        uid,
        name: b.name,
        error: None,
    }
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::EditDb)?;
    let b = load_one(&state, &console, uid).await?;
    if form.confirm.trim() != b.name {
        let page = DeletePage {
            layout: Layout::new(&console, "databases", format!("Delete {}", b.name)),
            uid,
            error: Some(format!("Type {} exactly to confirm.", b.name)),
            name: b.name,
        };
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let Json(started) = bdbs::delete(State(state), console.caller.clone(), crate::error::Path(uid)).await?;
    Ok(Redirect::to(&format!(
        "/console/databases?done=deleted&action={}",
        started.action_uid
    ))
    .into_response())
}

pub async fn flush(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::EditDb)?;
    bdbs::flush(State(state), console.caller.clone(), crate::error::Path(uid)).await?;
    Ok(Redirect::to(&format!("/console/databases/{uid}?done=flushed")).into_response())
}

/// A planned failover of one master shard of database `uid`.
pub async fn fail_over_shard(
    State(state): State<AppState>,
    console: Console,
    Path((uid, shard)): Path<(i64, i64)>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::EditDb)?;
    crate::failover::shard_failover(State(state), console.caller.clone(), crate::error::Path(shard)).await?;
    Ok(Redirect::to(&format!("/console/databases/{uid}?done=failed-over")).into_response())
}

/// An action's progress as JSON, for the page's progress bar.
pub async fn action(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
) -> PageResult<Json<crate::actions::Action>> {
    Ok(crate::actions::get_one(State(state), console.caller.clone(), crate::error::Path(uid)).await?)
}
