//! Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN,
//! SLOWLOG, LATENCY, MONITOR, DEBUG…

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, Ctx, Group, NO_KEYS};

/// The server group's commands.
pub const COMMANDS: &[Command] = &[
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
