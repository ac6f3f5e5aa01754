//! The `tessera-agent` binary: parses flags, starts logging and runs
//! [`tessera_node::agent::run`] until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use tessera_node::agent::{self, Config};

fn main() -> ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // The one TLS crypto provider of the process (reqwest is built without one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (--listen)", config.listen))?;
        agent::run(config, listener, tessera_node::shutdown_signal()).await
    })
}
