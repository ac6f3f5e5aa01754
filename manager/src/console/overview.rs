//! The cluster overview, nodes, shards and event-log pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Permission;
use crate::console::databases::{self, DbRow, ShardRow};
use crate::console::page::{self, Layout, PageResult};
use crate::console::session::Console;
use crate::error::Json;
use crate::logs::{Event, LogQuery};
use crate::nodes::Node;
use crate::shards::Shard;
use crate::state::AppState;

/// Share of the memory limit above which a database is flagged.
const MEMORY_ALERT_PERCENT: i64 = 90;

/// A node in a table.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub uid: i64,
    pub addr: String,
    pub status: String,
    pub badge: &'static str,
    pub used: String,
    pub total: String,
    pub used_percent: i64,
    pub cpu: String,
    pub cores: i64,
    pub shards: i64,
    pub version: String,
    pub maintenance: bool,
}

fn node_row(n: &Node) -> NodeRow {
    NodeRow {
        uid: n.uid,
        addr: n.addr.clone(),
        status: n.status.clone(),
        badge: page::badge(&n.status),
        used: page::bytes(n.used_memory),
        total: page::bytes(n.total_memory),
        used_percent: page::percent(n.used_memory, n.total_memory),
        cpu: format!("{:.0}%", n.cpu_percent),
        cores: n.cores,
        shards: n.shard_count,
        version: n.software_version.clone(),
        maintenance: n.maintenance,
    }
}

async fn load_nodes(state: &AppState, console: &Console) -> PageResult<Vec<Node>> {
    let Json(nodes) = crate::nodes::list(State(state.clone()), console.caller.clone()).await?;
    Ok(nodes)
}

async fn load_events(state: &AppState, console: &Console, limit: u32) -> PageResult<Vec<Event>> {
    let q = crate::error::Query(LogQuery { limit: Some(limit) });
    let Json(events) = crate::logs::list(State(state.clone()), console.caller.clone(), q).await?;
    Ok(events)
}

/// Something that needs a person's attention.
#[derive(Debug, Clone)]
pub struct Alert {
    pub severity: &'static str,
    pub text: String,
    pub href: String,
}

/// Nodes down, replicated shards without a running replica, databases near
/// their memory limit or failed.
pub fn alerts(nodes: &[Node], bdbs: &[DbRow], bdb_list: &[crate::bdbs::Bdb], shards: &[Shard]) -> Vec<Alert> {
    let mut out = Vec::new();
    for n in nodes.iter().filter(|n| n.status != "active") {
        out.push(Alert {
            severity: "bad",
            text: format!("Node {} ({}) is down: no heartbeat", n.uid, n.addr),
            href: "/console/nodes".to_owned(),
        });
    }
    for b in bdb_list {
        let href = format!("/console/databases/{}", b.uid);
        if b.status == "creation-failed" {
            out.push(Alert {
                severity: "bad",
                text: format!("Database {} could not be created", b.name),
                href: href.clone(),
            });
        }
        if b.replication {
            for m in shards.iter().filter(|s| s.bdb_uid == b.uid && s.role == "master") {
                let covered = shards.iter().any(|r| {
                    r.bdb_uid == b.uid
                        && r.role != "master"
                        && r.assigned_slots == m.assigned_slots
                        && r.status == "running"
                });
                if !covered {
                    out.push(Alert {
                        severity: "warn",
                        text: format!(
                            "Database {}: slots {} have no running replica",
                            b.name, m.assigned_slots
                        ),
                        href: href.clone(),
                    });
                }
            }
        }
    }
    for d in bdbs.iter().filter(|d| d.used_percent >= MEMORY_ALERT_PERCENT) {
        out.push(Alert {
            severity: "warn",
            text: format!(
                "Database {} uses {}% of its memory limit ({} of {})",
                d.name, d.used_percent, d.used, d.limit
            ),
            href: format!("/console/databases/{}", d.uid),
        });
    }
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    nodes: Vec<NodeRow>,
    nodes_up: usize,
    rows: Vec<DbRow>,
    alerts: Vec<Alert>,
    events: Vec<Event>,
    ops: String,
}

