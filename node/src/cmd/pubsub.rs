//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
//! PUBLISH, their shard variants (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH) and
//! the PUBSUB introspection container.
//!
//! (Un)subscriptions reply one confirmation per name (`subscribe`, name,
//! count) as RESP2 arrays or RESP3 pushes; the registry and delivery are in
//! [`crate::pubsub`]. What a RESP2 client may run while subscribed is
//! checked by the dispatcher ([`allowed_while_subscribed`]).

use std::rc::Rc;

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, KEY1, NO_KEYS, reply_help};
use crate::glob::glob_match;
use crate::pubsub::{Kind, Running};
use crate::reply::Reply;

/// Flags of the (un)subscribe commands.
const SUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
/// Flags of PUBLISH and SPUBLISH.
const PUB_FLAGS: u32 = PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE;
/// Key spec of SSUBSCRIBE and SUNSUBSCRIBE (shard channels, not keys).
const ALL_ARGS: (i32, i32, i32) = (1, -1, 1);

/// The pub/sub group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "subscribe",
        -2,
        SUB_FLAGS,
        NO_KEYS,
        Group::Pubsub,
        "2.0.0",
        "Listen for messages published to the given channels",
        subscribe,
    ),
    Command::new(
        "unsubscribe",
        -1,
        SUB_FLAGS,
        NO_KEYS,
        Group::Pubsub,
        "2.0.0",
        "Stop listening for messages posted to the given channels",
        unsubscribe,
    ),
    Command::new(
        "psubscribe",
        -2,
        SUB_FLAGS,
        NO_KEYS,
        Group::Pubsub,
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
        psubscribe,
    ),
    Command::new(
        "punsubscribe",
        -1,
        SUB_FLAGS,
        NO_KEYS,
        Group::Pubsub,
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
        punsubscribe,
    ),
    Command::new(
        "publish",
        3,
        PUB_FLAGS,
        NO_KEYS,
        Group::Pubsub,
        "2.0.0",
        "Post a message to a channel",
        publish,
    ),
    Command::new(
        "ssubscribe",
        -2,
        SUB_FLAGS,
        ALL_ARGS,
        Group::Pubsub,
        "7.0.0",
        "Listen for messages published to the given shard channels",
        ssubscribe,
    ),
    Command::new(
        "sunsubscribe",
        -1,
        SUB_FLAGS,
        ALL_ARGS,
        Group::Pubsub,
        "7.0.0",
        "Stop listening for messages posted to the given shard channels",
        sunsubscribe,
    ),
    Command::new(
        "spublish",
        3,
        PUB_FLAGS,
        KEY1,
        Group::Pubsub,
        "7.0.0",
        "Post a message to a shard channel",
        spublish,
    ),
    Command::container(
        "pubsub",
        Group::Pubsub,
        "2.8.0",
        "A container for Pub/Sub commands",
        PUBSUB_SUBCOMMANDS,
    ),
];

const INTROSPECTION: u32 = PUBSUB | LOADING | STALE;

const PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new(
        "pubsub|channels",
        -2,
        INTROSPECTION,
        NO_KEYS,
        Group::Pubsub,
        "2.8.0",
        "List active channels",
        pubsub_channels,
    ),
    Command::new(
        "pubsub|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Pubsub,
        "6.2.0",
        "Show helpful text about the different subcommands",
        pubsub_help,
    ),
    Command::new(
        "pubsub|numpat",
        2,
        INTROSPECTION,
        NO_KEYS,
        Group::Pubsub,
        "2.8.0",
        "Get the count of unique patterns pattern subscriptions",
        pubsub_numpat,
    ),
    Command::new(
        "pubsub|numsub",
        -2,
        INTROSPECTION,
        NO_KEYS,
        Group::Pubsub,
        "2.8.0",
        "Get the count of subscribers for channels",
        pubsub_numsub,
    ),
    Command::new(
        "pubsub|shardchannels",
        -2,
        INTROSPECTION,
        NO_KEYS,
        Group::Pubsub,
        "7.0.0",
        "List active shard channels",
        pubsub_shardchannels,
    ),
    Command::new(
        "pubsub|shardnumsub",
        -2,
        INTROSPECTION,
        NO_KEYS,
        Group::Pubsub,
        "7.0.0",
        "Get the count of subscribers for shard channels",
        pubsub_shardnumsub,
    ),
];

