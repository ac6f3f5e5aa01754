//! The directive table: one entry per redis.conf directive of Redis 7.0
//! (canonical name, alias, flags, kind with bounds and default, and accessors
//! to the typed field of [`Config`] it maps to). Loading, CONFIG GET, CONFIG
//! SET and CONFIG REWRITE are all driven by this table; the per-kind
//! behaviour (parsing, bounds, rendering, rewrite lines) lives here once.
//!
//! Names, aliases, kinds, bounds, defaults and flags mirror redis-server
//! 7.0.15 as observed (CONFIG GET *, CONFIG SET probes and start-up errors).

use std::path::{Path, PathBuf};

use super::Config;
use super::parse::{
    fmt_double, fmt_memory, parse_memory, repr, split_spaces, strerror, string2d, string2ll, strtoll, strtoll_full,
    yes_no,
};
use super::rewrite::RewriteState;
use super::types::*;

/// CONFIG SET refuses it: "can't set immutable config".
pub(crate) const IMMUTABLE: u16 = 1 << 0;
/// CONFIG SET needs `enable-protected-configs`: "can't set protected config".
pub(crate) const PROTECTED: u16 = 1 << 1;
/// Its value must be redacted from SLOWLOG, MONITOR and the like.
pub(crate) const SENSITIVE: u16 = 1 << 2;
/// CONFIG SET is refused with -LOADING while a dataset loads.
pub(crate) const DENY_LOADING: u16 = 1 << 3;
/// Not matched by CONFIG GET patterns, only by its exact name.
pub(crate) const HIDDEN: u16 = 1 << 4;
/// Takes several arguments (a single argument is split on blanks).
pub(crate) const MULTI_ARG: u16 = 1 << 5;
/// The server acts on it (otherwise it is accepted, stored, rendered and
/// rewritten, but has no effect yet).
pub(crate) const APPLIED: u16 = 1 << 6;

/// C type of a numeric directive, which decides how Redis bounds-checks it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CType {
    /// Signed comparison (int, long, long long, ssize_t, off_t, time_t, and
    /// unsigned long, which Redis also compares signed).
    Signed,
    /// Unsigned comparison (unsigned int, unsigned long long, size_t): a
    /// negative input wraps to a huge value and fails the upper bound.
    Unsigned,
}

/// How a numeric directive parses and renders.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFmt {
    /// Strict integer (`string2ll`).
    Integer,
    /// `memtoull` units; rendered in bytes, rewritten with gb/mb/kb.
    Memory,
    /// Memory or `N%` (stored negative).
    MemoryPercent,
    /// Octal (`strtoll` base 8).
    Octal,
}

/// Mutable state of one load (or one CONFIG SET).
pub(crate) struct SetCtx {
    /// True while reading config text (Redis's `reading_config_file`).
    pub reading_file: bool,
    /// The first `save` line of a load replaces the defaults; later ones append.
    pub save_loaded: bool,
    /// The directory relative paths resolve against (Redis chdir()s on `dir`).
    pub cwd: PathBuf,
}

/// Behaviour of a directive that is not a plain bool/number/string/enum.
pub(crate) struct Special {
    pub set: fn(&mut Config, &[String], &mut SetCtx) -> Result<(), String>,
    pub get: fn(&Config) -> String,
    pub rewrite: fn(&Config, &'static str, &mut RewriteState),
    pub init: fn(&mut Config),
}

/// Validator of a string directive's new value.
pub(crate) type StrCheck = fn(&Config, &str) -> Result<(), String>;

/// What a directive is, with accessors to its typed field.
pub(crate) enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        default: bool,
        check: Option<fn(bool) -> Result<(), String>>,
    },
    Num {
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
        ctype: CType,
        lo: i128,
        hi: i128,
        default: i64,
        fmt: NumFmt,
    },
    Str {
        get: fn(&Config) -> Option<&str>,
        set: fn(&mut Config, Option<String>),
        default: Option<&'static str>,
        empty_is_null: bool,
        check: Option<StrCheck>,
    },
    Enum {
        names: &'static [&'static str],
        get: fn(&Config) -> &'static str,
        set: fn(&mut Config, &str) -> bool,
        default: fn() -> &'static str,
    },
    Special(Special),
}

/// One table entry.
pub(crate) struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u16,
    pub kind: Kind,
}

impl Directive {
    pub(crate) fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    /// Puts Redis's default into `c`.
    pub(crate) fn init(&self, c: &mut Config) {
        match &self.kind {
            Kind::Bool { set, default, .. } => set(c, *default),
            Kind::Num { set, default, .. } => set(c, *default),
            Kind::Str { set, default, .. } => set(c, default.map(str::to_owned)),
            Kind::Enum { .. } => {} // the field's Default is Redis's default
            Kind::Special(s) => (s.init)(c),
        }
    }

    /// Sets from already-split arguments (argument-count checks for
    /// single-argument kinds are the caller's).
    pub(crate) fn set(&self, c: &mut Config, args: &[String], ctx: &mut SetCtx) -> Result<(), String> {
        let arg = || args.first().map_or("", String::as_str);
        match &self.kind {
            Kind::Bool { set, check, .. } => {
                let v = yes_no(arg()).ok_or("argument must be 'yes' or 'no'")?;
                if let Some(check) = check {
                    check(v)?;
                }
                set(c, v);
                Ok(())
            }
            Kind::Num {
                set,
                ctype,
                lo,
                hi,
                fmt,
                ..
            } => {
                let v = parse_num(arg(), *fmt)?;
                check_bounds(v, *ctype, *lo, *hi, *fmt)?;
                set(c, v);
                Ok(())
            }
            Kind::Str {
                set,
                empty_is_null,
                check,
                ..
            } => {
                let v = arg();
                if let Some(check) = check {
                    check(c, v)?;
                }
                set(c, (!(*empty_is_null && v.is_empty())).then(|| v.to_owned()));
                Ok(())
            }
            Kind::Enum { names, set, .. } => {
                if set(c, arg()) {
                    Ok(())
                } else {
                    Err(format!(
                        "argument(s) must be one of the following: {}",
                        names.join(", ")
                    ))
                }
            }
            Kind::Special(s) => (s.set)(c, args, ctx),
        }
    }

