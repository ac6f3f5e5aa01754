//! The server: its state (configuration, databases, clients, statistics),
//! the accept loop, and the cron that runs `hz` times a second (active
//! expiry, idle timeouts, rates).
//!
//! Commands run on one thread, one at a time, as in Redis: that is what makes
//! every command, MULTI/EXEC block and script atomic without locks. The state
//! is shared by the connection tasks of that thread through
//! `Rc<RefCell<Server>>`, and no borrow is ever held across an `.await`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::{TcpListener, TcpStream};

use crate::client::Client;
use crate::config::Config;
use crate::keyspace::{Access, Db};
use crate::latency::LatencyMonitor;
use crate::slowlog::SlowLog;
use crate::stats::Stats;

/// What CLIENT PAUSE holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Commands that write or may replicate.
    Write,
    /// Every command.
    All,
}

/// An active CLIENT PAUSE.
#[derive(Debug, Clone, Copy)]
struct Pause {
    mode: PauseMode,
    until: Instant,
}

/// The whole server state.
pub struct Server {
    /// Live configuration (CONFIG SET changes it).
    pub config: Config,
    /// The databases (`databases` of them).
    pub dbs: Vec<Db>,
    /// Connected clients by id.
    pub clients: BTreeMap<u64, Rc<RefCell<Client>>>,
    /// Counters for INFO.
    pub stats: Stats,
    /// Changes since the last successful save.
    pub dirty: u64,
    /// Randomness for sampling (RANDOMKEY, eviction).
    pub rng: SmallRng,
    /// When the server started.
    pub started: Instant,
    /// Addresses the server listens on.
    pub listen_addrs: Vec<SocketAddr>,
    /// Set by SHUTDOWN or a signal.
    pub shutdown_requested: bool,
    /// Wakes the main task for shutdown.
    pub shutdown_notify: Rc<tokio::sync::Notify>,
    /// The slow log.
    pub slowlog: SlowLog,
    /// The latency monitor.
    pub latency: LatencyMonitor,
    /// Ids of the clients in MONITOR mode.
    pub monitors: Vec<u64>,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: crate::blocking::Blocking,
    /// Watched keys (WATCH) and dirty transactions.
    pub watches: crate::multi::Watches,
    /// maxmemory eviction state (the candidate pool).
    pub evictor: crate::evict::Evictor,
    /// Pub/sub subscriptions: channel, pattern and shard channel → clients.
    pub pubsub: crate::pubsub::Registry,
    /// This run's random id (INFO `run_id`).
    pub run_id: String,
    /// Replication: ids, offsets, backlog, replicas, the link to our master.
    pub repl: crate::replication::Replication,
    /// Unix time (seconds) of the last successful save; the start time
    /// until the first save.
    pub lastsave: i64,
    /// RDB save and load state.
    pub persistence: crate::persistence::snapshot::State,
    /// Highest `used_memory` seen (INFO `used_memory_peak`).
    pub peak_memory: usize,
    /// `used_memory` once the server was set up (INFO `used_memory_startup`).
    pub startup_memory: usize,
    /// Active expiry on/off (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// Path of the executable (INFO `executable`).
    pub executable: String,
    /// What executed writes propagate, for the AOF and replicas.
    pub propagator: crate::propagate::Propagator,
    /// The append-only file.
    pub aof: crate::persistence::aof::Aof,
    /// The start-up load in progress (commands get -LOADING).
    pub loading: Option<crate::persistence::loading::Progress>,
    pause: Option<Pause>,
    /// Wakes the clients held by CLIENT PAUSE when it ends early.
    pub unpause_notify: Rc<tokio::sync::Notify>,
    next_client_id: u64,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("clients", &self.clients.len()).finish()
    }
}

