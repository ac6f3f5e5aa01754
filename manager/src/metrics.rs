//! `/metrics`: the cluster-wide Prometheus view — per database, node and
//! shard — built at each scrape from SQLite and the last heartbeats. The
//! registry belongs to the app state, not to the process.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use prometheus::{CounterVec, Encoder, GaugeVec, Opts, Registry, TextEncoder};

use crate::error::ApiResult;
use crate::state::AppState;

pub struct Metrics {
    registry: Registry,
    bdb_ops: GaugeVec,
    bdb_used_memory: GaugeVec,
    bdb_memory_limit: GaugeVec,
    bdb_keys: GaugeVec,
    bdb_connections: GaugeVec,
    bdb_evicted: GaugeVec,
    bdb_expired: GaugeVec,
    bdb_shards_running: GaugeVec,
    bdb_avg_latency: GaugeVec,
    node_up: GaugeVec,
    node_cpu: GaugeVec,
    node_used_memory: GaugeVec,
    node_total_memory: GaugeVec,
    node_free_disk: GaugeVec,
    shard_info: GaugeVec,
    shard_up: GaugeVec,
    shard_repl_offset: GaugeVec,
    shard_used_memory: GaugeVec,
    shard_restarts: GaugeVec,
    shard_persistence_ok: GaugeVec,
    failovers: CounterVec,
    last_failover_seconds: GaugeVec,
    rejoins_discarding: CounterVec,
    rejoin_discarded_bytes: CounterVec,
}

