//! tessera-manager: the management service of a Tessera cluster.
//!
//! It keeps the desired state in SQLite (the source of truth), serves the
//! REST API `/v1` (modelled on Redis Enterprise's) and `/metrics`, places
//! shards on nodes and reconciles every node's agent to that state.
//!
//! # Layout
//! * [`config`], [`tls`] — flags and env; HTTPS.
//! * [`cli`] — the `tessera` command (`tessera up`, admin commands) and the
//!   manager's entry point.
//! * [`error`], [`auth`] — the API's error type and extractors; users, roles, tokens.
//! * one module per resource, each with `fn router()`: [`bdbs`], [`nodes`],
//!   [`shards`], [`cluster`], [`users`], [`actions`], [`logs`], [`internal`]
//!   (agents and proxies), [`metrics`], [`openapi`].
//! * [`console`] — the web console, on top of the resources' handlers.
//! * [`watchdog`] (failure detection), [`failover`] (promotion, planned
//!   failover, replica re-creation).
//! * [`scheduler`] (placement, pure), [`reconciler`] (the loop), [`agent`]
//!   (the agent API client), [`shard_client`] (RESP to shards), [`state`].

pub mod actions;
pub mod agent;
pub mod auth;
pub mod bdbs;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod error;
pub mod failover;
pub mod internal;
pub mod logs;
pub mod metrics;
pub mod nodes;
pub mod openapi;
pub mod reconciler;
pub mod scheduler;
pub mod shard_client;
pub mod shards;
pub mod state;
pub mod tls;
pub mod users;
pub mod watchdog;

use std::future::Future;
use std::str::FromStr;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::auth::Role;
use crate::error::ApiError;
pub use crate::state::AppState;

/// Largest accepted request body.
pub const MAX_BODY: usize = 256 * 1024;

/// Installs rustls's ring provider for the process (HTTPS and agent calls).
pub fn install_crypto_provider() {
    // Fails only if a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens the SQLite database in `config.data_dir`, applies migrations and
/// creates the first admin. Returns the state and the generated admin
/// password, if one was generated.
///
/// # Errors
/// The data dir or database cannot be created or migrated, or TLS files are bad.
pub async fn open(config: &config::Config) -> anyhow::Result<(AppState, Option<String>)> {
    anyhow::ensure!(
        !config.cluster_token.is_empty(),
        "TESSERA_CLUSTER_TOKEN must not be empty"
    );
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create --data-dir {}", config.data_dir.display()))?;
    let pool = open_pool(&config.data_dir.join("manager.db")).await?;
    let tls = tls::server_config(config)?;
    prepare(
        pool,
        &config.cluster_token,
        tls,
        &config.admin_user,
        config.admin_password.clone(),
    )
    .await
}

/// Opens (creating if missing) the SQLite file at `path` in WAL mode, with
/// foreign keys on and a busy timeout for writers that queue behind another.
///
/// # Errors
/// The file cannot be opened or created.
pub async fn open_pool(path: &std::path::Path) -> anyhow::Result<sqlx::SqlitePool> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Migrates `pool`, builds the state and makes sure an admin exists.
///
/// # Errors
/// Migration or admin creation failed.
pub async fn prepare(
    pool: sqlx::SqlitePool,
    cluster_token: &str,
    tls: Option<tls::TlsMaterial>,
    admin_user: &str,
    admin_password: Option<String>,
) -> anyhow::Result<(AppState, Option<String>)> {
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .context("cannot migrate the manager database")?;
    let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM cluster WHERE id = 1")
        .fetch_one(&pool)
        .await?;
    let state = AppState::new(pool, cluster_token.to_owned(), tls, epoch)?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&state.db)
        .await?;
    let mut generated = None;
    if users == 0 {
        let password = match admin_password {
            Some(p) => p,
            None => generated.insert(auth::random_secret(12)).clone(),
        };
        let new = users::NewUser {
            name: admin_user.to_owned(),
            email: None,
            role: Role::Admin,
            password,
        };
        users::create(&state, &new)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the admin user: {e}"))?;
        tracing::info!(user = admin_user, "created the first admin user");
    }
    Ok((state, generated))
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(bdbs::router())
        .merge(cluster::router())
        .merge(nodes::router())
        .merge(shards::router())
        .merge(users::router())
        .merge(actions::router())
        .merge(logs::router())
        .merge(internal::router())
        .merge(console::router())
        .merge(failover::router())
        .route("/metrics", get(metrics::scrape))
        .route("/v1/openapi.json", get(openapi::serve))
        .fallback(|| async { ApiError::not_found("not_found", "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves `state` on `listener` (HTTPS if `tls`) with the reconciler
/// running, until `shutdown` completes; then finishes in-flight requests.
///
/// # Errors
/// The server failed.
pub async fn run(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: Option<tls::TlsMaterial>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let reconciler = tokio::spawn(reconciler::Reconciler::default().run(state.clone()));
    let watchdog = tokio::spawn(watchdog::Watchdog::default().run(state.clone()));
    let app = app(state.clone());
    let result = match tls {
        Some(tls) => {
            tracing::info!(%addr, "serving HTTPS");
            let listener = tls::TlsListener::new(listener, tls.server)?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        None => {
            tracing::info!(%addr, "serving HTTP");
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    };
    reconciler.abort();
    watchdog.abort();
    state.db.close().await;
    result.context("the HTTP server failed")
}
