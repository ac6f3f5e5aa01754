//! The INFO text: Redis 7.0's sections, field names and number formats, so
//! that tools parsing INFO (redis-cli, exporters, client libraries) work.
//! Fields for subsystems that do not exist here (forks, AOF rewrites, Lua,
//! defragmentation, threaded I/O) keep Redis's names with their idle values.
//!
//! Process figures come from `/proc` (resident memory, CPU times, system
//! memory); on other platforms they read as zero.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::server::{Server, unix_ms};

/// Sections in output order, and whether `INFO` / `INFO default` shows them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// The INFO reply for the requested section names (none: the default
/// sections; `all`/`everything`: every section; `default` adds the default
/// ones). Unknown names are ignored; each section appears once, in Redis's
/// order.
pub fn render(server: &Server, names: &[Bytes]) -> String {
    let wanted = |section: &str, default: bool| {
        if names.is_empty() {
            return default;
        }
        names.iter().any(|n| {
            n.eq_ignore_ascii_case(section.as_bytes())
                || (section == "modules" && n.eq_ignore_ascii_case(b"module_list"))
                || n.eq_ignore_ascii_case(b"all")
                || n.eq_ignore_ascii_case(b"everything")
                || (default && n.eq_ignore_ascii_case(b"default"))
        })
    };
    let mut out = String::new();
    for &(section, default) in SECTIONS {
        if !wanted(section, default) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut w = Writer { out: &mut out };
        match section {
            "server" => server_section(&mut w, server),
            "clients" => clients_section(&mut w, server),
            "memory" => memory_section(&mut w, server),
            "persistence" => persistence_section(&mut w, server),
            "stats" => stats_section(&mut w, server),
            "replication" => replication_section(&mut w, server),
            "cpu" => cpu_section(&mut w),
            "modules" => w.header("Modules"),
            "commandstats" => commandstats_section(&mut w, server),
            "errorstats" => errorstats_section(&mut w, server),
            "latencystats" => latencystats_section(&mut w, server),
            "cluster" => {
                w.header("Cluster");
                w.field("cluster_enabled", u8::from(server.config.cluster_enabled));
            }
            _ => keyspace_section(&mut w, server),
        }
    }
    out
}

/// Appends `name:value\r\n` lines.
/// Writes `name:value` lines of INFO sections.
pub struct Writer<'a> {
    out: &'a mut String,
}

impl Writer<'_> {
    /// A `# Name` section header.
    pub fn header(&mut self, name: &str) {
        let _ = write!(self.out, "# {name}\r\n");
    }

    /// One `name:value` line.
    pub fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.out, "{name}:{value}\r\n");
    }

    /// Fields that are always zero here (subsystems that do not exist).
    fn zeros(&mut self, names: &[&str]) {
        for n in names {
            self.field(n, 0);
        }
    }
}

/// Redis's `bytesToHuman`: `1023B`, `1.00K`, `1.50M`, `2.00G`…
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(u32, char); 5] = [(1, 'K'), (2, 'M'), (3, 'G'), (4, 'T'), (5, 'P')];
    if n < 1024 {
        return format!("{n}B");
    }
    for (power, unit) in UNITS {
        if u128::from(n) < 1024u128.pow(power + 1) {
            return format!("{:.2}{unit}", n as f64 / 1024f64.powi(power as i32));
        }
    }
    format!("{n}B")
}

