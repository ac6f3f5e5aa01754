//! Keyspace commands: DEL, EXISTS, EXPIRE and TTL, RENAME, SCAN, TYPE…

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, Ctx, Group};

/// The generic group's commands.
pub const COMMANDS: &[Command] = &[Command::new("del", -2, WRITE, (1, -1, 1), Group::Generic, "1.0.0", "Delete a key", del)];

fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let db_id = ctx.client.db;
    let mut n = 0;
    for key in &args[1..] {
        let access = ctx.access;
        let db = ctx.db();
        if db.exists(key, &access) {
            db.remove(key);
            ctx.modified(db_id, key);
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}
