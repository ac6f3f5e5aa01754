//! The agent API as the manager speaks it (docs/architecture.md): the JSON
//! types exchanged with `tessera-agent` and the HTTP client that calls it.

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What an agent says about its host when it registers.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NodeInfo {
    /// The uid the agent kept from an earlier registration, or null.
    pub uid: Option<i64>,
    /// Host name or IP address clients and other nodes reach this host by.
    pub addr: String,
    /// Base URL of the agent API.
    pub agent_url: String,
    pub version: String,
    pub total_memory: i64,
    pub cores: i64,
    pub free_disk: i64,
    /// Inclusive range of ports the agent may give to shards.
    pub shard_ports: [u16; 2],
}

/// The answer to a registration.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub uid: i64,
}

/// Host figures sent with every heartbeat.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NodeStats {
    #[serde(default)]
    pub cpu_percent: f64,
    #[serde(default)]
    pub used_memory: i64,
    #[serde(default)]
    pub free_disk: i64,
}

/// A heartbeat: the host's figures and the state of every shard it runs.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Heartbeat {
    pub node: NodeStats,
    pub shards: Vec<ShardStatus>,
}

/// The manager's answer to a heartbeat: the shards it counts as masters on
/// the node. An agent lifts a master's fence only once its shard is listed,
/// so a master the manager replaced stays fenced until it is demoted.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct HeartbeatReply {
    pub masters: Vec<i64>,
}

/// The whole desired state of one shard, as PUT to its agent.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ShardSpec {
    pub uid: i64,
    pub bdb_uid: i64,
    pub port: u16,
    /// `master` or `replica`.
    pub role: String,
    /// `host:port` of the master, for a replica.
    pub master: Option<String>,
    pub memory_size: i64,
    pub eviction_policy: String,
    pub password: Option<String>,
    pub data_persistence: String,
    pub aof_policy: String,
    pub snapshot_policy: Vec<crate::bdbs::SnapshotRule>,
    /// A master whose process ends on its own is restarted no sooner than
    /// this, so that its replica is promoted first instead of resyncing from
    /// an empty master (0: restart at once).
    #[serde(default)]
    pub restart_hold_ms: u64,
    /// A master whose agent has not reached the manager for this long takes
    /// writes only while a replica keeps up with it (0: never fenced).
    #[serde(default)]
    pub fence_after_ms: u64,
}

/// What an agent reports about one shard.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ShardStatus {
    pub uid: i64,
    pub bdb_uid: i64,
    pub port: u16,
    pub role: String,
    /// `starting | running | restarting | stopped | failed`.
    pub status: String,
    pub pid: Option<i64>,
    #[serde(default)]
    pub restarts: i64,
    pub last_exit: Option<String>,
    pub master_link_status: Option<String>,
    #[serde(default)]
    pub repl_offset: i64,
    #[serde(default)]
    pub used_memory: i64,
    #[serde(default)]
    pub keys: i64,
    #[serde(default)]
    pub ops_per_sec: f64,
    #[serde(default)]
    pub connected_clients: i64,
    pub rdb_last_bgsave_status: Option<String>,
    pub aof_last_write_status: Option<String>,
    /// Keys evicted since the shard started, if the agent reports it.
    #[serde(default)]
    pub evicted_keys: Option<i64>,
    /// Keys expired since the shard started, if the agent reports it.
    #[serde(default)]
    pub expired_keys: Option<i64>,
    /// Average latency of client commands over the agent's last probe
    /// interval, in microseconds; absent without traffic.
    #[serde(default)]
    pub avg_latency: Option<f64>,
    /// Set once this process, a master, was made a replica.
    #[serde(default)]
    pub demoted: Option<Demotion>,
    /// A replica whose dataset came from its current master (its link was
    /// up at least once): the only kind a failover promotes.
    #[serde(default)]
    pub synced: bool,
}

/// A master demoted to a replica, as it stood just before: the resync that
/// follows discards the writes only it had.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Demotion {
    pub replid: String,
    pub offset: i64,
    /// Replication-stream bytes its new master never got; null when the new
    /// master does not continue its history.
    pub discarded_bytes: Option<u64>,
}

/// Calls agents with the cluster token.
#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    token: String,
}

impl AgentClient {
    /// # Errors
    /// The HTTP client cannot be built (no TLS provider).
    pub fn new(token: String) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .context("cannot build the HTTP client for agents")?;
        Ok(Self { http, token })
    }

    /// Makes the agent at `agent_url` run the shard as `spec` says.
    ///
    /// # Errors
    /// [`AgentError::Unreachable`] if the call failed, [`AgentError::Rejected`]
    /// if the agent refused the spec.
    pub async fn put_shard(&self, agent_url: &str, spec: &ShardSpec) -> Result<ShardStatus, AgentError> {
        let url = format!("{}/v1/shards/{}", agent_url.trim_end_matches('/'), spec.uid);
        let response = self.http.put(url).bearer_auth(&self.token).json(spec).send().await?;
        let response = check(response).await?;
        Ok(response.json().await?)
    }

    /// Makes the agent stop the shard and remove its data.
    ///
    /// # Errors
    /// As [`AgentClient::put_shard`].
    pub async fn delete_shard(&self, agent_url: &str, uid: i64) -> Result<(), AgentError> {
        let url = format!("{}/v1/shards/{uid}", agent_url.trim_end_matches('/'));
        let response = self.http.delete(url).bearer_auth(&self.token).send().await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        check(response).await.map(drop)
    }
}

async fn check(response: reqwest::Response) -> Result<reqwest::Response, AgentError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    if status.is_client_error() && status != reqwest::StatusCode::UNAUTHORIZED {
        Err(AgentError::Rejected(format!("{status}: {body}")))
    } else {
        Err(AgentError::Unreachable(format!("{status}: {body}")))
    }
}

/// A failed call to an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Transport failure or server-side error: worth retrying.
    #[error("agent unreachable: {0}")]
    Unreachable(String),
    /// The agent refused the request as invalid: retrying will not help.
    #[error("agent rejected the request: {0}")]
    Rejected(String),
}

impl From<reqwest::Error> for AgentError {
    fn from(e: reqwest::Error) -> Self {
        Self::Unreachable(e.to_string())
    }
}
