//! One task per shard: runs its `tessera-node` process, restarts it with
//! exponential backoff when it ends, applies spec changes (live through
//! `CONFIG SET`/`REPLICAOF`, else by a restart), probes INFO, and stops it
//! on request. Also the shard's files: `redis.conf` and `spec.json`.
//!
//! A shard process outlives the agent (its own process group, not killed
//! on drop): a restarted agent adopts it through its pid file.
//!
//! A master of a replicated database that is down (it crashed, or a
//! restarted agent finds it gone) is held: started again only after its
//! spec's `restart_hold_ms`, and only once the agent has been in steady
//! contact with the manager for as long. The manager, which sees it down,
//! promotes its replica meanwhile and the spec turns it into a replica.
//! Started as master too early, it would come back with less data than its
//! replica, which would then resync from it and drop the writes only it had;
//! so without the manager it stays down.
//!
//! Not held: a master the agent stopped that exited cleanly with its data
//! persisted (AOF or a snapshot saved on the way out). It has every write
//! it acknowledged, so a whole cluster stopped and started again keeps its
//! masters instead of failing over to replicas that may lag.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};

use super::conf::{self, CONF_FILE, LOG_FILE, PID_FILE, SPEC_FILE, STOPPED_FILE};
use super::fence::Contact;
use super::probe::{self, ShardStats};
use super::spec::{DataPersistence, Demotion, Role, ShardSpec, ShardStatus, Status};

/// First restart delay; it doubles on each crash up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A process up this long restarts after [`MIN_BACKOFF`] again.
const RESET_AFTER: Duration = Duration::from_secs(30);
/// How long a stopped process gets between SIGTERM and SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// INFO probe period while starting and once running.
const PROBE_STARTING: Duration = Duration::from_millis(50);
const PROBE_RUNNING: Duration = Duration::from_secs(1);
/// How often an adopted (not child) process is checked for liveness.
const ADOPTED_POLL: Duration = Duration::from_millis(100);
/// How often a held master checks whether it may start.
const HOLD_CHECK: Duration = Duration::from_millis(250);

/// Where and how a shard runs.
#[derive(Clone, Debug)]
pub struct ShardEnv {
    /// `<data-dir>/shards/<uid>`.
    pub dir: PathBuf,
    /// The `tessera-node` binary.
    pub node_bin: PathBuf,
    /// Arguments before the shard's config file (`node` for a multi-call binary).
    pub node_args: Vec<String>,
    /// The address shards listen on (and are probed at).
    pub bind: IpAddr,
    /// The agent's contact with the manager.
    pub contact: Arc<Mutex<Contact>>,
}

/// What the supervisor knows about its process.
#[derive(Clone, Debug)]
struct ShardState {
    status: Status,
    pid: Option<u32>,
    restarts: u64,
    last_exit: Option<String>,
    stats: Option<ShardStats>,
    /// Microseconds per client command between the last two probes.
    avg_latency: Option<f64>,
    /// What the process had of its own when, a master, it was demoted.
    demoted: Option<Demotion>,
    /// A replica whose dataset came from its current master: its link was
    /// seen up since it was told to follow that master (kept across a
    /// restart that reloads persisted data). Only such a replica may be
    /// promoted without losing the dataset.
    synced: bool,
}

enum Command {
    Reconfigure(ShardSpec),
    Stop(oneshot::Sender<()>),
}

/// The agent's handle on a supervised shard.
#[derive(Debug)]
pub struct ShardHandle {
    spec: ShardSpec,
    state: Arc<Mutex<ShardState>>,
    tx: mpsc::UnboundedSender<Command>,
}

impl ShardHandle {
    /// Starts supervising `spec` (whose files are written): adopts the
    /// shard's process if it still runs, else starts one (after a hold when
    /// `resumed`, the shard found on disk, is a replicated master).
    pub fn start(spec: ShardSpec, env: ShardEnv, resumed: bool) -> ShardHandle {
        let state = Arc::new(Mutex::new(ShardState {
            status: Status::Starting,
            pid: None,
            restarts: 0,
            last_exit: None,
            stats: None,
            avg_latency: None,
            demoted: None,
            synced: false,
        }));
        let (tx, rx) = mpsc::unbounded_channel();
        let supervisor = Supervisor {
            spec: spec.clone(),
            env,
            state: state.clone(),
            rx,
        };
        tokio::spawn(supervisor.run(resumed));
        ShardHandle { spec, state, tx }
    }

    /// The desired spec.
    pub fn spec(&self) -> &ShardSpec {
        &self.spec
    }

