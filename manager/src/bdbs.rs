//! `/v1/bdbs`: databases — validation, placement of their shards at
//! creation, changes, flush and deletion. The reconciler carries changes out.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, put};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::actions;
use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Json, Path, Query};
use crate::logs::audit;
use crate::scheduler::{self, Candidate};
use crate::state::{AppState, bump_epoch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    Disabled,
    Aof,
    Snapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AofPolicy {
    AppendfsyncEverySec,
    AppendfsyncAlways,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EvictionPolicy {
    Noeviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

/// When a write is acknowledged to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Once the master has it (Redis's behaviour): a failover may lose the
    /// last writes the replica had not received yet.
    Async,
    /// Once a replica has it too (the proxy waits with `WAIT 1`): a failover
    /// loses no acknowledged write. Needs `replication`.
    Sync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Disabled,
    Enabled,
}

/// Save a snapshot after `secs` seconds if at least `writes` writes happened.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRule {
    pub secs: u32,
    pub writes: u32,
}

/// Where clients connect to a database (through the proxies).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub uid: String,
    /// Addresses of the nodes whose proxy serves the database.
    pub addr: Vec<String>,
    pub port: u16,
}

/// A database.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bdb {
    pub uid: i64,
    pub name: String,
    /// Bytes of data the database may hold (replicas not counted).
    pub memory_size: i64,
    pub shards_count: i64,
    pub replication: bool,
    pub data_persistence: Persistence,
    pub aof_policy: AofPolicy,
    pub snapshot_policy: Vec<SnapshotRule>,
    pub port: u16,
    pub endpoints: Vec<Endpoint>,
    pub eviction_policy: EvictionPolicy,
    pub authentication_redis_pass: Option<String>,
    pub tls_mode: TlsMode,
    pub durability: Durability,
    /// `pending | active | active-change-pending | delete-pending | creation-failed`.
    pub status: String,
    pub shard_list: Vec<i64>,
    pub created_time: String,
}

/// A database with the action that carries out the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BdbWithAction {
    #[serde(flatten)]
    pub bdb: Bdb,
    pub action_uid: String,
}

/// The fields of `POST` and `PUT /v1/bdbs`; absent fields take their default
/// (create) or stay as they are (update).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BdbFields {
    pub name: Option<String>,
    pub memory_size: Option<i64>,
    pub shards_count: Option<i64>,
    pub replication: Option<bool>,
    pub data_persistence: Option<Persistence>,
    pub aof_policy: Option<AofPolicy>,
    pub snapshot_policy: Option<Vec<SnapshotRule>>,
    pub port: Option<u16>,
    pub eviction_policy: Option<EvictionPolicy>,
    /// The password clients send with AUTH; empty for none.
    pub authentication_redis_pass: Option<String>,
    pub tls_mode: Option<TlsMode>,
    /// `async` (default) or `sync` (needs `replication`).
    pub durability: Option<Durability>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// `1` validates the request and changes nothing.
    pub dry_run: Option<u8>,
}

/// A shard the scheduler would place.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlannedShard {
    pub role: String,
    pub node_uid: i64,
    pub port: u16,
    pub assigned_slots: String,
}

/// The answer to `?dry_run=1`: the request is valid and would be placed so.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DryRunResult {
    pub valid: bool,
    pub shards: Vec<PlannedShard>,
}

/// First port handed out to a database endpoint when none is asked for.
const FIRST_DB_PORT: u16 = 12000;
const MIN_SHARD_MEMORY: i64 = 1 << 20;
const MAX_SHARDS: i64 = 512;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BdbRow {
    pub uid: i64,
    pub name: String,
    pub memory_size: i64,
    pub shards_count: i64,
    pub replication: bool,
    pub data_persistence: String,
    pub aof_policy: String,
    pub snapshot_policy: String,
    pub port: i64,
    pub eviction_policy: String,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub tls_mode: String,
    pub durability: String,
    pub status: String,
    pub created_time: String,
}

