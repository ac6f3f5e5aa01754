//! Databases being served: per database a listener, its current routes
//! (shards, their master addresses and shared backend links) and its
//! settings. [`Proxy::apply`] turns a list of databases (static config or the
//! manager's topology) into running listeners, changing routes and TLS in
//! place so client connections stay open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use resp::Frame;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::backend::{Link, Target};
use crate::client;
use crate::config::{ConfigError, Database, Durability, ReadPolicy, TlsMode};
use crate::metrics::{DbMetrics, Metrics};
use crate::routing::Arities;
use crate::workers::{self, Workers};

/// Settings that apply to every client connection.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    /// Close after this long without a request (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Close a client whose unparsed input exceeds this.
    pub query_buffer_limit: usize,
    /// Replies outstanding before reading stops.
    pub pipeline_limit: usize,
    /// Shared links per worker, shard and protocol.
    pub backend_connections: usize,
}

/// Shared links of one shard node, per worker and protocol (RESP2, RESP3),
/// each pool opened on first use.
type Pools = Box<[[OnceLock<Vec<Link>>; 2]]>;

fn pools(workers: &Workers) -> Pools {
    (0..workers.len()).map(|_| Default::default()).collect()
}

/// One shard's route: its master address and password (followed by its
/// links) and the shared links; with `read_policy =
/// "replica"`, its replicas and theirs, over which reads are spread.
#[derive(Debug)]
pub struct ShardRoute {
    target: watch::Sender<Target>,
    links: Pools,
    /// Where reads go under `read_policy = "replica"`, in turn; reads go to
    /// the master while none is connected, or the policy is `master` (then
    /// `reads_on_replica` is false).
    replicas: Vec<ReplicaRoute>,
    reads_on_replica: AtomicBool,
    /// The replica whose turn it is to take a read (modulo their number).
    next_read: AtomicUsize,
}

/// A replica of a shard: its address and password, and its shared links.
#[derive(Debug)]
struct ReplicaRoute {
    target: watch::Sender<Target>,
    links: Pools,
}

impl ShardRoute {
    /// A receiver of the target, for a link.
    pub fn target(&self) -> watch::Receiver<Target> {
        self.target.subscribe()
    }
}

/// Slot ownership and links of a database's shards.
#[derive(Debug)]
pub struct Routes {
    /// Shards in config order.
    pub shards: Vec<ShardRoute>,
    /// Shard index per slot.
    slot_shard: Vec<u16>,
    links_per_shard: usize,
    metrics: Arc<DbMetrics>,
    workers: Arc<Workers>,
}

impl Routes {
    /// Routes of `db`; under `read_policy = "replica"` the replicas' RESP2
    /// links are opened at once (on every worker), so reads find out which
    /// replicas are up.
    fn new(db: &Database, links_per_shard: usize, metrics: Arc<DbMetrics>, workers: Arc<Workers>) -> Routes {
        let slot_shard = (0..resp::SLOTS).map(|slot| db.shard_of(slot) as u16).collect();
        let shards = db
            .shards
            .iter()
            .map(|s| ShardRoute {
                target: watch::Sender::new(target_of(db, s)),
                links: pools(&workers),
                replicas: s
                    .replicas
                    .iter()
                    .map(|addr| ReplicaRoute {
                        target: watch::Sender::new(target_at(db, addr)),
                        links: pools(&workers),
                    })
                    .collect(),
                reads_on_replica: AtomicBool::new(reads_on_replica(db, s)),
                next_read: AtomicUsize::new(0),
            })
            .collect();
        let routes = Routes {
            shards,
            slot_shard,
            links_per_shard,
            metrics,
            workers,
        };
        for route in routes
            .shards
            .iter()
            .filter(|r| r.reads_on_replica.load(Ordering::Relaxed))
        {
            for replica in &route.replicas {
                for worker in 0..routes.workers.len() {
                    routes.pooled_on(worker, &replica.links, &replica.target, 2, 0);
                }
            }
        }
        routes
    }

