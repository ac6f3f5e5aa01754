//! The agent's `/metrics`: this node's host figures and every shard's
//! state, in the Prometheus text format. A fresh registry per scrape, built
//! from the current statuses (no global recorder).

use prometheus::{Encoder as _, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};

use super::Agent;
use super::spec::Status;

/// Renders the metrics text.
///
/// # Errors
/// A metric the registry refuses (a bug in the definitions below).
pub fn render(agent: &Agent) -> prometheus::Result<String> {
    let registry = Registry::new();
    let node = agent.uid().map_or_else(String::new, |u| u.to_string());
    let host = agent.host();

    let node_gauge = |name: &str, help: &str, value: f64| -> prometheus::Result<()> {
        let g = GaugeVec::new(Opts::new(name, help), &["node"])?;
        g.with_label_values(&[node.as_str()]).set(value);
        registry.register(Box::new(g))
    };
    node_gauge("tessera_node_up", "1 while the node's agent answers.", 1.0)?;
    node_gauge(
        "tessera_node_cpu_usage_ratio",
        "Busy share of all cores (0-1).",
        host.cpu_percent / 100.0,
    )?;
    node_gauge("tessera_node_cores", "CPU cores of the host.", host.cores as f64)?;
    node_gauge(
        "tessera_node_memory_total_bytes",
        "Memory of the host.",
        host.total_memory as f64,
    )?;
    node_gauge(
        "tessera_node_memory_used_bytes",
        "Memory in use on the host (total - available).",
        host.used_memory as f64,
    )?;
    node_gauge(
        "tessera_node_disk_free_bytes",
        "Free space on the data dir's file system.",
        host.free_disk as f64,
    )?;

    let labels = ["node", "bdb", "shard"];
    let gauge = |name: &str, help: &str, extra: &[&str]| -> prometheus::Result<GaugeVec> {
        let names: Vec<&str> = labels.iter().chain(extra).copied().collect();
        let g = GaugeVec::new(Opts::new(name, help), &names)?;
        registry.register(Box::new(g.clone()))?;
        Ok(g)
    };
    let up = gauge("tessera_shard_up", "1 when the shard process runs and answers.", &[])?;
    let role = gauge(
        "tessera_shard_role",
        "The shard's role (label role), always 1.",
        &["role"],
    )?;
    let memory = gauge(
        "tessera_shard_used_memory_bytes",
        "Memory used by the shard's data.",
        &[],
    )?;
    let keys = gauge("tessera_shard_keys", "Keys in the shard.", &[])?;
    let offset = gauge(
        "tessera_shard_repl_offset_bytes",
        "The shard's replication offset.",
        &[],
    )?;
    let clients = gauge(
        "tessera_shard_connected_clients",
        "Clients connected to the shard.",
        &[],
    )?;
    let ops = gauge("tessera_shard_ops_per_second", "Commands per second on the shard.", &[])?;
    let restarts = IntCounterVec::new(
        Opts::new(
            "tessera_shard_restarts_total",
            "Restarts after the shard process ended on its own.",
        ),
        &labels,
    )?;
    registry.register(Box::new(restarts.clone()))?;

    for s in agent.shard_statuses() {
        let (bdb, uid) = (s.bdb_uid.to_string(), s.uid.to_string());
        let l = [node.as_str(), bdb.as_str(), uid.as_str()];
        up.with_label_values(&l)
            .set(if s.status == Status::Running { 1.0 } else { 0.0 });
        role.with_label_values(&[l[0], l[1], l[2], s.role.as_str()]).set(1.0);
        memory.with_label_values(&l).set(s.used_memory as f64);
        keys.with_label_values(&l).set(s.keys as f64);
        offset.with_label_values(&l).set(s.repl_offset as f64);
        clients.with_label_values(&l).set(s.connected_clients as f64);
        ops.with_label_values(&l).set(s.ops_per_sec as f64);
        restarts.with_label_values(&l).inc_by(s.restarts);
    }

    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out)?;
    String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
}
