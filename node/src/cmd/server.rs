//! Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN,
//! SLOWLOG, LATENCY, MONITOR, DEBUG…

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, Ctx, Group, NO_KEYS};

/// The server group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new("dbsize", 1, READONLY | FAST, NO_KEYS, Group::Server, "1.0.0", "Return the number of keys in the selected database", dbsize),
    Command::new("flushall", -1, WRITE, NO_KEYS, Group::Server, "1.0.0", "Remove all keys from all databases", flushall),
];

fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for db in &mut ctx.server.dbs {
        n += db.clear();
    }
    ctx.server.dirty += n as u64 + 1;
    ctx.out.ok();
    Ok(())
}