    /// Index of the shard owning `slot`.
    pub fn shard_of(&self, slot: u16) -> usize {
        usize::from(self.slot_shard[usize::from(slot)])
    }

    /// The shared link of `shard` for a client of the calling worker
    /// (`client_id` picks one of its pool so a client's requests to a shard
    /// stay in order).
    pub fn link(&self, shard: usize, protocol: u8, client_id: u64) -> &Link {
        let route = &self.shards[shard];
        self.pooled(&route.links, &route.target, protocol, client_id)
    }

    /// The shared link for command `name` to `shard`: for a read when the
    /// database reads from replicas, a connected replica's, taking the
    /// replicas in turn; else the master's ([`link`](Self::link)).
    pub fn link_for(&self, name: &[u8], shard: usize, protocol: u8, client_id: u64) -> &Link {
        let route = &self.shards[shard];
        if route.reads_on_replica.load(Ordering::Relaxed) && crate::routing::is_read(name) {
            let count = route.replicas.len();
            let first = route.next_read.fetch_add(1, Ordering::Relaxed);
            for i in 0..count {
                let replica = &route.replicas[(first + i) % count];
                let link = self.pooled(&replica.links, &replica.target, protocol, client_id);
                if link.is_up() {
                    return link;
                }
            }
        }
        self.link(shard, protocol, client_id)
    }

    /// A link of the calling worker's pool.
    fn pooled<'a>(&self, pools: &'a Pools, target: &watch::Sender<Target>, protocol: u8, client_id: u64) -> &'a Link {
        self.pooled_on(workers::current(), pools, target, protocol, client_id)
    }

    fn pooled_on<'a>(
        &self,
        worker: usize,
        pools: &'a Pools,
        target: &watch::Sender<Target>,
        protocol: u8,
        client_id: u64,
    ) -> &'a Link {
        let links = pools[worker][usize::from(protocol == 3)].get_or_init(|| {
            (0..self.links_per_shard)
                .map(|_| {
                    let runtime = self.workers.handle(worker);
                    Link::spawn(runtime, target.subscribe(), protocol, self.metrics.clone())
                })
                .collect()
        });
        &links[(client_id as usize) % links.len()]
    }

    /// A link of its own to `shard`, following its master, on the caller's
    /// runtime.
    pub fn dedicated(&self, shard: usize, protocol: u8) -> Link {
        Link::spawn(
            &Handle::current(),
            self.shards[shard].target(),
            protocol,
            self.metrics.clone(),
        )
    }

    /// Current master of `shard`.
    pub fn target(&self, shard: usize) -> Target {
        self.shards[shard].target.borrow().clone()
    }

    fn same_layout(&self, db: &Database) -> bool {
        self.shards.len() == db.shards.len()
            && self
                .shards
                .iter()
                .zip(&db.shards)
                .all(|(r, s)| r.replicas.len() == s.replicas.len())
            && (0..resp::SLOTS).all(|slot| self.shard_of(slot) == db.shard_of(slot))
    }
}

/// Where a shard's traffic goes: its master, with the shards' password.
fn target_of(db: &Database, shard: &crate::config::Shard) -> Target {
    target_at(db, &shard.master)
}

/// The shard node at `addr` of `db`, with the shards' password.
fn target_at(db: &Database, addr: &str) -> Target {
    Target {
        addr: addr.to_string(),
        password: db.shard_password.clone(),
    }
}

/// Whether `shard`'s reads go to its replicas.
fn reads_on_replica(db: &Database, shard: &crate::config::Shard) -> bool {
    db.read_policy == ReadPolicy::Replica && !shard.replicas.is_empty()
}

/// How a client proves itself: nothing, a password, or an argon2 hash.
#[derive(Debug, Clone, PartialEq)]
pub enum Password {
    /// No password: every client is authenticated.
    None,
    /// Compared as is.
    Clear(String),
    /// Verified with argon2.
    Hash(String),
}

