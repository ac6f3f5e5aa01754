//! String commands: GET, SET and friends, counters, ranges and bit operations.

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1};
use crate::keyspace::{Str, Value};

/// The string group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, KEY1, Group::String, "1.0.0", "Get the value of a key", get),
    Command::new("set", -3, WRITE | DENYOOM, KEY1, Group::String, "1.0.0", "Set the string value of a key", set),
];

fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (db, out, access) = ctx.parts();
    match db.lookup(&args[1], access).map(|o| &o.value) {
        None => out.null(),
        Some(Value::Str(Str::Int(n))) => out.bulk_int(*n),
        Some(Value::Str(Str::Bytes(b))) => out.bulk(b),
        Some(Value::Str(Str::Raw(v))) => out.bulk(v),
        Some(_) => return Err(CommandError::WrongType),
    }
    Ok(())
}

fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() != 3 {
        return Err(CommandError::Syntax);
    }
    let access = ctx.access;
    let db = ctx.client.db;
    ctx.db().set(&args[1], Value::Str(Str::from_bytes(&args[2])), false, &access);
    ctx.modified(db, &args[1]);
    ctx.out.ok();
    Ok(())
}
