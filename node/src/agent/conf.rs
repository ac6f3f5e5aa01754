//! A shard's `redis.conf`, rendered from its spec. Pure text; the
//! supervisor writes it.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use super::spec::{DataPersistence, Role, ShardSpec};

/// The file names inside a shard's directory.
pub const CONF_FILE: &str = "redis.conf";
/// The node's pid file (written by the node itself).
pub const PID_FILE: &str = "node.pid";
/// The node's stdout and stderr.
pub const LOG_FILE: &str = "node.log";
/// The persisted spec.
pub const SPEC_FILE: &str = "spec.json";
/// Present while the shard is down after a stop that kept every write it
/// acknowledged (the agent stopped it, it exited 0, its data persisted).
pub const STOPPED_FILE: &str = "stopped-cleanly";

/// Renders the config of a shard living in `dir`, listening on `bind`.
pub fn render(spec: &ShardSpec, dir: &Path, bind: IpAddr) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# Shard {} of database {}, written by tessera-agent from spec.json; rewritten on every change.",
        spec.uid, spec.bdb_uid
    );
    let _ = writeln!(c, "port {}", spec.port);
    let _ = writeln!(c, "bind {bind}");
    // Shards are reached from other hosts (replicas, proxies, the agent's
    // probes on the advertised address) with or without a password.
    let _ = writeln!(c, "protected-mode no");
    let _ = writeln!(c, "dir {}", quote(&dir.to_string_lossy()));
    let _ = writeln!(c, "pidfile {}", quote(&dir.join(PID_FILE).to_string_lossy()));
    let _ = writeln!(c, "maxmemory {}", spec.memory_size);
    let _ = writeln!(c, "maxmemory-policy {}", spec.eviction_policy.as_str());
    if let Some(p) = &spec.password {
        let _ = writeln!(c, "requirepass {}", quote(p));
        let _ = writeln!(c, "masterauth {}", quote(p));
    }
    if let (Role::Replica, Some((host, port))) = (spec.role, spec.master_addr()) {
        let _ = writeln!(c, "replicaof {host} {port}");
    }
    let (appendonly, save) = persistence(spec);
    let _ = writeln!(c, "appendonly {appendonly}");
    let _ = writeln!(c, "appendfsync {}", spec.aof_policy.as_str());
    if save.is_empty() {
        c.push_str("save \"\"\n");
    } else {
        let _ = writeln!(c, "save {save}");
    }
    c
}

/// `appendonly` and the `save` argument for the spec's persistence.
pub fn persistence(spec: &ShardSpec) -> (&'static str, String) {
    match spec.data_persistence {
        DataPersistence::Disabled => ("no", String::new()),
        DataPersistence::Aof => ("yes", String::new()),
        DataPersistence::Snapshot => (
            "no",
            spec.snapshot_policy
                .iter()
                .map(|p| format!("{} {}", p.secs, p.writes))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

/// A config argument quoted so that the node's argument splitter reads it back as is.
fn quote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    resp::repr(&mut out, s.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_directive() {
        let spec: ShardSpec = serde_json::from_str(
            r#"{"uid": 7, "bdb_uid": 3, "port": 30002, "role": "replica", "master": "10.0.0.1:30001",
                "memory_size": 1048576, "eviction_policy": "allkeys-lru", "password": "a \"b\"\n",
                "data_persistence": "snapshot", "snapshot_policy": [{"secs": 60, "writes": 100}, {"secs": 3600, "writes": 1}]}"#,
        )
        .expect("spec");
        let conf = render(&spec, Path::new("/data/shards/7"), "127.0.0.1".parse().expect("ip"));
        let lines: Vec<&str> = conf.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "port 30002",
                "bind 127.0.0.1",
                "protected-mode no",
                r#"dir "/data/shards/7""#,
                r#"pidfile "/data/shards/7/node.pid""#,
                "maxmemory 1048576",
                "maxmemory-policy allkeys-lru",
                r#"requirepass "a \"b\"\n""#,
                r#"masterauth "a \"b\"\n""#,
                "replicaof 10.0.0.1 30001",
                "appendonly no",
                "appendfsync everysec",
                "save 60 100 3600 1",
            ]
        );
        let args = resp::split_args(&bytes::Bytes::from(lines[7].to_owned())).expect("splits");
        assert_eq!(args[1].as_ref(), b"a \"b\"\n");
    }
}