pub const SELECT_BDB: &str = "SELECT uid, name, memory_size, shards_count, replication, data_persistence, aof_policy, \
     snapshot_policy, port, eviction_policy, password, password_hash, tls_mode, durability, status, created_time FROM bdbs";

/// The text SQLite stores for a serde enum value.
pub fn enum_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("enums serialize to strings, not {other:?}"),
    }
}

/// Parses a stored enum value back.
pub fn parse_text<T: DeserializeOwned>(column: &str, s: &str) -> anyhow::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| anyhow::anyhow!("bad {column} value {s:?} in the bdbs table: {e}"))
}

/// The desired state of a database, validated.
#[derive(Debug, Clone)]
struct Desired {
    name: String,
    memory_size: i64,
    shards_count: i64,
    replication: bool,
    data_persistence: Persistence,
    aof_policy: AofPolicy,
    snapshot_policy: Vec<SnapshotRule>,
    port: Option<u16>,
    eviction_policy: EvictionPolicy,
    password: Option<String>,
    tls_mode: TlsMode,
    durability: Durability,
}

impl Desired {
    fn from_row(r: &BdbRow) -> anyhow::Result<Self> {
        Ok(Desired {
            name: r.name.clone(),
            memory_size: r.memory_size,
            shards_count: r.shards_count,
            replication: r.replication,
            data_persistence: parse_text("data_persistence", &r.data_persistence)?,
            aof_policy: parse_text("aof_policy", &r.aof_policy)?,
            snapshot_policy: serde_json::from_str(&r.snapshot_policy)?,
            port: u16::try_from(r.port).ok(),
            eviction_policy: parse_text("eviction_policy", &r.eviction_policy)?,
            password: r.password.clone(),
            tls_mode: parse_text("tls_mode", &r.tls_mode)?,
            durability: parse_text("durability", &r.durability)?,
        })
    }

    fn apply(&mut self, f: BdbFields) {
        if let Some(v) = f.name {
            self.name = v;
        }
        if let Some(v) = f.memory_size {
            self.memory_size = v;
        }
        if let Some(v) = f.shards_count {
            self.shards_count = v;
        }
        if let Some(v) = f.replication {
            self.replication = v;
        }
        if let Some(v) = f.data_persistence {
            self.data_persistence = v;
        }
        if let Some(v) = f.aof_policy {
            self.aof_policy = v;
        }
        if let Some(v) = f.snapshot_policy {
            self.snapshot_policy = v;
        }
        if f.port.is_some() {
            self.port = f.port;
        }
        if let Some(v) = f.eviction_policy {
            self.eviction_policy = v;
        }
        if let Some(v) = f.authentication_redis_pass {
            self.password = Some(v).filter(|p| !p.is_empty());
        }
        if let Some(v) = f.tls_mode {
            self.tls_mode = v;
        }
        if let Some(v) = f.durability {
            self.durability = v;
        }
    }

