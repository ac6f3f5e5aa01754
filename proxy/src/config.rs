//! The routing table a proxy serves: databases, their shards and endpoint
//! settings, read from `proxy.toml` or from the manager's topology JSON
//! (`docs/architecture.md`, "Topology"). This module owns parsing and
//! validation; it opens no socket and reads no file other than the config and
//! the TLS files it names.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

/// Number of hash slots.
pub const SLOTS: u32 = resp::SLOTS as u32;

/// A validation failure: says which database or setting is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// `proxy.toml`: global settings and the databases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Address the database listeners bind to (default `0.0.0.0`).
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Close client connections idle for this many seconds (0 = never).
    #[serde(default)]
    pub idle_timeout_secs: u64,
    /// Close a client whose unparsed input exceeds this many bytes.
    #[serde(default = "default_query_buffer_limit")]
    pub query_buffer_limit: usize,
    /// Replies (not bytes) a client may have outstanding before the proxy
    /// stops reading its requests.
    #[serde(default = "default_pipeline_limit")]
    pub pipeline_limit: usize,
    /// Shared backend connections per worker thread, shard and protocol.
    #[serde(default = "default_backend_connections")]
    pub backend_connections: usize,
    /// The databases served.
    #[serde(default)]
    pub databases: Vec<Database>,
}

fn default_bind() -> String {
    "0.0.0.0".into()
}
fn default_query_buffer_limit() -> usize {
    64 * 1024 * 1024
}
fn default_pipeline_limit() -> usize {
    4096
}
fn default_backend_connections() -> usize {
    1
}

/// The manager's topology answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Monotonic version of the routing table.
    pub epoch: u64,
    /// Every database of the cluster.
    pub databases: Vec<Database>,
}

/// One database: an endpoint port and the shards that hold its slots.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Manager id (optional in a static config).
    #[serde(default)]
    pub uid: Option<u64>,
    /// Name, for logs and metrics.
    pub name: String,
    /// Endpoint port.
    pub port: u16,
    /// `disabled` or `enabled` (TLS only).
    #[serde(default)]
    pub tls_mode: TlsMode,
    /// Certificate material when `tls_mode = "enabled"`.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Password in clear (static config only).
    #[serde(default)]
    pub password: Option<String>,
    /// argon2 PHC hash of the password.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// Password the proxy sends with `AUTH` on every connection it opens to
    /// the shards (their `requirepass`); none: the shards need no `AUTH`.
    #[serde(default)]
    pub shard_password: Option<Secret>,
    /// `master` (default) or `replica`.
    #[serde(default)]
    pub read_policy: ReadPolicy,
    /// Most client connections at once (0 = unlimited).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// `async` (default): a write is acknowledged when the master has it;
    /// `sync`: once a replica has it too (`WAIT 1`).
    #[serde(default)]
    pub durability: Durability,
    /// The shards, covering all 16384 slots.
    pub shards: Vec<Shard>,
}

fn default_max_connections() -> usize {
    10_000
}

/// A password kept out of logs: `Debug` prints `<redacted>`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// TLS endpoint setting.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plaintext.
    #[default]
    Disabled,
    /// TLS only; plaintext clients are refused.
    Enabled,
}

/// When a write is acknowledged to the client.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// When the master has it.
    #[default]
    Async,
    /// When a replica has it too.
    Sync,
}

/// Where reads go.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReadPolicy {
    /// Every command to the master.
    #[default]
    Master,
    /// Read-only commands to a replica when the shard has one.
    Replica,
}

/// Certificates: PEM inline (from the manager) or file paths (static config).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain, PEM.
    #[serde(default)]
    pub cert_pem: Option<String>,
    /// Server private key, PEM.
    #[serde(default)]
    pub key_pem: Option<String>,
    /// CA that client certificates must chain to, PEM (none: no client auth).
    #[serde(default)]
    pub client_ca_pem: Option<String>,
    /// File holding `cert_pem`.
    #[serde(default)]
    pub cert_file: Option<String>,
    /// File holding `key_pem`.
    #[serde(default)]
    pub key_file: Option<String>,
    /// File holding `client_ca_pem`.
    #[serde(default)]
    pub client_ca_file: Option<String>,
}

/// One shard: an inclusive slot range and where its master lives.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// `[first, last]`, inclusive.
    pub slots: [u32; 2],
    /// `host:port` of the master.
    pub master: String,
    /// `host:port` of replicas.
    #[serde(default)]
    pub replicas: Vec<String>,
}

impl ProxyConfig {
    /// Reads and validates a TOML file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML of this shape, or fails
    /// [`validate`](Self::validate).
    pub fn load(path: &Path) -> Result<ProxyConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let config: ProxyConfig = toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks global settings and every database.
    ///
    /// # Errors
    /// The first problem found, naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.backend_connections == 0 {
            return Err(ConfigError("backend_connections must be at least 1".into()));
        }
        if self.pipeline_limit == 0 {
            return Err(ConfigError("pipeline_limit must be at least 1".into()));
        }
        validate_databases(&self.databases)
    }
}

