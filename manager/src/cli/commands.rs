//! The admin commands of `tessera` over the REST API (`status`, `db …`,
//! `failover`, `node …`, `events`): each builds its request, calls the
//! manager and prints a table, or the JSON answer with `--json`.

use std::io::Write as _;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{CliError, Client};
use super::table::{Table, bytes, cell};

/// `tessera db …`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// List the databases.
    List,
    /// Show one database (DB is its uid or name).
    Show { db: String },
    /// Create a database.
    Create {
        name: String,
        #[command(flatten)]
        settings: DbSettings,
    },
    /// Change settings of a database (only the ones given).
    Update {
        db: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        settings: DbSettings,
    },
    /// Delete a database and its data.
    Delete { db: String },
}

/// Settings of `db create` and `db update`.
#[derive(Debug, clap::Args)]
pub struct DbSettings {
    /// Memory limit: bytes, or with a unit (100MB, 1GB) [create: 100MB].
    #[arg(long, value_parser = parse_size)]
    memory: Option<u64>,
    /// Number of master shards.
    #[arg(long)]
    shards: Option<u32>,
    /// Keep a replica of every shard (true|false).
    #[arg(long)]
    replication: Option<bool>,
    /// disabled | aof | snapshot.
    #[arg(long)]
    persistence: Option<String>,
    /// The endpoint's port [default: chosen by the manager].
    #[arg(long)]
    port: Option<u16>,
    /// Password clients AUTH with.
    #[arg(long)]
    redis_password: Option<String>,
    /// noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, …
    #[arg(long)]
    eviction_policy: Option<String>,
    /// When a write is acknowledged: async (once the master has it) or sync
    /// (once a replica has it too; needs replication).
    #[arg(long, value_parser = ["async", "sync"])]
    durability: Option<String>,
}

impl DbSettings {
    fn body(&self, name: Option<&str>) -> Map<String, Value> {
        let mut body = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                body.insert(k.to_owned(), v);
            }
        };
        put("name", name.map(|n| json!(n)));
        put("memory_size", self.memory.map(|m| json!(m)));
        put("shards_count", self.shards.map(|s| json!(s)));
        put("replication", self.replication.map(|r| json!(r)));
        put("data_persistence", self.persistence.as_ref().map(|p| json!(p)));
        put("port", self.port.map(|p| json!(p)));
        put(
            "authentication_redis_pass",
            self.redis_password.as_ref().map(|p| json!(p)),
        );
        put("eviction_policy", self.eviction_policy.as_ref().map(|p| json!(p)));
        put("durability", self.durability.as_ref().map(|d| json!(d)));
        body
    }
}

/// `tessera node …`.
#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// List the nodes.
    List,
    /// Turn maintenance mode on or off: no new shards are placed on a node in maintenance,
    /// and turning it on first moves the node's masters away (planned failovers).
    Maintenance {
        /// The node's uid.
        node: i64,
        #[arg(value_parser = ["on", "off"])]
        mode: String,
    },
}

/// Where command output goes: tables, or JSON for scripts.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    fn print(self, value: &Value, table: impl FnOnce(&Value) -> String) {
        let text = if self.json {
            let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
            s.push('\n');
            s
        } else {
            table(value)
        };
        // A closed pipe (`tessera … | head`) is not an error of the command.
        let _ = std::io::stdout().write_all(text.as_bytes());
    }
}

/// `100MB`, `1GB`, `512kb` or plain bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[digits.len()..];
    let mult: u64 = match unit {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        "T" | "TB" => 1 << 40,
        _ => return Err(format!("unknown unit in {s:?}: use B, KB, MB, GB or TB")),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("expected a size like 100MB, got {s:?}"))
}

