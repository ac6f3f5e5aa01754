//! Command-line and environment configuration of `tessera-manager`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Tessera's management service: REST API (/v1), SQLite state, shard
/// scheduler and reconciler, Prometheus metrics (/metrics).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "tessera-manager", version)]
pub struct Config {
    /// Address the REST API listens on.
    #[arg(long, env = "TESSERA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of the manager's SQLite database (created if missing).
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "tessera-manager-data")]
    pub data_dir: PathBuf,
    /// PEM certificate chain: serve HTTPS instead of HTTP (needs --tls-key).
    #[arg(long, env = "TESSERA_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "TESSERA_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Shared secret of the cluster: agents and proxies present it as a bearer token.
    #[arg(long, env = "TESSERA_CLUSTER_TOKEN", hide_env_values = true)]
    pub cluster_token: String,
    /// Name of the first admin user, created when the database has no user.
    #[arg(long, env = "TESSERA_ADMIN_USER", default_value = "admin")]
    pub admin_user: String,
    /// Password of the first admin user; if absent one is generated and printed once.
    #[arg(long, env = "TESSERA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}