    fn validate(&self, state: &AppState) -> ApiResult<()> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 63
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(ApiError::bad_request(
                "invalid_db_name",
                "a database name is 1 to 63 characters: letters, digits, '-' and '_'",
            ));
        }
        if !(1..=MAX_SHARDS).contains(&self.shards_count) {
            return Err(ApiError::bad_request(
                "invalid_shards_count",
                format!("shards_count must be between 1 and {MAX_SHARDS}"),
            ));
        }
        if self.memory_size < MIN_SHARD_MEMORY * self.shards_count {
            return Err(ApiError::bad_request(
                "invalid_memory_size",
                format!("memory_size must be at least {MIN_SHARD_MEMORY} bytes per shard"),
            ));
        }
        if self.snapshot_policy.iter().any(|r| r.secs == 0 || r.writes == 0) {
            return Err(ApiError::bad_request(
                "invalid_snapshot_policy",
                "every snapshot_policy rule needs secs > 0 and writes > 0",
            ));
        }
        if self.data_persistence == Persistence::Snapshot && self.snapshot_policy.is_empty() {
            return Err(ApiError::bad_request(
                "invalid_snapshot_policy",
                "data_persistence \"snapshot\" needs at least one snapshot_policy rule",
            ));
        }
        if let Some(port) = self.port
            && port < 1024
        {
            return Err(ApiError::bad_request(
                "invalid_port",
                "port must be between 1024 and 65535",
            ));
        }
        if let Some(p) = &self.password
            && (p.len() > 512
                || p.chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\''))
        {
            return Err(ApiError::bad_request(
                "invalid_password",
                "authentication_redis_pass is at most 512 characters, without spaces, quotes or control characters",
            ));
        }
        if self.durability == Durability::Sync && !self.replication {
            return Err(ApiError::bad_request(
                "invalid_durability",
                "durability \"sync\" needs replication: true (a write waits for a replica)",
            ));
        }
        if self.tls_mode == TlsMode::Enabled && state.tls.is_none() {
            return Err(ApiError::not_acceptable(
                "tls_not_configured",
                "tls_mode \"enabled\" needs the manager started with --tls-cert and --tls-key",
            ));
        }
        Ok(())
    }

    fn shard_memory(&self) -> i64 {
        self.memory_size / self.shards_count
    }
}

fn missing(field: &'static str, code: &'static str) -> ApiError {
    ApiError::bad_request(code, format!("the field \"{field}\" is required"))
}

impl BdbRow {
    /// The API view of this row.
    ///
    /// # Errors
    /// A stored value does not parse (a bug or a hand-edited database).
    pub fn view(self, shard_list: Vec<i64>, node_addrs: &[String]) -> anyhow::Result<Bdb> {
        let d = Desired::from_row(&self)?;
        let port = u16::try_from(self.port)?;
        Ok(Bdb {
            uid: self.uid,
            name: self.name,
            memory_size: self.memory_size,
            shards_count: self.shards_count,
            replication: self.replication,
            data_persistence: d.data_persistence,
            aof_policy: d.aof_policy,
            snapshot_policy: d.snapshot_policy,
            port,
            endpoints: vec![Endpoint {
                uid: format!("{}:1", self.uid),
                addr: node_addrs.to_vec(),
                port,
            }],
            eviction_policy: d.eviction_policy,
            authentication_redis_pass: self.password,
            tls_mode: d.tls_mode,
            durability: d.durability,
            status: self.status,
            shard_list,
            created_time: self.created_time,
        })
    }
}

async fn node_addrs(conn: &mut sqlx::SqliteConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT addr FROM nodes ORDER BY uid")
        .fetch_all(conn)
        .await
}

async fn shard_uids(conn: &mut sqlx::SqliteConnection, bdb_uid: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT uid FROM shards WHERE bdb_uid = ? ORDER BY idx, role")
        .bind(bdb_uid)
        .fetch_all(conn)
        .await
}

async fn load_row(conn: &mut sqlx::SqliteConnection, uid: i64) -> ApiResult<BdbRow> {
    let row: Option<BdbRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_BDB} WHERE uid = ?")))
        .bind(uid)
        .fetch_optional(conn)
        .await?;
    row.ok_or_else(|| ApiError::not_found("db_not_found", format!("there is no database {uid}")))
}

async fn load_view(conn: &mut sqlx::SqliteConnection, uid: i64) -> ApiResult<Bdb> {
    let row = load_row(&mut *conn, uid).await?;
    let shards = shard_uids(&mut *conn, uid).await?;
    let addrs = node_addrs(conn).await?;
    Ok(row.view(shards, &addrs)?)
}

