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
            ctx: SetCtx { reading_file: false, save_loaded: false, cwd },
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
            } else if chosen.iter().any(|(c, _, _)| std::ptr::eq(*c, d)) {
                failure = Some((typed, "duplicate parameter"));
            } else {
                chosen.push((d, registered, String::from_utf8_lossy(value).into_owned()));
            }
        }
        if let Some(name) = unknown {
            return Err(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'"));
        }
        if let Some((name, why)) = failure {
            return Err(Config::set_failed(&name, why));
        }

        let mut next = self.clone();
        let mut ctx = SetCtx { reading_file: false, save_loaded: true, cwd: self.dir.clone() };
        let mut changed = Vec::new();
        for (d, registered, value) in &chosen {
            let before = d.get(&next);
            d.set(&mut next, &set_args(d, value), &mut ctx).map_err(|e| Config::set_failed(registered, &e))?;
            if d.get(&next) != before {
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
    /// file", or "ERR Rewriting config file: <reason>".
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self.config_file.as_deref().ok_or("ERR The server is running without a config file")?;
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
            "config-file" => self.config_file.as_ref().map_or("-".to_owned(), |p| p.to_string_lossy().into_owned()),
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
const DEPRECATED: [&str; 3] = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

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
    let mut argv = Argv { config_file: None, from_stdin: false, options: Vec::new() };
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
                if base.is_empty() || base.ends_with('/') { format!("{base}{name}") } else { format!("{base}/{name}") }
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
                Err(e) => return Err(ConfigError::Open { path, reason: strerror(&e) }),
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
            let present =
                |s: &Self, n: &str| s.renamed_to.contains(n) || (exists(n) && !s.renamed_away.contains(n));
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
