//! Transaction commands: MULTI, EXEC, DISCARD, WATCH and UNWATCH. The state
//! and the rules live in [`crate::multi`]; queueing happens in
//! [`super::execute`], before a command would run.

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, Ctx, Group, NO_KEYS};
use crate::multi::{self, Exec};

/// The transactions group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NO_KEYS,
        Group::Transactions,
        "1.2.0",
        "Mark the start of a transaction block",
        multi_cmd,
    ),
    Command::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        NO_KEYS,
        Group::Transactions,
        "1.2.0",
        "Execute all commands issued after MULTI",
        exec,
    ),
    Command::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NO_KEYS,
        Group::Transactions,
        "2.0.0",
        "Discard all commands issued after MULTI",
        discard,
    ),
    Command::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        Group::Transactions,
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        watch,
    ),
    Command::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NO_KEYS,
        Group::Transactions,
        "2.2.0",
        "Forget about all watched keys",
        unwatch,
    ),
];

fn multi_cmd(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    multi::begin(ctx.client)?;
    ctx.out.ok();
    Ok(())
}

fn exec(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let queue = match multi::exec(ctx.server, ctx.client, ctx.access.now_ms)? {
        Exec::Watched => {
            ctx.out.null_array();
            return Ok(());
        }
        Exec::Run(queue) => queue,
    };
    ctx.out.array(queue.len());
    // Blocking commands reply at once, as if they timed out.
    ctx.server.blocking.set_denied(true);
    for q in &queue {
        super::call_nested(ctx, q.cmd, &q.args);
    }
    ctx.server.blocking.set_denied(false);
    multi::discard(ctx.server, ctx.client);
    Ok(())
}

fn discard(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    if !ctx.client.multi.is_active() {
        return Err(super::CommandError::err("DISCARD without MULTI"));
    }
    multi::discard(ctx.server, ctx.client);
    ctx.out.ok();
    Ok(())
}

fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    multi::watch(ctx.server, ctx.client, &args[1..], ctx.access.now_ms)?;
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.server.watches.remove_client(ctx.client.id);
    ctx.out.ok();
    Ok(())
}