/// Picks the lowest free endpoint port, or checks the asked one is free.
async fn endpoint_port(conn: &mut sqlx::SqliteConnection, asked: Option<u16>, except_bdb: i64) -> ApiResult<u16> {
    let used: Vec<i64> = sqlx::query_scalar("SELECT port FROM bdbs WHERE uid != ?")
        .bind(except_bdb)
        .fetch_all(conn)
        .await?;
    let used: HashSet<i64> = used.into_iter().collect();
    match asked {
        Some(p) if used.contains(&i64::from(p)) => Err(ApiError::conflict(
            "port_unavailable",
            format!("port {p} is already used by another database"),
        )),
        Some(p) => Ok(p),
        None => (FIRST_DB_PORT..=u16::MAX)
            .find(|p| !used.contains(&i64::from(*p)))
            .ok_or_else(|| ApiError::conflict("port_unavailable", "no free database port is left")),
    }
}

/// Nodes with what they already hold: those that may receive new shards
/// (up, not in maintenance) if `available_only`, else every node.
pub(crate) async fn candidates(
    state: &AppState,
    conn: &mut sqlx::SqliteConnection,
    available_only: bool,
) -> ApiResult<Vec<Candidate>> {
    #[derive(sqlx::FromRow)]
    struct NodeRow {
        uid: i64,
        total_memory: i64,
        port_min: i64,
        port_max: i64,
    }
    #[derive(sqlx::FromRow)]
    struct Used {
        node_uid: i64,
        port: i64,
        memory: i64,
    }
    let nodes: Vec<NodeRow> =
        sqlx::query_as("SELECT uid, total_memory, port_min, port_max FROM nodes WHERE maintenance = 0 OR NOT ?")
            .bind(available_only)
            .fetch_all(&mut *conn)
            .await?;
    let used: Vec<Used> = sqlx::query_as(
        "SELECT s.node_uid, s.port, b.memory_size / b.shards_count AS memory FROM shards s JOIN bdbs b ON b.uid = s.bdb_uid",
    )
    .fetch_all(conn)
    .await?;
    let live = state.live();
    let mut out: Vec<Candidate> = nodes
        .into_iter()
        .filter(|n| !available_only || live.node_up(n.uid))
        .map(|n| Candidate {
            uid: n.uid,
            total_memory: n.total_memory,
            allocated: 0,
            ports: [n.port_min.clamp(1, 65535) as u16, n.port_max.clamp(1, 65535) as u16],
            used_ports: HashSet::new(),
        })
        .collect();
    let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, c)| (c.uid, i)).collect();
    for u in used {
        if let Some(&i) = index.get(&u.node_uid) {
            out[i].allocated += u.memory;
            out[i].used_ports.insert(u.port.clamp(0, 65535) as u16);
        }
    }
    Ok(out)
}

fn insufficient(e: scheduler::Insufficient) -> ApiError {
    ApiError::conflict("insufficient_resources", e.0)
}