/// Unix time in milliseconds.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Server {
    /// A server with empty databases.
    pub fn new(config: Config) -> Self {
        let dbs = (0..config.databases.max(1)).map(|_| Db::new()).collect();
        Server {
            config,
            dbs,
            clients: BTreeMap::new(),
            stats: Stats::default(),
            dirty: 0,
            rng: SmallRng::from_os_rng(),
            started: Instant::now(),
            listen_addrs: Vec::new(),
            shutdown_requested: false,
            shutdown_notify: Rc::new(tokio::sync::Notify::new()),
            slowlog: SlowLog::default(),
            latency: LatencyMonitor::default(),
            monitors: Vec::new(),
            blocking: crate::blocking::Blocking::default(),
            watches: crate::multi::Watches::default(),
            evictor: crate::evict::Evictor::default(),
            pubsub: crate::pubsub::Registry::default(),
            run_id: random_hex_id(),
            repl: crate::replication::Replication::default(),
            lastsave: unix_ms() / 1000,
            persistence: Default::default(),
            peak_memory: 0,
            startup_memory: crate::alloc::allocated(),
            active_expire_enabled: true,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            propagator: crate::propagate::Propagator::default(),
            aof: crate::persistence::aof::Aof::default(),
            loading: None,
            pause: None,
            unpause_notify: Rc::new(tokio::sync::Notify::new()),
            next_client_id: 1,
        }
    }

    /// The CLIENT PAUSE in effect, if any.
    pub fn pause_mode(&self) -> Option<PauseMode> {
        self.pause.filter(|p| p.until > Instant::now()).map(|p| p.mode)
    }

    /// When the CLIENT PAUSE in effect ends.
    pub fn pause_deadline(&self) -> Option<Instant> {
        self.pause.map(|p| p.until)
    }

    /// Starts or extends CLIENT PAUSE: an active pause keeps the later end
    /// and the stricter mode, as in Redis.
    pub fn pause_clients(&mut self, mode: PauseMode, until: Instant) {
        self.pause = Some(match self.pause_mode().and(self.pause) {
            Some(p) => Pause {
                mode: p.mode.max(mode),
                until: p.until.max(until),
            },
            None => Pause { mode, until },
        });
    }

    /// Ends CLIENT PAUSE and wakes the held clients.
    pub fn unpause_clients(&mut self) {
        self.pause = None;
        self.unpause_notify.notify_waiters();
    }

    /// Whether DEBUG may run for `client` (`enable-debug-command`: `local`
    /// allows loopback connections).
    pub fn debug_command_allowed(&self, client: &Client) -> bool {
        self.config.enable_debug_command.allows(client.addr.ip().is_loopback())
    }

    /// Sends the MONITOR line of a command `client` ran to every monitor:
    /// `+<unix>.<micros> [<db> <addr>] "arg" ...` with Redis's quoting;
    /// `redacted(i)` hides argument `i`.
    pub fn feed_monitors(&mut self, client: &mut Client, args: &[Bytes], redacted: impl Fn(usize) -> bool) {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let mut line = format!(
            "+{}.{:06} [{} {}] ",
            micros / 1_000_000,
            micros % 1_000_000,
            client.db,
            client.addr
        )
        .into_bytes();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            resp::repr(&mut line, if redacted(i) { b"(redacted)" } else { a });
        }
        line.extend_from_slice(b"\r\n");
        self.monitors.retain(|id| {
            if *id == client.id {
                client.out.extend_from_slice(&line);
                return true;
            }
            let Some(c) = self.clients.get(id) else { return false };
            if let Ok(mut c) = c.try_borrow_mut() {
                c.out.extend_from_slice(&line);
                c.wake.notify_one();
            }
            true
        });
    }

    /// The clock and lookup policy for the command about to run.
    pub fn clock(&self) -> Access {
        let now_ms = unix_ms();
        Access {
            now_ms,
            lru_clock: ((now_ms / 1000) & 0xff_ffff) as u32,
            // While clients are paused nothing may change, expiry included:
            // expired keys are hidden but kept (as Redis does).
            // A replica never deletes expired keys itself: it waits for its
            // master's DEL.
            delete_expired: (self.pause.is_none() || self.pause_mode().is_none()) && !self.repl.is_replica(),
            expired_visible: false,
            // Not while a child writes a snapshot: stamping the keys read
            // would copy the pages they are on (as Redis's lookupKey).
            touch: !self.persistence.in_progress() && !self.aof.rewrite_in_progress(),
            lfu: self
                .config
                .maxmemory_policy
                .is_lfu()
                .then_some((self.config.lfu_log_factor, self.config.lfu_decay_time)),
        }
    }

    /// Whether clients must authenticate before running commands.
    pub fn requires_auth(&self) -> bool {
        self.config.requirepass.is_some()
    }

    /// The request parser limits from the configuration.
    pub fn request_limits(&self) -> resp::Limits {
        resp::Limits {
            max_bulk_len: self.config.proto_max_bulk_len as usize,
            ..resp::Limits::default()
        }
    }

    /// Input beyond this many unparsed bytes closes the client.
    pub fn query_buffer_limit(&self) -> usize {
        self.config.client_query_buffer_limit as usize
    }

    /// While this much output is pending, the client's input is not read.
    pub fn output_soft_limit(&self) -> usize {
        // Enough for a deep pipeline of large replies; the kernel buffers the rest.
        64 * 1024 * 1024
    }

    /// Runs one command for `client` (the one execution path).
    pub fn execute(&mut self, client: &mut Client, args: &[Bytes]) {
        crate::cmd::execute(self, client, args);
    }

    /// Registers a new client (an accepted connection, or our master's).
    pub fn add_client(&mut self, addr: SocketAddr, laddr: SocketAddr) -> Rc<RefCell<Client>> {
        let id = self.next_client_id;
        self.next_client_id += 1;
        let client = Rc::new(RefCell::new(Client::new(id, addr, laddr, !self.requires_auth())));
        self.clients.insert(id, client.clone());
        self.stats.total_connections_received += 1;
        client
    }

    /// Forgets a client whose connection ended.
    pub fn remove_client(&mut self, id: u64) {
        if let Some(c) = self.clients.remove(&id)
            && let Ok(mut c) = c.try_borrow_mut()
        {
            self.pubsub.unsubscribe_all(&mut c.pubsub, id);
        }
        self.monitors.retain(|m| *m != id);
        self.blocking.remove_client(id);
        crate::replication::remove_replica(self, id);
        self.repl.waiters.retain(|w| w.client != id);
        self.watches.remove_client(id);
    }

    /// Work done `hz` times a second.
    fn cron(&mut self) {
        let now_ms = unix_ms();
        // Active expiry: a bounded amount of work per database per tick;
        // none while clients are paused (they must not see writes).
        let effort = 20 * self.config.active_expire_effort.max(1) as usize;
        let expire = self.active_expire_enabled && self.pause_mode().is_none() && !self.repl.is_replica();
        for db in &mut self.dbs {
            if expire {
                db.active_expire(now_ms, effort);
            }
            if self.config.activerehashing {
                db.rehash(100);
            }
        }
        self.collect_expired();
        // Keys the active cycle expired propagate one by one.
        self.propagator.commit_each();
        crate::evict::cron(self);
        crate::persistence::aof::cron(self);
        crate::persistence::snapshot::cron(self);
        crate::replication::cron(self);
        crate::replication::feed(self);
        if self.pause.is_some() && self.pause_mode().is_none() {
            self.unpause_clients();
        }
        // Idle timeout (not for monitors, subscribers and blocked or paused clients).
        if self.config.timeout > 0 {
            let limit = Duration::from_secs(self.config.timeout);
            let now = Instant::now();
            for c in self.clients.values() {
                if let Ok(mut c) = c.try_borrow_mut()
                    && !c.monitor
                    && !c.paused
                    && !c.blocked
                    && !c.pubsub.is_active()
                    && now.duration_since(c.last_interaction) > limit
                {
                    c.kill();
                }
            }
        }
        self.peak_memory = self.peak_memory.max(crate::alloc::allocated());
        self.stats.ops_rate.sample(self.stats.total_commands_processed, now_ms);
        self.stats.input_rate.sample(self.stats.net_input_bytes, now_ms);
        self.stats.output_rate.sample(self.stats.net_output_bytes, now_ms);
    }

    /// Publishes a keyspace notification (see
    /// [`crate::pubsub::notify_keyspace_event`]) from outside a command.
    /// Commands use [`crate::cmd::Ctx::notify`], which also delivers to the
    /// running client.
    pub fn notify_keyspace_event(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        crate::pubsub::notify_keyspace_event(self, None, class, event, key, db);
    }

    /// Resets what CONFIG RESETSTAT resets: the counters and the memory
    /// peak (not the slow log nor the latency monitor, as in Redis).
    pub fn reset_stats(&mut self) {
        self.stats.reset();
        self.peak_memory = crate::alloc::allocated();
    }

    /// Accounts for keys that expired (lazily or actively) since last time
    /// and publishes their `expired` keyspace events.
    pub fn collect_expired(&mut self) {
        self.collect_expired_for(None);
    }

    /// [`Server::collect_expired`] while `running`'s command runs (its own
    /// `expired` messages go into its reply).
    pub fn collect_expired_for(&mut self, mut running: Option<&mut crate::pubsub::Running<'_, '_>>) {
        // Runs after every command: the common case (nothing expired) is one pass.
        if !self.dbs.iter().any(Db::has_expired) {
            return;
        }
        for db in 0..self.dbs.len() {
            if self.dbs[db].has_expired() {
                let keys = self.dbs[db].take_expired();
                self.touch_watched_expired(db, &keys);
                self.stats.expired_keys += keys.len() as u64;
                self.dirty += keys.len() as u64;
                let lazy = self.config.lazyfree_lazy_expire;
                self.propagator
                    .deleted(db, keys.iter().map(|k| Bytes::copy_from_slice(k)), lazy);
                crate::pubsub::notify_expired(self, running.as_deref_mut(), &keys, db);
            }
        }
    }

    /// Whether a connection from `peer` is refused by protected mode.
    fn protected_refuses(&self, peer: &SocketAddr) -> bool {
        self.config.protected_mode && !self.requires_auth() && !peer.ip().is_loopback()
    }
}

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// `disable-thp`: no transparent huge pages for this process, as Redis.
/// Redis only needs this when THP is `always`, since jemalloc never asks for
/// huge pages; mimalloc advises them on its arenas (`MADV_HUGEPAGE`), so with
/// THP in `madvise` mode too a growing dataset would fault 2 MiB at a time,
/// zeroing (and maybe compacting) in the fault path: writes stalled for
/// milliseconds, and a fork's copy-on-write copying 2 MiB per touched page.
fn disable_transparent_huge_pages() {
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        tracing::warn!("failed to disable transparent huge pages: {e}");
    }
}