fn server_section(w: &mut Writer<'_>, server: &Server) {
    let now_ms = unix_ms();
    let uptime = server.started.elapsed().as_secs();
    w.header("Server");
    w.field("redis_version", crate::REDIS_VERSION);
    w.field("tessera_version", crate::VERSION);
    w.field("redis_git_sha1", "00000000");
    w.field("redis_git_dirty", 0);
    w.field("redis_build_id", "0");
    w.field("redis_mode", "standalone");
    w.field("os", os_name());
    w.field("arch_bits", usize::BITS);
    w.field("monotonic_clock", "POSIX clock_gettime");
    w.field("multiplexing_api", "epoll");
    w.field("atomicvar_api", "c11-builtin");
    w.field("gcc_version", "0.0.0");
    w.field("process_id", std::process::id());
    w.field("process_supervised", "no");
    w.field("run_id", &server.run_id);
    w.field(
        "tcp_port",
        server.listen_addrs.first().map_or(server.config.port, |a| a.port()),
    );
    w.field("server_time_usec", now_ms * 1000);
    w.field("uptime_in_seconds", uptime);
    w.field("uptime_in_days", uptime / 86_400);
    w.field("hz", server.config.hz);
    w.field("configured_hz", server.config.hz);
    w.field("lru_clock", (now_ms / 1000) & 0xff_ffff);
    w.field("executable", &server.executable);
    w.field(
        "config_file",
        server
            .config
            .config_file()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    w.field("io_threads_active", 0);
}

/// `Linux 6.1.0 x86_64`, as Redis's `uname` based `os` field.
fn os_name() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        other => other,
    };
    format!("{os} {} {}", release.trim(), std::env::consts::ARCH)
}

fn clients_section(w: &mut Writer<'_>, server: &Server) {
    let (mut max_in, mut max_out, mut blocked) = (0, 0, 0);
    for c in server.clients.values() {
        if let Ok(c) = c.try_borrow() {
            max_in = max_in.max(c.query_buffer);
            max_out = max_out.max(c.out.len());
            blocked += usize::from(c.paused || c.blocked);
        }
    }
    w.header("Clients");
    w.field("connected_clients", server.clients.len());
    w.field("cluster_connections", 0);
    w.field("maxclients", server.config.maxclients);
    w.field("client_recent_max_input_buffer", max_in);
    w.field("client_recent_max_output_buffer", max_out);
    w.field("blocked_clients", blocked);
    w.zeros(&["tracking_clients", "clients_in_timeout_table"]);
}

/// Process memory figures read from `/proc`.
struct ProcMemory {
    rss: u64,
    total_system: u64,
}

fn proc_memory() -> ProcMemory {
    // statm: size resident shared ... in pages (4 KiB on the platforms we run on).
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096);
    let total_system = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024);
    ProcMemory { rss, total_system }
}

/// Memory figures shared by INFO memory and MEMORY STATS.
pub struct MemoryFigures {
    /// Bytes allocated now.
    pub used: u64,
    /// Highest allocation seen.
    pub peak: u64,
    /// Allocated at start-up.
    pub startup: u64,
    /// Client buffers.
    pub clients: u64,
    /// Hash table overhead of every database (main, expires) by index.
    pub dbs: Vec<(usize, u64, u64)>,
    /// Everything that is not the dataset.
    pub overhead: u64,
    /// Resident set size.
    pub rss: u64,
    /// Installed memory.
    pub total_system: u64,
}

impl MemoryFigures {
    /// Bytes of the dataset (used minus overhead).
    pub fn dataset(&self) -> u64 {
        self.used.saturating_sub(self.overhead)
    }

    /// Dataset share of the memory beyond start-up, percent.
    pub fn dataset_perc(&self) -> f64 {
        let net = self.used.saturating_sub(self.startup);
        if net == 0 {
            0.0
        } else {
            self.dataset() as f64 * 100.0 / net as f64
        }
    }

    /// Used over peak, percent.
    pub fn peak_perc(&self) -> f64 {
        if self.peak == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / self.peak as f64
        }
    }

    /// RSS over used.
    pub fn fragmentation(&self) -> f64 {
        if self.used == 0 {
            0.0
        } else {
            self.rss as f64 / self.used as f64
        }
    }
}