/// Every database.
#[utoipa::path(get, path = "/v1/bdbs", tag = "bdbs",
    responses((status = 200, body = [Bdb]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Bdb>>> {
    caller.require(Permission::ViewDb)?;
    let mut conn = state.db.acquire().await?;
    let rows: Vec<BdbRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_BDB} ORDER BY uid")))
        .fetch_all(&mut *conn)
        .await?;
    let addrs = node_addrs(&mut conn).await?;
    let pairs: Vec<(i64, i64)> = sqlx::query_as("SELECT bdb_uid, uid FROM shards ORDER BY bdb_uid, idx, role")
        .fetch_all(&mut *conn)
        .await?;
    let mut shards: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (bdb, shard) in pairs {
        shards.entry(bdb).or_default().push(shard);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let uids = shards.remove(&row.uid).unwrap_or_default();
        out.push(row.view(uids, &addrs)?);
    }
    Ok(Json(out))
}

/// One database.
#[utoipa::path(get, path = "/v1/bdbs/{uid}", tag = "bdbs", params(("uid" = i64, Path)),
    responses((status = 200, body = Bdb), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<Json<Bdb>> {
    caller.require(Permission::ViewDb)?;
    let mut conn = state.db.acquire().await?;
    load_view(&mut conn, uid).await.map(Json)
}

/// Creates a database: validates, places its shards and answers with the
/// action that starts them. `?dry_run=1` only validates and plans.
#[utoipa::path(post, path = "/v1/bdbs", tag = "bdbs", request_body = BdbFields, params(DryRun),
    responses((status = 200, body = BdbWithAction), (status = 400, body = crate::error::ErrorBody),
        (status = 406, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Query(dry): Query<DryRun>,
    Json(fields): Json<BdbFields>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Permission::EditDb)?;
    let dry_run = dry.dry_run.unwrap_or(0) != 0;
    let object = format!("bdb:{}", fields.name.clone().unwrap_or_default());
    let result = create(&state, fields, dry_run).await;
    if dry_run {
        return result.map(|r| r.into_response());
    }
    audit(&state, &caller, "bdb_create", &object, result)
        .await
        .map(|r| r.into_response())
}

enum Created {
    Planned(DryRunResult),
    Done(Box<BdbWithAction>),
}

impl axum::response::IntoResponse for Created {
    fn into_response(self) -> axum::response::Response {
        match self {
            Created::Planned(p) => Json(p).into_response(),
            Created::Done(b) => Json(b).into_response(),
        }
    }
}

async fn create(state: &AppState, fields: BdbFields, dry_run: bool) -> ApiResult<Created> {
    let name = fields.name.clone().ok_or_else(|| missing("name", "missing_db_name"))?;
    let memory_size = fields
        .memory_size
        .ok_or_else(|| missing("memory_size", "missing_memory_size"))?;
    let mut d = Desired {
        name,
        memory_size,
        shards_count: 1,
        replication: false,
        data_persistence: Persistence::Disabled,
        aof_policy: AofPolicy::AppendfsyncEverySec,
        snapshot_policy: Vec::new(),
        port: None,
        eviction_policy: EvictionPolicy::VolatileLru,
        password: None,
        tls_mode: TlsMode::Disabled,
        durability: Durability::Async,
    };
    d.apply(fields);
    d.validate(state)?;
    let password_hash = hash_optional(d.password.clone()).await?;

    let mut tx = state.write_tx().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT uid FROM bdbs WHERE name = ?")
        .bind(&d.name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            "db_name_exists",
            format!("a database named {:?} already exists", d.name),
        ));
    }
    let port = endpoint_port(&mut tx, d.port, 0).await?;
    let nodes = candidates(state, &mut tx, true).await?;
    let placement = scheduler::place(&nodes, d.shards_count, d.replication, d.shard_memory()).map_err(insufficient)?;
    if dry_run {
        let shards = placement
            .iter()
            .map(|p| {
                let (lo, hi) = scheduler::slot_range(p.idx, d.shards_count);
                PlannedShard {
                    role: p.role.to_owned(),
                    node_uid: p.node_uid,
                    port: p.port,
                    assigned_slots: format!("{lo}-{hi}"),
                }
            })
            .collect();
        return Ok(Created::Planned(DryRunResult { valid: true, shards }));
    }
    let uid: i64 = sqlx::query_scalar(
        "INSERT INTO bdbs (name, memory_size, shards_count, replication, data_persistence, aof_policy, snapshot_policy, \
         port, eviction_policy, password, password_hash, tls_mode, durability, status, created_time) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) RETURNING uid",
    )
    .bind(&d.name)
    .bind(d.memory_size)
    .bind(d.shards_count)
    .bind(d.replication)
    .bind(enum_text(&d.data_persistence))
    .bind(enum_text(&d.aof_policy))
    .bind(serde_json::to_string(&d.snapshot_policy).map_err(anyhow::Error::from)?)
    .bind(i64::from(port))
    .bind(enum_text(&d.eviction_policy))
    .bind(&d.password)
    .bind(&password_hash)
    .bind(enum_text(&d.tls_mode))
    .bind(enum_text(&d.durability))
    .fetch_one(&mut *tx)
    .await?;
    for p in &placement {
        sqlx::query("INSERT INTO shards (bdb_uid, idx, role, node_uid, port) VALUES (?, ?, ?, ?, ?)")
            .bind(uid)
            .bind(p.idx)
            .bind(p.role)
            .bind(p.node_uid)
            .bind(i64::from(p.port))
            .execute(&mut *tx)
            .await?;
    }
    let action = actions::start(&mut tx, "bdb_create", Some(uid), "active").await?;
    let epoch = bump_epoch(&mut tx).await?;
    let bdb = load_view(&mut tx, uid).await?;
    tx.commit().await?;
    state.publish_epoch(epoch);
    tracing::info!(bdb = uid, name = %bdb.name, shards = placement.len(), "database created");
    Ok(Created::Done(Box::new(BdbWithAction {
        bdb,
        action_uid: action.to_string(),
    })))
}