    /// The value as CONFIG GET renders it.
    pub(crate) fn get(&self, c: &Config) -> String {
        match &self.kind {
            Kind::Bool { get, .. } => yes_no_str(get(c)).to_owned(),
            Kind::Num { get, fmt, .. } => {
                let v = get(c);
                match fmt {
                    NumFmt::MemoryPercent if v < 0 => format!("{}%", v.unsigned_abs()),
                    NumFmt::Memory | NumFmt::MemoryPercent => (v as u64).to_string(),
                    NumFmt::Octal => format!("{v:o}"),
                    NumFmt::Integer => v.to_string(),
                }
            }
            Kind::Str { get, .. } => get(c).unwrap_or("").to_owned(),
            Kind::Enum { get, .. } => get(c).to_owned(),
            Kind::Special(s) => (s.get)(c),
        }
    }

    /// Emits this directive's CONFIG REWRITE line(s) under its canonical name.
    pub(crate) fn rewrite(&self, c: &Config, st: &mut RewriteState) {
        let name = self.name;
        match &self.kind {
            Kind::Bool { get, default, .. } => {
                let v = get(c);
                st.rewrite_line(name, format!("{name} {}", yes_no_str(v)), v != *default);
            }
            Kind::Num { get, default, fmt, .. } => {
                let v = get(c);
                let text = match fmt {
                    NumFmt::MemoryPercent if v < 0 => format!("{}%", v.unsigned_abs()),
                    // Redis formats through a signed long long here, which
                    // breaks values above i64::MAX; render them unsigned.
                    NumFmt::Memory | NumFmt::MemoryPercent => fmt_memory(v as u64),
                    NumFmt::Octal => format!("{v:o}"),
                    NumFmt::Integer => v.to_string(),
                };
                st.rewrite_line(name, format!("{name} {text}"), v != *default);
            }
            Kind::Str { get, default, .. } => match get(c) {
                None => st.mark_processed(name),
                Some(v) => {
                    let force = default.is_none_or(|d| d != v);
                    st.rewrite_line(name, format!("{name} {}", repr(v.as_bytes())), force);
                }
            },
            Kind::Enum { get, default, .. } => {
                let v = get(c);
                st.rewrite_line(name, format!("{name} {v}"), v != default());
            }
            Kind::Special(s) => (s.rewrite)(c, name, st),
        }
    }
}

fn yes_no_str(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}

/// Redis's `numericParseString`.
fn parse_num(s: &str, fmt: NumFmt) -> Result<i64, String> {
    let b = s.as_bytes();
    if matches!(fmt, NumFmt::Memory | NumFmt::MemoryPercent)
        && let Some(v) = parse_memory(b)
    {
        return Ok(v as i64);
    }
    if fmt == NumFmt::MemoryPercent
        && b.len() > 1
        && b.ends_with(b"%")
        && let Some(v) = string2ll(&b[..b.len() - 1]).filter(|v| *v >= 0)
    {
        return Ok(-v);
    }
    if fmt == NumFmt::Octal
        && let Some((v, used, false)) = strtoll(b, 8)
        && used == b.len()
    {
        return Ok(v);
    }
    if fmt == NumFmt::Integer
        && let Some(v) = string2ll(b)
    {
        return Ok(v);
    }
    Err(match fmt {
        NumFmt::MemoryPercent => "argument must be a memory or percent value",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
        NumFmt::Integer => "argument couldn't be parsed into an integer",
    }
    .to_owned())
}