/// A database being served.
#[derive(Debug)]
pub struct Db {
    /// Name, for logs.
    pub name: String,
    /// Metric handles.
    pub metrics: Arc<DbMetrics>,
    /// Client connection settings.
    pub limits: ClientLimits,
    routes: RwLock<Arc<Routes>>,
    settings: RwLock<Settings>,
    /// Open client connections.
    pub clients: AtomicUsize,
    /// Durability `sync` (kept out of the settings lock: asked per write).
    sync: AtomicBool,
    /// Next client id.
    next_id: std::sync::atomic::AtomicU64,
    /// A password verified against the hash, so later AUTHs skip argon2.
    verified: Mutex<Option<String>>,
    /// Set when the database is removed: its clients close.
    closed: watch::Sender<bool>,
    /// Command arities, asked of the shards once (for MULTI's queue-time checks).
    arities: tokio::sync::OnceCell<Arities>,
}

struct Settings {
    password: Password,
    max_connections: usize,
    tls: Option<TlsAcceptor>,
    /// The TLS files' [`crate::tls::files_stamp`] when `tls` was built.
    tls_stamp: Vec<Option<(std::time::SystemTime, u64)>>,
    config: Database,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.config.name)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

fn settings(db: &Database) -> Result<Settings, ConfigError> {
    let tls_stamp = db.tls.as_ref().map(crate::tls::files_stamp).unwrap_or_default();
    let tls = match db.tls_mode {
        TlsMode::Enabled => Some(crate::tls::acceptor(db.tls.as_ref().expect("validated: tls present"))?),
        TlsMode::Disabled => None,
    };
    let password = match (&db.password, &db.password_hash) {
        (Some(p), _) => Password::Clear(p.clone()),
        (None, Some(h)) => Password::Hash(h.clone()),
        (None, None) => Password::None,
    };
    Ok(Settings {
        password,
        max_connections: db.max_connections,
        tls,
        tls_stamp,
        config: db.clone(),
    })
}

impl Db {
    /// The routes in force now.
    pub fn routes(&self) -> Arc<Routes> {
        self.routes.read().expect("routes lock").clone()
    }

    /// A fresh client id.
    pub fn client_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether writes wait for a replica (durability `sync`).
    pub fn sync(&self) -> bool {
        self.sync.load(Ordering::Relaxed)
    }

    /// Whether clients must authenticate.
    pub fn needs_password(&self) -> bool {
        self.settings.read().expect("settings lock").password != Password::None
    }

    /// The shards' command arities (`COMMAND` of the first shard, asked
    /// once); `None` while no shard answers.
    pub async fn arities(&self) -> Option<&Arities> {
        let fetch = || async {
            let rx = self
                .routes()
                .link(0, 2, 0)
                .send(Bytes::from_static(b"*1\r\n$7\r\nCOMMAND\r\n"), 0, false)
                .await;
            match rx.await.map(|raw| Frame::parse(&raw)) {
                Ok(Ok(reply @ Frame::Array(_))) => Ok(Arities::from_command_reply(&reply)),
                _ => Err(()),
            }
        };
        self.arities.get_or_try_init(fetch).await.ok()
    }

    /// Builds the TLS acceptor again when its certificate, key or CA files
    /// changed on disk since it was built; new connections use it. A bad new
    /// file is logged and the acceptor in force kept.
    fn reload_tls(&self) {
        let mut settings = self.settings.write().expect("settings lock");
        let Some(tls) = settings.config.tls.clone() else { return };
        if settings.config.tls_mode != TlsMode::Enabled {
            return;
        }
        let stamp = crate::tls::files_stamp(&tls);
        if stamp == settings.tls_stamp {
            return;
        }
        settings.tls_stamp = stamp;
        match crate::tls::acceptor(&tls) {
            Ok(acceptor) => {
                settings.tls = Some(acceptor);
                tracing::info!(database = %self.name, "TLS certificate files changed: reloaded");
            }
            Err(e) => {
                tracing::warn!(database = %self.name, "TLS files changed but cannot be used, keeping the previous ones: {e}")
            }
        }
    }