async fn hash_optional(password: Option<String>) -> ApiResult<Option<String>> {
    match password {
        None => Ok(None),
        Some(p) => tokio::task::spawn_blocking(move || crate::auth::hash_password(&p).map(Some))
            .await
            .map_err(|e| anyhow::anyhow!("password hashing panicked: {e}"))?
            .map_err(ApiError::from),
    }
}

/// Changes a database. Turning replication on places a replica per master
/// (they sync from their masters); turning it off removes the replicas. The
/// shard count cannot change yet (406).
#[utoipa::path(put, path = "/v1/bdbs/{uid}", tag = "bdbs", request_body = BdbFields, params(("uid" = i64, Path), DryRun),
    responses((status = 200, body = BdbWithAction), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 406, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn put_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
    Query(dry): Query<DryRun>,
    Json(fields): Json<BdbFields>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Permission::EditDb)?;
    let dry_run = dry.dry_run.unwrap_or(0) != 0;
    let result = update(&state, uid, fields, dry_run).await;
    if dry_run {
        return result.map(|r| r.into_response());
    }
    audit(&state, &caller, "bdb_update", &format!("bdb:{uid}"), result)
        .await
        .map(|r| r.into_response())
}

async fn update(state: &AppState, uid: i64, fields: BdbFields, dry_run: bool) -> ApiResult<Created> {
    let mut tx = state.write_tx().await?;
    let row = load_row(&mut tx, uid).await?;
    if row.status == "delete-pending" {
        return Err(ApiError::conflict("busy", format!("database {uid} is being deleted")));
    }
    let mut d = Desired::from_row(&row)?;
    let before = d.clone();
    d.apply(fields);
    d.validate(state)?;
    if d.shards_count != before.shards_count {
        return Err(ApiError::not_acceptable(
            "unsupported_change",
            "shards_count cannot be changed on an existing database (resharding is not supported yet)",
        ));
    }
    if d.name != before.name {
        let taken: Option<i64> = sqlx::query_scalar("SELECT uid FROM bdbs WHERE name = ? AND uid != ?")
            .bind(&d.name)
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(ApiError::conflict(
                "db_name_exists",
                format!("a database named {:?} already exists", d.name),
            ));
        }
    }
    let port = endpoint_port(&mut tx, d.port, uid).await?;
    if d.memory_size > before.memory_size {
        check_growth(state, &mut tx, uid, d.shard_memory() - before.shard_memory()).await?;
    }
    let new_replicas = if d.replication && !before.replication {
        place_replicas(state, &mut tx, uid, &d).await?
    } else {
        Vec::new()
    };
    if dry_run {
        return Ok(Created::Planned(DryRunResult {
            valid: true,
            shards: new_replicas.into_iter().map(|(_, p)| p).collect(),
        }));
    }
    if d.replication != before.replication {
        // Replicas added start empty and sync from their masters; replicas
        // removed are stopped by the reconciler (no longer wanted).
        sqlx::query("DELETE FROM shards WHERE bdb_uid = ? AND role = 'replica'")
            .bind(uid)
            .execute(&mut *tx)
            .await?;
        for (idx, r) in &new_replicas {
            sqlx::query("INSERT INTO shards (bdb_uid, idx, role, node_uid, port) VALUES (?, ?, 'replica', ?, ?)")
                .bind(uid)
                .bind(idx)
                .bind(r.node_uid)
                .bind(i64::from(r.port))
                .execute(&mut *tx)
                .await?;
        }
    }
    let password_hash = if d.password == before.password {
        row.password_hash.clone()
    } else {
        hash_optional(d.password.clone()).await?
    };
    let status = if row.status == "active" {
        "active-change-pending"
    } else {
        row.status.as_str()
    };
    sqlx::query(
        "UPDATE bdbs SET name = ?, memory_size = ?, replication = ?, data_persistence = ?, aof_policy = ?, snapshot_policy = ?, port = ?, \
         eviction_policy = ?, password = ?, password_hash = ?, tls_mode = ?, durability = ?, status = ? WHERE uid = ?",
    )
    .bind(&d.name)
    .bind(d.memory_size)
    .bind(d.replication)
    .bind(enum_text(&d.data_persistence))
    .bind(enum_text(&d.aof_policy))
    .bind(serde_json::to_string(&d.snapshot_policy).map_err(anyhow::Error::from)?)
    .bind(i64::from(port))
    .bind(enum_text(&d.eviction_policy))
    .bind(&d.password)
    .bind(&password_hash)
    .bind(enum_text(&d.tls_mode))
    .bind(enum_text(&d.durability))
    .bind(status)
    .bind(uid)
    .execute(&mut *tx)
    .await?;
    let action = actions::start(&mut tx, "bdb_update", Some(uid), "active").await?;
    let epoch = bump_epoch(&mut tx).await?;
    let bdb = load_view(&mut tx, uid).await?;
    tx.commit().await?;
    state.publish_epoch(epoch);
    Ok(Created::Done(Box::new(BdbWithAction {
        bdb,
        action_uid: action.to_string(),
    })))
}