/// Redis's `numericBoundaryCheck`.
fn check_bounds(v: i64, ctype: CType, lo: i128, hi: i128, fmt: NumFmt) -> Result<(), String> {
    match ctype {
        CType::Unsigned => {
            let u = i128::from(v as u64);
            if u > hi || u < lo {
                return Err(if fmt == NumFmt::Octal {
                    format!("argument must be between {lo:o} and {hi:o} inclusive")
                } else {
                    format!("argument must be between {lo} and {hi} inclusive")
                });
            }
        }
        CType::Signed => {
            let s = i128::from(v);
            if fmt == NumFmt::MemoryPercent && v < 0 {
                if s < lo {
                    return Err(format!("percentage argument must be less or equal to {}", -lo));
                }
            } else if s > hi || s < lo {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
        }
    }
    Ok(())
}

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

/// Declares a bool directive.
macro_rules! boolean {
    ($name:literal $(/ $alias:literal)?, $flags:expr, $field:ident, $def:expr $(, check = $check:expr)?) => {
        Directive {
            name: $name,
            alias: alias!($($alias)?),
            flags: $flags,
            kind: Kind::Bool {
                get: |c| c.$field,
                set: |c, v| c.$field = v,
                default: $def,
                check: check!($($check)?),
            },
        }
    };
}

/// Declares a numeric directive stored in a plain integer field.
macro_rules! num {
    ($name:literal $(/ $alias:literal)?, $flags:expr, $field:ident: $t:ty, $ctype:ident, $lo:expr, $hi:expr,
     $def:expr, $fmt:ident) => {
        Directive {
            name: $name,
            alias: alias!($($alias)?),
            flags: $flags,
            kind: Kind::Num {
                get: |c| c.$field as i64,
                set: |c, v| c.$field = v as $t,
                ctype: CType::$ctype,
                lo: $lo,
                hi: $hi,
                default: $def,
                fmt: NumFmt::$fmt,
            },
        }
    };
}

/// Declares a string directive; `opt` fields are `Option<String>` (an empty
/// value means "unset", Redis's EMPTY_STRING_IS_NULL), `req` fields are
/// `String` (empty allowed).
macro_rules! string {
    ($name:literal $(/ $alias:literal)?, $flags:expr, opt $field:ident $(, check = $check:expr)?) => {
        Directive {
            name: $name,
            alias: alias!($($alias)?),
            flags: $flags,
            kind: Kind::Str {
                get: |c| c.$field.as_deref(),
                set: |c, v| c.$field = v,
                default: None,
                empty_is_null: true,
                check: check!($($check)?),
            },
        }
    };
    ($name:literal, $flags:expr, req $field:ident = $def:expr $(, check = $check:expr)?) => {
        Directive {
            name: $name,
            alias: None,
            flags: $flags,
            kind: Kind::Str {
                get: |c| Some(c.$field.as_str()),
                set: |c, v| c.$field = v.unwrap_or_default(),
                default: Some($def),
                empty_is_null: false,
                check: check!($($check)?),
            },
        }
    };
}

/// Declares an enum directive backed by a `config_enum!` type.
macro_rules! enumeration {
    ($name:literal, $flags:expr, $field:ident: $t:ident) => {
        Directive {
            name: $name,
            alias: None,
            flags: $flags,
            kind: Kind::Enum {
                names: $t::NAMES,
                get: |c| c.$field.as_str(),
                set: |c, s| match $t::parse(s) {
                    Some(v) => {
                        c.$field = v;
                        true
                    }
                    None => false,
                },
                default: || $t::default().as_str(),
            },
        }
    };
}

/// Declares a special directive.
macro_rules! special {
    ($name:literal $(/ $alias:literal)?, $flags:expr, $set:expr, $get:expr, $rewrite:expr, $init:expr) => {
        Directive {
            name: $name,
            alias: alias!($($alias)?),
            flags: $flags,
            kind: Kind::Special(Special { set: $set, get: $get, rewrite: $rewrite, init: $init }),
        }
    };
}

macro_rules! alias {
    () => {
        None
    };
    ($a:literal) => {
        Some($a)
    };
}

macro_rules! check {
    () => {
        None
    };
    ($c:expr) => {
        Some($c)
    };
}

const MUT: u16 = 0;
const IMM: u16 = IMMUTABLE;
const AP: u16 = APPLIED;

/// Every directive of Redis 7.0, in Redis's own table order.
pub(crate) static TABLE: &[Directive] = &[
    // Bool configs.
    boolean!("rdbchecksum", IMM | AP, rdbchecksum, true),
    boolean!("daemonize", IMM | AP, daemonize, false),
    boolean!("io-threads-do-reads", IMM, io_threads_do_reads, false),
    boolean!("always-show-logo", IMM, always_show_logo, false),
    boolean!("protected-mode", MUT | AP, protected_mode, true),
    boolean!("rdbcompression", MUT | AP, rdbcompression, true),
    boolean!("rdb-del-sync-files", MUT, rdb_del_sync_files, false),
    boolean!("activerehashing", MUT | AP, activerehashing, true),
    boolean!(
        "stop-writes-on-bgsave-error",
        MUT | AP,
        stop_writes_on_bgsave_error,
        true
    ),
    boolean!("set-proc-title", IMM, set_proc_title, true),
    boolean!("dynamic-hz", MUT, dynamic_hz, true),
    boolean!("lazyfree-lazy-eviction", MUT, lazyfree_lazy_eviction, false),
    boolean!("lazyfree-lazy-expire", MUT, lazyfree_lazy_expire, false),
    boolean!("lazyfree-lazy-server-del", MUT, lazyfree_lazy_server_del, false),
    boolean!("lazyfree-lazy-user-del", MUT, lazyfree_lazy_user_del, false),
    boolean!("lazyfree-lazy-user-flush", MUT | AP, lazyfree_lazy_user_flush, false),
    boolean!("repl-disable-tcp-nodelay", MUT, repl_disable_tcp_nodelay, false),
    boolean!("repl-diskless-sync", MUT, repl_diskless_sync, true),
    boolean!(
        "aof-rewrite-incremental-fsync",
        MUT,
        aof_rewrite_incremental_fsync,
        true
    ),
    boolean!("no-appendfsync-on-rewrite", MUT, no_appendfsync_on_rewrite, false),
    boolean!(
        "cluster-require-full-coverage",
        MUT,
        cluster_require_full_coverage,
        true
    ),
    boolean!("rdb-save-incremental-fsync", MUT, rdb_save_incremental_fsync, true),
    boolean!("aof-load-truncated", MUT | AP, aof_load_truncated, true),
    boolean!("aof-use-rdb-preamble", MUT, aof_use_rdb_preamble, true),
    boolean!("aof-timestamp-enabled", MUT, aof_timestamp_enabled, false),
    boolean!(
        "cluster-replica-no-failover" / "cluster-slave-no-failover",
        MUT,
        cluster_replica_no_failover,
        false
    ),
    boolean!(
        "replica-lazy-flush" / "slave-lazy-flush",
        MUT,
        replica_lazy_flush,
        false
    ),
    boolean!(
        "replica-serve-stale-data" / "slave-serve-stale-data",
        MUT,
        replica_serve_stale_data,
        true
    ),
    boolean!("replica-read-only" / "slave-read-only", MUT, replica_read_only, true),
    boolean!(
        "replica-ignore-maxmemory" / "slave-ignore-maxmemory",
        MUT,
        replica_ignore_maxmemory,
        true
    ),
    boolean!("jemalloc-bg-thread", MUT, jemalloc_bg_thread, true),
    boolean!("activedefrag", MUT, activedefrag, false, check = check_activedefrag),
    boolean!("syslog-enabled", IMM, syslog_enabled, false),
    boolean!("cluster-enabled", IMM, cluster_enabled, false),
    boolean!("appendonly", DENY_LOADING | AP, appendonly, false),
    boolean!(
        "cluster-allow-reads-when-down",
        MUT,
        cluster_allow_reads_when_down,
        false
    ),
    boolean!(
        "cluster-allow-pubsubshard-when-down",
        MUT,
        cluster_allow_pubsubshard_when_down,
        true
    ),
    boolean!("crash-log-enabled", MUT, crash_log_enabled, true),
    boolean!("crash-memcheck-enabled", MUT, crash_memcheck_enabled, true),
    boolean!("use-exit-on-panic", HIDDEN, use_exit_on_panic, false),
    boolean!("disable-thp", IMM, disable_thp, true),
    boolean!(
        "cluster-allow-replica-migration",
        MUT,
        cluster_allow_replica_migration,
        true
    ),
    boolean!("replica-announced", MUT, replica_announced, true),
    boolean!("latency-tracking", MUT, latency_tracking, true),
    boolean!("aof-disable-auto-gc", MUT, aof_disable_auto_gc, false),
    boolean!(
        "replica-ignore-disk-write-errors",
        MUT,
        replica_ignore_disk_write_errors,
        false
    ),
    // String configs.
    string!("aclfile", IMM, req aclfile = ""),
    string!("unixsocket", IMM, opt unixsocket),
    string!("pidfile", IMM, opt pidfile),
    string!("replica-announce-ip" / "slave-announce-ip", MUT, opt replica_announce_ip),
    string!("masteruser", SENSITIVE, opt masteruser),
    string!("cluster-announce-ip", MUT, opt cluster_announce_ip),
    string!("cluster-config-file", IMM, req cluster_config_file = "nodes.conf"),
    string!("cluster-announce-hostname", MUT, opt cluster_announce_hostname, check = check_hostname),
    string!("syslog-ident", IMM, req syslog_ident = "redis"),
    string!("dbfilename", PROTECTED | AP, req dbfilename = "dump.rdb", check = check_dbfilename),
    string!("appendfilename", IMM | AP, req appendfilename = "appendonly.aof", check = check_aof_filename),
    string!("appenddirname", IMM | AP, req appenddirname = "appendonlydir", check = check_aof_dirname),
    string!("server_cpulist", IMM, opt server_cpulist),
    string!("bio_cpulist", IMM, opt bio_cpulist),
    string!("aof_rewrite_cpulist", IMM, opt aof_rewrite_cpulist),
    string!("bgsave_cpulist", IMM, opt bgsave_cpulist),
    string!("ignore-warnings", MUT, req ignore_warnings = ""),
    string!("proc-title-template", MUT, req proc_title_template = DEFAULT_PROC_TITLE_TEMPLATE,
        check = check_proc_title_template),
    string!("bind-source-addr", MUT, opt bind_source_addr),
    string!("logfile", IMM | AP, req logfile = ""),
    string!("masterauth", SENSITIVE, opt masterauth),
    string!("requirepass", SENSITIVE | AP, opt requirepass),
    // Enum configs.
    enumeration!("supervised", IMM, supervised: Supervised),
    enumeration!("syslog-facility", IMM, syslog_facility: SyslogFacility),
    enumeration!("repl-diskless-load", DENY_LOADING, repl_diskless_load: ReplDisklessLoad),
    enumeration!("loglevel", MUT | AP, loglevel: LogLevel),
    enumeration!("maxmemory-policy", MUT | AP, maxmemory_policy: MaxmemoryPolicy),
    enumeration!("appendfsync", MUT | AP, appendfsync: AppendFsync),
    enumeration!("oom-score-adj", MUT, oom_score_adj: OomScoreAdj),
    enumeration!("acl-pubsub-default", MUT, acl_pubsub_default: AclPubsubDefault),
    enumeration!("sanitize-dump-payload", MUT, sanitize_dump_payload: SanitizeDumpPayload),
    enumeration!("enable-protected-configs", IMM | AP, enable_protected_configs: ProtectedAction),
    enumeration!("enable-debug-command", IMM | AP, enable_debug_command: ProtectedAction),
    enumeration!("enable-module-command", IMM, enable_module_command: ProtectedAction),
    enumeration!("cluster-preferred-endpoint-type", MUT, cluster_preferred_endpoint_type: ClusterEndpointType),
    enumeration!("propagation-error-behavior", MUT, propagation_error_behavior: PropagationErrorBehavior),
    special!(
        "shutdown-on-sigint",
        MULTI_ARG,
        set_shutdown_sigint,
        |c| c.shutdown_on_sigint.to_string(),
        |c, n, st| rewrite_shutdown(c.shutdown_on_sigint, n, st),
        |c| c.shutdown_on_sigint = ShutdownFlags(0)
    ),
    special!(
        "shutdown-on-sigterm",
        MULTI_ARG,
        set_shutdown_sigterm,
        |c| c.shutdown_on_sigterm.to_string(),
        |c, n, st| rewrite_shutdown(c.shutdown_on_sigterm, n, st),
        |c| c.shutdown_on_sigterm = ShutdownFlags(0)
    ),
    // Integer configs.
    num!("databases", IMM | AP, databases: usize, Signed, 1, INT_MAX, 16, Integer),
    num!("port", MUT | AP, port: u16, Signed, 0, 65535, 6379, Integer),
    num!("io-threads", IMM, io_threads: u32, Signed, 1, 128, 1, Integer),
    num!("auto-aof-rewrite-percentage", MUT | AP, auto_aof_rewrite_percentage: u32, Signed, 0, INT_MAX, 100, Integer),
    num!("cluster-replica-validity-factor" / "cluster-slave-validity-factor", MUT,
        cluster_replica_validity_factor: u32, Signed, 0, INT_MAX, 10, Integer),
    num!("list-max-listpack-size" / "list-max-ziplist-size", MUT, list_max_listpack_size: i32, Signed, INT_MIN,
        INT_MAX, -2, Integer),
    num!("tcp-keepalive", MUT, tcp_keepalive: u64, Signed, 0, INT_MAX, 300, Integer),
    num!("cluster-migration-barrier", MUT, cluster_migration_barrier: u32, Signed, 0, INT_MAX, 1, Integer),
    num!("active-defrag-cycle-min", MUT, active_defrag_cycle_min: u32, Signed, 1, 99, 1, Integer),
    num!("active-defrag-cycle-max", MUT, active_defrag_cycle_max: u32, Signed, 1, 99, 25, Integer),
    num!("active-defrag-threshold-lower", MUT, active_defrag_threshold_lower: u32, Signed, 0, 1000, 10, Integer),
    num!("active-defrag-threshold-upper", MUT, active_defrag_threshold_upper: u32, Signed, 0, 1000, 100, Integer),
    num!("lfu-log-factor", MUT | AP, lfu_log_factor: u32, Signed, 0, INT_MAX, 10, Integer),
    num!("lfu-decay-time", MUT | AP, lfu_decay_time: u32, Signed, 0, INT_MAX, 1, Integer),
    num!("replica-priority" / "slave-priority", MUT, replica_priority: u32, Signed, 0, INT_MAX, 100, Integer),
    num!("repl-diskless-sync-delay", MUT, repl_diskless_sync_delay: u64, Signed, 0, INT_MAX, 5, Integer),
    num!("maxmemory-samples", MUT | AP, maxmemory_samples: u32, Signed, 1, INT_MAX, 5, Integer),
    num!("maxmemory-eviction-tenacity", MUT | AP, maxmemory_eviction_tenacity: u32, Signed, 0, 100, 10, Integer),
    num!("timeout", MUT | AP, timeout: u64, Signed, 0, INT_MAX, 0, Integer),
    num!("replica-announce-port" / "slave-announce-port", MUT, replica_announce_port: u16, Signed, 0, 65535, 0,
        Integer),
    num!("tcp-backlog", IMM, tcp_backlog: u32, Signed, 0, INT_MAX, 511, Integer),
    num!("cluster-port", IMM, cluster_port: u16, Signed, 0, 65535, 0, Integer),
    num!("cluster-announce-bus-port", MUT, cluster_announce_bus_port: u16, Signed, 0, 65535, 0, Integer),
    num!("cluster-announce-port", MUT, cluster_announce_port: u16, Signed, 0, 65535, 0, Integer),
    num!("cluster-announce-tls-port", MUT, cluster_announce_tls_port: u16, Signed, 0, 65535, 0, Integer),
    num!("repl-timeout", MUT, repl_timeout: u64, Signed, 1, INT_MAX, 60, Integer),
    num!("repl-ping-replica-period" / "repl-ping-slave-period", MUT, repl_ping_replica_period: u64, Signed, 1,
        INT_MAX, 10, Integer),
    num!("list-compress-depth", MUT, list_compress_depth: u32, Signed, 0, INT_MAX, 0, Integer),
    num!("rdb-key-save-delay", HIDDEN, rdb_key_save_delay: i32, Signed, INT_MIN, INT_MAX, 0, Integer),
    num!("key-load-delay", HIDDEN, key_load_delay: i32, Signed, INT_MIN, INT_MAX, 0, Integer),
    num!("active-expire-effort", MUT | AP, active_expire_effort: u32, Signed, 1, 10, 1, Integer),
    num!("hz", MUT | AP, hz: u64, Signed, 0, INT_MAX, 10, Integer),
    num!("min-replicas-to-write" / "min-slaves-to-write", MUT, min_replicas_to_write: u32, Signed, 0, INT_MAX, 0,
        Integer),
    num!("min-replicas-max-lag" / "min-slaves-max-lag", MUT, min_replicas_max_lag: u64, Signed, 0, INT_MAX, 10,
        Integer),
    num!("watchdog-period", HIDDEN, watchdog_period: u64, Signed, 0, INT_MAX, 0, Integer),
    num!("shutdown-timeout", MUT, shutdown_timeout: u64, Signed, 0, INT_MAX, 10, Integer),
    num!("repl-diskless-sync-max-replicas", MUT, repl_diskless_sync_max_replicas: u32, Signed, 0, INT_MAX, 0,
        Integer),
    // Unsigned int configs.
    num!("maxclients", MUT | AP, maxclients: u32, Unsigned, 1, UINT_MAX, 10000, Integer),
    num!("unixsocketperm", IMM, unixsocketperm: u32, Unsigned, 0, 0o777, 0, Octal),
    num!("socket-mark-id", IMM, socket_mark_id: u32, Unsigned, 0, UINT_MAX, 0, Integer),
    // Unsigned long configs (Redis bounds-checks these as signed).
    num!("active-defrag-max-scan-fields", MUT, active_defrag_max_scan_fields: u64, Signed, 1, LONG_MAX, 1000,
        Integer),
    num!("slowlog-max-len", MUT | AP, slowlog_max_len: u64, Signed, 0, LONG_MAX, 128, Integer),
    num!("acllog-max-len", MUT, acllog_max_len: u64, Signed, 0, LONG_MAX, 128, Integer),
    // Long long configs.
    num!("busy-reply-threshold" / "lua-time-limit", MUT, busy_reply_threshold: u64, Signed, 0, LONG_MAX, 5000,
        Integer),
    num!("cluster-node-timeout", MUT, cluster_node_timeout: u64, Signed, 0, LONG_MAX, 15000, Integer),
    num!("slowlog-log-slower-than", MUT | AP, slowlog_log_slower_than: i64, Signed, -1, LONG_MAX, 10000, Integer),
    num!("latency-monitor-threshold", MUT | AP, latency_monitor_threshold: u64, Signed, 0, LONG_MAX, 0, Integer),
    num!("proto-max-bulk-len", MUT | AP, proto_max_bulk_len: u64, Signed, 1 << 20, LONG_MAX, 512 << 20, Memory),
    num!("stream-node-max-entries", MUT, stream_node_max_entries: u64, Signed, 0, LONG_MAX, 100, Integer),
    num!("repl-backlog-size", MUT, repl_backlog_size: u64, Signed, 1, LONG_MAX, 1 << 20, Memory),
    // Unsigned long long configs.
    num!("maxmemory", MUT | AP, maxmemory: u64, Unsigned, 0, ULLONG_MAX, 0, Memory),
    num!("cluster-link-sendbuf-limit", MUT, cluster_link_sendbuf_limit: u64, Unsigned, 0, ULLONG_MAX, 0, Memory),
    // size_t configs.
    num!("hash-max-listpack-entries" / "hash-max-ziplist-entries", MUT, hash_max_listpack_entries: u64, Unsigned,
        0, LONG_MAX, 512, Integer),
    num!("set-max-intset-entries", MUT, set_max_intset_entries: u64, Unsigned, 0, LONG_MAX, 512, Integer),
    num!("zset-max-listpack-entries" / "zset-max-ziplist-entries", MUT, zset_max_listpack_entries: u64, Unsigned,
        0, LONG_MAX, 128, Integer),
    num!("active-defrag-ignore-bytes", MUT, active_defrag_ignore_bytes: u64, Unsigned, 1, LONG_MAX, 100 << 20,
        Memory),
    num!("hash-max-listpack-value" / "hash-max-ziplist-value", MUT, hash_max_listpack_value: u64, Unsigned, 0,
        LONG_MAX, 64, Memory),
    num!("stream-node-max-bytes", MUT, stream_node_max_bytes: u64, Unsigned, 0, LONG_MAX, 4096, Memory),
    num!("zset-max-listpack-value" / "zset-max-ziplist-value", MUT, zset_max_listpack_value: u64, Unsigned, 0,
        LONG_MAX, 64, Memory),
    num!("hll-sparse-max-bytes", MUT, hll_sparse_max_bytes: u64, Unsigned, 0, LONG_MAX, 3000, Memory),
    num!("tracking-table-max-keys", MUT, tracking_table_max_keys: u64, Unsigned, 0, LONG_MAX, 1_000_000, Integer),
    num!("client-query-buffer-limit", MUT | AP, client_query_buffer_limit: u64, Unsigned, 1 << 20, LONG_MAX,
        1 << 30, Memory),
    Directive {
        name: "maxmemory-clients",
        alias: None,
        flags: MUT,
        kind: Kind::Num {
            get: |c| match c.maxmemory_clients {
                MemoryOrPercent::Bytes(b) => b as i64,
                MemoryOrPercent::Percent(p) => -(p as i64),
            },
            set: |c, v| {
                c.maxmemory_clients = if v < 0 {
                    MemoryOrPercent::Percent(v.unsigned_abs())
                } else {
                    MemoryOrPercent::Bytes(v as u64)
                }
            },
            ctype: CType::Signed,
            lo: -100,
            hi: LONG_MAX,
            default: 0,
            fmt: NumFmt::MemoryPercent,
        },
    },
    // Other configs.
    num!("repl-backlog-ttl", MUT, repl_backlog_ttl: u64, Signed, 0, LONG_MAX, 3600, Integer),
    num!("auto-aof-rewrite-min-size", MUT | AP, auto_aof_rewrite_min_size: u64, Signed, 0, LONG_MAX, 64 << 20, Memory),
    num!("loading-process-events-interval-bytes", HIDDEN, loading_process_events_interval_bytes: u64, Signed, 1024,
        INT_MAX, 2 << 20, Integer),
    // TLS configs.
    num!("tls-port", MUT, tls_port: u16, Signed, 0, 65535, 0, Integer),
    num!("tls-session-cache-size", MUT, tls_session_cache_size: u32, Signed, 0, INT_MAX, 20 * 1024, Integer),
    num!("tls-session-cache-timeout", MUT, tls_session_cache_timeout: u32, Signed, 0, INT_MAX, 300, Integer),
    boolean!("tls-cluster", MUT, tls_cluster, false),
    boolean!("tls-replication", MUT, tls_replication, false),
    enumeration!("tls-auth-clients", MUT, tls_auth_clients: TlsAuthClients),
    boolean!("tls-prefer-server-ciphers", MUT, tls_prefer_server_ciphers, false),
    boolean!("tls-session-caching", MUT, tls_session_caching, true),
    string!("tls-cert-file", MUT, opt tls_cert_file),
    string!("tls-key-file", MUT, opt tls_key_file),
    string!("tls-key-file-pass", MUT, opt tls_key_file_pass),
    string!("tls-client-cert-file", MUT, opt tls_client_cert_file),
    string!("tls-client-key-file", MUT, opt tls_client_key_file),
    string!("tls-client-key-file-pass", MUT, opt tls_client_key_file_pass),
    string!("tls-dh-params-file", MUT, opt tls_dh_params_file),
    string!("tls-ca-cert-file", MUT, opt tls_ca_cert_file),
    string!("tls-ca-cert-dir", MUT, opt tls_ca_cert_dir),
    string!("tls-protocols", MUT, opt tls_protocols),
    string!("tls-ciphers", MUT, opt tls_ciphers),
    string!("tls-ciphersuites", MUT, opt tls_ciphersuites),
    // Special configs.
    special!(
        "dir",
        PROTECTED | DENY_LOADING,
        set_dir,
        |c| c.dir.to_string_lossy().into_owned(),
        rewrite_dir,
        init_dir
    ),
    special!("save", MULTI_ARG | AP, set_save, get_save, rewrite_save, |c| c.save =
        DEFAULT_SAVE.to_vec()),
    special!(
        "client-output-buffer-limit",
        MULTI_ARG | AP,
        set_obuf,
        get_obuf,
        rewrite_obuf,
        |c| c.client_output_buffer_limit = DEFAULT_CLIENT_BUFFER_LIMITS
    ),
    special!(
        "oom-score-adj-values",
        MULTI_ARG,
        set_oom_values,
        get_oom_values,
        rewrite_oom_values,
        |c| c.oom_score_adj_values = DEFAULT_OOM_SCORE_ADJ_VALUES
    ),
    special!(
        "notify-keyspace-events",
        MUT,
        set_notify,
        |c| c.notify_keyspace_events.to_string(),
        rewrite_notify,
        |c| c.notify_keyspace_events = KeyspaceEvents(0)
    ),
    special!(
        "bind",
        MULTI_ARG | AP,
        set_bind,
        |c| c.bind.join(" "),
        rewrite_bind,
        |c| c.bind = DEFAULT_BIND.iter().map(|s| (*s).to_owned()).collect()
    ),
    special!(
        "replicaof" / "slaveof",
        IMM | MULTI_ARG,
        set_replicaof,
        get_replicaof,
        rewrite_replicaof,
        |c| c.replicaof = None
    ),
    special!(
        "latency-tracking-info-percentiles",
        MULTI_ARG,
        set_percentiles,
        get_percentiles,
        rewrite_percentiles,
        |c| c.latency_tracking_info_percentiles = vec![50.0, 99.0, 99.9]
    ),
];

/// Redis's default `proc-title-template`.
pub(crate) const DEFAULT_PROC_TITLE_TEMPLATE: &str = "{title} {listen-addr} {server-mode}";
/// Redis's default `bind`.
pub(crate) const DEFAULT_BIND: [&str; 2] = ["*", "-::*"];
/// Redis's default `oom-score-adj-values`.
pub(crate) const DEFAULT_OOM_SCORE_ADJ_VALUES: [i32; 3] = [0, 200, 800];
/// Redis's CONFIG_BINDADDR_MAX.
const BIND_MAX: usize = 16;

/// Looks a name (or alias) up, case-insensitively. Returns the entry and the
/// registered name that matched (the alias when an alias was used).
pub(crate) fn lookup(name: &str) -> Option<(&'static Directive, &'static str)> {
    TABLE.iter().find_map(|d| {
        if d.name.eq_ignore_ascii_case(name) {
            Some((d, d.name))
        } else {
            d.alias.filter(|a| a.eq_ignore_ascii_case(name)).map(|a| (d, a))
        }
    })
}

// ---- validators ------------------------------------------------------------

fn check_activedefrag(v: bool) -> Result<(), String> {
    if v {
        // tessera-node has no defragmenter; Redis says the same when built
        // without jemalloc's defrag support (as Debian's build is).
        return Err(
            "Active defragmentation cannot be enabled: it requires a Redis server compiled with a \
                    modified Jemalloc like the one shipped by default with the Redis source distribution"
                .to_owned(),
        );
    }
    Ok(())
}

fn is_base_name(s: &str) -> bool {
    !s.contains('/') && !s.contains('\\')
}

fn check_dbfilename(_: &Config, v: &str) -> Result<(), String> {
    if !is_base_name(v) {
        return Err("dbfilename can't be a path, just a filename".to_owned());
    }
    Ok(())
}

fn check_aof_filename(_: &Config, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("appendfilename can't be empty".to_owned());
    }
    if !is_base_name(v) {
        return Err("appendfilename can't be a path, just a filename".to_owned());
    }
    Ok(())
}

