//! Server commands: INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN, MEMORY, SLOWLOG,
//! LATENCY, MONITOR and DEBUG.
//!
//! DEBUG implements SLEEP, SET-ACTIVE-EXPIRE, OBJECT, CHANGE-REPL-ID, LOG,
//! ERROR and HELP; its OBJECT line is an approximation (`refcount:1`, the
//! serialized length estimated from the value's size).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, NO_KEYS, arg, reply_help, subcommand_syntax_error};
use crate::config::Config;
use crate::keyspace::Object;
use crate::reply::Reply;

/// The server group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "info",
        -1,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Get information and statistics about the server",
        info,
    ),
    Command::container(
        "config",
        Group::Server,
        "2.0.0",
        "A container for server configuration commands",
        CONFIG,
    ),
    Command::new(
        "time",
        1,
        LOADING | STALE | FAST,
        NO_KEYS,
        Group::Server,
        "2.6.0",
        "Return the current server time",
        time,
    ),
    Command::new(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Asynchronously rewrite the append-only file",
        bgrewriteaof,
    ),
    Command::new(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        lastsave,
    ),
    Command::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        shutdown,
    ),
    Command::container(
        "memory",
        Group::Server,
        "4.0.0",
        "A container for memory diagnostics commands",
        MEMORY,
    ),
    Command::container(
        "slowlog",
        Group::Server,
        "2.2.12",
        "A container for slow log commands",
        SLOWLOG,
    ),
    Command::container(
        "latency",
        Group::Server,
        "2.8.13",
        "A container for latency diagnostics commands",
        LATENCY,
    ),
    Command::new(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Listen for all requests received by the server in real time",
        monitor,
    ),
    Command::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "A container for debugging commands",
        debug,
    ),
];

const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

const CONFIG: &[Command] = &[
    Command::new(
        "config|get",
        -3,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.0.0",
        "Get the values of configuration parameters",
        config_get,
    ),
    Command::new(
        "config|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "5.0.0",
        "Show helpful text about the different subcommands",
        config_help,
    ),
    Command::new(
        "config|resetstat",
        2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.0.0",
        "Reset the stats returned by INFO",
        config_resetstat,
    ),
    Command::new(
        "config|rewrite",
        2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.0",
        "Rewrite the configuration file with the in memory configuration",
        config_rewrite,
    ),
    Command::new(
        "config|set",
        -4,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.0.0",
        "Set configuration parameters to the given values",
        config_set,
    ),
];

const MEMORY: &[Command] = &[
    Command::new(
        "memory|doctor",
        2,
        0,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Outputs memory problems report",
        memory_doctor,
    ),
    Command::new(
        "memory|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Show helpful text about the different subcommands",
        memory_help,
    ),
    Command::new(
        "memory|malloc-stats",
        2,
        0,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Show allocator internal stats",
        memory_malloc_stats,
    ),
    Command::new(
        "memory|purge",
        2,
        0,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Ask the allocator to release memory",
        memory_purge,
    ),
    Command::new(
        "memory|stats",
        2,
        0,
        NO_KEYS,
        Group::Server,
        "4.0.0",
        "Show memory usage details",
        memory_stats,
    ),
    Command::new(
        "memory|usage",
        -3,
        READONLY,
        (2, 2, 1),
        Group::Server,
        "4.0.0",
        "Estimate the memory usage of a key",
        memory_usage,
    ),
];

const SLOWLOG: &[Command] = &[
    Command::new(
        "slowlog|get",
        -2,
        ADMIN | LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.2.12",
        "Get the slow log's entries",
        slowlog_get,
    ),
    Command::new(
        "slowlog|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "6.2.0",
        "Show helpful text about the different subcommands",
        slowlog_help,
    ),
    Command::new(
        "slowlog|len",
        2,
        ADMIN | LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.2.12",
        "Get the slow log's length",
        slowlog_len,
    ),
    Command::new(
        "slowlog|reset",
        2,
        ADMIN | LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.2.12",
        "Clear all entries from the slow log",
        slowlog_reset,
    ),
];