/// The uid of database `db` (a uid, or a name looked up in the list).
async fn db_uid(client: &Client, db: &str) -> Result<i64, CliError> {
    if let Ok(uid) = db.parse() {
        return Ok(uid);
    }
    let list = client.get("/v1/bdbs").await?;
    list.as_array()
        .into_iter()
        .flatten()
        .find(|b| b["name"] == db)
        .and_then(|b| b["uid"].as_i64())
        .ok_or_else(|| CliError::NotFound(format!("no database named {db:?}")))
}

fn endpoints(bdb: &Value) -> String {
    let list: Vec<String> = bdb["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| {
            let port = e["port"].clone();
            e["addr"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |a| format!("{}:{}", cell(&a), cell(&port)))
        })
        .collect();
    if list.is_empty() {
        format!("port {}", cell(&bdb["port"]))
    } else {
        list.join(",")
    }
}

fn bdb_table(list: &Value) -> String {
    let mut t = Table::new(&[
        "id",
        "name",
        "status",
        "endpoint",
        "shards",
        "replication",
        "persistence",
        "memory",
    ]);
    for b in list.as_array().into_iter().flatten() {
        t.row(vec![
            cell(&b["uid"]),
            cell(&b["name"]),
            cell(&b["status"]),
            endpoints(b),
            cell(&b["shards_count"]),
            cell(&b["replication"]),
            cell(&b["data_persistence"]),
            bytes(&b["memory_size"]),
        ]);
    }
    t.render()
}

fn node_table(list: &Value) -> String {
    let mut t = Table::new(&[
        "id",
        "address",
        "status",
        "maintenance",
        "shards",
        "cores",
        "memory",
        "cpu",
    ]);
    for n in list.as_array().into_iter().flatten() {
        t.row(vec![
            cell(&n["uid"]),
            cell(&n["addr"]),
            cell(&n["status"]),
            cell(&n["maintenance"]),
            cell(&n["shard_count"]),
            cell(&n["cores"]),
            format!("{}/{}", bytes(&n["used_memory"]), bytes(&n["total_memory"])),
            n["cpu_percent"]
                .as_f64()
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.0}%")),
        ]);
    }
    t.render()
}

fn shard_table(list: &Value) -> String {
    let mut t = Table::new(&[
        "id", "db", "node", "role", "status", "address", "slots", "keys", "memory",
    ]);
    for s in list.as_array().into_iter().flatten() {
        t.row(vec![
            cell(&s["uid"]),
            cell(&s["bdb_uid"]),
            cell(&s["node_uid"]),
            cell(&s["role"]),
            cell(&s["status"]),
            cell(&s["addr"]),
            cell(&s["assigned_slots"]),
            cell(&s["keys"]),
            bytes(&s["used_memory"]),
        ]);
    }
    t.render()
}

/// An object as `key: value` lines.
fn fields(v: &Value) -> String {
    let mut t = Table::default();
    for (k, v) in v.as_object().into_iter().flatten() {
        let shown = match v {
            Value::Array(_) | Value::Object(_) => v.to_string(),
            other => cell(other),
        };
        t.row(vec![format!("{k}:"), shown]);
    }
    t.render()
}

/// `tessera status`: the cluster, its nodes, databases and shards.
///
/// # Errors
/// Any failed call.
pub async fn status(client: &Client, out: Output) -> Result<(), CliError> {
    let (cluster, nodes, bdbs, shards) = tokio::try_join!(
        client.get("/v1/cluster"),
        client.get("/v1/nodes"),
        client.get("/v1/bdbs"),
        client.get("/v1/shards"),
    )?;
    let all = json!({"cluster": cluster, "nodes": nodes, "bdbs": bdbs, "shards": shards});
    out.print(&all, |v| {
        format!(
            "CLUSTER {} (epoch {}) at {}\n\nNODES:\n{}\nDATABASES:\n{}\nSHARDS:\n{}",
            cell(&v["cluster"]["name"]),
            cell(&v["cluster"]["epoch"]),
            client.url(),
            node_table(&v["nodes"]),
            bdb_table(&v["bdbs"]),
            shard_table(&v["shards"]),
        )
    });
    Ok(())
}

