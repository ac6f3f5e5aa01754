//! Persistence commands: DUMP and RESTORE (values in RDB form), SAVE and
//! BGSAVE. The format and the files belong to [`crate::persistence`].

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, NO_KEYS, arg, event};
use crate::keyspace::{Object, lfu};
use crate::persistence::rdb::{self, Encodings};
use crate::persistence::snapshot;

/// The persistence commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "dump",
        2,
        READONLY,
        KEY1,
        Group::Generic,
        "2.6.0",
        "Return a serialized version of the value stored at the specified key.",
        dump,
    ),
    Command::new(
        "restore",
        -4,
        WRITE | DENYOOM,
        KEY1,
        Group::Generic,
        "2.6.0",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        restore,
    ),
    Command::new(
        "save",
        1,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Synchronously save the dataset to disk",
        save,
    ),
    Command::new(
        "bgsave",
        -1,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Asynchronously save the dataset to disk",
        bgsave,
    ),
];

fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let compress = ctx.server.config.rdbcompression;
    let (obj, out) = ctx.read(&args[1]);
    match obj {
        Some(obj) => out.bulk(&rdb::dump_payload(&obj.value, compress)),
        None => out.null(),
    }
    Ok(())
}

fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if arg::is(&args[i], "replace") {
            replace = true;
        } else if arg::is(&args[i], "absttl") {
            absttl = true;
        } else if arg::is(&args[i], "idletime") && has_value && freq.is_none() {
            let n = arg::int(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(n);
            i += 1;
        } else if arg::is(&args[i], "freq") && has_value && idle.is_none() {
            let n = arg::int(&args[i + 1])?;
            if !(0..=255).contains(&n) {
                return Err(CommandError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(n);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    let access = ctx.access;
    let db_id = ctx.client.db;
    if !replace && ctx.db().lookup(key, &access).is_some() {
        return Err(CommandError::Other("BUSYKEY Target key name already exists.".into()));
    }
    let mut ttl = arg::int(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    let enc = Encodings::from_config(&ctx.server.config);
    let value = match rdb::restore_payload(&args[3], &enc) {
        Ok(Some(v)) => v,
        Err(rdb::Error::Checksum { .. } | rdb::Error::Footer(_)) => {
            return Err(CommandError::err("DUMP payload version or checksum are wrong"));
        }
        Ok(None) | Err(_) => return Err(CommandError::err("Bad data format")),
    };
    let deleted = replace && ctx.db().remove(key).is_some();
    if ttl > 0 && !absttl {
        ttl = ttl.saturating_add(access.now_ms);
    }
    if ttl > 0 && ttl <= access.now_ms {
        // Already expired: the key is gone (a DEL if it replaced one).
        if deleted {
            ctx.modified(db_id, key);
            ctx.notify(event::GENERIC, "del", key);
        }
        ctx.out.ok();
        return Ok(());
    }
    let stamp = match (access.lfu, idle, freq) {
        (Some(_), _, Some(f)) => (lfu::initial(access.now_ms) & !0xff) | f as u32,
        (None, Some(idle), _) => access.lru_clock.wrapping_sub(idle.min(i64::from(u32::MAX)) as u32) & 0x00ff_ffff,
        _ => access.new_stamp(),
    };
    let at = (ttl > 0).then_some(ttl);
    ctx.db().put_entry(key, Object::new(value, stamp), at);
    ctx.modified(db_id, key);
    ctx.notify(event::GENERIC, "restore", key);
    ctx.out.ok();
    Ok(())
}

fn save(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    if ctx.server.persistence.in_progress() {
        return Err(CommandError::err("Background save already in progress"));
    }
    snapshot::save(ctx.server).map_err(|_| CommandError::Other("ERR".into()))?;
    ctx.out.ok();
    Ok(())
}

fn bgsave(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    // SCHEDULE waits for another child process (an AOF rewrite); with none
    // running, it starts at once like a plain BGSAVE.
    if args.len() > 2 || (args.len() == 2 && !arg::is(&args[1], "schedule")) {
        return Err(CommandError::Syntax);
    }
    if ctx.server.persistence.in_progress() {
        return Err(CommandError::err("Background save already in progress"));
    }
    // Inside EXEC (the transaction is active while its commands run) the
    // save is scheduled, never forked mid-transaction, as in Redis.
    let in_exec = ctx.client.multi.is_active();
    if ctx.server.aof.rewrite_in_progress() || in_exec {
        if args.len() == 2 || in_exec {
            ctx.server.persistence.scheduled = true;
            ctx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CommandError::err(
            "Another child process is active (AOF?): can't BGSAVE right now. \
             Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    snapshot::bgsave(ctx.server).map_err(|_| CommandError::Other("ERR".into()))?;
    ctx.out.simple("Background saving started");
    Ok(())
}