/// Collects the memory figures (the overheads are estimates: hash table
/// entries and buckets, client buffers).
pub fn memory_figures(server: &Server) -> MemoryFigures {
    let used = crate::alloc::allocated() as u64;
    let proc = proc_memory();
    let clients: u64 = server
        .clients
        .values()
        .filter_map(|c| c.try_borrow().ok().map(|c| (c.out.capacity() + c.query_buffer) as u64))
        .sum();
    let dbs: Vec<(usize, u64, u64)> = server
        .dbs
        .iter()
        .enumerate()
        .filter(|(_, db)| !db.is_empty())
        .map(|(i, db)| {
            let main = (db.keys().len() * 24 + db.keys().buckets() * 8) as u64;
            (i, main, (db.expires_len() * 24) as u64)
        })
        .collect();
    let startup = server.startup_memory as u64;
    let overhead = startup + clients + dbs.iter().map(|(_, m, e)| m + e).sum::<u64>();
    MemoryFigures {
        used,
        peak: (server.peak_memory as u64).max(used),
        startup,
        clients,
        dbs,
        overhead,
        rss: proc.rss,
        total_system: proc.total_system,
    }
}

fn memory_section(w: &mut Writer<'_>, server: &Server) {
    let m = memory_figures(server);
    w.header("Memory");
    w.field("used_memory", m.used);
    w.field("used_memory_human", human_bytes(m.used));
    w.field("used_memory_rss", m.rss);
    w.field("used_memory_rss_human", human_bytes(m.rss));
    w.field("used_memory_peak", m.peak);
    w.field("used_memory_peak_human", human_bytes(m.peak));
    w.field("used_memory_peak_perc", format!("{:.2}%", m.peak_perc()));
    w.field("used_memory_overhead", m.overhead);
    w.field("used_memory_startup", m.startup);
    w.field("used_memory_dataset", m.dataset());
    w.field("used_memory_dataset_perc", format!("{:.2}%", m.dataset_perc()));
    w.field("allocator_allocated", m.used);
    w.field("allocator_active", m.used);
    w.field("allocator_resident", m.rss);
    w.field("total_system_memory", m.total_system);
    w.field("total_system_memory_human", human_bytes(m.total_system));
    w.zeros(&["used_memory_lua", "used_memory_vm_eval"]);
    w.field("used_memory_lua_human", "0B");
    w.zeros(&[
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
    ]);
    w.field("used_memory_vm_total_human", "0B");
    w.zeros(&["used_memory_functions", "used_memory_scripts"]);
    w.field("used_memory_scripts_human", "0B");
    w.field("maxmemory", server.config.maxmemory);
    w.field("maxmemory_human", human_bytes(server.config.maxmemory));
    w.field("maxmemory_policy", server.config.maxmemory_policy.as_str());
    w.field("allocator_frag_ratio", "1.00");
    w.field("allocator_frag_bytes", 0);
    w.field("allocator_rss_ratio", format!("{:.2}", m.fragmentation()));
    w.field("allocator_rss_bytes", m.rss.saturating_sub(m.used));
    w.field("rss_overhead_ratio", "1.00");
    w.field("rss_overhead_bytes", 0);
    w.field("mem_fragmentation_ratio", format!("{:.2}", m.fragmentation()));
    w.field("mem_fragmentation_bytes", m.rss as i64 - m.used as i64);
    w.zeros(&[
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
    ]);
    w.field("mem_clients_normal", m.clients);
    w.zeros(&["mem_cluster_links", "mem_aof_buffer"]);
    w.field("mem_allocator", "mimalloc");
    w.zeros(&["active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"]);
}

