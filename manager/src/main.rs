//! `tessera-manager`: parses the configuration, starts logging and serves.

use clap::Parser;
use tessera_manager::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    tessera_manager::install_crypto_provider();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (choose another --listen)", config.listen))?;
    let (state, generated) = tessera_manager::open(&config).await?;
    if let Some(password) = generated {
        println!(
            "created admin user {:?} with password {password} (shown only once; set TESSERA_ADMIN_PASSWORD to choose it)",
            config.admin_user
        );
    }
    let tls = state.tls.clone();
    tessera_manager::run(state, listener, tls, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch SIGTERM: {e}");
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
