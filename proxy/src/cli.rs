//! The entry point of `tessera-proxy` as a function of its arguments: the
//! binary calls it, and so can a multi-call binary (`tessera proxy …`).
//! Parses arguments, starts tracing and serves either a static config or the
//! manager's topology.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{ProxyConfig, TlsMode};
use crate::manager::{self, ManagerUrl};
use crate::metrics::Metrics;
use crate::server::{ClientLimits, Proxy};
use crate::workers::Workers;
use clap::Parser;

/// Redis-protocol proxy: one endpoint per database, routing by slot to
/// tessera-node shards.
///
/// Static mode:   tessera-proxy --config proxy.toml [--check]
/// Manager mode:  tessera-proxy --manager http://127.0.0.1:9000 --token T
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, verbatim_doc_comment)]
struct Args {
    /// Static topology and settings (TOML); see README for the format.
    #[arg(long, conflicts_with = "manager")]
    config: Option<PathBuf>,
    /// Validate the --config file, print a summary and exit (0 valid, 2 not).
    #[arg(long, requires = "config")]
    check: bool,
    /// Manager base URL to follow the topology of (http://host:port).
    #[arg(long, requires = "token", env = "TESSERA_MANAGER")]
    manager: Option<String>,
    /// Cluster token for the manager.
    #[arg(long, env = "TESSERA_CLUSTER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Address database listeners bind to (overrides the config's `bind`).
    #[arg(long)]
    bind: Option<String>,
    /// Serve Prometheus metrics on http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Worker threads serving client connections [default: one per core].
    /// Each serves its clients over links of its own to every shard, so a
    /// request never crosses threads; on a host whose cores the shards and
    /// clients share, fewer workers than cores can cost less CPU.
    #[arg(long, value_name = "N", env = "TESSERA_PROXY_THREADS",
          value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

/// `tessera-proxy ARGS…` (`args` starts with the program name).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = Args::parse_from(args);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    crate::tls::install_provider();
    let config = match (&args.config, &args.manager) {
        (Some(path), _) => match ProxyConfig::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("tessera-proxy: invalid config: {e}");
                return ExitCode::from(2);
            }
        },
        (None, Some(_)) => match toml::from_str::<ProxyConfig>("") {
            Ok(c) => c,
            Err(e) => {
                eprintln!("tessera-proxy: {e}");
                return ExitCode::FAILURE;
            }
        },
        (None, None) => {
            eprintln!("tessera-proxy: give --config FILE or --manager URL --token T (see --help)");
            return ExitCode::from(2);
        }
    };
    if args.check {
        // Certificates are loaded too, so a bad key fails the check.
        for db in &config.databases {
            if let (TlsMode::Enabled, Some(tls)) = (db.tls_mode, &db.tls)
                && let Err(e) = crate::tls::acceptor(tls)
            {
                eprintln!("tessera-proxy: invalid config: database {:?}: {e}", db.name);
                return ExitCode::from(2);
            }
        }
        println!("config ok: {} database(s)", config.databases.len());
        for db in &config.databases {
            println!(
                "  {} port={} shards={} tls={} auth={} max_connections={}",
                db.name,
                db.port,
                db.shards.len(),
                db.tls_mode == TlsMode::Enabled,
                db.password.is_some() || db.password_hash.is_some(),
                db.max_connections
            );
        }
        return ExitCode::SUCCESS;
    }
    let threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| Ok((runtime, Workers::start(threads)?)));
    let (runtime, workers) = match started {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args, config, Arc::new(workers))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-proxy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args, config: ProxyConfig, workers: Arc<Workers>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let metrics = Metrics::new();
    if let Some(addr) = &args.metrics {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on --metrics {addr}"))?;
        tracing::info!(%addr, "serving /metrics");
        tokio::spawn(metrics.clone().serve(listener));
    }
    let limits = ClientLimits {
        idle_timeout: (config.idle_timeout_secs > 0).then(|| Duration::from_secs(config.idle_timeout_secs)),
        query_buffer_limit: config.query_buffer_limit,
        pipeline_limit: config.pipeline_limit,
        backend_connections: config.backend_connections,
    };
    let bind = args.bind.clone().unwrap_or(config.bind.clone());
    let mut proxy = Proxy::new(bind, limits, metrics, workers);
    match (&args.manager, &args.token) {
        (Some(url), Some(token)) => {
            let url = ManagerUrl::parse(url).map_err(anyhow::Error::msg)?;
            tracing::info!("following the manager's topology");
            tokio::select! {
                () = manager::follow(url, token.clone(), proxy) => {}
                () = shutdown() => {}
            }
        }
        _ => {
            proxy
                .apply(&config.databases)
                .await
                .context("cannot serve the configured databases")?;
            shutdown().await;
        }
    }
    tracing::info!("shutting down");
    Ok(())
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match &mut term { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