/// Whether a RESP2 client in pub/sub mode may run `cmd` (Redis allows only
/// these; others fail with [`not_allowed_while_subscribed`]).
pub fn allowed_while_subscribed(cmd: &Command) -> bool {
    matches!(
        cmd.name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// The error a RESP2 subscribed client gets for any other command.
pub fn not_allowed_while_subscribed(cmd: &Command) -> CommandError {
    CommandError::err(format!(
        "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        cmd.name
    ))
}

/// One (un)subscribe confirmation: `[what, name or nil, count]`.
fn confirm(out: &mut Reply<'_>, what: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(what);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: one confirmation per name, in order.
fn subscribe_to(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) -> CmdResult {
    let id = ctx.client.id;
    let handle = ctx.server.clients.get(&id).map(Rc::downgrade).unwrap_or_default();
    for name in names {
        ctx.server
            .pubsub
            .subscribe(kind, &mut ctx.client.pubsub, id, handle.clone(), name);
        confirm(
            &mut ctx.out,
            kind.subscribe_reply(),
            Some(name),
            ctx.client.pubsub.reported_count(kind),
        );
    }
    Ok(())
}

/// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: one confirmation per name (each
/// of the client's subscriptions of `kind` when none is given, or a single
/// nil one when it has none).
fn unsubscribe_from(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult {
    let all;
    let names = if args.len() > 1 {
        &args[1..]
    } else {
        all = ctx.client.pubsub.names(kind);
        &all[..]
    };
    if names.is_empty() {
        confirm(
            &mut ctx.out,
            kind.unsubscribe_reply(),
            None,
            ctx.client.pubsub.reported_count(kind),
        );
    }
    let id = ctx.client.id;
    for name in names {
        ctx.server.pubsub.unsubscribe(kind, &mut ctx.client.pubsub, id, name);
        confirm(
            &mut ctx.out,
            kind.unsubscribe_reply(),
            Some(name),
            ctx.client.pubsub.reported_count(kind),
        );
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, Kind::Channel, &args[1..])
}

fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, Kind::Pattern, &args[1..])
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, Kind::Shard, &args[1..])
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, Kind::Channel, args)
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, Kind::Pattern, args)
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, Kind::Shard, args)
}

/// PUBLISH and SPUBLISH: the message goes out before the reply (the
/// publisher's own copy, when it is subscribed, included).
fn publish_to(ctx: &mut Ctx<'_>, shard: bool, args: &[Bytes]) -> CmdResult {
    let mut running = Running {
        id: ctx.client.id,
        out: &mut ctx.out,
    };
    let receivers = crate::pubsub::publish(ctx.server, Some(&mut running), shard, &args[1], &args[2]);
    // Replicas publish it to their own subscribers (not written to the AOF).
    ctx.propagate_to_replicas(args.to_vec());
    ctx.out.int(receivers as i64);
    Ok(())
}

fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    publish_to(ctx, false, args)
}

fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    publish_to(ctx, true, args)
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try
/// PUBSUB HELP.` (Redis's `addReplySubcommandSyntaxError`).
fn subcommand_syntax_error(args: &[Bytes]) -> CommandError {
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1][..args[1].len().min(128)]),
        String::from_utf8_lossy(&args[0]).to_uppercase()
    ))
}

/// PUBSUB CHANNELS / SHARDCHANNELS `[pattern]`.
fn list_names(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax_error(args));
    }
    let pattern = args.get(2);
    let registry = &ctx.server.pubsub;
    let matching = |n: &&Bytes| pattern.is_none_or(|p| glob_match(p, n, false));
    ctx.out.array(registry.names(kind).filter(matching).count());
    for name in registry.names(kind).filter(matching) {
        ctx.out.bulk(name);
    }
    Ok(())
}

/// PUBSUB NUMSUB / SHARDNUMSUB `[name ...]`: name, count pairs (an array,
/// in RESP3 too).
fn count_subscribers(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult {
    let names = &args[2..];
    ctx.out.array(names.len() * 2);
    for name in names {
        ctx.out.bulk(name);
        ctx.out.int(ctx.server.pubsub.subscriber_count(kind, name) as i64);
    }
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    list_names(ctx, Kind::Channel, args)
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    list_names(ctx, Kind::Shard, args)
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, Kind::Channel, args)
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, Kind::Shard, args)
}

fn pubsub_numpat(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(ctx.server.pubsub.len(Kind::Pattern) as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}
