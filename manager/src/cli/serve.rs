//! The entry point of `tessera-manager` as a function of its arguments: the
//! binary calls it, and so does `tessera tessera-manager …`. Parses the
//! configuration, starts logging and serves until SIGTERM or Ctrl-C.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

use crate::config::Config;

/// `tessera-manager ARGS…` (`args` starts with the program name).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let config = Config::parse_from(args);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    crate::install_crypto_provider();
    let served = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(serve(config)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-manager: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (choose another --listen)", config.listen))?;
    let (state, generated) = crate::open(&config).await?;
    if let Some(password) = generated {
        println!(
            "created admin user {:?} with password {password} (shown only once; set TESSERA_ADMIN_PASSWORD to choose it)",
            config.admin_user
        );
    }
    let tls = state.tls.clone();
    crate::run(state, listener, tls, async {
        tessera_node::shutdown_signal().await;
        tracing::info!("shutting down");
    })
    .await
}