const LATENCY: &[Command] = &[
    Command::new(
        "latency|doctor",
        2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Return a human readable latency analysis report.",
        latency_doctor,
    ),
    Command::new(
        "latency|graph",
        3,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Return a latency graph for the event.",
        latency_graph,
    ),
    Command::new(
        "latency|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Show helpful text about the different subcommands.",
        latency_help,
    ),
    Command::new(
        "latency|histogram",
        -2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "7.0.0",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        latency_histogram,
    ),
    Command::new(
        "latency|history",
        3,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Return timestamp-latency samples for the event.",
        latency_history,
    ),
    Command::new(
        "latency|latest",
        2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Return the latest latency samples for all events.",
        latency_latest,
    ),
    Command::new(
        "latency|reset",
        -2,
        ADMIN_FLAGS,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Reset latency data for one or more events.",
        latency_reset,
    ),
];

fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let text = crate::info::render(ctx.server, &args[1..]);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn config_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let patterns: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let pairs = ctx.server.config.get(&patterns);
    ctx.out.map(pairs.len());
    for (name, value) in pairs {
        ctx.out.bulk(name.as_bytes());
        ctx.out.bulk(value.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|p| (&p[0][..], &p[1][..])).collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        let sensitive = std::str::from_utf8(name)
            .ok()
            .and_then(Config::directive_info)
            .is_some_and(|d| d.sensitive);
        if sensitive {
            ctx.redact(3 + 2 * i);
        }
    }
    let local = ctx.client.addr.ip().is_loopback();
    let changed = ctx
        .server
        .config
        .set_with(&pairs, local)
        .map_err(|e| CommandError::Other(e.into()))?;
    apply_config(ctx, &changed)?;
    ctx.out.ok();
    Ok(())
}

/// What the server does when a directive changes at run time, besides
/// reading the new value where it is used (maxclients, timeout, hz,
/// requirepass, protected-mode, maxmemory, the slow log and latency
/// settings, buffer limits are all read live).
fn apply_config(ctx: &mut Ctx<'_>, changed: &[&'static str]) -> CmdResult {
    if changed.contains(&"loglevel") {
        crate::logging::set_level(ctx.server.config.loglevel);
    }
    if changed.contains(&"appendonly") {
        let on = ctx.server.config.appendonly;
        if let Err(e) = crate::persistence::aof::set_enabled(ctx.server, on) {
            ctx.server.config.appendonly = !on;
            return Err(CommandError::Other(
                crate::config::Config::set_failed("appendonly", &e.to_string()).into(),
            ));
        }
    }
    Ok(())
}