/// Serves clients on `listeners` until `shutdown` completes or SHUTDOWN is
/// run. Must be called inside a [`tokio::task::LocalSet`] on a
/// current-thread runtime (see [`crate::start`]).
///
/// # Errors
/// Fails when a listener cannot accept at all, or when the dataset could not
/// be saved or the AOF not written and fsynced on the way out (the exit
/// status then says writes may be lost).
pub async fn run(
    config: Config,
    listeners: Vec<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if config.disable_thp {
        disable_transparent_huge_pages();
    }
    let mut state = Server::new(config);
    state.listen_addrs = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
    let server = Rc::new(RefCell::new(state));
    // Connections are accepted while the dataset loads (they get -LOADING).
    for listener in listeners {
        tokio::task::spawn_local(accept_loop(server.clone(), listener));
    }
    let serve = async {
        crate::persistence::loading::load_at_start(&server).await?;
        start_serving(&server)?;
        std::future::pending::<anyhow::Result<()>>().await
    };
    let notify = server.borrow().shutdown_notify.clone();
    let mut saved = true;
    tokio::select! {
        r = serve => r?,
        _ = shutdown => {
            tracing::info!("received a shutdown signal, exiting");
            // As Redis on SIGTERM/SIGINT: save when save points are set
            // (not a dataset that is still loading).
            let mut s = server.borrow_mut();
            crate::persistence::snapshot::kill_child(&mut s);
            saved = s.loading.is_some() || s.config.save.is_empty() || crate::persistence::snapshot::save(&mut s).is_ok();
        }
        _ = notify.notified() => tracing::info!("SHUTDOWN requested by a client, exiting"),
    }
    let aof = crate::persistence::aof::shutdown(&mut server.borrow_mut());
    if aof.is_err() {
        let c = &server.borrow().config;
        tracing::warn!(
            "Acknowledged writes may be missing from the AOF on disk, and so from the dataset after a restart. Free space on (or repair) the disk of {} before restarting.",
            c.dir.join(&c.appenddirname).display()
        );
    }
    // A failed exit status tells a supervisor that writes may be missing.
    anyhow::ensure!(saved, "Error trying to save the DB before exiting");
    aof.context("Error writing the AOF before exiting")?;
    Ok(())
}