    /// Hands a changed spec (whose files are written) to the supervisor.
    pub fn reconfigure(&mut self, spec: ShardSpec) {
        self.spec = spec.clone();
        let _ = self.tx.send(Command::Reconfigure(spec));
    }

    /// Stops the process (SIGTERM, then SIGKILL after a timeout) and waits
    /// until it is gone.
    pub async fn stop(self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Stop(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// The shard's status as the API reports it.
    pub fn status(&self) -> ShardStatus {
        let st = lock(&self.state).clone();
        let stats = st.stats.unwrap_or_default();
        ShardStatus {
            uid: self.spec.uid,
            bdb_uid: self.spec.bdb_uid,
            port: self.spec.port,
            role: stats.role.unwrap_or(self.spec.role),
            status: st.status,
            pid: st.pid,
            restarts: st.restarts,
            last_exit: st.last_exit,
            master_link_status: stats.master_link_status,
            repl_offset: stats.repl_offset,
            used_memory: stats.used_memory,
            keys: stats.keys,
            ops_per_sec: stats.ops_per_sec,
            connected_clients: stats.connected_clients,
            rdb_last_bgsave_status: stats.rdb_last_bgsave_status,
            aof_last_write_status: stats.aof_last_write_status,
            avg_latency: st.avg_latency,
            demoted: st.demoted,
            synced: st.synced,
        }
    }
}

fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    // The state is plain data: a panic elsewhere cannot leave it half-updated.
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes the shard's directory, `redis.conf` and `spec.json` (owner-only:
/// they hold the password). The spec is replaced atomically.
///
/// # Errors
/// File system errors.
pub fn write_files(spec: &ShardSpec, dir: &Path, bind: IpAddr) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    write_private(&dir.join(CONF_FILE), conf::render(spec, dir, bind).as_bytes())?;
    let json = serde_json::to_vec_pretty(spec).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!("{SPEC_FILE}.tmp"));
    write_private(&tmp, &json)?;
    std::fs::rename(&tmp, dir.join(SPEC_FILE))
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Reads a shard's `spec.json`.
///
/// # Errors
/// Missing or malformed file.
pub fn read_spec(dir: &Path) -> anyhow::Result<ShardSpec> {
    use anyhow::Context as _;
    let path = dir.join(SPEC_FILE);
    let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&data).with_context(|| format!("parsing {}", path.display()))
}

/// A shard process: our child, or one adopted from a previous agent.
enum Proc {
    Child(Child),
    Adopted(u32),
}

impl Proc {
    fn pid(&self) -> Option<u32> {
        match self {
            Proc::Child(c) => c.id(),
            Proc::Adopted(pid) => Some(*pid),
        }
    }

    /// Waits for the process to end; says how it ended. Cancel-safe.
    async fn wait(&mut self) -> Exit {
        match self {
            Proc::Child(c) => match c.wait().await {
                Ok(status) => Exit::Status(status),
                Err(e) => Exit::Lost(e.to_string()),
            },
            Proc::Adopted(pid) => {
                while alive(*pid) {
                    tokio::time::sleep(ADOPTED_POLL).await;
                }
                Exit::Unknown
            }
        }
    }

    /// SIGKILL (it works on a stopped process too); waits for the end.
    async fn kill(&mut self) -> Exit {
        if let Some(pid) = self.pid().and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw) {
            let _ = kill(pid, Signal::SIGKILL);
        }
        self.wait().await
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]; waits for the end.
    async fn terminate(&mut self) -> Exit {
        let Some(pid) = self.pid().and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw) else {
            return self.wait().await;
        };
        let _ = kill(pid, Signal::SIGTERM);
        if let Ok(exit) = tokio::time::timeout(STOP_TIMEOUT, self.wait()).await {
            return exit;
        }
        tracing::warn!(%pid, "shard did not stop within {STOP_TIMEOUT:?} of SIGTERM; killing it");
        let _ = kill(pid, Signal::SIGKILL);
        self.wait().await
    }
}

/// How a shard process ended.
#[derive(Debug)]
enum Exit {
    /// Our child's exit status.
    Status(ExitStatus),
    /// Waiting for our child failed.
    Lost(String),
    /// An adopted process ended: not our child, so its status is unknown.
    Unknown,
}

impl Exit {
    /// Exited 0: the node's way of saying it stopped with its data saved.
    fn clean(&self) -> bool {
        matches!(self, Exit::Status(s) if s.success())
    }
}

