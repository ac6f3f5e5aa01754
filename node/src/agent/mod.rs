//! tessera-agent: makes one host run the shards the manager wants. It serves
//! the agent API, runs every shard as a supervised `tessera-node` process,
//! and registers and heartbeats with the manager.
//!
//! Nothing here runs inside `tessera-node`: the agent is its own binary
//! (`src/bin/tessera-agent.rs`) on a multi-threaded runtime; shards are
//! separate processes that outlive an agent restart and are adopted again.
//!
//! # Layout
//! - [`spec`]: the JSON documents of the agent API and their validation.
//! - [`conf`]: a spec rendered as the shard's `redis.conf`.
//! - [`supervisor`]: one task per shard: start, restart with backoff,
//!   reconfigure, stop; the shard's files.
//! - [`probe`]: INFO and live reconfiguration over RESP.
//! - [`host`]: cores, memory, CPU and disk of the host.
//! - [`api`]: the HTTP API and its bearer-token check.
//! - [`metrics`]: the Prometheus text of `/metrics`.
//! - [`manager`]: registration and heartbeats.
//! - [`fence`]: the fencing lease of master shards cut off from the manager.
//!
//! # Files
//! `<data-dir>/node.json` holds the node's uid; `<data-dir>/shards/<uid>/`
//! holds a shard's `spec.json`, `redis.conf`, `node.log`, `node.pid` and data.

pub mod api;
pub mod conf;
pub mod fence;
pub mod host;
pub mod manager;
pub mod metrics;
pub mod probe;
pub mod spec;
pub mod supervisor;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;

use host::HostStats;
use spec::{Heartbeat, NodeInfo, NodeStats, ShardSpec, ShardStatus};
use supervisor::{ShardEnv, ShardHandle};

/// How often the host is sampled (CPU use is measured over this period).
const HOST_SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// A port range `LO-HI`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl std::str::FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<PortRange, String> {
        let bad = || format!("expected a port range like 30000-30999, got {s:?}");
        let (lo, hi) = s.split_once('-').ok_or_else(bad)?;
        let (lo, hi) = (
            lo.trim().parse::<u16>().map_err(|_| bad())?,
            hi.trim().parse::<u16>().map_err(|_| bad())?,
        );
        if lo == 0 || lo > hi {
            return Err(bad());
        }
        Ok(PortRange { lo, hi })
    }
}

/// The agent's settings (flags and environment).
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "tessera-agent",
    version,
    about = "Runs the tessera-node shards of this host for tessera-manager",
    long_about = "Runs the tessera-node shards of this host for tessera-manager: serves the agent \
API (bearer cluster token), supervises every shard as a tessera-node process (restart with \
backoff, exit reasons, per-shard logs), and registers and heartbeats with the manager.\n\n\
Example:\n  tessera-agent --manager http://10.0.0.1:8080 --token $TOKEN --advertise 10.0.0.2 \
--data-dir /var/lib/tessera"
)]
pub struct Config {
    /// The manager's URL, e.g. http://10.0.0.1:8080.
    #[arg(long, env = "TESSERA_MANAGER")]
    pub manager: String,
    /// The cluster token: the manager calls the agent API with it and the agent calls the manager with it.
    #[arg(long, env = "TESSERA_CLUSTER_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The host (IP address or name) the manager and clients reach this node at; shards listen on it.
    #[arg(long, env = "TESSERA_ADVERTISE")]
    pub advertise: String,
    /// Where the node's identity and the shards' configs, logs and data live.
    #[arg(long, env = "TESSERA_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The agent API's listen address.
    #[arg(long, default_value = "127.0.0.1:9101")]
    pub listen: SocketAddr,
    /// The ports shards may use.
    #[arg(long, default_value = "30000-30999")]
    pub shard_ports: PortRange,
    /// The tessera-node binary [default: tessera-node next to this executable].
    #[arg(long)]
    pub node_bin: Option<PathBuf>,
    /// An argument put before the shard's config file when starting --node-bin
    /// (repeatable; `--node-arg node` runs a multi-call `tessera` binary as the node).
    #[arg(long = "node-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub node_args: Vec<String>,
    /// Stop the shard processes when the agent stops (by default they keep
    /// running and the next agent adopts them).
    #[arg(long)]
    pub stop_shards_on_exit: bool,
}

/// The agent's shared state.
#[derive(Debug)]
pub struct Agent {
    config: Config,
    node_bin: PathBuf,
    bind: IpAddr,
    agent_url: String,
    uid: Mutex<Option<u64>>,
    shards: Mutex<BTreeMap<u64, ShardHandle>>,
    host: Mutex<HostStats>,
    contact: Arc<Mutex<fence::Contact>>,
}