pub async fn overview(State(state): State<AppState>, console: Console) -> PageResult<Response> {
    let nodes = load_nodes(&state, &console).await?;
    let (bdbs, shards) = databases::load_all(&state, &console).await?;
    let usage = databases::usage(&shards);
    let rows: Vec<DbRow> = bdbs.iter().map(|b| databases::db_row(b, &usage)).collect();
    let events = if console.can(Permission::ViewLogs) {
        load_events(&state, &console, 8).await?
    } else {
        Vec::new()
    };
    let ops: f64 = shards.iter().map(|s| s.ops_per_sec).sum();
    Ok(OverviewPage {
        layout: Layout::new(&console, "overview", "Overview"),
        nodes_up: nodes.iter().filter(|n| n.status == "active").count(),
        alerts: alerts(&nodes, &rows, &bdbs, &shards),
        nodes: nodes.iter().map(node_row).collect(),
        rows,
        events,
        ops: page::number(ops),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "nodes.html")]
struct NodesPage {
    layout: Layout,
    nodes: Vec<NodeRow>,
}

pub async fn nodes(State(state): State<AppState>, console: Console) -> PageResult<Response> {
    let nodes = load_nodes(&state, &console).await?;
    Ok(NodesPage {
        layout: Layout::new(&console, "nodes", "Nodes"),
        nodes: nodes.iter().map(node_row).collect(),
    }
    .into_response())
}

/// A shard with the name of its database.
#[derive(Debug, Clone)]
pub struct NamedShard {
    pub db: String,
    pub bdb_uid: i64,
    pub shard: ShardRow,
}

#[derive(Template, WebTemplate)]
#[template(path = "shards.html")]
struct ShardsPage {
    layout: Layout,
    shards: Vec<NamedShard>,
}

pub async fn shards(State(state): State<AppState>, console: Console) -> PageResult<Response> {
    let (bdbs, shards) = databases::load_all(&state, &console).await?;
    let rows = databases::shard_rows(&shards);
    let shards = shards
        .iter()
        .zip(rows)
        .map(|(s, shard)| NamedShard {
            db: bdbs
                .iter()
                .find(|b| b.uid == s.bdb_uid)
                .map_or_else(String::new, |b| b.name.clone()),
            bdb_uid: s.bdb_uid,
            shard,
        })
        .collect();
    Ok(ShardsPage {
        layout: Layout::new(&console, "shards", "Shards"),
        shards,
    }
    .into_response())
}

/// The event-log filter: each given field must appear in the entry's field.
#[derive(Debug, Default, Deserialize)]
pub struct EventFilter {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub outcome: String,
}

impl EventFilter {
    fn matches(&self, e: &Event) -> bool {
        let has = |field: &str, wanted: &str| {
            wanted.is_empty() || field.to_lowercase().contains(&wanted.trim().to_lowercase())
        };
        has(&e.user, &self.user)
            && has(&e.action, &self.action)
            && has(&e.object, &self.object)
            && has(&e.outcome, &self.outcome)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    filter: EventFilter,
    events: Vec<Event>,
    /// How many entries were searched.
    searched: usize,
}

/// Entries of the event log searched by the filter.
const EVENTS_SEARCHED: u32 = 2000;

pub async fn events(
    State(state): State<AppState>,
    console: Console,
    Query(filter): Query<EventFilter>,
) -> PageResult<Response> {
    console.require(Permission::ViewLogs)?;
    let all = load_events(&state, &console, EVENTS_SEARCHED).await?;
    let searched = all.len();
    let events = all.into_iter().filter(|e| filter.matches(e)).collect();
    Ok(EventsPage {
        layout: Layout::new(&console, "events", "Event log"),
        filter,
        events,
        searched,
    }
    .into_response())
}
