//! Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET,
//! CLIENT and COMMAND — what clients and `redis-cli` call when they connect.

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, NO_KEYS, arg};

/// The connection group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new("ping", -1, FAST | STALE | LOADING, NO_KEYS, Group::Connection, "1.0.0", "Ping the server", ping),
    Command::new("echo", 2, FAST | STALE | LOADING, NO_KEYS, Group::Connection, "1.0.0", "Echo the given string", echo),
    Command::new("select", 2, FAST | STALE | LOADING, NO_KEYS, Group::Connection, "1.0.0", "Change the selected database for the current connection", select),
    Command::new("quit", -1, NO_AUTH | STALE | LOADING | ALLOW_BUSY | FAST, NO_KEYS, Group::Connection, "1.0.0", "Close the connection", quit),
];

fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(&args[1]),
        _ => return Err(CommandError::Arity("ping".into())),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.out.bulk(&args[1]);
    Ok(())
}

fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let id = arg::parse_i64(&args[1]).ok_or_else(|| CommandError::err("invalid DB index"))?;
    if id < 0 || id as usize >= ctx.server.dbs.len() {
        return Err(CommandError::DbIndex);
    }
    ctx.client.db = id as usize;
    ctx.out.ok();
    Ok(())
}

fn quit(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}