impl Metrics {
    /// # Errors
    /// Only on a duplicate or malformed metric definition (a bug).
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str, labels: &[&str]| -> anyhow::Result<GaugeVec> {
            let g = GaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let counter = |name: &str, help: &str, labels: &[&str]| -> anyhow::Result<CounterVec> {
            let c = CounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let bdb = &["bdb", "name"];
        let node = &["node"];
        let shard = &["shard", "bdb", "node"];
        Ok(Self {
            bdb_ops: gauge(
                "tessera_bdb_ops_per_second",
                "Commands per second over the database's shards.",
                bdb,
            )?,
            bdb_used_memory: gauge(
                "tessera_bdb_used_memory_bytes",
                "Memory used by the database's shards.",
                bdb,
            )?,
            bdb_memory_limit: gauge("tessera_bdb_memory_limit_bytes", "The database's memory_size.", bdb)?,
            bdb_keys: gauge("tessera_bdb_keys", "Keys in the database (masters).", bdb)?,
            bdb_connections: gauge(
                "tessera_bdb_connections",
                "Client connections to the database's shards.",
                bdb,
            )?,
            bdb_evicted: gauge(
                "tessera_bdb_evicted_keys",
                "Keys evicted since the shards started.",
                bdb,
            )?,
            bdb_expired: gauge(
                "tessera_bdb_expired_keys",
                "Keys expired since the shards started.",
                bdb,
            )?,
            bdb_shards_running: gauge("tessera_bdb_shards_running", "Shards of the database that run.", bdb)?,
            bdb_avg_latency: gauge(
                "tessera_bdb_avg_latency_seconds",
                "Average latency of operations on the database's masters over the last second; only when there is traffic.",
                bdb,
            )?,
            node_up: gauge("tessera_node_up", "1 if the node's heartbeat is recent, else 0.", node)?,
            node_cpu: gauge(
                "tessera_node_cpu_utilization_ratio",
                "CPU utilization of the node (0-1 per core set).",
                node,
            )?,
            node_used_memory: gauge("tessera_node_used_memory_bytes", "Memory used on the node.", node)?,
            node_total_memory: gauge("tessera_node_total_memory_bytes", "Memory of the node.", node)?,
            node_free_disk: gauge(
                "tessera_node_free_disk_bytes",
                "Free disk space in the node's data dir.",
                node,
            )?,
            shard_info: gauge(
                "tessera_shard_info",
                "Always 1; the labels say the shard's role.",
                &["shard", "bdb", "node", "role"],
            )?,
            shard_up: gauge("tessera_shard_up", "1 if the shard process runs, else 0.", shard)?,
            shard_repl_offset: gauge(
                "tessera_shard_repl_offset_bytes",
                "Replication offset of the shard.",
                shard,
            )?,
            shard_used_memory: gauge("tessera_shard_used_memory_bytes", "Memory used by the shard.", shard)?,
            shard_restarts: gauge(
                "tessera_shard_restarts",
                "Restarts of the shard process by its agent.",
                shard,
            )?,
            shard_persistence_ok: gauge(
                "tessera_shard_persistence_ok",
                "1 if the shard's last RDB save or AOF write succeeded, else 0.",
                &["shard", "bdb", "node", "kind"],
            )?,
            failovers: counter(
                "tessera_failovers_total",
                "Failovers of master shards, by kind (automatic, planned).",
                &["bdb", "kind"],
            )?,
            rejoins_discarding: counter(
                "tessera_rejoins_discarding_writes_total",
                "Old masters that came back, after a failover, with writes their replacement never had (discarded as they rejoined as replicas).",
                &["bdb"],
            )?,
            rejoin_discarded_bytes: counter(
                "tessera_rejoin_discarded_bytes_total",
                "Replication-stream bytes of writes that only a replaced master had, discarded as it rejoined as a replica.",
                &["bdb"],
            )?,
            last_failover_seconds: gauge(
                "tessera_last_failover_duration_seconds",
                "Time of the database's last failover: from failure detected (or request) to the new master promoted and published.",
                &["bdb"],
            )?,
            registry,
        })
    }

    /// Counts a failover and its duration.
    pub fn record_failover(&self, p: &crate::failover::Promoted, kind: &str, seconds: f64) {
        let bdb = p.bdb_uid.to_string();
        self.failovers.with_label_values(&[bdb.as_str(), kind]).inc();
        self.last_failover_seconds
            .with_label_values(&[bdb.as_str()])
            .set(seconds);
    }

    /// Counts an old master that rejoined with `bytes` of writes only it had.
    pub fn record_rejoin(&self, bdb_uid: i64, bytes: u64) {
        let bdb = bdb_uid.to_string();
        self.rejoins_discarding.with_label_values(&[bdb.as_str()]).inc();
        self.rejoin_discarded_bytes
            .with_label_values(&[bdb.as_str()])
            .inc_by(bytes as f64);
    }

    fn reset(&self) {
        for g in [
            &self.bdb_ops,
            &self.bdb_used_memory,
            &self.bdb_memory_limit,
            &self.bdb_keys,
            &self.bdb_connections,
            &self.bdb_evicted,
            &self.bdb_expired,
            &self.bdb_shards_running,
            &self.bdb_avg_latency,
            &self.node_up,
            &self.node_cpu,
            &self.node_used_memory,
            &self.node_total_memory,
            &self.node_free_disk,
            &self.shard_info,
            &self.shard_up,
            &self.shard_repl_offset,
            &self.shard_used_memory,
            &self.shard_restarts,
            &self.shard_persistence_ok,
        ] {
            g.reset();
        }
    }
}

/// The Prometheus text of the cluster (no login: scrapers have none).
#[utoipa::path(get, path = "/metrics", tag = "metrics", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn scrape(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let bdbs: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT uid, name, memory_size FROM bdbs WHERE status != 'delete-pending'")
            .fetch_all(&state.db)
            .await?;
    let nodes: Vec<(i64, i64)> = sqlx::query_as("SELECT uid, total_memory FROM nodes")
        .fetch_all(&state.db)
        .await?;
    let shards: Vec<(i64, i64, i64, String)> = sqlx::query_as("SELECT uid, bdb_uid, node_uid, role FROM shards")
        .fetch_all(&state.db)
        .await?;
    let m = &state.metrics;
    let text = {
        let live = state.live();
        m.reset();
        let names: HashMap<i64, &str> = bdbs.iter().map(|(uid, name, _)| (*uid, name.as_str())).collect();
        for (uid, name, limit) in &bdbs {
            let l = [&uid.to_string(), name.as_str()];
            m.bdb_memory_limit.with_label_values(&l).set(*limit as f64);
            for g in [
                &m.bdb_ops,
                &m.bdb_used_memory,
                &m.bdb_keys,
                &m.bdb_connections,
                &m.bdb_shards_running,
            ] {
                g.with_label_values(&l).set(0.0);
            }
            let latency = live
                .bdb_series
                .get(uid)
                .and_then(|s| s.back())
                .and_then(|s| s.avg_latency);
            if let Some(usec) = latency {
                m.bdb_avg_latency.with_label_values(&l).set(usec / 1e6);
            }
        }
        for (uid, total) in &nodes {
            let l = [uid.to_string()];
            let seen = live.nodes.get(uid).filter(|n| n.is_up());
            m.node_up
                .with_label_values(&l)
                .set(if seen.is_some() { 1.0 } else { 0.0 });
            m.node_total_memory.with_label_values(&l).set(*total as f64);
            if let Some(n) = seen {
                m.node_cpu.with_label_values(&l).set(n.stats.cpu_percent / 100.0);
                m.node_used_memory.with_label_values(&l).set(n.stats.used_memory as f64);
                m.node_free_disk.with_label_values(&l).set(n.stats.free_disk as f64);
            }
        }
        for (uid, bdb, node, role) in &shards {
            let (uid_s, bdb_s, node_s) = (uid.to_string(), bdb.to_string(), node.to_string());
            let l = [uid_s.as_str(), bdb_s.as_str(), node_s.as_str()];
            m.shard_info
                .with_label_values(&[uid_s.as_str(), bdb_s.as_str(), node_s.as_str(), role.as_str()])
                .set(1.0);
            let reported = live.shard(*node, *uid);
            let running = reported.is_some_and(|s| s.status == "running");
            m.shard_up.with_label_values(&l).set(if running { 1.0 } else { 0.0 });
            let Some(s) = reported else { continue };
            m.shard_repl_offset.with_label_values(&l).set(s.repl_offset as f64);
            m.shard_used_memory.with_label_values(&l).set(s.used_memory as f64);
            m.shard_restarts.with_label_values(&l).set(s.restarts as f64);
            for (kind, status) in [("rdb", &s.rdb_last_bgsave_status), ("aof", &s.aof_last_write_status)] {
                if let Some(status) = status {
                    let ok = if status == "ok" { 1.0 } else { 0.0 };
                    m.shard_persistence_ok
                        .with_label_values(&[uid_s.as_str(), bdb_s.as_str(), node_s.as_str(), kind])
                        .set(ok);
                }
            }
            let Some(name) = names.get(bdb) else { continue };
            let b = [bdb_s.as_str(), name];
            m.bdb_ops.with_label_values(&b).add(s.ops_per_sec);
            m.bdb_used_memory.with_label_values(&b).add(s.used_memory as f64);
            m.bdb_connections.with_label_values(&b).add(s.connected_clients as f64);
            if running {
                m.bdb_shards_running.with_label_values(&b).add(1.0);
            }
            if role == "master" {
                m.bdb_keys.with_label_values(&b).add(s.keys as f64);
                if let Some(n) = s.evicted_keys {
                    m.bdb_evicted.with_label_values(&b).add(n as f64);
                }
                if let Some(n) = s.expired_keys {
                    m.bdb_expired.with_label_values(&b).add(n as f64);
                }
            }
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut buf)
            .map_err(anyhow::Error::from)?;
        buf
    };
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}
