//! The entry points of the crate's binaries, `tessera-node` and
//! `tessera-agent`, as functions of their arguments: the binaries call them,
//! and so can a multi-call binary (`tessera node …`, `tessera agent …`).
//! Owns argument handling and process start-up; not the server or the agent.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use crate::agent;
use crate::config::Config;

const USAGE: &str = "\
Usage: tessera-node [/path/to/redis.conf] [options] [-]
       tessera-node - (read config from stdin)
       tessera-node -v or --version
       tessera-node -h or --help

A Redis-compatible server. Options are redis.conf directives given as
--directive value; they are applied after the config file.

Examples:
       tessera-node (run the server with default conf)
       tessera-node /etc/redis/6379.conf
       tessera-node --port 7777
       tessera-node /etc/myredis.conf --loglevel verbose
       tessera-node --port 7777 --replicaof 127.0.0.1 8888
";

/// `tessera-node ARGS…` (the arguments after the program name), parsed like
/// `redis-server`'s. The process's global allocator should be
/// [`crate::alloc::CountingAlloc`], or `used_memory` and maxmemory see nothing.
pub fn node(args: Vec<String>) -> ExitCode {
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "tessera-node v={} redis_version={} bits=64",
                crate::VERSION,
                crate::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    crate::logging::init(&config);
    match crate::start(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-node: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `tessera-agent ARGS…` (`args` starts with the program name): runs
/// [`agent::run`] until SIGTERM or Ctrl-C.
pub fn agent(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let config = agent::Config::parse_from(args);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // The one TLS crypto provider of the process (reqwest is built without one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match serve_agent(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve_agent(config: agent::Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (--listen)", config.listen))?;
        agent::run(config, listener, crate::shutdown_signal()).await
    })
}