/// `tessera db …`.
///
/// # Errors
/// An invalid command line or a failed call.
pub async fn db(client: &Client, out: Output, cmd: DbCommand) -> Result<(), CliError> {
    match cmd {
        DbCommand::List => out.print(&client.get("/v1/bdbs").await?, bdb_table),
        DbCommand::Show { db } => {
            let uid = db_uid(client, &db).await?;
            out.print(&client.get(&format!("/v1/bdbs/{uid}")).await?, fields);
        }
        DbCommand::Create { name, settings } => {
            let mut body = settings.body(Some(&name));
            body.entry("memory_size").or_insert(json!(100u64 << 20));
            let created = client
                .call(Method::POST, "/v1/bdbs", Some(&Value::Object(body)))
                .await?;
            out.print(&created, fields);
        }
        DbCommand::Update { db, name, settings } => {
            let body = settings.body(name.as_deref());
            if body.is_empty() {
                return Err(CliError::Usage(
                    "db update: give at least one setting to change (see --help)".into(),
                ));
            }
            let uid = db_uid(client, &db).await?;
            let path = format!("/v1/bdbs/{uid}");
            let updated = client.call(Method::PUT, &path, Some(&Value::Object(body))).await?;
            out.print(&updated, fields);
        }
        DbCommand::Delete { db } => {
            let uid = db_uid(client, &db).await?;
            let answer = client.call(Method::DELETE, &format!("/v1/bdbs/{uid}"), None).await?;
            out.print(&answer, |_| format!("database {uid} deleted\n"));
        }
    }
    Ok(())
}

/// `tessera failover DB [--shard UID…]`: a planned failover of the
/// database's master shards (`POST /v1/bdbs/{uid}/actions/failover`), or of
/// the named master shards only (`POST /v1/shards/{uid}/actions/failover`).
///
/// # Errors
/// A failed call: an unknown database or shard, or a shard without a replica
/// to promote.
pub async fn failover(client: &Client, out: Output, db: &str, shards: &[i64]) -> Result<(), CliError> {
    let uid = db_uid(client, db).await?;
    if shards.is_empty() {
        let answer = client
            .call(Method::POST, &format!("/v1/bdbs/{uid}/actions/failover"), None)
            .await?;
        out.print(&answer, |a| format!("database {uid} failed over\n{}", fields(a)));
    }
    for shard in shards {
        let answer = client
            .call(Method::POST, &format!("/v1/shards/{shard}/actions/failover"), None)
            .await?;
        out.print(&answer, |a| format!("shard {shard} failed over\n{}", fields(a)));
    }
    Ok(())
}

/// `tessera node …`.
///
/// # Errors
/// A failed call.
pub async fn node(client: &Client, out: Output, cmd: NodeCommand) -> Result<(), CliError> {
    match cmd {
        NodeCommand::List => out.print(&client.get("/v1/nodes").await?, node_table),
        NodeCommand::Maintenance { node, mode } => {
            let path = format!("/v1/nodes/{node}/actions/maintenance_{mode}");
            let answer = client.call(Method::POST, &path, None).await?;
            out.print(&answer, |_| format!("node {node}: maintenance {mode}\n"));
        }
    }
    Ok(())
}

/// `tessera events [--limit N]`: the event log, most recent first.
///
/// # Errors
/// A failed call.
pub async fn events(client: &Client, out: Output, limit: u32) -> Result<(), CliError> {
    let list = client.get(&format!("/v1/logs?limit={limit}")).await?;
    out.print(&list, |list| {
        let mut t = Table::new(&["id", "time", "user", "action", "object", "outcome"]);
        for e in list.as_array().into_iter().flatten() {
            t.row(
                ["uid", "time", "user", "action", "object", "outcome"]
                    .map(|k| cell(&e[k]))
                    .to_vec(),
            );
        }
        t.render()
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("100MB"), Ok(100 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("MB").is_err());
    }
}