fn check_aof_dirname(_: &Config, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("appenddirname can't be empty".to_owned());
    }
    if !is_base_name(v) {
        return Err("appenddirname can't be a path, just a dirname".to_owned());
    }
    Ok(())
}

fn check_hostname(_: &Config, v: &str) -> Result<(), String> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".to_owned());
    }
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".to_owned());
    }
    Ok(())
}

fn check_proc_title_template(c: &Config, v: &str) -> Result<(), String> {
    match c.expand_proc_title(v, "") {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables".to_owned()),
    }
}

// ---- special directives ----------------------------------------------------

fn wrong_args() -> String {
    "wrong number of arguments".to_owned()
}

/// Resolves `p` against `cwd` the way a relative path resolves after chdir().
pub(crate) fn resolve(cwd: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

fn set_dir(c: &mut Config, args: &[String], ctx: &mut SetCtx) -> Result<(), String> {
    let [dir] = args else { return Err(wrong_args()) };
    if dir.is_empty() {
        return Err(strerror(&std::io::Error::from_raw_os_error(2)));
    }
    let path = std::fs::canonicalize(resolve(&ctx.cwd, dir)).map_err(|e| strerror(&e))?;
    if !path.is_dir() {
        return Err(strerror(&std::io::Error::from_raw_os_error(20)));
    }
    ctx.cwd.clone_from(&path);
    c.dir = path;
    Ok(())
}

fn init_dir(c: &mut Config) {
    c.dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
}

fn rewrite_dir(c: &Config, name: &'static str, st: &mut RewriteState) {
    let dir = c.dir.to_string_lossy();
    st.rewrite_line(name, format!("{name} {}", repr(dir.as_bytes())), true);
}

fn set_save(c: &mut Config, args: &[String], ctx: &mut SetCtx) -> Result<(), String> {
    // A single empty argument (`save ""`) always clears the save points.
    let args = if args.len() == 1 && args[0].is_empty() {
        c.save.clear();
        &[][..]
    } else {
        args
    };
    if args.len() % 2 != 0 {
        return Err("Invalid save parameters".to_owned());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let seconds = strtoll_full(pair[0].as_bytes(), 10).filter(|v| *v >= 1);
        let changes = strtoll_full(pair[1].as_bytes(), 10).filter(|v| *v >= 0);
        match (seconds, changes) {
            (Some(s), Some(n)) => points.push(SavePoint {
                seconds: s as u64,
                changes: n as u64,
            }),
            _ => return Err("Invalid save parameters".to_owned()),
        }
    }
    // While reading config text only the first `save` line replaces the
    // defaults; later lines append (Redis's deprecated aggregate form).
    if !ctx.reading_file || !ctx.save_loaded {
        ctx.save_loaded |= ctx.reading_file;
        c.save.clear();
    }
    c.save.extend(points);
    Ok(())
}

fn get_save(c: &Config) -> String {
    let parts: Vec<String> = c.save.iter().map(|p| format!("{} {}", p.seconds, p.changes)).collect();
    parts.join(" ")
}

fn rewrite_save(c: &Config, name: &'static str, st: &mut RewriteState) {
    if c.save.is_empty() {
        st.rewrite_line(name, format!("{name} \"\""), true);
    } else {
        for p in &c.save {
            st.rewrite_line(name, format!("{name} {} {}", p.seconds, p.changes), true);
        }
    }
    st.mark_processed(name);
}

fn set_obuf(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_owned());
    }
    let mut updates = Vec::new();
    for group in args.chunks(4) {
        let class =
            ClientClass::parse(&group[0]).ok_or("Invalid client class specified in buffer limit configuration.")?;
        let hard = parse_memory(group[1].as_bytes());
        let soft = parse_memory(group[2].as_bytes());
        // Redis stores strtoll's result in an int before checking the sign.
        let secs = strtoll_full(group[3].as_bytes(), 10)
            .map(|v| v as i32)
            .filter(|v| *v >= 0);
        match (hard, soft, secs) {
            (Some(hard), Some(soft), Some(secs)) => {
                updates.push((
                    class,
                    ClientBufferLimit {
                        hard,
                        soft,
                        soft_seconds: u64::from(secs.unsigned_abs()),
                    },
                ));
            }
            _ => {
                return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_owned());
            }
        }
    }
    for (class, limit) in updates {
        c.client_output_buffer_limit[class as usize] = limit;
    }
    Ok(())
}

