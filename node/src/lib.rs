//! tessera-node: a Redis-compatible server.
//!
//! Start it like `redis-server`: `tessera-node [redis.conf] [--directive value …]`.
//! Clients speak RESP2 or RESP3; commands follow Redis 7.0 reply for reply.
//!
//! # Layout
//! - [`config`]: redis.conf directives, CONFIG GET/SET/REWRITE.
//! - [`server`]: server state, accept loop, cron; [`connection`]: one client's
//!   read–execute–write loop; [`client`]: per-client state.
//! - [`cmd`]: the command table and one module per command group;
//!   [`pubsub`]: subscriptions, message delivery, keyspace notifications;
//!   [`multi`]: MULTI/EXEC and WATCH; [`evict`]: maxmemory eviction.
//! - [`keyspace`]: databases, the hash table, values and expiry.
//! - [`reply`]: RESP2/RESP3 reply building; [`stats`]: INFO counters;
//!   [`info`]: the INFO text; [`slowlog`] and [`latency`]: SLOWLOG and the
//!   latency monitor; [`glob`]: Redis's glob patterns; [`alloc`]: the
//!   counting allocator.
//! - [`cli`]: the binaries' entry points.
//! - [`agent`]: the `tessera-agent` binary's library (shard supervision for
//!   the manager); not used by the server.

pub mod agent;
pub mod alloc;
pub mod blocking;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod evict;
pub mod glob;
pub mod info;
pub mod keyspace;
pub mod latency;
pub mod logging;
pub mod multi;
pub mod persistence;
pub mod propagate;
pub mod pubsub;
pub mod replication;
pub mod reply;
pub mod server;
pub mod slowlog;
pub mod stats;

use std::net::SocketAddr;

use anyhow::Context;

use config::Config;

/// The version reported by INFO and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version whose behaviour this server follows (INFO `redis_version`).
pub const REDIS_VERSION: &str = "7.0.15";

/// Binds the configured addresses and port: one listener per `bind` address;
/// addresses prefixed with `-` may fail to bind (as in Redis).
///
/// # Errors
/// When no address can be bound, or a required one fails.
pub fn bind(config: &Config) -> anyhow::Result<Vec<std::net::TcpListener>> {
    let mut listeners = Vec::new();
    let mut port = config.port;
    for spec in &config.bind {
        let (optional, addr) = match spec.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, spec.as_str()),
        };
        let ip: std::net::IpAddr = match addr {
            "*" => std::net::Ipv4Addr::UNSPECIFIED.into(),
            "::*" => std::net::Ipv6Addr::UNSPECIFIED.into(),
            a => a.parse().with_context(|| format!("invalid bind address '{a}'"))?,
        };
        match bind_one(SocketAddr::new(ip, port)) {
            Ok(l) => {
                // With port 0 every address shares the first one's port.
                port = l.local_addr()?.port();
                listeners.push(l);
            }
            Err(e) if optional => tracing::debug!("optional bind to {addr} failed: {e}"),
            Err(e) => {
                return Err(e).with_context(|| format!("could not create server TCP listening socket {addr}:{port}"));
            }
        }
    }
    anyhow::ensure!(!listeners.is_empty(), "configured to not listen anywhere, exiting");
    Ok(listeners)
}

fn bind_one(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(511)?;
    Ok(socket.into())
}

/// Runs the server on the current thread until SIGINT/SIGTERM or SHUTDOWN.
///
/// # Errors
/// When binding fails or the runtime cannot start.
pub fn start(config: Config) -> anyhow::Result<()> {
    // Relative paths (dbfilename, appenddirname, logfile…) are under `dir`, as in Redis.
    std::env::set_current_dir(&config.dir).with_context(|| format!("can't chdir to '{}'", config.dir.display()))?;
    let listeners = bind(&config)?;
    let _pidfile = config.pidfile.as_deref().map(PidFile::create).transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listeners = listeners
            .into_iter()
            .map(tokio::net::TcpListener::from_std)
            .collect::<std::io::Result<Vec<_>>>()?;
        // A task of its own: the future given to `block_on` is polled again
        // whenever any task wakes, and the server's (serving, signals,
        // SHUTDOWN) would be polled at every request.
        match tokio::task::spawn_local(server::run(config, listeners, shutdown_signal())).await {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    })
}

/// The `pidfile`, written at start and removed at exit.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn create(path: &str) -> anyhow::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("failed to write pidfile '{path}'"))?;
        Ok(PidFile(path.into()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM: {e}");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