/// What starts once the dataset is loaded: appending to the AOF, the link
/// to our master, the cron.
fn start_serving(server: &Rc<RefCell<Server>>) -> anyhow::Result<()> {
    {
        let mut s = server.borrow_mut();
        crate::persistence::aof::open_at_start(&mut s)?;
        if let Some((host, port)) = s.config.replicaof.clone() {
            crate::replication::set_master(&mut s, host, port);
        }
    }
    tokio::task::spawn_local(crate::replication::replica::supervise(server.clone()));
    let cron_server = server.clone();
    tokio::task::spawn_local(async move {
        loop {
            // `hz` is read every tick: CONFIG SET applies at once.
            let hz = cron_server.borrow().config.hz.clamp(1, 500);
            tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
            cron_server.borrow_mut().cron();
        }
    });
    for addr in &server.borrow().listen_addrs {
        tracing::info!("Ready to accept connections tcp on {addr}");
    }
    Ok(())
}

async fn accept_loop(server: Rc<RefCell<Server>>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the others.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let laddr = stream.local_addr().unwrap_or(peer);
        let admitted = {
            let mut s = server.borrow_mut();
            if s.clients.len() >= s.config.maxclients as usize {
                s.stats.rejected_connections += 1;
                Err("-ERR max number of clients reached\r\n")
            } else if s.protected_refuses(&peer) {
                s.stats.rejected_connections += 1;
                Err(DENIED)
            } else {
                Ok(s.add_client(peer, laddr))
            }
        };
        match admitted {
            Ok(client) => {
                tokio::task::spawn_local(crate::connection::serve(server.clone(), stream, client));
            }
            Err(msg) => {
                tokio::task::spawn_local(refuse(stream, msg));
            }
        }
    }
}