fn persistence_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Persistence");
    w.field("loading", u8::from(server.loading.is_some()));
    w.zeros(&[
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ]);
    w.field("current_fork_perc", "0.00");
    w.zeros(&["current_save_keys_processed", "current_save_keys_total"]);
    w.field("rdb_changes_since_last_save", server.dirty);
    let p = &server.persistence;
    let status = |ok: bool| if ok { "ok" } else { "err" };
    w.field("rdb_bgsave_in_progress", u8::from(p.in_progress()));
    w.field("rdb_last_save_time", server.lastsave);
    w.field("rdb_last_bgsave_status", status(p.last_bgsave_ok));
    w.field("rdb_last_bgsave_time_sec", p.last_bgsave_secs);
    w.field("rdb_current_bgsave_time_sec", p.current_secs());
    w.field("rdb_saves", p.saves);
    w.zeros(&["rdb_last_cow_size"]);
    w.field("rdb_last_load_keys_expired", p.last_load.1);
    w.field("rdb_last_load_keys_loaded", p.last_load.0);
    let aof = &server.aof;
    w.field("aof_enabled", u8::from(server.config.appendonly));
    w.field("aof_rewrite_in_progress", u8::from(aof.rewrite_in_progress()));
    w.field("aof_rewrite_scheduled", u8::from(aof.rewrite_scheduled));
    w.field("aof_last_rewrite_time_sec", aof.last_rewrite_secs);
    w.field("aof_current_rewrite_time_sec", aof.current_rewrite_secs());
    w.field("aof_last_bgrewrite_status", status(aof.last_rewrite_ok));
    w.field("aof_rewrites", aof.rewrites);
    w.zeros(&["aof_rewrites_consecutive_failures"]);
    w.field("aof_last_write_status", status(aof.write_error().is_none()));
    w.zeros(&[
        "aof_last_cow_size",
        "module_fork_in_progress",
        "module_fork_last_cow_size",
    ]);
    if server.config.appendonly {
        w.field("aof_current_size", aof.current_size);
        w.field("aof_base_size", aof.base_size);
        w.field("aof_pending_rewrite", u8::from(aof.rewrite_scheduled));
        w.field("aof_buffer_length", server.propagator.aof.buf.len());
        w.zeros(&["aof_pending_bio_fsync", "aof_delayed_fsync"]);
    }
    if let Some(p) = &server.loading {
        w.field("loading_start_time", p.start_time);
        w.field("loading_total_bytes", p.total_bytes);
        w.field("loading_rdb_used_mem", p.rdb_used_mem);
        w.field("loading_loaded_bytes", p.loaded_bytes);
        w.field("loading_loaded_perc", format!("{:.2}", p.percent()));
        w.field("loading_eta_seconds", p.eta_secs());
    }
}

fn stats_section(w: &mut Writer<'_>, server: &Server) {
    let s = &server.stats;
    w.header("Stats");
    w.field("total_connections_received", s.total_connections_received);
    w.field("total_commands_processed", s.total_commands_processed);
    w.field("instantaneous_ops_per_sec", s.ops_rate.per_sec().round() as u64);
    w.field("total_net_input_bytes", s.net_input_bytes);
    w.field("total_net_output_bytes", s.net_output_bytes);
    w.zeros(&["total_net_repl_input_bytes", "total_net_repl_output_bytes"]);
    w.field(
        "instantaneous_input_kbps",
        format!("{:.2}", s.input_rate.per_sec() / 1024.0),
    );
    w.field(
        "instantaneous_output_kbps",
        format!("{:.2}", s.output_rate.per_sec() / 1024.0),
    );
    w.field("instantaneous_input_repl_kbps", "0.00");
    w.field("instantaneous_output_repl_kbps", "0.00");
    w.field("rejected_connections", s.rejected_connections);
    w.field("sync_full", server.repl.sync_full);
    w.field("sync_partial_ok", server.repl.sync_partial_ok);
    w.field("sync_partial_err", server.repl.sync_partial_err);
    w.field("expired_keys", s.expired_keys);
    w.field("expired_stale_perc", "0.00");
    w.zeros(&["expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds"]);
    w.field("evicted_keys", s.evicted_keys);
    w.zeros(&[
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ]);
    w.field("keyspace_hits", s.keyspace_hits);
    w.field("keyspace_misses", s.keyspace_misses);
    w.field("pubsub_channels", server.pubsub.len(crate::pubsub::Kind::Channel));
    w.field("pubsub_patterns", server.pubsub.len(crate::pubsub::Kind::Pattern));
    w.field("pubsubshard_channels", server.pubsub.len(crate::pubsub::Kind::Shard));
    w.zeros(&[
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ]);
    w.field("total_error_replies", s.total_error_replies);
    w.field("dump_payload_sanitizations", 0);
    w.field("total_reads_processed", s.reads_processed);
    w.field("total_writes_processed", s.writes_processed);
    w.zeros(&[
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ]);
}