fn get_obuf(c: &Config) -> String {
    let parts: Vec<String> = ClientClass::ALL
        .iter()
        .map(|class| {
            let l = c.client_output_buffer_limit[*class as usize];
            format!("{} {} {} {}", class.as_str(), l.hard, l.soft, l.soft_seconds)
        })
        .collect();
    parts.join(" ")
}

fn rewrite_obuf(c: &Config, name: &'static str, st: &mut RewriteState) {
    for class in ClientClass::ALL {
        let l = c.client_output_buffer_limit[class as usize];
        let force = l != DEFAULT_CLIENT_BUFFER_LIMITS[class as usize];
        let class_name = if class == ClientClass::Replica {
            "replica"
        } else {
            class.as_str()
        };
        let line = format!(
            "{name} {class_name} {} {} {}",
            fmt_memory(l.hard),
            fmt_memory(l.soft),
            l.soft_seconds
        );
        st.rewrite_line(name, line, force);
    }
}

fn set_oom_values(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    if args.len() != 3 {
        return Err(wrong_args());
    }
    let mut values = [0i32; 3];
    for (slot, arg) in values.iter_mut().zip(args) {
        match strtoll_full(arg.as_bytes(), 10).filter(|v| (-2000..=2000).contains(v)) {
            Some(v) => *slot = v as i32,
            None => {
                return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".to_owned());
            }
        }
    }
    c.oom_score_adj_values = values;
    Ok(())
}