/// The node's identity file.
#[derive(serde::Serialize, serde::Deserialize)]
struct NodeFile {
    uid: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data whole: a panic cannot poison it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Agent {
    /// The agent's settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The node's uid, once the manager registered it.
    pub fn uid(&self) -> Option<u64> {
        *lock(&self.uid)
    }

    /// Records the uid the manager gave, in memory and in `node.json`.
    ///
    /// # Errors
    /// When `node.json` cannot be written.
    pub fn set_uid(&self, uid: u64) -> anyhow::Result<()> {
        *lock(&self.uid) = Some(uid);
        let path = self.config.data_dir.join("node.json");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&NodeFile { uid })?)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The latest host sample.
    pub fn host(&self) -> HostStats {
        *lock(&self.host)
    }

    /// `GET /v1/node`.
    pub fn node_info(&self) -> NodeInfo {
        let host = self.host();
        NodeInfo {
            uid: self.uid(),
            addr: self.config.advertise.clone(),
            agent_url: self.agent_url.clone(),
            version: crate::VERSION.to_owned(),
            total_memory: host.total_memory,
            cores: host.cores,
            free_disk: host.free_disk,
            shard_ports: [self.config.shard_ports.lo, self.config.shard_ports.hi],
        }
    }

    /// Contact with the manager (the fencing lease).
    pub fn contact(&self) -> fence::Contact {
        lock(&self.contact).clone()
    }

    /// Records a heartbeat's outcome: the masters the manager answered
    /// with, or `None` when it was not reached.
    pub fn record_contact(&self, masters: Option<Vec<u64>>) {
        lock(&self.contact).record(masters);
    }

    /// Every shard's desired spec.
    pub fn shard_specs(&self) -> Vec<ShardSpec> {
        lock(&self.shards).values().map(|h| h.spec().clone()).collect()
    }

    /// Every shard's status, by uid.
    pub fn shard_statuses(&self) -> Vec<ShardStatus> {
        lock(&self.shards).values().map(ShardHandle::status).collect()
    }

    /// One shard's status.
    pub fn shard_status(&self, uid: u64) -> Option<ShardStatus> {
        lock(&self.shards).get(&uid).map(ShardHandle::status)
    }

    /// A heartbeat's body.
    pub fn heartbeat(&self) -> Heartbeat {
        let host = self.host();
        Heartbeat {
            node: NodeStats {
                cpu_percent: host.cpu_percent,
                used_memory: host.used_memory,
                free_disk: host.free_disk,
            },
            shards: self.shard_statuses(),
        }
    }

    fn shard_dir(&self, uid: u64) -> PathBuf {
        self.config.data_dir.join("shards").join(uid.to_string())
    }

    fn shard_env(&self, uid: u64) -> ShardEnv {
        ShardEnv {
            dir: self.shard_dir(uid),
            node_bin: self.node_bin.clone(),
            node_args: self.config.node_args.clone(),
            bind: self.bind,
            contact: self.contact.clone(),
        }
    }

    /// Creates or reconfigures a shard (idempotent).
    ///
    /// # Errors
    /// An invalid spec, a port another shard has, or files that cannot be written.
    pub fn put_shard(&self, uid: u64, spec: ShardSpec) -> Result<ShardStatus, api::ApiError> {
        let ports = self.config.shard_ports;
        spec.validate(uid, (ports.lo, ports.hi))
            .map_err(|e| api::ApiError::bad_request("invalid_spec", e.to_string()))?;
        let mut shards = lock(&self.shards);
        if let Some(other) = shards
            .values()
            .find(|h| h.spec().uid != uid && h.spec().port == spec.port)
        {
            return Err(api::ApiError::conflict(
                "port_in_use",
                format!("port {} belongs to shard {}", spec.port, other.spec().uid),
            ));
        }
        let dir = self.shard_dir(uid);
        if shards.get(&uid).is_some_and(|h| h.spec() == &spec) {
            return Ok(shards[&uid].status());
        }
        supervisor::write_files(&spec, &dir, self.bind).map_err(|e| {
            api::ApiError::internal(format!("writing the files of shard {uid} in {}: {e}", dir.display()))
        })?;
        let status = match shards.get_mut(&uid) {
            Some(h) => {
                tracing::info!(shard = uid, "shard spec changed");
                h.reconfigure(spec);
                h.status()
            }
            None => {
                tracing::info!(shard = uid, port = spec.port, "new shard");
                let h = ShardHandle::start(spec, self.shard_env(uid), false);
                let status = h.status();
                shards.insert(uid, h);
                status
            }
        };
        Ok(status)
    }

