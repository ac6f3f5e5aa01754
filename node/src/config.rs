//! Configuration: every redis.conf directive of Redis 7.0, read and written
//! exactly like redis-server does.
//!
//! This module owns:
//! * start-up loading ([`Config::load`]): redis-server's argv rules (config
//!   file path, `-` for stdin, `--directive value ...` options appended as
//!   config lines), the config-line grammar (quotes and escapes), `include`
//!   (with wildcards), `rename-command`, `user`, `loadmodule`, deprecated
//!   directives, and Redis's fatal error report format;
//! * the typed [`Config`] the server reads;
//! * CONFIG GET ([`Config::get`]), CONFIG SET ([`Config::set`],
//!   all-or-nothing) and CONFIG REWRITE ([`Config::rewrite`]) with Redis's
//!   replies, renderings and error texts.
//!
//! Everything is driven by one directive table (`config/table.rs`) giving
//! each directive its canonical name, alias, kind (bool, number with bounds,
//! memory, enum, string, special), default, flags (immutable, protected,
//! sensitive, hidden, multi-argument) and whether the server applies it or
//! only accepts it. Side effects Redis performs inside CONFIG SET (binding a
//! new port, chdir to a new `dir`, resizing the backlog, ...) are the
//! server's: [`Config::set`] returns the names it changed.

mod parse;
mod rewrite;
mod table;
#[cfg(test)]
pub(crate) mod test_redis;
mod types;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use parse::parse_memory;
pub use types::{
    AclPubsubDefault, AppendFsync, ClientBufferLimit, ClientClass, ClusterEndpointType, DEFAULT_CLIENT_BUFFER_LIMITS,
    DEFAULT_SAVE, KeyspaceEvents, LogLevel, MaxmemoryPolicy, MemoryOrPercent, OomScoreAdj, PropagationErrorBehavior,
    ProtectedAction, ReplDisklessLoad, SanitizeDumpPayload, SavePoint, ShutdownFlags, Supervised, SyslogFacility,
    TlsAuthClients,
};

use parse::{repr, split_args, strerror};
use rewrite::RewriteState;
use table::{
    APPLIED, DENY_LOADING, Directive, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE, SetCtx, TABLE, lookup,
    resolve, set_args,
};