/// Places one replica per master of database `uid` when replication is
/// turned on: each on a node other than its master's, with the memory and a
/// free port; `insufficient_resources` when one cannot be placed.
async fn place_replicas(
    state: &AppState,
    conn: &mut sqlx::SqliteConnection,
    uid: i64,
    d: &Desired,
) -> ApiResult<Vec<(i64, PlannedShard)>> {
    let masters: Vec<(i64, i64)> =
        sqlx::query_as("SELECT idx, node_uid FROM shards WHERE bdb_uid = ? AND role = 'master' ORDER BY idx")
            .bind(uid)
            .fetch_all(&mut *conn)
            .await?;
    let mut nodes = candidates(state, conn, true).await?;
    let memory = d.shard_memory();
    let mut out = Vec::with_capacity(masters.len());
    for (idx, master_node) in masters {
        let (node, port) = scheduler::place_one(&nodes, &[master_node], memory).ok_or_else(|| {
            ApiError::conflict(
                "insufficient_resources",
                format!(
                    "no node other than the master's has {memory} bytes of memory and a free shard port for the replica of shard {}",
                    idx + 1
                ),
            )
        })?;
        let n = nodes.iter_mut().find(|n| n.uid == node).expect("placed on a candidate");
        n.allocated += memory;
        n.used_ports.insert(port);
        let (lo, hi) = scheduler::slot_range(idx, d.shards_count);
        out.push((
            idx,
            PlannedShard {
                role: "replica".to_owned(),
                node_uid: node,
                port,
                assigned_slots: format!("{lo}-{hi}"),
            },
        ));
    }
    Ok(out)
}