    /// Changes when the database is removed.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Checks a password: `Ok(true)` when it is right, an error message
    /// when the database has no password.
    pub async fn check_password(self: &Arc<Self>, given: &[u8]) -> Result<bool, &'static str> {
        let password = self.settings.read().expect("settings lock").password.clone();
        match password {
            Password::None => Err(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            Password::Clear(p) => Ok(constant_time_eq(p.as_bytes(), given)),
            Password::Hash(hash) => {
                if let Some(known) = self.verified.lock().expect("verified lock").as_deref() {
                    return Ok(constant_time_eq(known.as_bytes(), given));
                }
                let given = given.to_vec();
                let db = self.clone();
                let ok = tokio::task::spawn_blocking(move || {
                    use argon2::PasswordVerifier;
                    let ok = argon2::PasswordHash::new(&hash)
                        .is_ok_and(|h| argon2::Argon2::default().verify_password(&given, &h).is_ok());
                    if ok && let Ok(text) = String::from_utf8(given) {
                        *db.verified.lock().expect("verified lock") = Some(text);
                    }
                    ok
                })
                .await
                .unwrap_or(false);
                Ok(ok)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

struct Served {
    db: Arc<Db>,
    port: u16,
    listener: JoinHandle<()>,
}

/// The set of databases served, keyed by name.
pub struct Proxy {
    bind: String,
    limits: ClientLimits,
    metrics: Metrics,
    workers: Arc<Workers>,
    served: HashMap<String, Served>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("databases", &self.served.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Proxy {
    /// A proxy serving nothing yet, whose clients `workers` serve.
    pub fn new(bind: String, limits: ClientLimits, metrics: Metrics, workers: Arc<Workers>) -> Proxy {
        Proxy {
            bind,
            limits,
            metrics,
            workers,
            served: HashMap::new(),
        }
    }

    /// Ports of the databases served, by name.
    pub fn ports(&self) -> HashMap<String, u16> {
        self.served.iter().map(|(n, s)| (n.clone(), s.port)).collect()
    }

    /// Makes the served databases equal `databases`: starts new ones, updates
    /// changed ones in place (routes, TLS, password, limits), stops removed
    /// ones. A database that fails (port in use, bad certificate) is logged
    /// and skipped; the others still apply.
    ///
    /// # Errors
    /// The first failure, after applying everything else.
    pub async fn apply(&mut self, databases: &[Database]) -> Result<(), ConfigError> {
        let mut first_error = None;
        let wanted: HashMap<&str, &Database> = databases.iter().map(|d| (d.name.as_str(), d)).collect();
        let gone: Vec<String> = self
            .served
            .keys()
            .filter(|n| !wanted.contains_key(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            self.stop(&name);
        }
        for db in databases {
            let result = match self.served.get(&db.name) {
                Some(s) if s.port == db.port => self.update(&s.db, db),
                Some(_) => {
                    self.stop(&db.name);
                    self.start(db).await
                }
                None => self.start(db).await,
            };
            if let Err(e) = result {
                tracing::error!(database = %db.name, "{e}");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn stop(&mut self, name: &str) {
        if let Some(s) = self.served.remove(name) {
            tracing::info!(database = %name, port = s.port, "database removed");
            s.listener.abort();
            s.db.closed.send_replace(true);
        }
    }

    fn update(&self, served: &Arc<Db>, db: &Database) -> Result<(), ConfigError> {
        let mut settings = served.settings.write().expect("settings lock");
        if settings.config == *db {
            return Ok(());
        }
        let new = self::settings(db)?;
        if new.password != settings.password {
            *served.verified.lock().expect("verified lock") = None;
        }
        let routes = served.routes();
        if routes.same_layout(db) {
            for (route, shard) in routes.shards.iter().zip(&db.shards) {
                let replicas = route.replicas.iter().zip(&shard.replicas);
                let targets = std::iter::once((&route.target, target_of(db, shard)))
                    .chain(replicas.map(|(r, addr)| (&r.target, target_at(db, addr))));
                for (sender, wanted) in targets {
                    sender.send_if_modified(|target| {
                        let changed = *target != wanted;
                        *target = wanted;
                        changed
                    });
                }
                route
                    .reads_on_replica
                    .store(reads_on_replica(db, shard), Ordering::Relaxed);
            }
        } else {
            *served.routes.write().expect("routes lock") = Arc::new(Routes::new(
                db,
                self.limits.backend_connections,
                served.metrics.clone(),
                self.workers.clone(),
            ));
        }
        *settings = new;
        served.sync.store(db.durability == Durability::Sync, Ordering::Relaxed);
        tracing::info!(database = %db.name, "database updated");
        Ok(())
    }

    async fn start(&mut self, db: &Database) -> Result<(), ConfigError> {
        let settings = settings(db)?;
        let listener = TcpListener::bind((self.bind.as_str(), db.port)).await.map_err(|e| {
            ConfigError(format!(
                "database {:?}: cannot listen on {}:{}: {e}",
                db.name, self.bind, db.port
            ))
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(db.port);
        let metrics = self.metrics.database(&db.name);
        let state = Arc::new(Db {
            name: db.name.clone(),
            routes: RwLock::new(Arc::new(Routes::new(
                db,
                self.limits.backend_connections,
                metrics.clone(),
                self.workers.clone(),
            ))),
            metrics,
            limits: self.limits.clone(),
            settings: RwLock::new(settings),
            clients: AtomicUsize::new(0),
            sync: AtomicBool::new(db.durability == Durability::Sync),
            next_id: Default::default(),
            verified: Mutex::new(None),
            closed: watch::Sender::new(false),
            arities: tokio::sync::OnceCell::new(),
        });
        tracing::info!(database = %db.name, port, shards = db.shards.len(), tls = db.tls_mode == TlsMode::Enabled, "serving database");
        let listener = tokio::spawn(accept_loop(listener, state.clone(), self.workers.clone()));
        tokio::spawn(watch_tls_files(state.clone()));
        self.served.insert(
            db.name.clone(),
            Served {
                db: state,
                port,
                listener,
            },
        );
        Ok(())
    }
}

/// How often TLS files are checked for changes.
const TLS_POLL: Duration = Duration::from_secs(2);

/// Reloads a database's TLS files when they change, until it is removed.
async fn watch_tls_files(db: Arc<Db>) {
    let mut closed = db.closed();
    loop {
        tokio::select! {
            () = tokio::time::sleep(TLS_POLL) => db.reload_tls(),
            _ = closed.changed() => return,
        }
    }
}

/// Accepts the database's clients and hands each to a worker in turn.
async fn accept_loop(listener: TcpListener, db: Arc<Db>, workers: Arc<Workers>) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(database = %db.name, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        // The worker's runtime polls the socket from now on.
        let socket = match socket.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(database = %db.name, %peer, "cannot hand the connection to a worker: {e}");
                continue;
            }
        };
        let (max, tls) = {
            let s = db.settings.read().expect("settings lock");
            (s.max_connections, s.tls.clone())
        };
        let db = db.clone();
        workers.spawn(workers.next(), async move {
            let mut socket = match TcpStream::from_std(socket) {
                Ok(s) => s,
                Err(e) => return tracing::warn!(%peer, "cannot serve the connection on a worker: {e}"),
            };
            if max > 0 && db.clients.load(Ordering::Relaxed) >= max {
                if tls.is_none() {
                    let _ = socket.write_all(b"-ERR max number of clients reached\r\n").await;
                }
                return;
            }
            db.clients.fetch_add(1, Ordering::Relaxed);
            db.metrics.client_connections.inc();
            match tls {
                None => client::run(db.clone(), peer, Box::new(socket)).await,
                Some(acceptor) => match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(socket)).await {
                    Ok(Ok(stream)) => client::run(db.clone(), peer, Box::new(stream)).await,
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
            db.metrics.client_connections.dec();
            db.clients.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