/// The version shown in fatal config errors.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Declares [`Config`] and a constructor with every field at its type's
/// `Default` (Redis's defaults are then applied from the table).
macro_rules! config_struct {
    (
        $(#[$meta:meta])*
        pub struct Config {
            $( $(#[$fmeta:meta])* $vis:vis $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct Config {
            $( $(#[$fmeta])* $vis $field: $ty, )*
        }

        impl Config {
            fn blank() -> Config {
                Config { $( $field: Default::default(), )* }
            }
        }
    };
}

config_struct! {
    /// The server configuration: one typed field per redis.conf directive
    /// (named after it, `-` → `_`), plus the file-only directives.
    ///
    /// `Config::default()` holds Redis 7.0's defaults. Fields may be read
    /// freely; change them through [`Config::set`] so that validation, the
    /// CONFIG GET rendering and CONFIG REWRITE stay consistent.
    #[derive(Clone)]
    pub struct Config {
        // ---- network ----
        /// `bind`: listen addresses; a `-` prefix marks an address that may fail to bind.
        pub bind: Vec<String>,
        /// `bind-source-addr`: source address of outgoing connections.
        pub bind_source_addr: Option<String>,
        /// `protected-mode`.
        pub protected_mode: bool,
        /// `port` (0 = no TCP listener).
        pub port: u16,
        /// `tcp-backlog`.
        pub tcp_backlog: u32,
        /// `unixsocket`.
        pub unixsocket: Option<String>,
        /// `unixsocketperm` (octal permission bits).
        pub unixsocketperm: u32,
        /// `timeout`: close idle clients after this many seconds (0 = never).
        pub timeout: u64,
        /// `tcp-keepalive` in seconds (0 = off).
        pub tcp_keepalive: u64,
        /// `socket-mark-id`.
        pub socket_mark_id: u32,
        // ---- TLS ----
        /// `tls-port` (0 = off).
        pub tls_port: u16,
        /// `tls-cert-file`.
        pub tls_cert_file: Option<String>,
        /// `tls-key-file`.
        pub tls_key_file: Option<String>,
        /// `tls-key-file-pass`.
        pub tls_key_file_pass: Option<String>,
        /// `tls-client-cert-file`.
        pub tls_client_cert_file: Option<String>,
        /// `tls-client-key-file`.
        pub tls_client_key_file: Option<String>,
        /// `tls-client-key-file-pass`.
        pub tls_client_key_file_pass: Option<String>,
        /// `tls-dh-params-file`.
        pub tls_dh_params_file: Option<String>,
        /// `tls-ca-cert-file`.
        pub tls_ca_cert_file: Option<String>,
        /// `tls-ca-cert-dir`.
        pub tls_ca_cert_dir: Option<String>,
        /// `tls-auth-clients`.
        pub tls_auth_clients: TlsAuthClients,
        /// `tls-replication`.
        pub tls_replication: bool,
        /// `tls-cluster`.
        pub tls_cluster: bool,
        /// `tls-protocols`.
        pub tls_protocols: Option<String>,
        /// `tls-ciphers`.
        pub tls_ciphers: Option<String>,
        /// `tls-ciphersuites`.
        pub tls_ciphersuites: Option<String>,
        /// `tls-prefer-server-ciphers`.
        pub tls_prefer_server_ciphers: bool,
        /// `tls-session-caching`.
        pub tls_session_caching: bool,
        /// `tls-session-cache-size`.
        pub tls_session_cache_size: u32,
        /// `tls-session-cache-timeout`.
        pub tls_session_cache_timeout: u32,
        // ---- general ----
        /// `daemonize` (only `no` can start: see [`Config::load`]).
        pub daemonize: bool,
        /// `supervised`.
        pub supervised: Supervised,
        /// `pidfile`.
        pub pidfile: Option<String>,
        /// `loglevel`.
        pub loglevel: LogLevel,
        /// `logfile` (empty = standard output).
        pub logfile: String,
        /// `syslog-enabled`.
        pub syslog_enabled: bool,
        /// `syslog-ident`.
        pub syslog_ident: String,
        /// `syslog-facility`.
        pub syslog_facility: SyslogFacility,
        /// `crash-log-enabled`.
        pub crash_log_enabled: bool,
        /// `crash-memcheck-enabled`.
        pub crash_memcheck_enabled: bool,
        /// `databases`.
        pub databases: usize,
        /// `always-show-logo`.
        pub always_show_logo: bool,
        /// `set-proc-title`.
        pub set_proc_title: bool,
        /// `proc-title-template`.
        pub proc_title_template: String,
        /// `enable-protected-configs`: who may CONFIG SET `dir`/`dbfilename`.
        pub enable_protected_configs: ProtectedAction,
        /// `enable-debug-command`.
        pub enable_debug_command: ProtectedAction,
        /// `enable-module-command`.
        pub enable_module_command: ProtectedAction,
        /// `ignore-warnings`.
        pub ignore_warnings: String,
        // ---- snapshotting ----
        /// `save` points (empty = RDB snapshots disabled).
        pub save: Vec<SavePoint>,
        /// `stop-writes-on-bgsave-error`.
        pub stop_writes_on_bgsave_error: bool,
        /// `rdbcompression`.
        pub rdbcompression: bool,
        /// `rdbchecksum`.
        pub rdbchecksum: bool,
        /// `sanitize-dump-payload`.
        pub sanitize_dump_payload: SanitizeDumpPayload,
        /// `dbfilename`.
        pub dbfilename: String,
        /// `rdb-del-sync-files`.
        pub rdb_del_sync_files: bool,
        /// `dir`: absolute, canonical working directory (the server must
        /// chdir() here at start-up and after CONFIG SET dir).
        pub dir: PathBuf,
        /// `rdb-save-incremental-fsync`.
        pub rdb_save_incremental_fsync: bool,
        /// `rdb-key-save-delay` (hidden, testing).
        pub rdb_key_save_delay: i32,
        /// `key-load-delay` (hidden, testing).
        pub key_load_delay: i32,
        /// `loading-process-events-interval-bytes` (hidden).
        pub loading_process_events_interval_bytes: u64,
        // ---- replication ----
        /// `replicaof` / `slaveof`: master host and port.
        pub replicaof: Option<(String, u16)>,
        /// `masterauth`.
        pub masterauth: Option<String>,
        /// `masteruser`.
        pub masteruser: Option<String>,
        /// `replica-serve-stale-data`.
        pub replica_serve_stale_data: bool,
        /// `replica-read-only`.
        pub replica_read_only: bool,
        /// `repl-diskless-sync`.
        pub repl_diskless_sync: bool,
        /// `repl-diskless-sync-delay`.
        pub repl_diskless_sync_delay: u64,
        /// `repl-diskless-sync-max-replicas`.
        pub repl_diskless_sync_max_replicas: u32,
        /// `repl-diskless-load`.
        pub repl_diskless_load: ReplDisklessLoad,
        /// `repl-ping-replica-period` in seconds.
        pub repl_ping_replica_period: u64,
        /// `repl-timeout` in seconds.
        pub repl_timeout: u64,
        /// `repl-disable-tcp-nodelay`.
        pub repl_disable_tcp_nodelay: bool,
        /// `repl-backlog-size` in bytes.
        pub repl_backlog_size: u64,
        /// `repl-backlog-ttl` in seconds.
        pub repl_backlog_ttl: u64,
        /// `replica-priority`.
        pub replica_priority: u32,
        /// `replica-announced`.
        pub replica_announced: bool,
        /// `min-replicas-to-write`.
        pub min_replicas_to_write: u32,
        /// `min-replicas-max-lag` in seconds.
        pub min_replicas_max_lag: u64,
        /// `replica-announce-ip`.
        pub replica_announce_ip: Option<String>,
        /// `replica-announce-port`.
        pub replica_announce_port: u16,
        /// `replica-ignore-maxmemory`.
        pub replica_ignore_maxmemory: bool,
        /// `replica-lazy-flush`.
        pub replica_lazy_flush: bool,
        /// `replica-ignore-disk-write-errors`.
        pub replica_ignore_disk_write_errors: bool,
        /// `propagation-error-behavior`.
        pub propagation_error_behavior: PropagationErrorBehavior,
        // ---- keys tracking, security ----
        /// `tracking-table-max-keys`.
        pub tracking_table_max_keys: u64,
        /// `acllog-max-len`.
        pub acllog_max_len: u64,
        /// `aclfile`.
        pub aclfile: String,
        /// `acl-pubsub-default`.
        pub acl_pubsub_default: AclPubsubDefault,
        /// `requirepass`: the default user's password.
        pub requirepass: Option<String>,
        // ---- clients, memory ----
        /// `maxclients`.
        pub maxclients: u32,
        /// `maxmemory` in bytes (0 = no limit).
        pub maxmemory: u64,
        /// `maxmemory-policy`.
        pub maxmemory_policy: MaxmemoryPolicy,
        /// `maxmemory-samples`.
        pub maxmemory_samples: u32,
        /// `maxmemory-eviction-tenacity`.
        pub maxmemory_eviction_tenacity: u32,
        /// `maxmemory-clients`.
        pub maxmemory_clients: MemoryOrPercent,
        /// `lazyfree-lazy-eviction`.
        pub lazyfree_lazy_eviction: bool,
        /// `lazyfree-lazy-expire`.
        pub lazyfree_lazy_expire: bool,
        /// `lazyfree-lazy-server-del`.
        pub lazyfree_lazy_server_del: bool,
        /// `lazyfree-lazy-user-del`.
        pub lazyfree_lazy_user_del: bool,
        /// `lazyfree-lazy-user-flush`.
        pub lazyfree_lazy_user_flush: bool,
        // ---- threads, kernel ----
        /// `io-threads`.
        pub io_threads: u32,
        /// `io-threads-do-reads`.
        pub io_threads_do_reads: bool,
        /// `oom-score-adj`.
        pub oom_score_adj: OomScoreAdj,
        /// `oom-score-adj-values` (master, replica, background child).
        pub oom_score_adj_values: [i32; 3],
        /// `disable-thp`.
        pub disable_thp: bool,
        /// `server_cpulist`.
        pub server_cpulist: Option<String>,
        /// `bio_cpulist`.
        pub bio_cpulist: Option<String>,
        /// `aof_rewrite_cpulist`.
        pub aof_rewrite_cpulist: Option<String>,
        /// `bgsave_cpulist`.
        pub bgsave_cpulist: Option<String>,
        // ---- append only file ----
        /// `appendonly`.
        pub appendonly: bool,
        /// `appendfilename`.
        pub appendfilename: String,
        /// `appenddirname`.
        pub appenddirname: String,
        /// `appendfsync`.
        pub appendfsync: AppendFsync,
        /// `no-appendfsync-on-rewrite`.
        pub no_appendfsync_on_rewrite: bool,
        /// `auto-aof-rewrite-percentage`.
        pub auto_aof_rewrite_percentage: u32,
        /// `auto-aof-rewrite-min-size` in bytes.
        pub auto_aof_rewrite_min_size: u64,
        /// `aof-load-truncated`.
        pub aof_load_truncated: bool,
        /// `aof-use-rdb-preamble`.
        pub aof_use_rdb_preamble: bool,
        /// `aof-timestamp-enabled`.
        pub aof_timestamp_enabled: bool,
        /// `aof-rewrite-incremental-fsync`.
        pub aof_rewrite_incremental_fsync: bool,
        /// `aof-disable-auto-gc`.
        pub aof_disable_auto_gc: bool,
        // ---- shutdown, scripting ----
        /// `shutdown-timeout` in seconds.
        pub shutdown_timeout: u64,
        /// `shutdown-on-sigint`.
        pub shutdown_on_sigint: ShutdownFlags,
        /// `shutdown-on-sigterm`.
        pub shutdown_on_sigterm: ShutdownFlags,
        /// `busy-reply-threshold` / `lua-time-limit` in milliseconds.
        pub busy_reply_threshold: u64,
        // ---- cluster ----
        /// `cluster-enabled`.
        pub cluster_enabled: bool,
        /// `cluster-config-file`.
        pub cluster_config_file: String,
        /// `cluster-node-timeout` in milliseconds.
        pub cluster_node_timeout: u64,
        /// `cluster-port` (0 = port + 10000).
        pub cluster_port: u16,
        /// `cluster-replica-validity-factor`.
        pub cluster_replica_validity_factor: u32,
        /// `cluster-migration-barrier`.
        pub cluster_migration_barrier: u32,
        /// `cluster-allow-replica-migration`.
        pub cluster_allow_replica_migration: bool,
        /// `cluster-require-full-coverage`.
        pub cluster_require_full_coverage: bool,
        /// `cluster-replica-no-failover`.
        pub cluster_replica_no_failover: bool,
        /// `cluster-allow-reads-when-down`.
        pub cluster_allow_reads_when_down: bool,
        /// `cluster-allow-pubsubshard-when-down`.
        pub cluster_allow_pubsubshard_when_down: bool,
        /// `cluster-link-sendbuf-limit` in bytes.
        pub cluster_link_sendbuf_limit: u64,
        /// `cluster-announce-hostname`.
        pub cluster_announce_hostname: Option<String>,
        /// `cluster-preferred-endpoint-type`.
        pub cluster_preferred_endpoint_type: ClusterEndpointType,
        /// `cluster-announce-ip`.
        pub cluster_announce_ip: Option<String>,
        /// `cluster-announce-port`.
        pub cluster_announce_port: u16,
        /// `cluster-announce-tls-port`.
        pub cluster_announce_tls_port: u16,
        /// `cluster-announce-bus-port`.
        pub cluster_announce_bus_port: u16,
        // ---- monitoring ----
        /// `slowlog-log-slower-than` in microseconds (-1 = off, 0 = everything).
        pub slowlog_log_slower_than: i64,
        /// `slowlog-max-len`.
        pub slowlog_max_len: u64,
        /// `latency-monitor-threshold` in milliseconds.
        pub latency_monitor_threshold: u64,
        /// `latency-tracking`.
        pub latency_tracking: bool,
        /// `latency-tracking-info-percentiles`.
        pub latency_tracking_info_percentiles: Vec<f64>,
        /// `notify-keyspace-events`.
        pub notify_keyspace_events: KeyspaceEvents,
        // ---- encodings ----
        /// `hash-max-listpack-entries`.
        pub hash_max_listpack_entries: u64,
        /// `hash-max-listpack-value`.
        pub hash_max_listpack_value: u64,
        /// `list-max-listpack-size` (negative: size class, positive: entries).
        pub list_max_listpack_size: i32,
        /// `list-compress-depth`.
        pub list_compress_depth: u32,
        /// `set-max-intset-entries`.
        pub set_max_intset_entries: u64,
        /// `zset-max-listpack-entries`.
        pub zset_max_listpack_entries: u64,
        /// `zset-max-listpack-value`.
        pub zset_max_listpack_value: u64,
        /// `hll-sparse-max-bytes`.
        pub hll_sparse_max_bytes: u64,
        /// `stream-node-max-bytes`.
        pub stream_node_max_bytes: u64,
        /// `stream-node-max-entries`.
        pub stream_node_max_entries: u64,
        // ---- advanced ----
        /// `activerehashing`.
        pub activerehashing: bool,
        /// `client-output-buffer-limit`, indexed by [`ClientClass`].
        pub client_output_buffer_limit: [ClientBufferLimit; 3],
        /// `client-query-buffer-limit` in bytes.
        pub client_query_buffer_limit: u64,
        /// `proto-max-bulk-len` in bytes.
        pub proto_max_bulk_len: u64,
        /// `hz` (clamped to 1..=500 like Redis).
        pub hz: u64,
        /// `dynamic-hz`.
        pub dynamic_hz: bool,
        /// `active-expire-effort` (1..=10).
        pub active_expire_effort: u32,
        /// `lfu-log-factor`.
        pub lfu_log_factor: u32,
        /// `lfu-decay-time` in minutes.
        pub lfu_decay_time: u32,
        /// `jemalloc-bg-thread`.
        pub jemalloc_bg_thread: bool,
        /// `activedefrag` (can never be turned on: there is no defragmenter).
        pub activedefrag: bool,
        /// `active-defrag-ignore-bytes`.
        pub active_defrag_ignore_bytes: u64,
        /// `active-defrag-threshold-lower`.
        pub active_defrag_threshold_lower: u32,
        /// `active-defrag-threshold-upper`.
        pub active_defrag_threshold_upper: u32,
        /// `active-defrag-cycle-min`.
        pub active_defrag_cycle_min: u32,
        /// `active-defrag-cycle-max`.
        pub active_defrag_cycle_max: u32,
        /// `active-defrag-max-scan-fields`.
        pub active_defrag_max_scan_fields: u64,
        /// `use-exit-on-panic` (hidden, testing).
        pub use_exit_on_panic: bool,
        /// `watchdog-period` (hidden, testing).
        pub watchdog_period: u64,
        // ---- file-only directives ----
        /// `user` directives, each the arguments after `user` (applied by ACL).
        pub users: Vec<Vec<String>>,
        /// `rename-command from to` directives in order (`to` empty = remove).
        pub rename_commands: Vec<(String, String)>,
        /// The config file given at start-up, absolute (None: none, or stdin only).
        config_file: Option<PathBuf>,
    }
}

/// A configuration error that stops start-up. Its `Display` is the complete
/// text to print on stderr before exiting with status 1.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A directive was rejected, in Redis's "FATAL CONFIG FILE ERROR" format
    /// (`line` is the 1-based line number and its trimmed text, absent for
    /// checks made after the whole configuration was read).
    #[error("{}", fatal_text(.line.as_ref(), .message))]
    Fatal {
        /// Line number and text of the offending line.
        line: Option<(usize, String)>,
        /// What was wrong, as Redis words it.
        message: String,
    },
    /// A config file (or an included one) could not be opened.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    Open {
        /// The path as given.
        path: String,
        /// The system error text.
        reason: String,
    },
    /// The configuration could not be read from standard input.
    #[error("Fatal error, can't read config from stdin: {0}")]
    Stdin(String),
}

fn fatal_text(line: Option<&(usize, String)>, message: &str) -> String {
    let mut s = format!("\n*** FATAL CONFIG FILE ERROR (tessera-node {VERSION}) ***\n");
    if let Some((n, text)) = line {
        s.push_str(&format!("Reading the configuration file, at line {n}\n>>> '{text}'\n"));
    }
    s.push_str(message);
    s
}

/// Hooks for [`Config::load_with`].
#[derive(Default)]
pub struct LoadOptions<'a> {
    /// Whether a (lowercase) command name exists in the server's command
    /// table, so that `rename-command` fails like Redis ("No such command in
    /// rename-command", "Target command name already exists"). Without it,
    /// every `rename-command` is accepted and left to the server.
    pub command_exists: Option<&'a dyn Fn(&str) -> bool>,
    /// Where a `-` argument reads the configuration from (default: stdin).
    pub stdin: Option<&'a mut dyn Read>,
}

/// Flags of one directive, for the server (redaction, -LOADING checks, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectiveInfo {
    /// Canonical name.
    pub name: &'static str,
    /// Alternative name (`slaveof`, `hash-max-ziplist-entries`, ...).
    pub alias: Option<&'static str>,
    /// CONFIG SET refuses it.
    pub immutable: bool,
    /// CONFIG SET needs `enable-protected-configs`.
    pub protected: bool,
    /// Its CONFIG SET value must be redacted from SLOWLOG/MONITOR.
    pub sensitive: bool,
    /// CONFIG SET is refused with -LOADING while loading a dataset.
    pub deny_loading: bool,
    /// CONFIG GET patterns do not match it (only its exact name).
    pub hidden: bool,
    /// It takes several arguments.
    pub multi_arg: bool,
    /// The server acts on it; otherwise it is accepted and stored only.
    pub applied: bool,
}

impl DirectiveInfo {
    fn of(d: &Directive) -> DirectiveInfo {
        DirectiveInfo {
            name: d.name,
            alias: d.alias,
            immutable: d.has(IMMUTABLE),
            protected: d.has(PROTECTED),
            sensitive: d.has(SENSITIVE),
            deny_loading: d.has(DENY_LOADING),
            hidden: d.has(HIDDEN),
            multi_arg: d.has(MULTI_ARG),
            applied: d.has(APPLIED),
        }
    }
}

impl Default for Config {
    /// Redis 7.0's defaults (`dir` is the current directory).
    fn default() -> Config {
        let mut c = Config::blank();
        for d in TABLE {
            d.init(&mut c);
        }
        c
    }
}

impl std::fmt::Debug for Config {
    /// Deliberately short: never prints passwords.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("config_file", &self.config_file)
            .field("port", &self.port)
            .field("bind", &self.bind)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads the configuration from redis-server style arguments (without
    /// the program name): an optional config file path first (any first
    /// argument not starting with `-`), `-` (first or last) to read config
    /// text from stdin, then `--directive value ...` options, which are
    /// appended after the file as config lines exactly as redis-server does
    /// (`--save` with no value means `save ""`; a lone `--name` takes the
    /// following arguments as its values, even ones starting with `--`).
    ///
    /// After loading it runs Redis's final checks (log file can be opened,
    /// no `replicaof` in cluster mode, `hz` clamped) and tessera-node's own:
    /// `daemonize yes` is refused (run under a supervisor instead), and so are
    /// `loadmodule` and module configs (no module support).
    ///
    /// # Errors
    /// The first problem, with Redis's wording and line number.
    pub fn load(args: &[String]) -> Result<Config, ConfigError> {
        Config::load_with(args, LoadOptions::default())
    }

    /// [`Config::load`] with hooks (command table for `rename-command`,
    /// alternative stdin).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with(args: &[String], opts: LoadOptions<'_>) -> Result<Config, ConfigError> {
        let argv = parse_argv(args);
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let config_file = argv.config_file.as_deref().map(|f| absolute_path(f, &cwd));
        let mut loader = Loader {
            cfg: Config::default(),
            ctx: SetCtx {
                reading_file: false,
                save_loaded: false,
                cwd,
            },
            command_exists: opts.command_exists,
            renamed_away: HashSet::new(),
            renamed_to: HashSet::new(),
            loadmodules: Vec::new(),
            module_configs: Vec::new(),
        };
        let mut content = Vec::new();
        if let Some(file) = &config_file {
            loader.read_source(file, &mut content)?;
        }
        if argv.from_stdin {
            let read = match opts.stdin {
                Some(r) => r.read_to_end(&mut content),
                None => std::io::stdin().read_to_end(&mut content),
            };
            read.map_err(|e| ConfigError::Stdin(strerror(&e)))?;
        }
        content.push(b'\n');
        content.extend_from_slice(&argv.options);
        loader.load_text(&content)?;
        loader.finish(config_file.map(PathBuf::from))
    }

    /// The config file given at start-up, as an absolute path (INFO's
    /// `config_file`); None when started without one.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// CONFIG GET: for each pattern, every matching (name, value) pair with
    /// the value rendered as Redis 7.0 renders it. A pattern without glob
    /// characters is looked up exactly (case-insensitively, hidden directives
    /// included, the name echoed as given); glob patterns match names and
    /// aliases case-insensitively. A name is reported once.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
                let name = String::from_utf8_lossy(pattern).into_owned();
                if let Some((d, _)) = lookup(&name)
                    && seen.insert(name.to_ascii_lowercase())
                {
                    out.push((name, d.get(self)));
                }
                continue;
            }
            for d in TABLE.iter().filter(|d| !d.has(HIDDEN)) {
                for name in std::iter::once(d.name).chain(d.alias) {
                    if !seen.contains(name) && crate::glob::glob_match(pattern, name.as_bytes(), true) {
                        seen.insert(name.to_owned());
                        out.push((name.to_owned(), d.get(self)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local (loopback/unix socket);
    /// see [`Config::set_with`].
    ///
    /// # Errors
    /// As [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, false)
    }

    /// CONFIG SET of one or more name/value pairs, all or nothing, as Redis
    /// 7.0: unknown names, immutable or protected directives and duplicates
    /// are reported before anything is set; then every value is validated
    /// and, if all are valid, all are stored. `client_is_local` matters for
    /// protected directives under `enable-protected-configs local`.
    ///
    /// Returns the canonical names whose value changed; the server performs
    /// the matching side effects (bind/port listeners, chdir to `dir`,
    /// requirepass → default user, ...). If one of those fails, it restores a
    /// clone taken before the call and replies
    /// [`Config::set_failed`]`(name, reason)`.
    ///
    /// # Errors
    /// The exact error line (without the leading `-`).
    pub fn set_with(&mut self, pairs: &[(&[u8], &[u8])], client_is_local: bool) -> Result<Vec<&'static str>, String> {
        let mut chosen: Vec<(&'static Directive, &'static str, String)> = Vec::with_capacity(pairs.len());
        let mut unknown: Option<String> = None;
        let mut failure: Option<(String, &str)> = None;
        for (name, value) in pairs {
            let typed = String::from_utf8_lossy(name).into_owned();
            let Some((d, registered)) = lookup(&typed) else {
                if unknown.is_none() && failure.is_none() {
                    unknown = Some(typed);
                }
                continue;
            };
            if unknown.is_some() || failure.is_some() {
                continue;
            }
            if d.has(IMMUTABLE) {
                failure = Some((typed, "can't set immutable config"));
            } else if d.has(PROTECTED) && !self.enable_protected_configs.allows(client_is_local) {
                failure = Some((typed, "can't set protected config"));
            } else if chosen.iter().any(|(c, r, _)| std::ptr::eq(*c, d) && *r == registered) {
                // An alias and its canonical name are distinct entries in Redis.
                failure = Some((typed, "duplicate parameter"));
            } else {
                chosen.push((d, registered, String::from_utf8_lossy(value).into_owned()));
            }
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        }
        if let Some((name, why)) = failure {
            return Err(Config::set_failed(&name, why));
        }

        let mut next = self.clone();
        let mut ctx = SetCtx {
            reading_file: false,
            save_loaded: true,
            cwd: self.dir.clone(),
        };
        let mut changed = Vec::new();
        for (d, registered, value) in &chosen {
            let before = d.get(&next);
            d.set(&mut next, &set_args(d, value), &mut ctx)
                .map_err(|e| Config::set_failed(registered, &e))?;
            if d.get(&next) != before && !changed.contains(&d.name) {
                changed.push(d.name);
            }
        }
        next.hz = next.hz.clamp(MIN_HZ, MAX_HZ);
        *self = next;
        Ok(changed)
    }

    /// The CONFIG SET failure line Redis sends when directive `name` cannot
    /// be set or applied (e.g. `set_failed("port", "Unable to listen on this
    /// port. Check server logs.")`).
    pub fn set_failed(name: &str, reason: &str) -> String {
        format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
    }

    /// CONFIG REWRITE: rewrites the config file given at start-up the way
    /// Redis does (comments and unknown-to-change lines kept, changed
    /// directives updated in place, new non-default ones appended after a
    /// `# Generated by CONFIG REWRITE` line, leftovers blanked), atomically.
    ///
    /// # Errors
    /// The exact error line: "ERR The server is running without a config
    /// file", or "ERR Rewriting config file: `reason`".
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self
            .config_file
            .as_deref()
            .ok_or("ERR The server is running without a config file")?;
        let io_err = |e: std::io::Error| format!("ERR Rewriting config file: {}", strerror(&e));
        let mut st = RewriteState::read(path).map_err(io_err)?;
        for d in TABLE {
            d.rewrite(self, &mut st);
        }
        if self.aclfile.is_empty() {
            for user in &self.users {
                st.rewrite_line("user", format!("user {}", join_args(user)), true);
            }
        }
        st.mark_processed("user");
        st.mark_processed("loadmodule");
        rewrite::overwrite_file(path, &st.finish()).map_err(io_err)
    }

    /// Flags of a directive (by name or alias, any case).
    pub fn directive_info(name: &str) -> Option<DirectiveInfo> {
        lookup(name).map(|(d, _)| DirectiveInfo::of(d))
    }

    /// Every directive of the table, canonical names in Redis's order.
    pub fn directives() -> impl Iterator<Item = DirectiveInfo> {
        TABLE.iter().map(DirectiveInfo::of)
    }

    /// The process title for `title` (the executable path and arguments)
    /// from `proc-title-template`, as Redis builds it; None if the template
    /// is invalid.
    pub fn proc_title(&self, title: &str) -> Option<String> {
        self.expand_proc_title(&self.proc_title_template, title)
    }

    /// Redis's template expansion for `proc-title-template`: `{name}` is a
    /// variable, `{{` a literal brace; unknown variables and unterminated
    /// braces are invalid; the result is trimmed of spaces.
    fn expand_proc_title(&self, template: &str, title: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if after.is_empty() {
                return None;
            }
            if let Some(tail) = after.strip_prefix('{') {
                out.push('{');
                rest = tail;
                continue;
            }
            let close = after.find('}')?;
            out.push_str(&self.proc_title_variable(&after[..close], title)?);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Some(out.trim_matches(' ').to_owned())
    }

    fn proc_title_variable(&self, name: &str, title: &str) -> Option<String> {
        Some(match name {
            "title" => title.to_owned(),
            "listen-addr" if self.port != 0 || self.tls_port != 0 => {
                let addr = self.bind.first().map_or("*", String::as_str);
                format!("{addr}:{}", if self.port != 0 { self.port } else { self.tls_port })
            }
            "listen-addr" => format!("unixsocket:{}", self.unixsocket.as_deref().unwrap_or("")),
            "server-mode" if self.cluster_enabled => "[cluster]".to_owned(),
            "server-mode" => String::new(),
            "config-file" => self
                .config_file
                .as_ref()
                .map_or("-".to_owned(), |p| p.to_string_lossy().into_owned()),
            "port" => self.port.to_string(),
            "tls-port" => self.tls_port.to_string(),
            "unixsocket" => self.unixsocket.clone().unwrap_or_default(),
            _ => return None,
        })
    }
}

/// Redis's CONFIG_MIN_HZ / CONFIG_MAX_HZ.
const MIN_HZ: u64 = 1;
const MAX_HZ: u64 = 500;

/// Deprecated directives Redis accepts and ignores (with exactly one argument).
const DEPRECATED: [&str; 3] = [
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Joins arguments into a config line, quoting those that need it.
fn join_args(args: &[String]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| {
            let plain = !a.is_empty() && a.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'');
            if plain { a.clone() } else { repr(a.as_bytes()) }
        })
        .collect();
    quoted.join(" ")
}

/// redis-server's command line, split into its parts.
struct Argv {
    config_file: Option<String>,
    from_stdin: bool,
    /// `--name value` options rendered as config lines.
    options: Vec<u8>,
}

/// redis-server's `main()` argument handling.
fn parse_argv(args: &[String]) -> Argv {
    let mut argv = Argv {
        config_file: None,
        from_stdin: false,
        options: Vec::new(),
    };
    let mut j = 0;
    if let Some(first) = args.first()
        && !first.starts_with('-')
    {
        argv.config_file = Some(first.clone());
        j = 1;
    }
    let last = args.len().saturating_sub(1);
    let mut handled_last_arg = true;
    while j < args.len() {
        let arg = &args[j];
        if arg == "-" && (j == 0 || j == last) {
            argv.from_stdin = true;
        } else if handled_last_arg && arg.starts_with("--") {
            if !argv.options.is_empty() {
                argv.options.push(b'\n');
            }
            argv.options.extend_from_slice(&arg.as_bytes()[2..]);
            argv.options.push(b' ');
            let words = split_args(arg.as_bytes()).map_or(0, |v| v.len());
            if words == 1 {
                // Only a name: the next arguments are its values.
                handled_last_arg = false;
                let next_is_option = j != last && args[j + 1].starts_with("--");
                if arg.eq_ignore_ascii_case("--save") && next_is_option {
                    argv.options.extend_from_slice(b"\"\"");
                    handled_last_arg = true;
                } else if arg.eq_ignore_ascii_case("--save") && j == last {
                    argv.options.extend_from_slice(b"\"\"");
                } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                    handled_last_arg = true;
                }
            } else {
                handled_last_arg = true;
            }
        } else {
            argv.options.extend_from_slice(repr(arg.as_bytes()).as_bytes());
            argv.options.push(b' ');
            handled_last_arg = true;
        }
        j += 1;
    }
    argv
}