/// `exit code N`, `signal N`, as `last_exit` reports it.
impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Status(status) => match (status.code(), status.signal()) {
                (Some(code), _) => write!(f, "exit code {code}"),
                (None, Some(sig)) => write!(f, "signal {sig}"),
                (None, None) => write!(f, "{status}"),
            },
            Exit::Lost(e) => write!(f, "lost track of the process: {e}"),
            Exit::Unknown => f.write_str("ended (adopted process: exit status unknown)"),
        }
    }
}

/// Whether `pid` runs (exists and is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// The pid in the shard's pid file, when that process runs and is this
/// shard's node (its command line names the shard's config file).
fn adoptable(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join(PID_FILE)).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let conf = dir.join(CONF_FILE);
    let ours = cmdline.split(|&b| b == 0).any(|arg| arg == conf.as_os_str().as_bytes());
    (ours && alive(pid)).then_some(pid)
}

/// Why [`Supervisor::watch`] returned.
enum Ended {
    /// The process ended on its own.
    Exited(Exit),
    /// The spec changed in a way only a restart applies; `demoted` when a
    /// master is to become a replica.
    Restart { demoted: bool },
    /// Stop requested.
    Stop(oneshot::Sender<()>),
    /// The handle is gone: leave the process alone.
    Detached,
}

struct Supervisor {
    spec: ShardSpec,
    env: ShardEnv,
    state: Arc<Mutex<ShardState>>,
    rx: mpsc::UnboundedReceiver<Command>,
}