/// Refuses a memory increase the database's nodes cannot hold.
async fn check_growth(state: &AppState, conn: &mut sqlx::SqliteConnection, uid: i64, extra: i64) -> ApiResult<()> {
    let nodes = candidates(state, &mut *conn, false).await?;
    let mine: Vec<i64> = sqlx::query_scalar("SELECT node_uid FROM shards WHERE bdb_uid = ?")
        .bind(uid)
        .fetch_all(conn)
        .await?;
    for node in &nodes {
        let count = mine.iter().filter(|n| **n == node.uid).count() as i64;
        if count > 0 && node.allocated + extra * count > node.total_memory {
            return Err(ApiError::conflict(
                "insufficient_resources",
                format!("node {} does not have the memory for the new memory_size", node.uid),
            ));
        }
    }
    Ok(())
}

/// The answer of a request that started an action.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionStarted {
    pub action_uid: String,
}

/// Deletes a database: its endpoint leaves the topology at once, its shards
/// are stopped and their data removed by the reconciler.
#[utoipa::path(delete, path = "/v1/bdbs/{uid}", tag = "bdbs", params(("uid" = i64, Path)),
    responses((status = 200, body = ActionStarted), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
) -> ApiResult<Json<ActionStarted>> {
    caller.require(Permission::EditDb)?;
    let result = async {
        let mut tx = state.write_tx().await?;
        let row = load_row(&mut tx, uid).await?;
        if row.status == "delete-pending" {
            return Err(ApiError::conflict("busy", format!("database {uid} is already being deleted")));
        }
        sqlx::query("UPDATE actions SET status = 'failed', error = 'superseded by a delete' WHERE bdb_uid = ? AND status IN ('pending', 'active')")
            .bind(uid)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE bdbs SET status = 'delete-pending' WHERE uid = ?").bind(uid).execute(&mut *tx).await?;
        let action = actions::start(&mut tx, "bdb_delete", Some(uid), "active").await?;
        let epoch = bump_epoch(&mut tx).await?;
        tx.commit().await?;
        state.publish_epoch(epoch);
        Ok(ActionStarted { action_uid: action.to_string() })
    }
    .await;
    audit(&state, &caller, "bdb_delete", &format!("bdb:{uid}"), result)
        .await
        .map(Json)
}

/// Removes every key of the database (FLUSHALL on each master shard).
#[utoipa::path(put, path = "/v1/bdbs/{uid}/flush", tag = "bdbs", params(("uid" = i64, Path)),
    responses((status = 200, body = ActionStarted), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn flush(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
) -> ApiResult<Json<ActionStarted>> {
    caller.require(Permission::EditDb)?;
    let result = async {
        let mut conn = state.db.acquire().await?;
        let row = load_row(&mut conn, uid).await?;
        if row.status != "active" && row.status != "active-change-pending" {
            return Err(ApiError::conflict("busy", format!("database {uid} is {}; it can be flushed once active", row.status)));
        }
        let masters: Vec<(String, i64)> = sqlx::query_as(
            "SELECT n.addr, s.port FROM shards s JOIN nodes n ON n.uid = s.node_uid WHERE s.bdb_uid = ? AND s.role = 'master'",
        )
        .bind(uid)
        .fetch_all(&mut *conn)
        .await?;
        for (addr, port) in masters {
            crate::shard_client::flushall(&format!("{addr}:{port}"), row.password.as_deref())
                .await
                .map_err(|e| ApiError::conflict("flush_failed", format!("cannot flush the shard at {addr}:{port}: {e}")))?;
        }
        let action = actions::start(&mut conn, "bdb_flush", Some(uid), "completed").await?;
        Ok(ActionStarted { action_uid: action.to_string() })
    }
    .await;
    audit(&state, &caller, "bdb_flush", &format!("bdb:{uid}"), result)
        .await
        .map(Json)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/bdbs", get(list).post(post))
        .route("/v1/bdbs/{uid}", get(get_one).put(put_one).delete(delete))
        .route("/v1/bdbs/{uid}/flush", put(flush))
}