/// Redis's `getAbsolutePath`: trims blanks, keeps absolute paths, otherwise
/// joins to `cwd`, folding leading `../` components.
fn absolute_path(filename: &str, cwd: &Path) -> String {
    let mut rel = filename.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return rel.to_owned();
    }
    let mut abs = cwd.to_string_lossy().into_owned();
    if !abs.ends_with('/') {
        abs.push('/');
    }
    while let Some(tail) = rel.strip_prefix("../") {
        rel = tail;
        if abs.len() > 1 {
            let cut = abs[..abs.len() - 1].rfind('/').map_or(1, |p| p + 1);
            abs.truncate(cut);
        }
    }
    abs.push_str(rel);
    abs
}

/// Expands a wildcard path like glob(3) without flags: sorted matches of
/// existing paths; `*`/`?` do not match a leading dot unless the pattern
/// component starts with one.
fn glob_paths(pattern: &str, cwd: &Path) -> Vec<String> {
    let absolute = pattern.starts_with('/');
    let mut found: Vec<String> = vec![if absolute { "/".to_owned() } else { String::new() }];
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, comp) in components.iter().enumerate() {
        let is_last = i + 1 == components.len();
        let magic = comp.contains(['*', '?', '[']);
        let mut next = Vec::new();
        for base in &found {
            let join = |name: &str| {
                if base.is_empty() || base.ends_with('/') {
                    format!("{base}{name}")
                } else {
                    format!("{base}/{name}")
                }
            };
            if !magic {
                let p = join(comp);
                let real = resolve(cwd, &p);
                if (is_last && real.exists()) || (!is_last && real.is_dir()) {
                    next.push(p);
                }
                continue;
            }
            let dir = resolve(cwd, if base.is_empty() { "." } else { base });
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') || comp.starts_with('.'))
                .filter(|n| crate::glob::glob_match(comp.as_bytes(), n.as_bytes(), false))
                .collect();
            names.sort();
            for n in names {
                let p = join(&n);
                if is_last || resolve(cwd, &p).is_dir() {
                    next.push(p);
                }
            }
        }
        found = next;
    }
    if components.is_empty() {
        return Vec::new();
    }
    found.sort();
    found
}

/// One start-up load (Redis's `loadServerConfig` and friends).
struct Loader<'a> {
    cfg: Config,
    ctx: SetCtx,
    command_exists: Option<&'a dyn Fn(&str) -> bool>,
    /// Commands removed from the table by `rename-command`.
    renamed_away: HashSet<String>,
    /// Names added to the table by `rename-command`.
    renamed_to: HashSet<String>,
    loadmodules: Vec<Vec<String>>,
    module_configs: Vec<(String, String)>,
}

