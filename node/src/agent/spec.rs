//! The agent API's JSON documents (`ShardSpec`, `ShardStatus`, `NodeInfo`,
//! heartbeats) as `docs/architecture.md` defines them, and the validation
//! of a spec. No I/O here.

use serde::{Deserialize, Serialize};

/// A shard's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Takes writes.
    Master,
    /// Follows `master`.
    Replica,
}

impl Role {
    /// `master` or `replica`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Replica => "replica",
        }
    }
}

/// Redis's `maxmemory-policy` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvictionPolicy {
    /// Refuse writes at the limit.
    #[default]
    Noeviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    /// The `maxmemory-policy` directive value.
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionPolicy::Noeviction => "noeviction",
            EvictionPolicy::AllkeysLru => "allkeys-lru",
            EvictionPolicy::AllkeysLfu => "allkeys-lfu",
            EvictionPolicy::AllkeysRandom => "allkeys-random",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
        }
    }
}

/// How a shard persists its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataPersistence {
    /// Nothing survives a restart.
    #[default]
    Disabled,
    /// Append-only file, fsync per `aof_policy`.
    Aof,
    /// RDB snapshots per `snapshot_policy`.
    Snapshot,
}

/// When the AOF is fsynced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AofPolicy {
    /// `appendfsync everysec`.
    #[default]
    AppendfsyncEverySec,
    /// `appendfsync always`.
    AppendfsyncAlways,
}

impl AofPolicy {
    /// The `appendfsync` directive value.
    pub fn as_str(self) -> &'static str {
        match self {
            AofPolicy::AppendfsyncEverySec => "everysec",
            AofPolicy::AppendfsyncAlways => "always",
        }
    }
}

/// One `save <secs> <writes>` point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPoint {
    /// Seconds since the last save.
    pub secs: u64,
    /// Writes since the last save.
    pub writes: u64,
}

/// The whole desired state of one shard (the body of `PUT /v1/shards/{uid}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub uid: u64,
    pub bdb_uid: u64,
    pub port: u16,
    pub role: Role,
    /// `host:port` of the master, for a replica.
    #[serde(default)]
    pub master: Option<String>,
    /// `maxmemory` in bytes (0: no limit).
    #[serde(default)]
    pub memory_size: u64,
    #[serde(default)]
    pub eviction_policy: EvictionPolicy,
    /// `requirepass` and `masterauth`.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub data_persistence: DataPersistence,
    #[serde(default)]
    pub aof_policy: AofPolicy,
    #[serde(default)]
    pub snapshot_policy: Vec<SnapshotPoint>,
    /// A master that is down is started again no sooner than this many
    /// milliseconds, and only after as long in steady contact with the
    /// manager, so that the manager promotes its replica rather than letting
    /// the replica resync from a restarted, possibly empty master (a new spec
    /// that makes it a replica ends the hold). 0: the usual backoff.
    #[serde(default)]
    pub restart_hold_ms: u64,
    /// A master whose agent has not reached the manager for this many
    /// milliseconds takes writes only while a replica keeps up with it
    /// (the fencing lease). 0: never fenced.
    #[serde(default)]
    pub fence_after_ms: u64,
}

/// Why a spec is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("the body's uid {body} is not the uid {path} of the URL")]
    UidMismatch { path: u64, body: u64 },
    #[error("port {port} is outside this node's shard ports {lo}-{hi}")]
    PortOutOfRange { port: u16, lo: u16, hi: u16 },
    #[error("a replica needs \"master\": \"host:port\"")]
    MissingMaster,
    #[error("a master has no \"master\"; use role \"replica\" to follow one")]
    MasterOfMaster,
    #[error("\"master\" must be \"host:port\", got {0:?}")]
    BadMaster(String),
    #[error("snapshot_policy points need secs >= 1")]
    BadSnapshotPoint,
}

impl ShardSpec {
    /// Checks the spec against the URL's uid and this node's port range.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self, path_uid: u64, ports: (u16, u16)) -> Result<(), SpecError> {
        if self.uid != path_uid {
            return Err(SpecError::UidMismatch {
                path: path_uid,
                body: self.uid,
            });
        }
        let (lo, hi) = ports;
        if !(lo..=hi).contains(&self.port) {
            return Err(SpecError::PortOutOfRange {
                port: self.port,
                lo,
                hi,
            });
        }
        match (self.role, &self.master) {
            (Role::Replica, None) => return Err(SpecError::MissingMaster),
            (Role::Master, Some(_)) => return Err(SpecError::MasterOfMaster),
            (Role::Replica, Some(m)) if self.master_addr().is_none() => return Err(SpecError::BadMaster(m.clone())),
            _ => {}
        }
        if self.snapshot_policy.iter().any(|p| p.secs == 0) {
            return Err(SpecError::BadSnapshotPoint);
        }
        Ok(())
    }

    /// The master's host and port, for a replica with a well-formed `master`.
    pub fn master_addr(&self) -> Option<(&str, u16)> {
        let (host, port) = self.master.as_deref()?.rsplit_once(':')?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let valid_host = !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'');
        let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
        valid_host.then_some((host, port))
    }
}