async fn refuse(stream: TcpStream, msg: &'static str) {
    use tokio::io::AsyncWriteExt;
    let mut stream = stream;
    let _ = stream.write_all(msg.as_bytes()).await;
}

/// 40 random hex digits (run ids, replication ids).
pub fn random_hex_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(args: &[&str]) -> Server {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        Server::new(Config::load(&args).expect("valid configuration"))
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("a socket address")
    }

    #[test]
    fn protected_mode_refuses_remote_peers_without_a_password() {
        let mut s = server(&[]);
        assert!(s.protected_refuses(&addr("10.1.2.3:5000")));
        assert!(s.protected_refuses(&addr("[2001:db8::1]:5000")));
        assert!(!s.protected_refuses(&addr("127.0.0.1:5000")));
        assert!(!s.protected_refuses(&addr("127.0.0.2:5000")));
        assert!(!s.protected_refuses(&addr("[::1]:5000")));
        // CONFIG SET applies at once, either way.
        s.config.set(&[(b"requirepass", b"pw")]).expect("set requirepass");
        assert!(!s.protected_refuses(&addr("10.1.2.3:5000")));
        s.config
            .set(&[(b"requirepass", b""), (b"protected-mode", b"no")])
            .expect("set");
        assert!(!s.protected_refuses(&addr("10.1.2.3:5000")));
        assert!(!server(&["--protected-mode", "no"]).protected_refuses(&addr("10.1.2.3:5000")));
    }

    #[test]
    fn client_pause_keeps_the_later_end_and_the_stricter_mode() {
        let mut s = server(&[]);
        assert_eq!(s.pause_mode(), None);
        let now = Instant::now();
        s.pause_clients(PauseMode::All, now + Duration::from_secs(60));
        s.pause_clients(PauseMode::Write, now + Duration::from_secs(120));
        assert_eq!(s.pause_mode(), Some(PauseMode::All));
        assert_eq!(s.pause_deadline(), Some(now + Duration::from_secs(120)));
        // While paused, expired keys are hidden but not deleted.
        assert!(!s.clock().delete_expired);
        s.unpause_clients();
        assert_eq!(s.pause_mode(), None);
        assert!(s.clock().delete_expired);
        // An ended pause does not make a new one stricter or longer.
        s.pause_clients(PauseMode::All, now);
        s.pause_clients(PauseMode::Write, now + Duration::from_secs(1));
        assert_eq!(s.pause_mode(), Some(PauseMode::Write));
    }

    #[test]
    fn run_ids_are_40_hex_digits() {
        let id = random_hex_id();
        assert_eq!(id.len(), 40);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, random_hex_id());
    }
}