impl Loader<'_> {
    /// Appends the content of `filename` (or of every file its wildcard
    /// matches) to `content`.
    fn read_source(&self, filename: &str, content: &mut Vec<u8>) -> Result<(), ConfigError> {
        let paths = if filename.contains(['*', '?', '[']) {
            glob_paths(filename, &self.ctx.cwd)
        } else {
            vec![filename.to_owned()]
        };
        for path in paths {
            match std::fs::read(resolve(&self.ctx.cwd, &path)) {
                Ok(bytes) => content.extend_from_slice(&bytes),
                // fopen() succeeds on a directory and reading it yields nothing.
                Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {}
                Err(e) => {
                    return Err(ConfigError::Open {
                        path,
                        reason: strerror(&e),
                    });
                }
            }
        }
        Ok(())
    }

    /// Redis's `loadServerConfigFromString`.
    fn load_text(&mut self, content: &[u8]) -> Result<(), ConfigError> {
        let content = match content.iter().position(|b| *b == 0) {
            Some(n) => &content[..n],
            None => content,
        };
        self.ctx.reading_file = true;
        for (i, raw) in content.split(|b| *b == b'\n').enumerate() {
            let line = trim_line(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            self.load_line(line).map_err(|e| match e {
                LineError::Message(message) => ConfigError::Fatal {
                    line: Some((i + 1, String::from_utf8_lossy(line).into_owned())),
                    message,
                },
                LineError::Complete(e) => e,
            })?;
        }
        let fatal = |message: String| ConfigError::Fatal { line: None, message };
        if !self.cfg.logfile.is_empty() {
            let path = resolve(&self.ctx.cwd, &self.cfg.logfile);
            if let Err(e) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
                return Err(fatal(format!("Can't open the log file: {}", strerror(&e))));
            }
        }
        if self.cfg.cluster_enabled && self.cfg.replicaof.is_some() {
            return Err(fatal("replicaof directive not allowed in cluster mode".to_owned()));
        }
        self.cfg.hz = self.cfg.hz.clamp(MIN_HZ, MAX_HZ);
        self.ctx.reading_file = false;
        Ok(())
    }

    /// One non-comment config line.
    fn load_line(&mut self, line: &[u8]) -> Result<(), LineError> {
        let words = split_args(line).ok_or("Unbalanced quotes in configuration line")?;
        let mut argv: Vec<String> = words.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        let Some(first) = argv.first_mut() else { return Ok(()) };
        first.make_ascii_lowercase();
        let name = argv[0].clone();
        let argc = argv.len();

        if let Some((d, _)) = lookup(&name) {
            if !d.has(MULTI_ARG) && argc != 2 {
                return Err("wrong number of arguments".into());
            }
            let args: Vec<String> = if d.has(MULTI_ARG) && argc == 2 && !argv[1].is_empty() {
                // A single argument of a multi-argument directive (typically
                // from `--save "900 1"`) is split like a config line.
                split_args(argv[1].as_bytes())
                    .unwrap_or_default()
                    .iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect()
            } else {
                argv[1..].to_vec()
            };
            return Ok(d.set(&mut self.cfg, &args, &mut self.ctx)?);
        }
        if DEPRECATED.contains(&name.as_str()) && argc == 2 {
            return Ok(());
        }
        match name.as_str() {
            "include" if argc == 2 => {
                // An error inside the included file is reported with that
                // file's line numbers, as Redis (which exits from inside the
                // nested load) does.
                let mut content = Vec::new();
                self.read_source(&argv[1], &mut content).map_err(LineError::Complete)?;
                self.load_text(&content).map_err(LineError::Complete)
            }
            "rename-command" if argc == 3 => Ok(self.rename_command(&argv[1], &argv[2])?),
            "user" if argc >= 2 => {
                self.cfg.users.push(argv[1..].to_vec());
                Ok(())
            }
            "loadmodule" if argc >= 2 => {
                self.loadmodules.push(argv[1..].to_vec());
                Ok(())
            }
            _ if name.contains('.') => {
                if argc < 2 {
                    return Err("Module config specified without value".into());
                }
                self.module_configs.push((name, argv[1..].join(" ")));
                Ok(())
            }
            "sentinel" => {
                // A bare `sentinel` only selects sentinel mode, which is
                // decided before loading; sentinel directives need it.
                if argc != 1 {
                    return Err("sentinel directive while not in sentinel mode".into());
                }
                Ok(())
            }
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    fn rename_command(&mut self, from: &str, to: &str) -> Result<(), String> {
        if let Some(exists) = self.command_exists {
            let from_l = from.to_ascii_lowercase();
            let to_l = to.to_ascii_lowercase();
            let present = |s: &Self, n: &str| s.renamed_to.contains(n) || (exists(n) && !s.renamed_away.contains(n));
            if !present(self, &from_l) {
                return Err("No such command in rename-command".to_owned());
            }
            if !self.renamed_to.remove(&from_l) {
                self.renamed_away.insert(from_l);
            }
            if !to_l.is_empty() {
                if present(self, &to_l) {
                    return Err("Target command name already exists".to_owned());
                }
                self.renamed_to.insert(to_l);
            }
        }
        self.cfg.rename_commands.push((from.to_owned(), to.to_owned()));
        Ok(())
    }

    /// Checks made once everything is read, then the result.
    fn finish(self, config_file: Option<PathBuf>) -> Result<Config, ConfigError> {
        let fatal = |message: String| Err(ConfigError::Fatal { line: None, message });
        if let Some(module) = self.loadmodules.first() {
            return fatal(format!(
                "Module {} failed to load: tessera-node does not support modules",
                module.first().map_or("", String::as_str)
            ));
        }
        if !self.module_configs.is_empty() {
            return fatal(
                "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"
                    .to_owned(),
            );
        }
        if self.cfg.daemonize {
            return fatal(
                "daemonize yes is not supported: tessera-node always runs in the foreground. Run it under a \
                 process supervisor (systemd, runit, s6, a container runtime, ...) and set 'daemonize no'."
                    .to_owned(),
            );
        }
        let mut cfg = self.cfg;
        cfg.config_file = config_file;
        Ok(cfg)
    }
}

/// Why a config line failed.
enum LineError {
    /// A message to report with the current line.
    Message(String),
    /// A complete error (from an included file, or a file that cannot be opened).
    Complete(ConfigError),
}

impl From<String> for LineError {
    fn from(message: String) -> Self {
        LineError::Message(message)
    }
}

impl From<&str> for LineError {
    fn from(message: &str) -> Self {
        LineError::Message(message.to_owned())
    }
}

/// Redis trims config lines of these characters only.
fn trim_line(raw: &[u8]) -> &[u8] {
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = raw.iter().position(|b| !is_blank(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !is_blank(b)).map_or(start, |e| e + 1);
    &raw[start..end]
}

#[cfg(test)]
mod tests {
    use super::test_redis::{Redis, Reply};
    use super::*;
    use std::collections::BTreeMap;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/config");

    fn fixture(name: &str) -> PathBuf {
        Path::new(FIXTURES).join(name)
    }

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    fn path_str(p: &Path) -> String {
        p.to_string_lossy().into_owned()
    }

    /// Loads `text` as the config file, followed by `extra` arguments.
    fn load_text(text: &str, extra: &[&str]) -> Result<Config, ConfigError> {
        let dir = tempdir();
        let path = dir.path().join("t.conf");
        std::fs::write(&path, text).expect("write conf");
        let mut args = vec![path_str(&path)];
        args.extend(strings(extra));
        Config::load(&args)
    }

    fn ok(text: &str, extra: &[&str]) -> Config {
        load_text(text, extra).unwrap_or_else(|e| panic!("load failed: {e}"))
    }

    fn get1(c: &Config, name: &str) -> String {
        match c.get(&[name.as_bytes()]).as_slice() {
            [(_, v)] => v.clone(),
            other => panic!("CONFIG GET {name}: {other:?}"),
        }
    }

    fn all(c: &Config) -> BTreeMap<String, String> {
        c.get(&[b"*"]).into_iter().collect()
    }

    fn expected_fatal(line: Option<(usize, &str)>, message: &str) -> String {
        fatal_text(line.map(|(n, t)| (n, t.to_owned())).as_ref(), message)
    }

    fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
        c.set(&pairs)
    }

    fn redis_config_get_all(r: &mut Redis) -> BTreeMap<String, String> {
        r.config_get("*").into_iter().collect()
    }

    // ---- defaults ----------------------------------------------------------

    #[test]
    fn defaults_render_like_redis() {
        let c = Config::default();
        for (name, value) in [
            ("save", "3600 1 300 100 60 10000"),
            ("maxmemory", "0"),
            ("bind", "* -::*"),
            ("port", "6379"),
            ("appendfsync", "everysec"),
            ("maxmemory-policy", "noeviction"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("notify-keyspace-events", ""),
            ("replicaof", ""),
            ("slaveof", ""),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("oom-score-adj-values", "0 200 800"),
            ("shutdown-on-sigint", "default"),
            ("unixsocketperm", "0"),
            ("list-max-ziplist-size", "-2"),
            ("protected-mode", "yes"),
            ("requirepass", ""),
            ("dir", &path_str(&std::env::current_dir().expect("cwd"))),
        ] {
            assert_eq!(get1(&c, name), value, "{name}");
        }
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, ["*", "-::*"]);
        assert_eq!(c.save, DEFAULT_SAVE);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::NoEviction);
        assert_eq!(c.loglevel.as_str(), "notice");
        assert!(c.requirepass.is_none() && c.config_file().is_none());
    }

    /// The defaults equal a fresh redis-server 7.0.15's CONFIG GET * (captured
    /// in a fixture, so this runs without redis-server too).
    #[test]
    fn defaults_match_captured_redis_defaults() {
        let text = std::fs::read_to_string(fixture("redis-7.0-defaults.tsv")).expect("fixture");
        let want: BTreeMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let c = Config::default();
        let mut got = all(&c);
        for hidden in [
            "rdb-key-save-delay",
            "key-load-delay",
            "watchdog-period",
            "use-exit-on-panic",
        ] {
            got.insert(hidden.to_owned(), get1(&c, hidden));
        }
        got.insert(
            "loading-process-events-interval-bytes".into(),
            get1(&c, "loading-process-events-interval-bytes"),
        );
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "same directive names"
        );
        for (name, value) in &want {
            if matches!(name.as_str(), "port" | "dir") {
                continue; // given on redis-server's command line for the capture
            }
            assert_eq!(&got[name], value, "{name}");
        }
    }

    /// Same against a live redis-server, when installed.
    #[test]
    fn defaults_match_live_redis() {
        let Some(mut r) = Redis::start() else {
            eprintln!("note: redis-server not found; skipping the live defaults comparison");
            return;
        };
        let want = redis_config_get_all(&mut r);
        let got = all(&Config::default());
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
        // Set on the test server's command line.
        let allowed = ["port", "dir", "bind", "save"];
        for (name, value) in &want {
            if !allowed.contains(&name.as_str()) {
                assert_eq!(&got[name], value, "{name}");
            }
        }
    }

    // ---- loading -------------------------------------------------------------

    #[test]
    fn file_then_command_line_options() {
        let c = ok(
            "port 1000\nmaxmemory 1mb\n# comment\n   loglevel   warning  \n",
            &["--port", "2000"],
        );
        assert_eq!(c.port, 2000);
        assert_eq!(c.maxmemory, 1 << 20);
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert!(c.config_file().is_some_and(Path::is_absolute));

        let c = ok(
            "",
            &[
                "--maxmemory",
                "2gb",
                "--maxmemory-policy",
                "allkeys-lru",
                "--slaveof",
                "10.0.0.1",
                "6380",
            ],
        );
        assert_eq!(c.maxmemory, 2 << 30);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
        assert_eq!(c.replicaof, Some(("10.0.0.1".to_owned(), 6380)));
        assert_eq!(get1(&c, "slaveof"), "10.0.0.1 6380");

        // Directive names are case-insensitive; later lines win.
        let c = ok("PORT 1\nPort 2\nMaxMemory-Policy VOLATILE-LFU\n", &[]);
        assert_eq!(c.port, 2);
        assert_eq!(get1(&c, "maxmemory-policy"), "volatile-lfu");
    }

    /// Observed with redis-server 7.0.15 for each command line.
    #[test]
    fn argv_options_like_redis_server() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["--save", "900", "1", "300", "10"], "save", "900 1 300 10"),
            (&["--save", "--loglevel", "debug"], "save", ""),
            (&["--save", "--loglevel", "debug"], "loglevel", "debug"),
            (&["--loglevel", "debug", "--save"], "save", ""),
            (&["--loglevel debug"], "loglevel", "debug"),
            (&["--bind", "127.0.0.1", "::1"], "bind", "127.0.0.1 ::1"),
            (&["--bind", "127.0.0.1 ::1"], "bind", "127.0.0.1 ::1"),
            (&["--save", "100 2", "--save", "7", "8"], "save", "100 2 7 8"),
            (&["--save", ""], "save", ""),
            (&["--requirepass", "a b"], "requirepass", "a b"),
            (&["--requirepass", "a\"b"], "requirepass", "a\"b"),
            (
                &["--proc-title-template", "{title} x"],
                "proc-title-template",
                "{title} x",
            ),
            (&["--notify-keyspace-events", ""], "notify-keyspace-events", ""),
            (&["--sentinel", "--port", "7"], "port", "7"),
        ];
        for (argv, name, want) in cases {
            let c = ok("", argv);
            assert_eq!(get1(&c, name), *want, "{argv:?}");
        }
        // Without a config file.
        let c = Config::load(&strings(&["--port", "7001"])).expect("load");
        assert_eq!((c.port, c.config_file()), (7001, None));
        let c = Config::load(&[]).expect("load");
        assert_eq!(c.port, 6379);
    }

    #[test]
    fn config_from_stdin() {
        let mut input: &[u8] = b"port 6000\nmaxmemory 1mb\n";
        let c = Config::load_with(
            &strings(&["-", "--port", "7000"]),
            LoadOptions {
                stdin: Some(&mut input),
                ..LoadOptions::default()
            },
        )
        .expect("load");
        assert_eq!((c.port, c.maxmemory, c.config_file()), (7000, 1 << 20, None));

        // "-" as the last argument, after a config file.
        let dir = tempdir();
        let path = dir.path().join("a.conf");
        std::fs::write(&path, "port 1\nhz 50\n").expect("write");
        let mut input: &[u8] = b"port 2\n";
        let c = Config::load_with(
            &[path_str(&path), "--hz".into(), "60".into(), "-".into()],
            LoadOptions {
                stdin: Some(&mut input),
                ..LoadOptions::default()
            },
        )
        .expect("load");
        assert_eq!((c.port, c.hz), (2, 60));
        assert_eq!(c.config_file(), Some(path.as_path()));
    }

    #[test]
    fn absolute_config_path_like_redis() {
        let cwd = Path::new("/a/b/c");
        assert_eq!(absolute_path("x.conf", cwd), "/a/b/c/x.conf");
        assert_eq!(absolute_path("../x.conf", cwd), "/a/b/x.conf");
        assert_eq!(absolute_path("../../../../x.conf", cwd), "/x.conf");
        assert_eq!(absolute_path(" /etc/redis.conf\n", cwd), "/etc/redis.conf");
        assert_eq!(absolute_path("./x.conf", Path::new("/")), "/./x.conf");
    }

    #[test]
    fn save_lines_append_while_loading() {
        // The first `save` line of the configuration replaces the defaults,
        // later ones append; `save ""` clears.
        let c = ok("save 900 1\nsave 300 10\n", &[]);
        assert_eq!(get1(&c, "save"), "900 1 300 10");
        let c = ok("save 900 1\n", &["--save", "60", "5"]);
        assert_eq!(get1(&c, "save"), "900 1 60 5");
        let c = ok("save 900 1\nsave \"\"\nsave 5 5\n", &[]);
        assert_eq!(get1(&c, "save"), "5 5");
        let c = ok("save 900 1\nsave 5 5\nsave \"\"\nsave 7 7\nsave 8 8\n", &[]);
        assert_eq!(get1(&c, "save"), "7 7 8 8");
        let c = ok("save 900 1\nsave \"\"\n", &[]);
        assert_eq!(get1(&c, "save"), "");
        let c = ok("save 5 \"\"\n", &[]);
        assert_eq!(get1(&c, "save"), "5 0", "strtoll(\"\") is 0, like Redis");
        assert_eq!(ok("save \"\"\n", &[]).save, []);
    }

    #[test]
    fn include_like_redis() {
        let dir = tempdir();
        let d = dir.path();
        std::fs::create_dir(d.join("conf.d")).expect("mkdir");
        std::fs::write(d.join("conf.d/b.conf"), "maxmemory 2mb\n").expect("w");
        std::fs::write(d.join("conf.d/a.conf"), "maxmemory 1mb\nhz 20\n").expect("w");
        std::fs::write(d.join("conf.d/.hidden.conf"), "hz 99\n").expect("w");
        std::fs::write(d.join("inc.conf"), "port 1234\n").expect("w");
        // A relative include resolves against `dir` (Redis chdir()s).
        let text = format!(
            "dir {}\ninclude inc.conf\ninclude {}/conf.d/*.conf\ninclude {}/none/*.conf\n",
            path_str(d),
            path_str(d),
            path_str(d)
        );
        let c = ok(&text, &[]);
        assert_eq!(c.port, 1234);
        assert_eq!(c.maxmemory, 2 << 20, "sorted: a.conf then b.conf");
        assert_eq!(c.hz, 20, "dot files are not matched by *");

        // Missing file: Redis's log line (the path as written).
        let e = load_text("include /nonexistent/x.conf\n", &[]).expect_err("missing include");
        assert_eq!(
            e.to_string(),
            "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"
        );

        // An error inside an included file reports that file's line.
        std::fs::write(d.join("bad.conf"), "port 1\nfoo\n").expect("w");
        let e = load_text(&format!("hz 5\ninclude {}/bad.conf\n", path_str(d)), &[]).expect_err("bad");
        assert_eq!(
            e.to_string(),
            expected_fatal(Some((2, "foo")), "Bad directive or wrong number of arguments")
        );

        // After an include, Redis no longer treats `save` as "reading the
        // config file": each later save line replaces the previous ones.
        std::fs::write(d.join("s.conf"), "save 60 1\n").expect("w");
        let c = ok(
            &format!("include {}/s.conf\nsave 900 1\nsave 300 10\n", path_str(d)),
            &[],
        );
        assert_eq!(get1(&c, "save"), "300 10");
    }

    #[test]
    fn file_only_directives() {
        let c = ok(
            "user alice on >pw ~* +@all\nuser bob off\nrename-command FLUSHALL \"\"\nrename-command CONFIG cfg\n\
             sentinel\nlist-max-ziplist-entries 5\nlist-max-ziplist-value 7\nlua-replicate-commands yes\n",
            &[],
        );
        assert_eq!(
            c.users,
            vec![
                strings(&["alice", "on", ">pw", "~*", "+@all"]),
                strings(&["bob", "off"])
            ]
        );
        assert_eq!(
            c.rename_commands,
            vec![("FLUSHALL".into(), String::new()), ("CONFIG".into(), "cfg".into())]
        );

        for (text, line, message) in [
            (
                "daemonize yes\n",
                None,
                "daemonize yes is not supported: tessera-node always runs in the foreground. \
              Run it under a process supervisor (systemd, runit, s6, a container runtime, ...) and set 'daemonize no'.",
            ),
            (
                "loadmodule /x/m.so a b\n",
                None,
                "Module /x/m.so failed to load: tessera-node does not support modules",
            ),
            (
                "mymod.opt 5\n",
                None,
                "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting",
            ),
            (
                "mymod.opt\n",
                Some((1, "mymod.opt")),
                "Module config specified without value",
            ),
            (
                "sentinel monitor m 1 2\n",
                Some((1, "sentinel monitor m 1 2")),
                "sentinel directive while not in sentinel mode",
            ),
            (
                "user\n",
                Some((1, "user")),
                "Bad directive or wrong number of arguments",
            ),
            (
                "include a b\n",
                Some((1, "include a b")),
                "Bad directive or wrong number of arguments",
            ),
            (
                "rename-command GET\n",
                Some((1, "rename-command GET")),
                "Bad directive or wrong number of arguments",
            ),
            (
                "list-max-ziplist-entries\n",
                Some((1, "list-max-ziplist-entries")),
                "Bad directive or wrong number of arguments",
            ),
        ] {
            let e = load_text(text, &[]).expect_err(text);
            assert_eq!(e.to_string(), expected_fatal(line, message), "{text:?}");
        }
        // The last daemonize wins, as with any directive.
        assert!(!ok("daemonize yes\n", &["--daemonize", "no"]).daemonize);
    }

    #[test]
    fn rename_command_against_the_command_table() {
        let table = ["get", "set", "flushall", "config"];
        let exists = |name: &str| table.contains(&name);
        let load = |text: &str| {
            let dir = tempdir();
            let path = dir.path().join("r.conf");
            std::fs::write(&path, text).expect("write");
            Config::load_with(
                &[path_str(&path)],
                LoadOptions {
                    command_exists: Some(&exists),
                    ..LoadOptions::default()
                },
            )
        };
        let c = load("rename-command GET \"\"\nrename-command SET GET\nrename-command get x\n").expect("renames");
        assert_eq!(c.rename_commands.len(), 3);
        let e = load("rename-command FOO bar\n").expect_err("unknown");
        assert_eq!(
            e.to_string(),
            expected_fatal(Some((1, "rename-command FOO bar")), "No such command in rename-command")
        );
        let e = load("rename-command get set\n").expect_err("exists");
        assert_eq!(
            e.to_string(),
            expected_fatal(
                Some((1, "rename-command get set")),
                "Target command name already exists"
            )
        );
        let e = load("rename-command config \"\"\nrename-command config x\n").expect_err("gone");
        assert!(e.to_string().contains("No such command in rename-command"));
    }

    /// Every fatal error, in Redis's words and format (observed with
    /// redis-server 7.0.15, and re-checked against it when installed). Each
    /// case's config text gets a `port 0` first line (so that nothing binds
    /// if a case unexpectedly loads); line numbers below count it.
    #[test]
    fn fatal_errors_like_redis() {
        let dir = tempdir();
        let d = path_str(dir.path());
        std::fs::write(dir.path().join("bad-inc.conf"), "port 1\nfoo\n").expect("w");
        let bad_inc = format!("include {d}/bad-inc.conf");
        let too_many_binds = format!("bind {}", (1..=17).map(|n| n.to_string()).collect::<Vec<_>>().join(" "));
        let logfile = format!("logfile {d}/nonexistent/x.log");
        type Case<'a> = (&'a str, &'a [&'a str], Option<(usize, &'a str)>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                "foo bar",
                &[],
                Some((2, "foo bar")),
                "Bad directive or wrong number of arguments",
            ),
            ("port", &[], Some((2, "port")), "wrong number of arguments"),
            ("port 1 2", &[], Some((2, "port 1 2")), "wrong number of arguments"),
            (
                "protected-mode maybe",
                &[],
                Some((2, "protected-mode maybe")),
                "argument must be 'yes' or 'no'",
            ),
            (
                "port 70000",
                &[],
                Some((2, "port 70000")),
                "argument must be between 0 and 65535 inclusive",
            ),
            (
                "port abc",
                &[],
                Some((2, "port abc")),
                "argument couldn't be parsed into an integer",
            ),
            (
                "port 08",
                &[],
                Some((2, "port 08")),
                "argument couldn't be parsed into an integer",
            ),
            (
                "port +8",
                &[],
                Some((2, "port +8")),
                "argument couldn't be parsed into an integer",
            ),
            (
                "timeout 1.5",
                &[],
                Some((2, "timeout 1.5")),
                "argument couldn't be parsed into an integer",
            ),
            (
                "maxmemory 1zz",
                &[],
                Some((2, "maxmemory 1zz")),
                "argument must be a memory value",
            ),
            (
                "maxmemory -1",
                &[],
                Some((2, "maxmemory -1")),
                "argument must be a memory value",
            ),
            (
                "proto-max-bulk-len 1k",
                &[],
                Some((2, "proto-max-bulk-len 1k")),
                "argument must be between 1048576 and 9223372036854775807 inclusive",
            ),
            (
                "maxclients 0",
                &[],
                Some((2, "maxclients 0")),
                "argument must be between 1 and 4294967295 inclusive",
            ),
            (
                "maxclients -1",
                &[],
                Some((2, "maxclients -1")),
                "argument must be between 1 and 4294967295 inclusive",
            ),
            (
                "slowlog-max-len -1",
                &[],
                Some((2, "slowlog-max-len -1")),
                "argument must be between 0 and 9223372036854775807 inclusive",
            ),
            (
                "hash-max-listpack-entries -1",
                &[],
                Some((2, "hash-max-listpack-entries -1")),
                "argument must be between 0 and 9223372036854775807 inclusive",
            ),
            (
                "databases 0",
                &[],
                Some((2, "databases 0")),
                "argument must be between 1 and 2147483647 inclusive",
            ),
            (
                "unixsocketperm 999",
                &[],
                Some((2, "unixsocketperm 999")),
                "argument couldn't be parsed as an octal number",
            ),
            (
                "unixsocketperm 1000",
                &[],
                Some((2, "unixsocketperm 1000")),
                "argument must be between 0 and 777 inclusive",
            ),
            (
                "maxmemory-clients 200%",
                &[],
                Some((2, "maxmemory-clients 200%")),
                "percentage argument must be less or equal to 100",
            ),
            (
                "maxmemory-clients -5",
                &[],
                Some((2, "maxmemory-clients -5")),
                "argument must be a memory or percent value",
            ),
            (
                "maxmemory-policy lol",
                &[],
                Some((2, "maxmemory-policy lol")),
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
              volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
            ),
            (
                "loglevel nothing",
                &[],
                Some((2, "loglevel nothing")),
                "argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
            (
                "appendfsync sometimes",
                &[],
                Some((2, "appendfsync sometimes")),
                "argument(s) must be one of the following: everysec, always, no",
            ),
            (
                "loglevel debug verbose",
                &[],
                Some((2, "loglevel debug verbose")),
                "wrong number of arguments",
            ),
            ("save 0 1", &[], Some((2, "save 0 1")), "Invalid save parameters"),
            ("save 1", &[], Some((2, "save 1")), "Invalid save parameters"),
            (
                "save \"1 2 3\"",
                &[],
                Some((2, "save \"1 2 3\"")),
                "Invalid save parameters",
            ),
            (
                "dir /nonexistent",
                &[],
                Some((2, "dir /nonexistent")),
                "No such file or directory",
            ),
            ("dir \"\"", &[], Some((2, "dir \"\"")), "No such file or directory"),
            ("dir /etc/passwd", &[], Some((2, "dir /etc/passwd")), "Not a directory"),
            (
                "port \"abc",
                &[],
                Some((2, "port \"abc")),
                "Unbalanced quotes in configuration line",
            ),
            (
                "port 'a'b",
                &[],
                Some((2, "port 'a'b")),
                "Unbalanced quotes in configuration line",
            ),
            (
                "sentinel\nport 1\nfoo",
                &[],
                Some((4, "foo")),
                "Bad directive or wrong number of arguments",
            ),
            (
                "list-max-ziplist-entries 5\nbar",
                &[],
                Some((3, "bar")),
                "Bad directive or wrong number of arguments",
            ),
            ("a.b", &[], Some((2, "a.b")), "Module config specified without value"),
            (
                "user",
                &[],
                Some((2, "user")),
                "Bad directive or wrong number of arguments",
            ),
            (
                "sentinel monitor x",
                &[],
                Some((2, "sentinel monitor x")),
                "sentinel directive while not in sentinel mode",
            ),
            (
                &too_many_binds,
                &[],
                Some((2, &too_many_binds)),
                "Too many bind addresses specified.",
            ),
            (
                "client-output-buffer-limit normal 1 2",
                &[],
                Some((2, "client-output-buffer-limit normal 1 2")),
                "Wrong number of arguments in buffer limit configuration.",
            ),
            (
                "client-output-buffer-limit master 1 2 3",
                &[],
                Some((2, "client-output-buffer-limit master 1 2 3")),
                "Invalid client class specified in buffer limit configuration.",
            ),
            (
                "client-output-buffer-limit normal 1 2 -3",
                &[],
                Some((2, "client-output-buffer-limit normal 1 2 -3")),
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            (
                "notify-keyspace-events Q",
                &[],
                Some((2, "notify-keyspace-events Q")),
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
            ),
            (
                "oom-score-adj-values 1 2",
                &[],
                Some((2, "oom-score-adj-values 1 2")),
                "wrong number of arguments",
            ),
            (
                "oom-score-adj-values 0 1 2001",
                &[],
                Some((2, "oom-score-adj-values 0 1 2001")),
                "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
            ),
            (
                "appendfilename a/b",
                &[],
                Some((2, "appendfilename a/b")),
                "appendfilename can't be a path, just a filename",
            ),
            (
                "appendfilename \"\"",
                &[],
                Some((2, "appendfilename \"\"")),
                "appendfilename can't be empty",
            ),
            (
                "dbfilename a/b",
                &[],
                Some((2, "dbfilename a/b")),
                "dbfilename can't be a path, just a filename",
            ),
            (
                "appenddirname \"\"",
                &[],
                Some((2, "appenddirname \"\"")),
                "appenddirname can't be empty",
            ),
            (
                "appenddirname a\\b",
                &[],
                Some((2, "appenddirname a\\b")),
                "appenddirname can't be a path, just a dirname",
            ),
            (
                "proc-title-template \"{foo}\"",
                &[],
                Some((2, "proc-title-template \"{foo}\"")),
                "template format is invalid or contains unknown variables",
            ),
            (
                "proc-title-template \"{title}\"",
                &[],
                Some((2, "proc-title-template \"{title}\"")),
                "template format is invalid or contains unknown variables",
            ),
            (
                "proc-title-template \"x {port\"",
                &[],
                Some((2, "proc-title-template \"x {port\"")),
                "template format is invalid or contains unknown variables",
            ),
            (
                "cluster-announce-hostname \"a_b\"",
                &[],
                Some((2, "cluster-announce-hostname \"a_b\"")),
                "Hostnames may only contain alphanumeric characters, hyphens or dots",
            ),
            (
                "activedefrag yes",
                &[],
                Some((2, "activedefrag yes")),
                "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified \
              Jemalloc like the one shipped by default with the Redis source distribution",
            ),
            (
                "latency-tracking-info-percentiles abc",
                &[],
                Some((2, "latency-tracking-info-percentiles abc")),
                "Invalid latency-tracking-info-percentiles parameters",
            ),
            (
                "latency-tracking-info-percentiles 50 101",
                &[],
                Some((2, "latency-tracking-info-percentiles 50 101")),
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            ),
            (
                "replicaof 1.2.3.4",
                &[],
                Some((2, "replicaof 1.2.3.4")),
                "wrong number of arguments",
            ),
            (
                "replicaof 1.2.3.4 x",
                &[],
                Some((2, "replicaof 1.2.3.4 x")),
                "Invalid master port",
            ),
            (
                "slaveof 1.2.3.4 70000",
                &[],
                Some((2, "slaveof 1.2.3.4 70000")),
                "Invalid master port",
            ),
            (
                "shutdown-on-sigint",
                &[],
                Some((2, "shutdown-on-sigint")),
                "argument(s) must be one of the following: default, save, nosave, now, force",
            ),
            (
                "shutdown-on-sigint \"\"",
                &[],
                Some((2, "shutdown-on-sigint \"\"")),
                "argument(s) must be one of the following: default, save, nosave, now, force",
            ),
            (
                "shutdown-on-sigint save nosave",
                &[],
                Some((2, "shutdown-on-sigint save nosave")),
                "shutdown options SAVE and NOSAVE can't be used simultaneously",
            ),
            (
                "shutdown-on-sigterm \"save now\" force",
                &[],
                Some((2, "shutdown-on-sigterm \"save now\" force")),
                "argument(s) must be one of the following: default, save, nosave, now, force",
            ),
            (
                &bad_inc,
                &[],
                Some((2, "foo")),
                "Bad directive or wrong number of arguments",
            ),
            (
                &logfile,
                &[],
                None,
                "Can't open the log file: No such file or directory",
            ),
            (
                "cluster-enabled yes\nreplicaof 1.2.3.4 5",
                &[],
                None,
                "replicaof directive not allowed in cluster mode",
            ),
            // Command-line options become lines after the file's.
            (
                "",
                &["--port", "abc"],
                Some((4, "port \"abc\"")),
                "argument couldn't be parsed into an integer",
            ),
            (
                "",
                &["--loglevel", "--maxmemory", "5"],
                Some((4, "loglevel \"--maxmemory\" \"5\"")),
                "wrong number of arguments",
            ),
            (
                "",
                &["--maxmemory", "1mb", "--loglevel"],
                Some((5, "loglevel")),
                "wrong number of arguments",
            ),
            (
                "",
                &["--hz", "10", "--foo", "bar"],
                Some((5, "foo \"bar\"")),
                "Bad directive or wrong number of arguments",
            ),
        ];
        let redis_found = Command::new("redis-server").arg("--version").output().is_ok();
        if !redis_found {
            eprintln!("note: redis-server not found; checking the recorded messages only");
        }
        for (i, (text, extra, line, message)) in cases.iter().enumerate() {
            let conf = dir.path().join(format!("case{i}.conf"));
            std::fs::write(&conf, format!("port 0\n{text}\n")).expect("write case");
            let mut args = vec![path_str(&conf)];
            args.extend(strings(extra));
            let ours = Config::load(&args).map(|_| ()).expect_err(text).to_string();
            let want = expected_fatal(*line, message);
            assert_eq!(ours, want, "case {text:?} {extra:?}");
            if redis_found {
                let theirs = Redis::fatal_output(&args).unwrap_or_else(|| panic!("redis accepted {text:?}"));
                let theirs = normalize_version(&theirs);
                assert_eq!(
                    ours.trim_end(),
                    theirs.trim_end(),
                    "redis-server disagrees on {text:?} {extra:?}"
                );
            }
        }
        // Unopenable config file given on the command line: absolute path.
        let e = Config::load(&strings(&["/nonexistent/r.conf"])).expect_err("missing");
        assert_eq!(
            e.to_string(),
            "Fatal error, can't open config file '/nonexistent/r.conf': No such file or directory"
        );
        if redis_found {
            assert_eq!(
                Redis::fatal_output(&strings(&["/nonexistent/r.conf"])).as_deref(),
                Some(e.to_string().as_str())
            );
        }
    }

    fn normalize_version(s: &str) -> String {
        match (s.find("(Redis "), s.find(") ***")) {
            (Some(a), Some(b)) if a < b => format!("{}(tessera-node {VERSION}{}", &s[..a], &s[b..]),
            _ => s.to_owned(),
        }
    }

    use std::process::Command;

    // ---- CONFIG GET ----------------------------------------------------------

    #[test]
    fn config_get_patterns_like_redis() {
        let c = Config::default();
        let names = |pats: &[&str]| -> Vec<String> {
            let pats: Vec<&[u8]> = pats.iter().map(|p| p.as_bytes()).collect();
            let mut n: Vec<String> = c.get(&pats).into_iter().map(|(k, _)| k).collect();
            n.sort();
            n
        };
        assert_eq!(names(&["MAXMEMORY"]), ["MAXMEMORY"], "exact names are echoed as given");
        assert_eq!(
            names(&["maxmemory", "MAXMEMORY", "maxmem*"]),
            [
                "maxmemory",
                "maxmemory-clients",
                "maxmemory-eviction-tenacity",
                "maxmemory-policy",
                "maxmemory-samples"
            ]
        );
        assert_eq!(
            names(&["slaveof", "slave-read*", "replica-read*"]),
            ["replica-read-only", "slave-read-only", "slaveof"]
        );
        assert_eq!(names(&["MAXMEMORY-P*"]), ["maxmemory-policy"], "patterns ignore case");
        assert_eq!(
            names(&["use-exit-on-panic"]),
            ["use-exit-on-panic"],
            "hidden: exact name only"
        );
        assert!(names(&["*exit*"]).is_empty());
        assert!(names(&["nope", "nope*"]).is_empty());
        assert_eq!(names(&["*"]).len(), 192);
        assert_eq!(
            names(&["*max*entries", "hash-max-?iplist-*"]),
            [
                "hash-max-listpack-entries",
                "hash-max-ziplist-entries",
                "hash-max-ziplist-value",
                "set-max-intset-entries",
                "stream-node-max-entries",
                "zset-max-listpack-entries",
                "zset-max-ziplist-entries",
            ]
        );
    }

    // ---- CONFIG SET ----------------------------------------------------------

    #[test]
    fn config_set_is_all_or_nothing() {
        let mut c = Config::default();
        assert_eq!(
            set(&mut c, &[("maxmemory", "1mb"), ("hz", "abc")]),
            Err(Config::set_failed("hz", "argument couldn't be parsed into an integer"))
        );
        assert_eq!(c.maxmemory, 0, "nothing applied");
        assert_eq!(
            set(&mut c, &[("maxmemory", "1mb"), ("hz", "20")]),
            Ok(vec!["maxmemory", "hz"])
        );
        assert_eq!((c.maxmemory, c.hz), (1 << 20, 20));
        assert_eq!(
            set(&mut c, &[("maxmemory", "1mb")]),
            Ok(vec![]),
            "unchanged values are not reported"
        );
        assert_eq!(set(&mut c, &[("slave-read-only", "no")]), Ok(vec!["replica-read-only"]));
        assert_eq!(set(&mut c, &[("hz", "100000")]), Ok(vec!["hz"]));
        assert_eq!(c.hz, 500, "clamped like Redis");
        assert_eq!(set(&mut c, &[("save", "")]), Ok(vec!["save"]));
        assert!(c.save.is_empty());
        assert_eq!(set(&mut c, &[("save", "10 20 30 40")]), Ok(vec!["save"]));
        assert_eq!(get1(&c, "save"), "10 20 30 40", "CONFIG SET replaces");
        assert_eq!(
            set(&mut c, &[("maxmemory-policy", "ALLKEYS-LFU")]),
            Ok(vec!["maxmemory-policy"])
        );
        assert!(c.maxmemory_policy.is_lfu());
        assert_eq!(set(&mut c, &[("requirepass", "pw")]), Ok(vec!["requirepass"]));
        assert_eq!(c.requirepass.as_deref(), Some("pw"));
        assert_eq!(set(&mut c, &[("requirepass", "")]), Ok(vec!["requirepass"]));
        assert_eq!(c.requirepass, None);
        // Error precedence: an unknown name first seen wins, else the first
        // immutable/protected/duplicate one, before any value is checked.
        for (pairs, want) in [
            (
                &[("foo", "1")][..],
                "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
            ),
            (
                &[("hz", "abc"), ("foo", "1")],
                "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
            ),
            (
                &[("Daemonize", "yes"), ("foo", "1")],
                "ERR CONFIG SET failed (possibly related to argument 'Daemonize') - can't set immutable config",
            ),
            (
                &[("foo", "1"), ("daemonize", "yes")],
                "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
            ),
            (
                &[("maxmemory", "abc"), ("dir", "/tmp")],
                "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
            ),
            (
                &[("maxmemory", "1"), ("MAXMEMORY", "2")],
                "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter",
            ),
            (
                &[("MaxMemory", "abc")],
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
            ),
            (
                &[("slave-read-only", "maybe")],
                "ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'",
            ),
            (
                &[("port", "abc")],
                "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
            ),
            (
                &[("replicaof", "no one")],
                "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set immutable config",
            ),
            (
                &[("dbfilename", "x.rdb")],
                "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config",
            ),
        ] {
            let before = all(&c);
            assert_eq!(set(&mut c, pairs), Err(want.to_owned()), "{pairs:?}");
            assert_eq!(all(&c), before, "{pairs:?} changed something");
        }
        // An alias and its canonical name are not duplicates (as in Redis);
        // both are set, in order.
        assert_eq!(
            set(&mut c, &[("replica-read-only", "yes"), ("slave-read-only", "no")]),
            Ok(vec!["replica-read-only"])
        );
        assert!(!c.replica_read_only);
    }

    #[test]
    fn protected_configs_need_permission() {
        let mut c = ok("enable-protected-configs local\n", &[]);
        let dir = tempdir();
        let canonical = std::fs::canonicalize(dir.path()).expect("canonicalize");
        let pairs: [(&[u8], &[u8]); 1] = [(b"dir", dir.path().as_os_str().as_encoded_bytes())];
        assert!(c.set(&pairs).is_err(), "remote client");
        assert_eq!(c.set_with(&pairs, true), Ok(vec!["dir"]));
        assert_eq!(c.dir, canonical);
        // Relative to the current `dir`, like chdir().
        std::fs::create_dir(canonical.join("sub")).expect("mkdir");
        assert_eq!(c.set_with(&[(b"dir", b"sub")], true), Ok(vec!["dir"]));
        assert_eq!(c.dir, canonical.join("sub"));
        assert_eq!(
            c.set_with(&[(b"dir", b"/nonexistent")], true),
            Err(Config::set_failed("dir", "No such file or directory"))
        );
        let c = ok("enable-protected-configs yes\n", &[]);
        assert!(c.clone().set(&[(b"dbfilename", b"x.rdb")]).is_ok());
        assert!(ProtectedAction::Yes.allows(false));
    }

    /// CONFIG SET replies and the values CONFIG GET shows afterwards match a
    /// live redis-server, case by case.
    #[test]
    fn config_set_matches_live_redis() {
        let Some(mut r) = Redis::start() else {
            eprintln!("note: redis-server not found; skipping the live CONFIG SET comparison");
            return;
        };
        // Start from the test server's own command line.
        let tmp = path_str(&std::env::temp_dir());
        let mut c = Config::load(&strings(&["--save", "", "--appendonly", "no", "--dir", &tmp])).expect("load");
        let cases: &[&[(&str, &str)]] = &[
            &[("maxmemory", "")],
            &[("maxmemory", "kb")],
            &[("maxmemory", "1K")],
            &[("maxmemory", "1Kb")],
            &[("maxmemory", " 5")],
            &[("maxmemory", "99999999999999999999")],
            &[("maxmemory", "18446744073709551615kb")],
            &[("maxmemory", "0x10")],
            &[("maxmemory", "00012")],
            &[("maxmemory", "-1")],
            &[("maxmemory", "0")],
            &[("maxmemory-clients", "10%")],
            &[("maxmemory-clients", "101%")],
            &[("maxmemory-clients", "1mb")],
            &[("maxmemory-clients", "0")],
            &[("hz", "1000")],
            &[("hz", "0")],
            &[("hz", "10")],
            &[("oom-score-adj-values", "0 200 5000")],
            &[("oom-score-adj-values", "0 200")],
            &[("oom-score-adj-values", "0 100 300")],
            &[("oom-score-adj-values", "0 200 800")],
            &[("oom-score-adj", "relative")],
            &[("oom-score-adj", "no")],
            &[("notify-keyspace-events", "AKEmn")],
            &[("notify-keyspace-events", "Kn")],
            &[("notify-keyspace-events", "Q")],
            &[("notify-keyspace-events", "")],
            &[("save", "100  10")],
            &[("save", "100 10 ")],
            &[("save", " ")],
            &[("save", "+5 -0")],
            &[("save", "5 +1")],
            &[("save", "")],
            &[("client-output-buffer-limit", "normal 1mb 2mb 3 replica 1 2 3")],
            &[("client-output-buffer-limit", "NORMAL 1 1 1 Replica 2 2 2")],
            &[("client-output-buffer-limit", "master 1 1 1")],
            &[("client-output-buffer-limit", "normal 1 1 -1")],
            &[("client-output-buffer-limit", "normal 1 1")],
            &[("client-output-buffer-limit", "normal 0 0 0 slave 256mb 64mb 60")],
            &[("latency-tracking-info-percentiles", "50 99.99 100 0.5")],
            &[("latency-tracking-info-percentiles", "1e1 +5")],
            &[("latency-tracking-info-percentiles", "101")],
            &[("latency-tracking-info-percentiles", "abc")],
            &[("latency-tracking-info-percentiles", "")],
            &[("latency-tracking-info-percentiles", "50 99 99.9")],
            &[("shutdown-on-sigint", "save now")],
            &[("shutdown-on-sigint", "nosave force")],
            &[("shutdown-on-sigint", "save nosave")],
            &[("shutdown-on-sigint", "default now")],
            &[("shutdown-on-sigint", "")],
            &[("shutdown-on-sigint", "save  now")],
            &[("shutdown-on-sigint", "default")],
            &[("loglevel", "WARNING")],
            &[("loglevel", "nothing")],
            &[("loglevel", "notice")],
            &[("protected-mode", "YES")],
            &[("appendfsync", "no"), ("appendfsync", "always")],
            &[("appendfsync", "everysec")],
            &[("maxmemory-policy", "volatile-ttl"), ("maxmemory-samples", "0")],
            &[("maxmemory-policy", "volatile-ttl"), ("maxmemory-samples", "7")],
            &[("maxmemory-policy", "noeviction"), ("maxmemory-samples", "5")],
            &[("replica-read-only", "no"), ("slave-read-only", "yes")],
            &[("slowlog-log-slower-than", "-2")],
            &[("slowlog-log-slower-than", "-1")],
            &[("slowlog-log-slower-than", "10000")],
            &[("list-max-ziplist-size", "-5")],
            &[("list-max-listpack-size", "-2")],
            &[("lua-time-limit", "100")],
            &[("busy-reply-threshold", "5000")],
            &[("proto-max-bulk-len", "1k")],
            &[("proto-max-bulk-len", "1gb")],
            &[("proto-max-bulk-len", "512mb")],
            &[("client-query-buffer-limit", "2gb")],
            &[("client-query-buffer-limit", "1gb")],
            &[("activedefrag", "yes")],
            &[("cluster-announce-hostname", "a_b")],
            &[("cluster-announce-hostname", "host-1.example")],
            &[("cluster-announce-hostname", "")],
            &[("proc-title-template", "{title} {port}")],
            &[("proc-title-template", "{bad}")],
            &[("proc-title-template", "{title} {listen-addr} {server-mode}")],
            &[("masterauth", "x y")],
            &[("masterauth", "")],
            &[("replica-announce-ip", "1.2.3.4")],
            &[("slave-announce-ip", "")],
            &[("repl-backlog-size", "0")],
            &[("repl-backlog-size", "2mb")],
            &[("repl-backlog-size", "1mb")],
            &[("daemonize", "no")],
            &[("foo", "1"), ("daemonize", "yes")],
            &[("dir", "/tmp")],
            &[("dbfilename", "x")],
            &[("io-threads", "2")],
            &[("hash-max-ziplist-entries", "-1")],
            &[("set-max-intset-entries", "1000")],
            &[("set-max-intset-entries", "512")],
            &[("maxclients", "0")],
            &[("maxclients", "5000")],
            &[("maxclients", "10000")],
            &[("acl-pubsub-default", "allchannels")],
            &[("acl-pubsub-default", "resetchannels")],
            &[("sanitize-dump-payload", "clients")],
            &[("sanitize-dump-payload", "no")],
            &[("tls-auth-clients", "optional")],
            &[("tls-auth-clients", "yes")],
            &[("cluster-preferred-endpoint-type", "hostname")],
            &[("cluster-preferred-endpoint-type", "ip")],
        ];
        for pairs in cases {
            let mut cmd: Vec<&[u8]> = vec![b"CONFIG", b"SET"];
            for (n, v) in *pairs {
                cmd.push(n.as_bytes());
                cmd.push(v.as_bytes());
            }
            let theirs = match r.cmd(&cmd) {
                Reply::Status(s) if s == "OK" => Ok(()),
                Reply::Error(e) => Err(e),
                other => panic!("unexpected reply {other:?}"),
            };
            let ours = set(&mut c, pairs).map(|_| ());
            assert_eq!(ours, theirs, "CONFIG SET {pairs:?}");
            for (name, _) in *pairs {
                let theirs: Vec<(String, String)> = r.config_get(name);
                assert_eq!(c.get(&[name.as_bytes()]), theirs, "CONFIG GET {name} after {pairs:?}");
            }
        }
    }

    // ---- every directive, against redis-server ---------------------------------

    const FIXTURE_PASSWORD: &str = "s3cret \"x\"";

    fn load_all_directives(dir: &Path) -> Config {
        let d = path_str(dir);
        let args = [
            path_str(&dir.join("all.conf")),
            "--port".into(),
            "6399".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            d.clone(),
            "--logfile".into(),
            format!("{d}/ours.log"),
        ];
        Config::load(&args).expect("all-directives fixture loads")
    }

    #[test]
    fn every_directive_loads_renders_and_matches_redis() {
        let dir = tempdir();
        std::fs::copy(fixture("all-directives.conf"), dir.path().join("all.conf")).expect("copy");
        let c = load_all_directives(dir.path());
        // A few typed fields.
        assert_eq!(c.requirepass.as_deref(), Some(FIXTURE_PASSWORD));
        assert_eq!(c.replicaof, Some(("127.0.0.1".to_owned(), 1)));
        assert_eq!(
            c.save,
            [
                SavePoint {
                    seconds: 900,
                    changes: 1
                },
                SavePoint {
                    seconds: 300,
                    changes: 10
                }
            ]
        );
        assert_eq!(
            c.client_output_buffer_limit[ClientClass::Replica as usize],
            ClientBufferLimit {
                hard: 512 << 20,
                soft: 128 << 20,
                soft_seconds: 120
            }
        );
        assert_eq!(c.maxmemory_clients, MemoryOrPercent::Percent(10));
        assert_eq!(
            c.shutdown_on_sigterm,
            ShutdownFlags(ShutdownFlags::NOSAVE | ShutdownFlags::FORCE)
        );
        assert!(
            c.notify_keyspace_events
                .has(KeyspaceEvents::KEYSPACE | KeyspaceEvents::EXPIRED)
        );
        assert_eq!(c.list_max_listpack_size, 128);
        assert_eq!(c.unixsocketperm, 0o700);
        let defaults = all(&Config::default());
        let changed = all(&c).iter().filter(|(k, v)| defaults.get(*k) != Some(v)).count();
        assert!(changed >= 175, "the fixture changes nearly every directive ({changed})");

        let Some(mut r) = Redis::start_conf(
            &dir.path().join("all.conf"),
            &[
                "--dir",
                &path_str(dir.path()),
                "--logfile",
                &format!("{}/redis.log", path_str(dir.path())),
            ],
        ) else {
            eprintln!("note: redis-server not found; skipping the live all-directives comparison");
            return;
        };
        assert_eq!(
            r.cmd(&[b"AUTH", FIXTURE_PASSWORD.as_bytes()]),
            Reply::Status("OK".into())
        );
        let theirs = redis_config_get_all(&mut r);
        let ours = all(&c);
        assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
        for (name, value) in &theirs {
            if matches!(name.as_str(), "port" | "logfile") {
                continue;
            }
            assert_eq!(&ours[name], value, "{name}");
        }
        for hidden in [
            "rdb-key-save-delay",
            "key-load-delay",
            "use-exit-on-panic",
            "loading-process-events-interval-bytes",
        ] {
            assert_eq!(c.get(&[hidden.as_bytes()]), r.config_get(hidden), "{hidden}");
        }
    }

    // ---- CONFIG REWRITE ------------------------------------------------------

    #[test]
    fn rewrite_without_config_file() {
        assert_eq!(
            Config::default().rewrite(),
            Err("ERR The server is running without a config file".to_owned())
        );
    }

    #[test]
    fn rewrite_round_trip() {
        let dir = tempdir();
        let d = path_str(&std::fs::canonicalize(dir.path()).expect("canonicalize"));
        std::fs::write(dir.path().join("inc.conf"), "save 60 1\n").expect("w");
        let path = dir.path().join("r.conf");
        let original = format!(
            "# top comment\nport 17556\ninclude {d}/inc.conf\nrename-command FLUSHALL \"\"\n\
             user alice on >pw ~* +@all\nslaveof 127.0.0.1 1\nslave-read-only no\nMaxmemory 100mb\n\
             save 900 1\nsave 300 10\n\n\n# another comment\n\tloglevel notice\nappendonly no\ndir {d}\n\
             bind 127.0.0.1\nlist-max-ziplist-size 5\n"
        );
        std::fs::write(&path, &original).expect("w");
        let mut c = Config::load(&[path_str(&path)]).expect("load");
        assert_eq!(get1(&c, "save"), "300 10", "Redis's include quirk");
        // Lines appended after start-up: an unknown one and a stale maxmemory.
        let mut text = original.clone();
        text.push_str("foo bar\nport \"unbalanced\nmaxmemory 5mb\n");
        std::fs::write(&path, text).expect("w");
        set(
            &mut c,
            &[
                ("maxmemory", "2gb"),
                ("hz", "20"),
                ("notify-keyspace-events", "KEA"),
                ("client-output-buffer-limit", "pubsub 32mb 8mb 61"),
                ("requirepass", "se cret\"x"),
            ],
        )
        .expect("set");
        c.rewrite().expect("rewrite");
        let rewritten = std::fs::read_to_string(&path).expect("read");
        let want = format!(
            "# top comment\nport 17556\ninclude {d}/inc.conf\nrename-command FLUSHALL \"\"\n\
             user alice on >pw ~* +@all\nreplicaof 127.0.0.1 1\nreplica-read-only no\nmaxmemory 2gb\n\
             save 300 10\n\n# another comment\nloglevel notice\nappendonly no\ndir \"{d}\"\nbind 127.0.0.1\n\
             list-max-listpack-size 5\n# ??? foo bar\n# ??? port \"unbalanced\n\n# Generated by CONFIG REWRITE\n\
             requirepass \"se cret\\\"x\"\nhz 20\n\
             client-output-buffer-limit pubsub 32mb 8mb 61\nnotify-keyspace-events \"AKE\"\n\
             latency-tracking-info-percentiles 50 99 99.9\n"
        );
        assert_eq!(rewritten, want);

        // The rewritten file loads back to the same configuration.
        let again = Config::load(&[path_str(&path)]).expect("reload");
        let mut a = all(&c);
        let mut b = all(&again);
        a.remove("save");
        b.remove("save"); // the include quirk: rewriting added no save line before the include
        assert_eq!(a, b);

        // A second rewrite keeps the meaning (not always the text: like
        // Redis, the `normal` class line reuses the first old
        // client-output-buffer-limit line and `pubsub` is appended again).
        again.rewrite().expect("rewrite again");
        let twice = Config::load(&[path_str(&path)]).expect("reload twice");
        let mut b2 = all(&twice);
        b2.remove("save");
        assert_eq!(a, b2);
    }

    #[test]
    fn rewrite_of_a_missing_file_writes_everything_forced() {
        let dir = tempdir();
        let path = dir.path().join("gone.conf");
        std::fs::write(&path, "port 17557\n").expect("w");
        let c = Config::load(&[path_str(&path)]).expect("load");
        std::fs::remove_file(&path).expect("rm");
        c.rewrite().expect("rewrite");
        let cwd = path_str(&std::env::current_dir().expect("cwd"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            format!(
                "# Generated by CONFIG REWRITE\nport 17557\ndir \"{cwd}\"\nsave 3600 1\nsave 300 100\n\
                 save 60 10000\nlatency-tracking-info-percentiles 50 99 99.9\n"
            )
        );
    }

    /// CONFIG REWRITE of the all-directives fixture gives the same file as a
    /// live redis-server's (kept lines identical and in place; appended lines
    /// equal as a set, since Redis appends in hash order; its ACL `user
    /// default` line aside).
    #[test]
    fn rewrite_matches_live_redis() {
        let ours_dir = tempdir();
        let theirs_dir = tempdir();
        for d in [&ours_dir, &theirs_dir] {
            std::fs::copy(fixture("all-directives.conf"), d.path().join("all.conf")).expect("copy");
        }
        let dir_arg = path_str(ours_dir.path());
        let Some(mut r) = Redis::start_conf(
            &theirs_dir.path().join("all.conf"),
            &["--dir", &dir_arg, "--logfile", &format!("{dir_arg}/ours.log")],
        ) else {
            eprintln!("note: redis-server not found; skipping the live CONFIG REWRITE comparison");
            return;
        };
        let mut c = load_all_directives(ours_dir.path());
        // Same port on both sides for the comparison.
        let port = r.port().to_string();
        set(&mut c, &[("port", &port)]).expect("port");
        assert_eq!(
            r.cmd(&[b"AUTH", FIXTURE_PASSWORD.as_bytes()]),
            Reply::Status("OK".into())
        );
        let changes: &[(&str, &str)] = &[("maxmemory", "3gb"), ("hz", "15"), ("save", "")];
        for (n, v) in changes {
            assert_eq!(
                r.cmd(&[b"CONFIG", b"SET", n.as_bytes(), v.as_bytes()]),
                Reply::Status("OK".into())
            );
        }
        set(&mut c, changes).expect("set");
        assert_eq!(r.cmd(&[b"CONFIG", b"REWRITE"]), Reply::Status("OK".into()));
        c.rewrite().expect("rewrite");
        let read = |d: &tempfile::TempDir| std::fs::read_to_string(d.path().join("all.conf")).expect("read");
        let (ours, theirs) = (read(&ours_dir), read(&theirs_dir));
        let split = |s: &str| -> (String, Vec<String>) {
            let (kept, appended) = s.split_once("# Generated by CONFIG REWRITE\n").unwrap_or((s, ""));
            let mut extra: Vec<String> = appended
                .lines()
                .filter(|l| !l.starts_with("user "))
                .map(str::to_owned)
                .collect();
            extra.sort();
            (kept.to_owned(), extra)
        };
        let (ours_kept, ours_extra) = split(&ours);
        let (theirs_kept, theirs_extra) = split(&theirs);
        assert_eq!(ours_kept, theirs_kept);
        assert_eq!(ours_extra, theirs_extra);
    }

    // ---- the stock Debian redis.conf ----------------------------------------------

    fn check_debian(conf: &Path) {
        let stock = std::fs::read_to_string(conf).expect("read stock conf");
        // Its `dir /var/lib/redis` must exist; elsewhere use a copy pointing at a temp dir.
        let tmp = tempdir();
        let conf = if Path::new("/var/lib/redis").is_dir() {
            conf.to_path_buf()
        } else {
            let copy = tmp.path().join("redis.conf");
            std::fs::write(
                &copy,
                stock.replace("\ndir /var/lib/redis\n", &format!("\ndir {}\n", path_str(tmp.path()))),
            )
            .expect("write copy");
            copy
        };
        let args = |extra: &[&str]| {
            let mut a = vec![path_str(&conf)];
            a.extend(strings(extra));
            a
        };
        // As shipped it asks to daemonize, which tessera-node refuses.
        let e = Config::load(&args(&["--logfile", ""])).expect_err("daemonize yes");
        assert!(e.to_string().contains("daemonize yes is not supported"), "{e}");
        let c = Config::load(&args(&["--daemonize", "no", "--logfile", ""])).expect("stock redis.conf loads");
        assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
        assert_eq!(c.port, 6379);
        assert_eq!(c.pidfile.as_deref(), Some("/run/redis/redis-server.pid"));
        assert_eq!(c.save, DEFAULT_SAVE);
        assert_eq!(c.proc_title_template, "{title} {listen-addr} {server-mode}");
        assert_eq!(c.oom_score_adj_values, [0, 200, 800]);
        assert_eq!(
            get1(&c, "client-output-buffer-limit"),
            get1(&Config::default(), "client-output-buffer-limit")
        );
    }

    #[test]
    fn debian_stock_redis_conf_loads() {
        check_debian(&fixture("redis-7.0-debian.conf"));
        let installed = Path::new("/etc/redis/redis.conf");
        if installed.exists() {
            check_debian(installed);
        } else {
            eprintln!("note: /etc/redis/redis.conf not present; checked the fixture copy only");
        }
    }

    // ---- misc ------------------------------------------------------------------

    #[test]
    fn proc_title_like_redis() {
        let c = ok("port 7000\nbind 10.0.0.1\n", &[]);
        assert_eq!(
            c.proc_title("/usr/bin/tessera-node").as_deref(),
            Some("/usr/bin/tessera-node 10.0.0.1:7000")
        );
        let mut c = Config::default();
        set(&mut c, &[("proc-title-template", "{{x}} {title} {port}{server-mode}")]).expect("set");
        assert_eq!(c.proc_title("t").as_deref(), Some("{x}} t 6379"));
    }

    #[test]
    fn directive_flags() {
        let d = Config::directive_info("SLAVEOF").expect("slaveof");
        assert_eq!(
            (d.name, d.alias, d.immutable, d.multi_arg),
            ("replicaof", Some("slaveof"), true, true)
        );
        let d = Config::directive_info("requirepass").expect("requirepass");
        assert!(d.sensitive && d.applied && !d.immutable);
        let d = Config::directive_info("dir").expect("dir");
        assert!(d.protected && d.deny_loading);
        assert!(Config::directive_info("use-exit-on-panic").expect("hidden").hidden);
        // 197 names, 19 of them aliases.
        assert_eq!(Config::directives().count(), 178);
        assert_eq!(Config::directives().filter(|d| d.alias.is_some()).count(), 19);
        assert!(Config::directive_info("nope").is_none());
    }

    #[test]
    fn parse_memory_is_public() {
        assert_eq!(parse_memory(b"1gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"100mb"), Some(100 << 20));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"x"), None);
    }

    #[test]
    fn debug_output_hides_passwords() {
        let c = ok("requirepass hunter2\nmasterauth hunter3\n", &[]);
        let s = format!("{c:?}");
        assert!(!s.contains("hunter"), "{s}");
    }
}