fn bgrewriteaof(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    // Inside EXEC (the transaction is active while its commands run) the
    // rewrite is scheduled, never forked mid-transaction, as in Redis.
    let in_exec = ctx.client.multi.is_active();
    let started =
        crate::persistence::aof::bgrewriteaof(ctx.server, in_exec).map_err(|e| CommandError::Other(e.into()))?;
    ctx.out.simple(started);
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.server.reset_stats();
    ctx.out.ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.server.config.rewrite().map_err(|e| CommandError::Other(e.into()))?;
    tracing::info!("CONFIG REWRITE executed with success.");
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

fn time(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(i64::from(now.subsec_micros()));
    Ok(())
}

fn lastsave(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(ctx.server.lastsave);
    Ok(())
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (mut save, mut nosave, mut abort, mut other, mut force) = (false, false, false, false, false);
    for a in &args[1..] {
        if arg::is(a, "nosave") {
            nosave = true;
        } else if arg::is(a, "save") {
            save = true;
        } else if arg::is(a, "now") || arg::is(a, "force") {
            // NOW matters when waiting for replicas (none here); FORCE
            // exits even when the final save fails.
            other = true;
            force |= arg::is(a, "force");
        } else if arg::is(a, "abort") {
            abort = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(CommandError::Syntax);
    }
    if abort {
        // A shutdown never waits (no replicas to catch up), so none is ever
        // in progress.
        return Err(CommandError::err("No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    crate::persistence::snapshot::kill_child(ctx.server);
    // A dataset still loading is never saved (as Redis forces NOSAVE).
    if (save || !ctx.server.config.save.is_empty()) && !nosave && ctx.server.loading.is_none() {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if crate::persistence::snapshot::save(ctx.server).is_err() && !force {
            tracing::warn!("Error trying to save the DB, can't exit.");
            return Err(CommandError::err("Errors trying to SHUTDOWN. Check logs."));
        }
    }
    ctx.server.shutdown_requested = true;
    ctx.server.shutdown_notify.notify_one();
    // No reply: the connection closes when the process exits.
    Ok(())
}

/// Estimated bytes used by a key and its value: the hash table entry, the
/// key's allocation, the object header and the value's heap size.
pub fn memory_usage_of(key: &[u8], obj: &Object) -> usize {
    const DICT_ENTRY: usize = 24;
    const OBJECT_HEADER: usize = 16;
    DICT_ENTRY + (key.len() + 4).next_multiple_of(8) + OBJECT_HEADER + obj.value.heap_size()
}

fn memory_usage(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut i = 3;
    while i < args.len() {
        if arg::is(&args[i], "samples") && i + 1 < args.len() {
            // Sizes are computed, not sampled: the count is only validated.
            if arg::int(&args[i + 1])? < 0 {
                return Err(CommandError::Syntax);
            }
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    // No expiry check, as Redis: a key not yet reclaimed still uses memory.
    match ctx.db().keys().get_entry(&args[2]) {
        Some((key, obj)) => {
            let n = memory_usage_of(key, obj);
            ctx.out.int(n as i64);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn int_field(out: &mut Reply<'_>, name: &str, value: u64) {
    out.bulk(name.as_bytes());
    out.int(value as i64);
}

fn double_field(out: &mut Reply<'_>, name: &str, value: f64) {
    out.bulk(name.as_bytes());
    out.double(value);
}

fn memory_stats(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let m = crate::info::memory_figures(ctx.server);
    let keys: u64 = ctx.server.dbs.iter().map(|d| d.len() as u64).sum();
    let out = &mut ctx.out;
    out.map(27 + m.dbs.len());
    int_field(out, "peak.allocated", m.peak);
    int_field(out, "total.allocated", m.used);
    int_field(out, "startup.allocated", m.startup);
    int_field(out, "replication.backlog", 0);
    int_field(out, "clients.slaves", 0);
    int_field(out, "clients.normal", m.clients);
    int_field(out, "cluster.links", 0);
    int_field(out, "aof.buffer", 0);
    int_field(out, "lua.caches", 0);
    int_field(out, "functions.caches", 0);
    for (db, main, expires) in &m.dbs {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        int_field(out, "overhead.hashtable.main", *main);
        int_field(out, "overhead.hashtable.expires", *expires);
        int_field(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int_field(out, "overhead.total", m.overhead);
    int_field(out, "keys.count", keys);
    int_field(
        out,
        "keys.bytes-per-key",
        m.used.saturating_sub(m.startup).checked_div(keys).unwrap_or(0),
    );
    int_field(out, "dataset.bytes", m.dataset());
    double_field(out, "dataset.percentage", m.dataset_perc());
    double_field(out, "peak.percentage", m.peak_perc());
    int_field(out, "allocator.allocated", m.used);
    int_field(out, "allocator.active", m.used);
    int_field(out, "allocator.resident", m.rss);
    double_field(out, "allocator-fragmentation.ratio", 1.0);
    int_field(out, "allocator-fragmentation.bytes", 0);
    double_field(out, "allocator-rss.ratio", m.fragmentation());
    int_field(out, "allocator-rss.bytes", m.rss.saturating_sub(m.used));
    double_field(out, "rss-overhead.ratio", 1.0);
    int_field(out, "rss-overhead.bytes", 0);
    double_field(out, "fragmentation", m.fragmentation());
    int_field(out, "fragmentation.bytes", m.rss.saturating_sub(m.used));
    Ok(())
}

fn memory_doctor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let text = if crate::alloc::allocated() < 5 << 20 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.verbatim(b"Stats not supported for the current allocator");
    Ok(())
}

fn memory_purge(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

fn slowlog_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax_error(args));
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => match arg::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => return Err(CommandError::err("count should be greater than or equal to -1")),
        },
    };
    let log = &ctx.server.slowlog;
    let out = &mut ctx.out;
    out.array(count.min(log.len()));
    for e in log.entries().take(count) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.duration_us as i64);
        out.bulks(e.args.iter());
        out.bulk(e.addr.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(ctx.server.slowlog.len() as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.server.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

fn latency_latest(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let events = ctx.server.latency.events();
    ctx.out.array(events.len());
    for (name, series) in events {
        let (time, latency) = series.latest().map_or((0, 0), |s| (s.time, s.latency));
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(time);
        ctx.out.int(latency as i64);
        ctx.out.int(series.max as i64);
    }
    Ok(())
}

fn latency_history(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match ctx.server.latency.event(&args[2]) {
        None => ctx.out.array(0),
        Some(series) => {
            let samples = series.samples();
            ctx.out.array(samples.len());
            for s in samples {
                ctx.out.array(2);
                ctx.out.int(s.time);
                ctx.out.int(s.latency as i64);
            }
        }
    }
    Ok(())
}

fn latency_reset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let names: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let n = ctx.server.latency.reset(&names);
    ctx.out.int(n as i64);
    Ok(())
}

fn latency_doctor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let text = ctx.server.latency.doctor(ctx.server.config.latency_monitor_threshold);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn latency_graph(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let name = String::from_utf8_lossy(&args[2]);
    let series = ctx
        .server
        .latency
        .event(&args[2])
        .ok_or_else(|| CommandError::err(format!("No samples available for event '{name}'")))?;
    let text = crate::latency::graph(&name, series, ctx.access.now_ms / 1000);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn latency_histogram(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let stats = &ctx.server.stats.commands;
    // By full name (`client|list`); with no names, every command that ran.
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 2 {
        wanted.extend(ctx.server.stats.commands_sorted().into_iter().map(|(n, _)| n));
    } else {
        for a in &args[2..] {
            let lower = String::from_utf8_lossy(a).to_lowercase();
            if let Some((name, _)) = stats.get_key_value(lower.as_str())
                && !wanted.contains(name)
            {
                wanted.push(name);
            }
        }
    }
    wanted.retain(|n| stats.get(n).is_some_and(|s| s.latency.count() > 0));
    let out = &mut ctx.out;
    out.map(wanted.len());
    for name in wanted {
        let Some(s) = stats.get(name) else { continue };
        out.bulk(name.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(s.latency.count() as i64);
        out.bulk(b"histogram_usec");
        let buckets = s.latency.cumulative();
        out.map(buckets.len());
        for (usec, n) in buckets {
            out.int(usec as i64);
            out.int(n as i64);
        }
    }
    Ok(())
}

fn latency_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

fn monitor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    // A second MONITOR is ignored, without a reply, as in Redis.
    if !ctx.client.monitor {
        ctx.client.monitor = true;
        ctx.server.monitors.push(ctx.client.id);
        ctx.out.ok();
    }
    Ok(())
}

fn debug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let sub = &args[1];
    match args.len() {
        2 if arg::is(sub, "help") => debug_help(&mut ctx.out),
        2 if arg::is(sub, "reload") => {
            // Save, empty, load back: proves the dataset survives the format.
            crate::persistence::snapshot::save(ctx.server).map_err(|_| CommandError::err("Error saving RDB"))?;
            let path = crate::persistence::snapshot::path(ctx.server);
            let data = std::fs::read(&path)
                .map_err(|_| CommandError::err("Error trying to load the RDB dump, check server logs."))?;
            if let Err(e) = crate::persistence::snapshot::load_into(ctx.server, &data) {
                tracing::warn!("DEBUG RELOAD: {e}");
                return Err(CommandError::err(
                    "Error trying to load the RDB dump, check server logs.",
                ));
            }
            tracing::info!("DB reloaded by DEBUG RELOAD");
            ctx.out.ok();
        }
        2 if arg::is(sub, "digest") => {
            let digest = crate::persistence::digest::dataset(&ctx.server.dbs);
            ctx.out.simple(&crate::persistence::digest::hex(&digest));
        }
        _ if arg::is(sub, "digest-value") => {
            ctx.out.array(args.len() - 2);
            for key in &args[2..] {
                let digest = crate::persistence::digest::value(ctx.db(), key);
                ctx.out.simple(&crate::persistence::digest::hex(&digest));
            }
        }
        2 if arg::is(sub, "change-repl-id") => {
            ctx.server.repl.replid = crate::server::random_hex_id();
            ctx.out.ok();
        }
        3 if arg::is(sub, "sleep") => {
            // Blocks the whole server, as in Redis.
            let secs = float_prefix(&args[2]);
            if secs > 0.0 {
                std::thread::sleep(Duration::from_secs_f64(secs.min(1e9)));
            }
            ctx.out.ok();
        }
        3 if arg::is(sub, "set-active-expire") => {
            ctx.server.active_expire_enabled = int_prefix(&args[2]) != 0;
            ctx.out.ok();
        }
        3 if arg::is(sub, "object") => {
            let lru_clock = ctx.access.lru_clock;
            let obj = ctx.db().keys().get(&args[2]).ok_or(CommandError::NoSuchKey)?;
            let line = format!(
                "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                std::ptr::from_ref(obj),
                obj.value.encoding(),
                serialized_len(obj),
                obj.access,
                lru_clock.wrapping_sub(obj.access) & 0xff_ffff
            );
            ctx.out.simple(&line);
        }
        3 if arg::is(sub, "log") => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
            ctx.out.ok();
        }
        3 if arg::is(sub, "error") => {
            return Err(CommandError::Other(
                String::from_utf8_lossy(&args[2]).into_owned().into(),
            ));
        }
        _ => return Err(subcommand_syntax_error(args)),
    }
    Ok(())
}

/// DEBUG OBJECT `serializedlength`: the length of the value's RDB encoding
/// (without its type byte), as Redis measures it.
fn serialized_len(obj: &Object) -> usize {
    let mut out = Vec::new();
    crate::persistence::rdb::write_value(&mut out, &obj.value, true);
    out.len() - 1
}

/// C's `strtod` on a prefix: the longest leading number, else 0.
fn float_prefix(b: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .find_map(|n| s.get(..n)?.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// C's `atoi`: the leading integer, else 0.
fn int_prefix(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .find_map(|n| s.get(..n)?.parse::<i64>().ok())
        .unwrap_or(0)
}

fn debug_help(out: &mut Reply<'_>) {
    reply_help(
        out,
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "RELOAD",
            "    Save the RDB on disk and reload it back to memory.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_prefixes() {
        assert_eq!(float_prefix(b"0.5s"), 0.5);
        assert_eq!(float_prefix(b"abc"), 0.0);
        assert_eq!(float_prefix(b" 2"), 2.0);
        assert_eq!(int_prefix(b"1x"), 1);
        assert_eq!(int_prefix(b"-3"), -3);
        assert_eq!(int_prefix(b""), 0);
    }
}