/// A shard's process state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Started, not answering yet.
    Starting,
    /// Answers INFO.
    Running,
    /// Exited; waiting out the backoff before the next start.
    Restarting,
    /// Stopped on request.
    Stopped,
    /// Cannot be started (the binary or its config is unusable).
    Failed,
}

/// What `GET /v1/shards` reports for one shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardStatus {
    pub uid: u64,
    pub bdb_uid: u64,
    pub port: u16,
    /// The role the shard reports (INFO), or the desired one before it answers.
    pub role: Role,
    pub status: Status,
    pub pid: Option<u32>,
    /// Restarts after the process ended on its own.
    pub restarts: u64,
    /// How the process last ended: `exit code N`, `signal N`.
    pub last_exit: Option<String>,
    pub master_link_status: Option<String>,
    pub repl_offset: i64,
    pub used_memory: u64,
    pub keys: u64,
    pub ops_per_sec: u64,
    pub connected_clients: u64,
    pub rdb_last_bgsave_status: Option<String>,
    pub aof_last_write_status: Option<String>,
    /// Average latency of client commands over the last probe interval, in
    /// microseconds; absent without traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_latency: Option<f64>,
    /// Set once this process, a master, was made a replica: what it had
    /// that its new master never got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demoted: Option<Demotion>,
    /// A replica whose dataset came from its current master: its link to
    /// it was up at least once (and no restart since lost the data).
    #[serde(default)]
    pub synced: bool,
}

/// A master demoted to a replica of another shard, as it stood just before:
/// the resync that follows discards the writes only it had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demotion {
    /// Its replication id and offset when demoted.
    pub replid: String,
    pub offset: i64,
    /// Replication-stream bytes past the point where the new master's
    /// history parted from it; null when the new master does not continue
    /// its history (then all of it is replaced).
    pub discarded_bytes: Option<u64>,
}

/// This node's identity and capacity (`GET /v1/node`, registration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Null until the manager has registered the node.
    pub uid: Option<u64>,
    /// The advertised host.
    pub addr: String,
    pub agent_url: String,
    pub version: String,
    pub total_memory: u64,
    pub cores: u64,
    pub free_disk: u64,
    /// The first and last port shards may use.
    pub shard_ports: [u16; 2],
}

/// The manager's answer to a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub uid: u64,
}

/// The host figures a heartbeat carries.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    pub cpu_percent: f64,
    pub used_memory: u64,
    pub free_disk: u64,
}

/// The body of `POST /v1/internal/nodes/{uid}/heartbeat`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub node: NodeStats,
    pub shards: Vec<ShardStatus>,
}

/// The manager's answer to a heartbeat: the shards it counts as masters on
/// this node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    pub masters: Vec<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ShardSpec {
        serde_json::from_str(json).expect("spec parses")
    }

    #[test]
    fn parses_the_documented_example() {
        let s = spec(
            r#"{"uid": 7, "bdb_uid": 3, "port": 30001, "role": "master", "master": null,
                "memory_size": 104857600, "eviction_policy": "volatile-lru", "password": "s3cret",
                "data_persistence": "aof", "aof_policy": "appendfsync-every-sec",
                "snapshot_policy": [{"secs": 3600, "writes": 1}]}"#,
        );
        assert_eq!(s.eviction_policy, EvictionPolicy::VolatileLru);
        assert_eq!(s.data_persistence, DataPersistence::Aof);
        assert_eq!(s.snapshot_policy, vec![SnapshotPoint { secs: 3600, writes: 1 }]);
        assert_eq!(s.validate(7, (30000, 30999)), Ok(()));
    }

    #[test]
    fn validation() {
        let base = r#""bdb_uid": 1, "port": 30001"#;
        let s = spec(&format!(r#"{{"uid": 1, {base}, "role": "replica"}}"#));
        assert_eq!(s.validate(1, (30000, 30999)), Err(SpecError::MissingMaster));
        assert_eq!(
            s.validate(2, (30000, 30999)),
            Err(SpecError::UidMismatch { path: 2, body: 1 })
        );
        let s = spec(&format!(r#"{{"uid": 1, {base}, "role": "replica", "master": "h:0"}}"#));
        assert!(matches!(s.validate(1, (30000, 30999)), Err(SpecError::BadMaster(_))));
        let s = spec(&format!(
            r#"{{"uid": 1, {base}, "role": "replica", "master": "10.0.0.2:30002"}}"#
        ));
        assert_eq!(s.validate(1, (30000, 30999)), Ok(()));
        assert_eq!(s.master_addr(), Some(("10.0.0.2", 30002)));
        assert_eq!(
            s.validate(1, (31000, 31999)),
            Err(SpecError::PortOutOfRange {
                port: 30001,
                lo: 31000,
                hi: 31999
            })
        );
        let s = spec(&format!(r#"{{"uid": 1, {base}, "role": "master", "master": "h:1"}}"#));
        assert_eq!(s.validate(1, (30000, 30999)), Err(SpecError::MasterOfMaster));
        assert!(serde_json::from_str::<ShardSpec>(r#"{"uid": 1, "port": 1, "role": "boss"}"#).is_err());
    }
}