fn replication_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Replication");
    crate::replication::info(server, w);
}

/// CPU seconds (system, user) from a `/proc/.../stat` file: fields 15 and
/// 14 (and 17, 16 for waited-for children), in clock ticks of 1/100 s.
fn cpu_times(path: &str, children: bool) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name, which may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let tick = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .map_or(0.0, |t| t as f64 / 100.0)
    };
    if children {
        (tick(17), tick(16))
    } else {
        (tick(15), tick(14))
    }
}

fn cpu_section(w: &mut Writer<'_>) {
    let (sys, user) = cpu_times("/proc/self/stat", false);
    let (csys, cuser) = cpu_times("/proc/self/stat", true);
    let (msys, muser) = cpu_times("/proc/thread-self/stat", false);
    w.header("CPU");
    w.field("used_cpu_sys", format!("{sys:.6}"));
    w.field("used_cpu_user", format!("{user:.6}"));
    w.field("used_cpu_sys_children", format!("{csys:.6}"));
    w.field("used_cpu_user_children", format!("{cuser:.6}"));
    w.field("used_cpu_sys_main_thread", format!("{msys:.6}"));
    w.field("used_cpu_user_main_thread", format!("{muser:.6}"));
}

fn commandstats_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Commandstats");
    for (name, s) in server.stats.commands_sorted() {
        if s.calls == 0 && s.failed_calls == 0 && s.rejected_calls == 0 {
            continue;
        }
        let per_call = if s.calls == 0 {
            0.0
        } else {
            s.usec as f64 / s.calls as f64
        };
        let _ = write!(
            w.out,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            s.calls, s.usec, s.rejected_calls, s.failed_calls
        );
    }
}

fn errorstats_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Errorstats");
    for (code, count) in &server.stats.errors {
        let _ = write!(w.out, "errorstat_{code}:count={count}\r\n");
    }
}

fn latencystats_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Latencystats");
    if !server.config.latency_tracking {
        return;
    }
    for (name, s) in server.stats.commands_sorted() {
        if s.latency.count() == 0 {
            continue;
        }
        let _ = write!(w.out, "latency_percentiles_usec_{name}:");
        for (i, p) in server.config.latency_tracking_info_percentiles.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                w.out,
                "{sep}p{}={:.3}",
                resp::encode::format_double(*p),
                s.latency.percentile(*p)
            );
        }
        w.out.push_str("\r\n");
    }
}

fn keyspace_section(w: &mut Writer<'_>, server: &Server) {
    w.header("Keyspace");
    for (i, db) in server.dbs.iter().enumerate() {
        if !db.is_empty() {
            let _ = write!(
                w.out,
                "db{i}:keys={},expires={},avg_ttl=0\r\n",
                db.len(),
                db.expires_len()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(1024 * 1024 * 3 / 2), "1.50M");
        assert_eq!(human_bytes(5 << 30), "5.00G");
    }

    #[test]
    fn cpu_times_parse_proc_stat() {
        let (sys, user) = cpu_times("/proc/self/stat", false);
        assert!(sys >= 0.0 && user >= 0.0);
        assert_eq!(cpu_times("/nonexistent", false), (0.0, 0.0));
    }
}