fn get_oom_values(c: &Config) -> String {
    let parts: Vec<String> = c.oom_score_adj_values.iter().map(i32::to_string).collect();
    parts.join(" ")
}

fn rewrite_oom_values(c: &Config, name: &'static str, st: &mut RewriteState) {
    let force = c.oom_score_adj_values != DEFAULT_OOM_SCORE_ADJ_VALUES;
    st.rewrite_line(name, format!("{name} {}", get_oom_values(c)), force);
}

fn set_notify(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    let [flags] = args else { return Err(wrong_args()) };
    c.notify_keyspace_events =
        KeyspaceEvents::parse(flags).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
    Ok(())
}

fn rewrite_notify(c: &Config, name: &'static str, st: &mut RewriteState) {
    let flags = c.notify_keyspace_events.to_string();
    st.rewrite_line(
        name,
        format!("{name} {}", repr(flags.as_bytes())),
        c.notify_keyspace_events.0 != 0,
    );
}

fn set_bind(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    if args.len() > BIND_MAX {
        return Err("Too many bind addresses specified.".to_owned());
    }
    c.bind = if args.len() == 1 && args[0].is_empty() {
        Vec::new()
    } else {
        args.to_vec()
    };
    Ok(())
}

fn rewrite_bind(c: &Config, name: &'static str, st: &mut RewriteState) {
    if c.bind.iter().map(String::as_str).eq(DEFAULT_BIND) {
        st.mark_processed(name);
        return;
    }
    let addresses = if c.bind.is_empty() {
        "\"\"".to_owned()
    } else {
        c.bind.join(" ")
    };
    st.rewrite_line(name, format!("{name} {addresses}"), true);
}