    /// Stops a shard and removes its directory; false if there is no such shard.
    ///
    /// # Errors
    /// When the directory cannot be removed.
    pub async fn delete_shard(&self, uid: u64) -> anyhow::Result<bool> {
        let Some(handle) = lock(&self.shards).remove(&uid) else {
            return Ok(false);
        };
        handle.stop().await;
        let dir = self.shard_dir(uid);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", dir.display())),
        }
        tracing::info!(shard = uid, "shard deleted");
        Ok(true)
    }

    /// Starts supervising every shard found under `<data-dir>/shards`.
    fn resume_shards(&self) {
        let dir = self.config.data_dir.join("shards");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let mut shards = lock(&self.shards);
        for entry in entries.flatten() {
            let path = entry.path();
            let spec = match supervisor::read_spec(&path) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("skipping {}: {e:#}", path.display());
                    continue;
                }
            };
            if path != self.shard_dir(spec.uid) {
                tracing::error!("skipping {}: it holds the spec of shard {}", path.display(), spec.uid);
                continue;
            }
            if let Err(e) = supervisor::write_files(&spec, &path, self.bind) {
                tracing::error!("skipping {}: {e}", path.display());
                continue;
            }
            let uid = spec.uid;
            tracing::info!(shard = uid, "resuming shard");
            shards.insert(uid, ShardHandle::start(spec, self.shard_env(uid), true));
        }
    }
}

/// The address shards bind: the advertised host (resolved when it is a name).
async fn resolve(host: &str) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(ip);
    }
    tokio::net::lookup_host((host, 0))
        .await
        .with_context(|| format!("cannot resolve --advertise {host}"))?
        .next()
        .map(|a| a.ip())
        .with_context(|| format!("--advertise {host} has no address"))
}

/// Runs the agent on `listener` until `shutdown` completes. Shard processes
/// keep running after it returns; the next agent adopts them.
///
/// # Errors
/// Bad settings (empty token, missing `tessera-node`, unusable data dir).
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !config.token.is_empty(),
        "the cluster token is empty: pass --token or set TESSERA_CLUSTER_TOKEN"
    );
    let node_bin = match &config.node_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("cannot locate this executable to find tessera-node next to it: pass --node-bin")?
            .with_file_name("tessera-node"),
    };
    anyhow::ensure!(
        node_bin.is_file(),
        "no tessera-node binary at {}: pass --node-bin PATH",
        node_bin.display()
    );
    std::fs::create_dir_all(config.data_dir.join("shards"))
        .with_context(|| format!("cannot create the data dir {}", config.data_dir.display()))?;
    let uid = read_uid(&config.data_dir)?;
    let bind = resolve(&config.advertise).await?;
    let port = listener.local_addr()?.port();
    let agent_url = match config.advertise.parse::<IpAddr>() {
        Ok(ip) => format!("http://{}", SocketAddr::new(ip, port)),
        Err(_) => format!("http://{}:{port}", config.advertise),
    };
    let mut sampler = host::Sampler::default();
    let first = sampler.sample(&config.data_dir);
    let agent = Arc::new(Agent {
        config,
        node_bin,
        bind,
        agent_url,
        uid: Mutex::new(uid),
        shards: Mutex::new(BTreeMap::new()),
        host: Mutex::new(first),
        contact: Arc::new(Mutex::new(fence::Contact::new())),
    });
    tracing::info!(
        listen = %listener.local_addr()?,
        node_bin = %agent.node_bin.display(),
        data_dir = %agent.config.data_dir.display(),
        "tessera-agent {} ready",
        crate::VERSION
    );
    agent.resume_shards();
    let sampling = {
        let agent = agent.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HOST_SAMPLE_EVERY);
            loop {
                tick.tick().await;
                let stats = sampler.sample(&agent.config.data_dir);
                *lock(&agent.host) = stats;
            }
        })
    };
    let heartbeats = tokio::spawn(manager::run(agent.clone()));
    let fencing = tokio::spawn(fence::run(agent.clone()));
    let served = axum::serve(listener, api::router(agent.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    sampling.abort();
    heartbeats.abort();
    fencing.abort();
    if agent.config.stop_shards_on_exit {
        let shards = std::mem::take(&mut *lock(&agent.shards));
        for handle in shards.into_values() {
            handle.stop().await;
        }
        tracing::info!("tessera-agent stopped with its shards");
    } else {
        tracing::info!("tessera-agent stopped; shard processes keep running");
    }
    served.context("serving the agent API")
}

/// The uid kept in `<data-dir>/node.json`, if any.
fn read_uid(data_dir: &Path) -> anyhow::Result<Option<u64>> {
    let path = data_dir.join("node.json");
    match std::fs::read(&path) {
        Ok(data) => {
            let file: NodeFile = serde_json::from_slice(&data).with_context(|| {
                format!(
                    "{} is corrupt: fix or remove it (the node registers anew)",
                    path.display()
                )
            })?;
            Ok(Some(file.uid))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::PortRange;

    #[test]
    fn port_ranges() {
        assert_eq!("30000-30999".parse(), Ok(PortRange { lo: 30000, hi: 30999 }));
        assert_eq!("7-7".parse(), Ok(PortRange { lo: 7, hi: 7 }));
        for bad in ["", "1", "2-1", "0-5", "1-70000", "a-b"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }
}