/// Checks a list of databases: unique names and ports, shards that cover
/// every slot exactly once, TLS material present when TLS is on.
///
/// # Errors
/// The first problem found, naming the database.
pub fn validate_databases(databases: &[Database]) -> Result<(), ConfigError> {
    let mut ports = HashSet::new();
    let mut names = HashSet::new();
    for db in databases {
        if !ports.insert(db.port) {
            return Err(ConfigError(format!(
                "database {:?}: port {} is used twice",
                db.name, db.port
            )));
        }
        if !names.insert(db.name.as_str()) {
            return Err(ConfigError(format!("database name {:?} is used twice", db.name)));
        }
        db.validate()?;
    }
    Ok(())
}

impl Database {
    /// Checks this database alone.
    ///
    /// # Errors
    /// The first problem found, naming the database and setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |what: String| Err(ConfigError(format!("database {:?}: {what}", self.name)));
        if self.shards.is_empty() {
            return err("needs at least one shard".into());
        }
        let mut ranges: Vec<[u32; 2]> = self.shards.iter().map(|s| s.slots).collect();
        ranges.sort_unstable();
        let mut next = 0;
        for [first, last] in ranges {
            if first > last || last >= SLOTS {
                return err(format!("slot range [{first}, {last}] is not within 0..=16383 in order"));
            }
            if first != next {
                return err(format!("slots {next}..{first} are not covered exactly once"));
            }
            next = last + 1;
        }
        if next != SLOTS {
            return err(format!("slots {next}..=16383 are not covered by any shard"));
        }
        for shard in &self.shards {
            for addr in std::iter::once(&shard.master).chain(&shard.replicas) {
                if !addr.contains(':') || addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()).is_none() {
                    return err(format!("shard address {addr:?} is not host:port"));
                }
            }
        }
        if self.password.is_some() && self.password_hash.is_some() {
            return err("give either password or password_hash, not both".into());
        }
        if let Some(hash) = &self.password_hash
            && argon2::PasswordHash::new(hash).is_err()
        {
            return err("password_hash is not a PHC string ($argon2id$...)".into());
        }
        if self.tls_mode == TlsMode::Enabled {
            let Some(tls) = &self.tls else {
                return err("tls_mode = \"enabled\" needs a [tls] table with cert and key".into());
            };
            if tls.cert_pem.is_none() && tls.cert_file.is_none() {
                return err("tls needs cert_pem or cert_file".into());
            }
            if tls.key_pem.is_none() && tls.key_file.is_none() {
                return err("tls needs key_pem or key_file".into());
            }
        }
        Ok(())
    }

    /// Index of the shard that owns `slot`.
    pub fn shard_of(&self, slot: u16) -> usize {
        let slot = u32::from(slot);
        self.shards
            .iter()
            .position(|s| s.slots[0] <= slot && slot <= s.slots[1])
            .expect("validated shards cover every slot")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProxyConfig, ConfigError> {
        let c: ProxyConfig = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    const TWO: &str = r#"
[[databases]]
name = "cache"
port = 12000
[[databases.shards]]
slots = [0, 8191]
master = "127.0.0.1:30001"
[[databases.shards]]
slots = [8192, 16383]
master = "127.0.0.1:30002"
"#;

    #[test]
    fn valid_config_routes_slots() {
        let c = parse(TWO).expect("valid");
        assert_eq!(c.databases[0].shard_of(0), 0);
        assert_eq!(c.databases[0].shard_of(8192), 1);
        assert_eq!(c.databases[0].shard_of(16383), 1);
    }

    #[test]
    fn gaps_overlaps_and_unknown_fields_are_rejected() {
        let gap = TWO.replace("[8192, 16383]", "[8193, 16383]");
        assert!(parse(&gap).expect_err("invalid").0.contains("8192..8193"));
        let overlap = TWO.replace("[8192, 16383]", "[8000, 16383]");
        assert!(parse(&overlap).is_err());
        let short = TWO.replace("[8192, 16383]", "[8192, 16000]");
        assert!(parse(&short).expect_err("invalid").0.contains("16001"));
        let unknown = TWO.replace("port = 12000", "port = 12000\nprot = 1");
        assert!(parse(&unknown).expect_err("invalid").0.contains("prot"));
        let tls = TWO.replace("port = 12000", "port = 12000\ntls_mode = \"enabled\"");
        assert!(parse(&tls).expect_err("invalid").0.contains("tls"));
        let addr = TWO.replace("127.0.0.1:30002", "nowhere");
        assert!(parse(&addr).expect_err("invalid").0.contains("host:port"));
    }

    #[test]
    fn topology_json_parses() {
        let json = r#"{"epoch": 12, "databases": [{"uid": 3, "name": "cache", "port": 12000,
            "tls_mode": "disabled", "tls": null, "password_hash": null, "read_policy": "master",
            "max_connections": 10000, "durability": "sync", "shards": [{"slots": [0, 16383], "master": "127.0.0.1:1", "replicas": []}]}]}"#;
        let t: Topology = serde_json::from_str(json).expect("topology");
        assert_eq!(t.epoch, 12);
        assert_eq!(t.databases[0].shard_password, None);
        let with = json.replace(
            "\"password_hash\": null",
            "\"password_hash\": null, \"shard_password\": \"pw\"",
        );
        let t: Topology = serde_json::from_str(&with).expect("topology");
        let secret = t.databases[0].shard_password.clone().expect("shard password");
        assert_eq!(secret.0, "pw");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(t.databases[0].durability, Durability::Sync);
        validate_databases(&t.databases).expect("valid");
    }
}