fn set_replicaof(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    let [host, port] = args else { return Err(wrong_args()) };
    c.replicaof = None;
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(());
    }
    let port = strtoll_full(port.as_bytes(), 10)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("Invalid master port")?;
    c.replicaof = Some((host.clone(), port));
    Ok(())
}

fn get_replicaof(c: &Config) -> String {
    c.replicaof
        .as_ref()
        .map(|(h, p)| format!("{h} {p}"))
        .unwrap_or_default()
}

fn rewrite_replicaof(c: &Config, name: &'static str, st: &mut RewriteState) {
    match &c.replicaof {
        Some((host, port)) if !c.cluster_enabled => st.rewrite_line(name, format!("{name} {host} {port}"), true),
        _ => st.mark_processed(name),
    }
}

fn set_percentiles(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    let args = if args.len() == 1 && args[0].is_empty() {
        &[][..]
    } else {
        args
    };
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        let v = string2d(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&v) {
            return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".to_owned());
        }
        values.push(v);
    }
    c.latency_tracking_info_percentiles = values;
    Ok(())
}

fn get_percentiles(c: &Config) -> String {
    let parts: Vec<String> = c
        .latency_tracking_info_percentiles
        .iter()
        .map(|v| fmt_double(*v))
        .collect();
    parts.join(" ")
}