impl Supervisor {
    async fn run(mut self, resumed: bool) {
        let uid = self.spec.uid;
        let mut backoff = MIN_BACKOFF;
        let mut next = adoptable(&self.env.dir).map(Proc::Adopted);
        if let Some(pid) = next.as_ref().and_then(Proc::pid) {
            tracing::info!(shard = uid, pid, "adopted the running shard process");
        }
        // The mark of a clean stop counts for this start only.
        let stopped_cleanly = match std::fs::remove_file(self.env.dir.join(STOPPED_FILE)) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                tracing::warn!(shard = uid, "cannot remove the mark of a clean stop: {e}");
                false
            }
        };
        // Since when the process has been down, when it is to be held.
        let mut down_since = (resumed && next.is_none() && !stopped_cleanly).then(Instant::now);
        loop {
            if let Some(since) = down_since.take()
                && let Some(end) = self.hold(since).await
            {
                return self.finish(end);
            }
            let mut proc = match next.take() {
                Some(p) => p,
                None => match self.spawn() {
                    Ok(p) => p,
                    Err(e) => {
                        let why = format!("cannot start {}: {e}", self.env.node_bin.display());
                        tracing::error!(shard = uid, "{why}; retrying in {backoff:?}");
                        self.update(|s| {
                            s.status = Status::Failed;
                            s.pid = None;
                            s.last_exit = Some(why);
                        });
                        match self.pause(backoff).await {
                            Some(end) => return self.finish(end),
                            None => {
                                backoff = (backoff * 2).min(MAX_BACKOFF);
                                continue;
                            }
                        }
                    }
                },
            };
            let pid = proc.pid();
            tracing::info!(shard = uid, pid, port = self.spec.port, "shard process started");
            let empty = self.spec.data_persistence == DataPersistence::Disabled;
            self.update(|s| {
                s.status = Status::Starting;
                s.pid = pid;
                s.stats = None;
                s.avg_latency = None;
                // Without persistence the process starts empty.
                s.synced &= !empty;
            });
            let started = Instant::now();
            match self.watch(&mut proc).await {
                Ended::Exited(exit) => {
                    let reason = exit.to_string();
                    down_since = Some(Instant::now());
                    if started.elapsed() >= RESET_AFTER {
                        backoff = MIN_BACKOFF;
                    }
                    let delay = backoff;
                    tracing::warn!(shard = uid, pid, %reason, "shard process ended; restarting in {delay:?} at the earliest");
                    self.update(|s| {
                        s.status = Status::Restarting;
                        s.pid = None;
                        s.restarts += 1;
                        s.last_exit = Some(reason);
                        s.stats = None;
                        s.avg_latency = None;
                    });
                    if let Some(end) = self.pause(delay).await {
                        return self.finish(end);
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Ended::Restart { demoted } => {
                    tracing::info!(shard = uid, pid, demoted, "restarting the shard to apply its new spec");
                    // A demoted master that cannot be told to follow its
                    // successor must not take one more write: kill it.
                    let exit = if demoted {
                        proc.kill().await
                    } else {
                        proc.terminate().await
                    };
                    self.update(|s| s.last_exit = Some(exit.to_string()));
                }
                Ended::Stop(done) => {
                    let exit = proc.terminate().await;
                    if exit.clean() && self.spec.data_persistence != DataPersistence::Disabled {
                        self.mark_stopped_cleanly();
                    }
                    self.update(|s| s.last_exit = Some(exit.to_string()));
                    return self.finish(Ended::Stop(done));
                }
                Ended::Detached => return,
            }
        }
    }

    fn update(&self, f: impl FnOnce(&mut ShardState)) {
        f(&mut lock(&self.state));
    }

    fn finish(&self, end: Ended) {
        if let Ended::Stop(done) = end {
            tracing::info!(shard = self.spec.uid, "shard stopped");
            self.update(|s| {
                s.status = Status::Stopped;
                s.pid = None;
                s.stats = None;
                s.avg_latency = None;
            });
            let _ = done.send(());
        }
    }

    /// Records that the process stopped with every acknowledged write on disk.
    fn mark_stopped_cleanly(&self) {
        let path = self.env.dir.join(STOPPED_FILE);
        if let Err(e) = std::fs::write(&path, b"") {
            tracing::warn!(shard = self.spec.uid, "cannot write {}: {e}", path.display());
        }
    }

    fn spawn(&self) -> std::io::Result<Proc> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(self.env.dir.join(LOG_FILE))?;
        let child = tokio::process::Command::new(&self.env.node_bin)
            .args(&self.env.node_args)
            .arg(self.env.dir.join(CONF_FILE))
            .current_dir(&self.env.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a signal to the agent's group does not reach it.
            .process_group(0)
            .kill_on_drop(false)
            .spawn()?;
        Ok(Proc::Child(child))
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.env.bind, self.spec.port)
    }

    /// Watches a running process: its end, commands, and INFO probes.
    async fn watch(&mut self, proc: &mut Proc) -> Ended {
        loop {
            let running = lock(&self.state).status == Status::Running;
            let delay = if running { PROBE_RUNNING } else { PROBE_STARTING };
            tokio::select! {
                exit = proc.wait() => return Ended::Exited(exit),
                cmd = self.rx.recv() => match cmd {
                    None => return Ended::Detached,
                    Some(Command::Stop(done)) => return Ended::Stop(done),
                    Some(Command::Reconfigure(spec)) => {
                        let old = self.set_spec(spec);
                        if old.role == Role::Master && self.spec.role == Role::Replica {
                            self.measure_demotion().await;
                        }
                        if !self.apply_live(&old).await {
                            let demoted = old.role == Role::Master && self.spec.role == Role::Replica;
                            return Ended::Restart { demoted };
                        }
                    }
                },
                () = tokio::time::sleep(delay) => self.probe().await,
            }
        }
    }

    /// Holds a replicated master down since `since` (see the module's
    /// documentation); returns at once for any other shard, and when the
    /// spec stops being one. A stop or a dropped handle is returned.
    async fn hold(&mut self, since: Instant) -> Option<Ended> {
        let mut told = false;
        loop {
            let hold = Duration::from_millis(self.spec.restart_hold_ms);
            if self.spec.role != Role::Master || hold.is_zero() {
                return None;
            }
            let steady = lock(&self.env.contact).steady_for();
            if since.elapsed() >= hold && steady >= hold {
                return None;
            }
            if since.elapsed() >= hold && !told {
                tracing::warn!(
                    shard = self.spec.uid,
                    "master held down until the manager has been reachable for {hold:?}: its replica may have writes it lacks"
                );
                told = true;
            }
            if let Some(end) = self.pause(HOLD_CHECK).await {
                return Some(end);
            }
        }
    }

    /// Waits out a restart delay; a new spec ends it early, a stop or a
    /// dropped handle is returned.
    async fn pause(&mut self, delay: Duration) -> Option<Ended> {
        tokio::select! {
            () = tokio::time::sleep(delay) => None,
            cmd = self.rx.recv() => match cmd {
                None => Some(Ended::Detached),
                Some(Command::Stop(done)) => Some(Ended::Stop(done)),
                Some(Command::Reconfigure(spec)) => {
                    self.set_spec(spec);
                    None
                }
            },
        }
    }

    /// Takes a new spec; returns the old one. A replica told to follow
    /// another master (or made master) is no longer synced.
    fn set_spec(&mut self, spec: ShardSpec) -> ShardSpec {
        let old = std::mem::replace(&mut self.spec, spec);
        if (old.role, &old.master) != (self.spec.role, &self.spec.master) {
            self.update(|s| s.synced = false);
        }
        old
    }

    async fn probe(&mut self) {
        match probe::info(self.addr(), self.spec.password.as_deref()).await {
            Ok(stats) => self.update(|s| {
                if s.status != Status::Running {
                    tracing::info!(shard = self.spec.uid, "shard is running");
                }
                if stats.role == Some(Role::Replica) && stats.master_link_status.as_deref() == Some("up") {
                    s.synced = true;
                }
                s.status = Status::Running;
                s.avg_latency = s.stats.as_ref().and_then(|before| stats.avg_latency_since(before));
                s.stats = Some(stats);
            }),
            Err(e) => tracing::debug!(shard = self.spec.uid, "INFO probe failed: {e}"),
        }
    }

    /// Records what this master has that its new master never got, before
    /// the demotion's resync discards it: whoever replaced it, the node
    /// reports it (`demoted` in its status) and the manager logs it.
    async fn measure_demotion(&self) {
        let Some((host, port)) = self.spec.master_addr() else {
            return;
        };
        let new_master = match tokio::net::lookup_host((host, port)).await.map(|mut a| a.next()) {
            Ok(Some(addr)) => addr,
            other => {
                tracing::warn!(
                    shard = self.spec.uid,
                    "cannot resolve the new master {host}:{port}: {other:?}"
                );
                return;
            }
        };
        match probe::demotion(self.addr(), new_master, self.spec.password.as_deref()).await {
            Ok(d) => {
                match d.discarded_bytes {
                    Some(0) => tracing::info!(shard = self.spec.uid, "demoted with nothing of its own"),
                    Some(n) => tracing::warn!(
                        shard = self.spec.uid,
                        "demoted: {n} bytes of writes its new master never got are discarded"
                    ),
                    None => tracing::warn!(
                        shard = self.spec.uid,
                        "demoted: the new master does not continue this history; it is replaced"
                    ),
                }
                self.update(|s| s.demoted = Some(d));
            }
            Err(e) => tracing::warn!(
                shard = self.spec.uid,
                "cannot measure what the demoted master had alone: {e}"
            ),
        }
    }

    /// Applies a spec change to the running process without a restart when
    /// commands can; false when a restart is needed.
    async fn apply_live(&self, old: &ShardSpec) -> bool {
        let new = &self.spec;
        if new.port != old.port || new.password != old.password || new.bdb_uid != old.bdb_uid {
            return false;
        }
        let set = |name: &str, value: String| vec!["CONFIG".to_owned(), "SET".to_owned(), name.to_owned(), value];
        let mut cmds = Vec::new();
        if new.memory_size != old.memory_size {
            cmds.push(set("maxmemory", new.memory_size.to_string()));
        }
        if new.eviction_policy != old.eviction_policy {
            cmds.push(set("maxmemory-policy", new.eviction_policy.as_str().to_owned()));
        }
        if (new.data_persistence, new.aof_policy, &new.snapshot_policy)
            != (old.data_persistence, old.aof_policy, &old.snapshot_policy)
        {
            let (appendonly, save) = conf::persistence(new);
            cmds.push(set("appendfsync", new.aof_policy.as_str().to_owned()));
            cmds.push(set("save", save));
            cmds.push(set("appendonly", appendonly.to_owned()));
        }
        if (new.role, &new.master) != (old.role, &old.master) {
            cmds.push(match new.master_addr() {
                Some((host, port)) => vec!["REPLICAOF".into(), host.into(), port.to_string()],
                None => vec!["REPLICAOF".into(), "NO".into(), "ONE".into()],
            });
        }
        if cmds.is_empty() {
            return true;
        }
        match probe::call(self.addr(), old.password.as_deref(), &cmds).await {
            Ok(_) => {
                tracing::info!(shard = new.uid, "applied the new spec live");
                true
            }
            Err(e) => {
                tracing::info!(shard = new.uid, "cannot apply the new spec live ({e})");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits() {
        let exit = |raw| Exit::Status(ExitStatus::from_raw(raw));
        assert!(exit(0).clean());
        assert_eq!(exit(0).to_string(), "exit code 0");
        assert!(!exit(1 << 8).clean());
        assert_eq!(exit(1 << 8).to_string(), "exit code 1");
        assert!(!exit(9).clean());
        assert_eq!(exit(9).to_string(), "signal 9");
        assert!(!Exit::Unknown.clean());
        assert!(alive(std::process::id()));
    }
}