fn rewrite_percentiles(c: &Config, name: &'static str, st: &mut RewriteState) {
    let values = if c.latency_tracking_info_percentiles.is_empty() {
        "\"\"".to_owned()
    } else {
        get_percentiles(c)
    };
    st.rewrite_line(name, format!("{name} {values}"), true);
}

fn parse_shutdown(args: &[String]) -> Result<ShutdownFlags, String> {
    let bad = || {
        let names: Vec<&str> = ShutdownFlags::ITEMS.iter().map(|(n, _)| *n).collect();
        format!("argument(s) must be one of the following: {}", names.join(", "))
    };
    if args.is_empty() {
        return Err(bad());
    }
    let mut bits = 0;
    for a in args {
        bits |= ShutdownFlags::ITEMS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(a))
            .ok_or_else(bad)?
            .1;
    }
    if bits & ShutdownFlags::SAVE != 0 && bits & ShutdownFlags::NOSAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".to_owned());
    }
    Ok(ShutdownFlags(bits))
}

fn set_shutdown_sigint(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    c.shutdown_on_sigint = parse_shutdown(args)?;
    Ok(())
}

fn set_shutdown_sigterm(c: &mut Config, args: &[String], _: &mut SetCtx) -> Result<(), String> {
    c.shutdown_on_sigterm = parse_shutdown(args)?;
    Ok(())
}

fn rewrite_shutdown(v: ShutdownFlags, name: &'static str, st: &mut RewriteState) {
    st.rewrite_line(name, format!("{name} {v}"), v.0 != 0);
}

/// Splits a CONFIG SET value for `d` into arguments.
pub(crate) fn set_args(d: &Directive, value: &str) -> Vec<String> {
    if d.has(MULTI_ARG) {
        split_spaces(value)
    } else {
        vec![value.to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for d in TABLE {
            for n in std::iter::once(d.name).chain(d.alias) {
                assert!(seen.insert(n), "duplicate name {n}");
                assert_eq!(n, n.to_ascii_lowercase());
            }
        }
        // 192 names in CONFIG GET * of redis-server 7.0.15 + 5 hidden ones.
        assert_eq!(seen.len(), 197);
    }

    #[test]
    fn lookup_is_case_insensitive_and_reports_alias() {
        let (d, n) = lookup("SLAVEOF").expect("slaveof");
        assert_eq!((d.name, n), ("replicaof", "slaveof"));
        let (d, n) = lookup("MaxMemory").expect("maxmemory");
        assert_eq!((d.name, n), ("maxmemory", "maxmemory"));
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn numeric_parsing_and_bounds() {
        assert_eq!(
            parse_num("08", NumFmt::Integer),
            Err("argument couldn't be parsed into an integer".into())
        );
        assert_eq!(parse_num("1k", NumFmt::Memory), Ok(1000));
        assert_eq!(parse_num("10%", NumFmt::MemoryPercent), Ok(-10));
        assert_eq!(
            parse_num("-5", NumFmt::MemoryPercent),
            Err("argument must be a memory or percent value".into())
        );
        assert_eq!(parse_num("777", NumFmt::Octal), Ok(0o777));
        assert_eq!(
            parse_num("999", NumFmt::Octal),
            Err("argument couldn't be parsed as an octal number".into())
        );
        assert_eq!(
            check_bounds(-1, CType::Unsigned, 1, UINT_MAX, NumFmt::Integer),
            Err("argument must be between 1 and 4294967295 inclusive".into())
        );
        assert_eq!(
            check_bounds(0o1000, CType::Unsigned, 0, 0o777, NumFmt::Octal),
            Err("argument must be between 0 and 777 inclusive".into())
        );
        assert_eq!(
            check_bounds(-200, CType::Signed, -100, LONG_MAX, NumFmt::MemoryPercent),
            Err("percentage argument must be less or equal to 100".into())
        );
        assert_eq!(check_bounds(-1, CType::Unsigned, 0, ULLONG_MAX, NumFmt::Memory), Ok(()));
    }
}
