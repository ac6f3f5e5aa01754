//! COMMAND: the command table as clients see it — COMMAND [INFO], COUNT,
//! LIST, DOCS, GETKEYS, GETKEYSANDFLAGS, HELP — with Redis 7.0's reply
//! shapes. The static parts come from the command table ([`super::all`])
//! and [`super::meta`].

use bytes::Bytes;

use super::flag::*;
use super::meta::{self, Begin, Find, KeySpec, acl, key_flag};
use super::{CmdResult, Command, CommandError, Ctx, Group, NO_KEYS, arg, reply_help};
use crate::reply::Reply;

/// The COMMAND command.
pub const COMMANDS: &[Command] = &[Command {
    // Unlike other containers, COMMAND runs without a subcommand too.
    arity: -1,
    flags: LOADING | STALE,
    handler: command_all,
    ..Command::container(
        "command",
        Group::Server,
        "2.8.13",
        "Get array of Redis command details",
        SUBCOMMANDS,
    )
}];

const SUBCOMMANDS: &[Command] = &[
    Command::new(
        "command|count",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Get total number of Redis commands",
        count,
    ),
    Command::new(
        "command|docs",
        -2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "7.0.0",
        "Get array of specific Redis command documentation",
        docs,
    ),
    Command::new(
        "command|getkeys",
        -4,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Extract keys given a full Redis command",
        getkeys,
    ),
    Command::new(
        "command|getkeysandflags",
        -4,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        getkeysandflags,
    ),
    Command::new(
        "command|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "5.0.0",
        "Show helpful text about the different subcommands",
        help,
    ),
    Command::new(
        "command|info",
        -2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        info,
    ),
    Command::new(
        "command|list",
        -2,
        LOADING | STALE,
        NO_KEYS,
        Group::Server,
        "7.0.0",
        "Get an array of Redis command names",
        list,
    ),
];

/// `COMMAND` without a subcommand: every command's info.
fn command_all(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let cmds: Vec<&Command> = super::all().collect();
    ctx.out.array(cmds.len());
    for c in cmds {
        info_reply(&mut ctx.out, c);
    }
    Ok(())
}

fn count(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(super::all().count() as i64);
    Ok(())
}

/// Finds a command by full name: `get`, or `client|list` for a subcommand.
fn by_full_name(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&b| b == b'|') {
        None => super::lookup(name),
        Some(i) => super::lookup_sub(super::lookup(&name[..i])?, &name[i + 1..]),
    }
}

fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        return command_all(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for name in &args[2..] {
        match by_full_name(name) {
            Some(c) => info_reply(&mut ctx.out, c),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// The 10-element `COMMAND INFO` entry of `cmd`.
fn info_reply(out: &mut Reply<'_>, cmd: &Command) {
    out.array(10);
    out.bulk(cmd.name.as_bytes());
    out.int(i64::from(cmd.arity));
    let flags = cmd.flags | if meta::movable_keys(cmd) { MOVABLE_KEYS } else { 0 };
    names_reply(out, flags, NAMES, "");
    out.int(i64::from(cmd.first_key));
    out.int(i64::from(cmd.last_key));
    out.int(i64::from(cmd.step));
    names_reply(out, meta::acl_categories(cmd), acl::NAMES, "@");
    let m = meta::get(cmd.name);
    let tips = m.map_or(&[][..], |m| m.tips);
    out.set(tips.len());
    for t in tips {
        out.bulk(t.as_bytes());
    }
    let specs = meta::key_specs(cmd);
    out.set(specs.len());
    for s in specs {
        key_spec_reply(out, s);
    }
    if cmd.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(cmd.subcommands.len());
        for sub in cmd.subcommands {
            info_reply(out, sub);
        }
    }
}

/// A set of status replies: the names of the bits set in `bits`.
fn names_reply(out: &mut Reply<'_>, bits: u32, names: &[(u32, &str)], prefix: &str) {
    let set: Vec<&str> = names.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect();
    out.set(set.len());
    for n in set {
        out.simple(&format!("{prefix}{n}"));
    }
}

fn key_spec_reply(out: &mut Reply<'_>, spec: &KeySpec) {
    out.map(if spec.notes.is_empty() { 3 } else { 4 });
    if !spec.notes.is_empty() {
        out.bulk(b"notes");
        out.bulk(spec.notes.as_bytes());
    }
    out.bulk(b"flags");
    names_reply(out, spec.flags, key_flag::NAMES, "");
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match spec.begin {
        Begin::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            int_map(out, &[("index", i)]);
        }
        Begin::Keyword(word, from) => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(word.as_bytes());
            out.bulk(b"startfrom");
            out.int(i64::from(from));
        }
        Begin::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match spec.find {
        Find::Range(last, step, limit) => {
            out.bulk(b"range");
            out.bulk(b"spec");
            int_map(out, &[("lastkey", last), ("keystep", step), ("limit", limit)]);
        }
        Find::Keynum(idx, first, step) => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            int_map(out, &[("keynumidx", idx), ("firstkey", first), ("keystep", step)]);
        }
        Find::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

fn int_map(out: &mut Reply<'_>, pairs: &[(&str, i32)]) {
    out.map(pairs.len());
    for (k, v) in pairs {
        out.bulk(k.as_bytes());
        out.int(i64::from(*v));
    }
}

fn docs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let cmds: Vec<&Command> = if args.len() == 2 {
        super::all().collect()
    } else {
        args[2..].iter().filter_map(|n| by_full_name(n)).collect()
    };
    ctx.out.map(cmds.len());
    for c in cmds {
        ctx.out.bulk(c.name.as_bytes());
        doc_reply(&mut ctx.out, c);
    }
    Ok(())
}

/// The `COMMAND DOCS` map of `cmd` (without argument descriptions).
fn doc_reply(out: &mut Reply<'_>, cmd: &Command) {
    let m = meta::get(cmd.name);
    let complexity = m.map_or("", |m| m.complexity);
    let syscmd = m.is_some_and(|m| m.syscmd);
    let deprecated = m.map_or("", |m| m.deprecated_since);
    let history = m.map_or(&[][..], |m| m.history);
    let fields = 3
        + usize::from(!complexity.is_empty())
        + usize::from(syscmd || !deprecated.is_empty())
        + 2 * usize::from(!deprecated.is_empty())
        + usize::from(!history.is_empty())
        + usize::from(!cmd.subcommands.is_empty());
    out.map(fields);
    out.bulk(b"summary");
    out.bulk(cmd.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(cmd.since.as_bytes());
    out.bulk(b"group");
    out.bulk(cmd.group.name().as_bytes());
    if !complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(complexity.as_bytes());
    }
    if syscmd || !deprecated.is_empty() {
        out.bulk(b"doc_flags");
        out.set(usize::from(syscmd) + usize::from(!deprecated.is_empty()));
        if deprecated.is_empty() {
            out.simple("syscmd");
        } else {
            out.simple("deprecated");
        }
    }
    if let Some(m) = m.filter(|_| !deprecated.is_empty()) {
        out.bulk(b"deprecated_since");
        out.bulk(m.deprecated_since.as_bytes());
        out.bulk(b"replaced_by");
        out.bulk(m.replaced_by.as_bytes());
    }
    if !history.is_empty() {
        out.bulk(b"history");
        out.set(history.len());
        for (version, text) in history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(text.as_bytes());
        }
    }
    if !cmd.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(cmd.subcommands.len());
        for sub in cmd.subcommands {
            out.bulk(sub.name.as_bytes());
            doc_reply(out, sub);
        }
    }
}

fn list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let filter: Box<dyn Fn(&Command) -> bool> = match &args[2..] {
        [] => Box::new(|_| true),
        [by, kind, value] if arg::is(by, "filterby") => {
            if arg::is(kind, "module") {
                // No modules: nothing matches.
                Box::new(|_| false)
            } else if arg::is(kind, "aclcat") {
                match acl::by_name(value) {
                    Some(cat) => Box::new(move |c| meta::acl_categories(c) & cat != 0),
                    None => Box::new(|_| false),
                }
            } else if arg::is(kind, "pattern") {
                let pattern = value.clone();
                Box::new(move |c| crate::glob::glob_match(&pattern, c.name.as_bytes(), true))
            } else {
                return Err(CommandError::Syntax);
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    let names: Vec<&str> = super::all()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands))
        .filter(|c| filter(c))
        .map(|c| c.name)
        .collect();
    ctx.out.bulks(names.iter());
    Ok(())
}

fn getkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    keys_reply(ctx, args, false)
}

fn getkeysandflags(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    keys_reply(ctx, args, true)
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS, with Redis's errors.
fn keys_reply(ctx: &mut Ctx<'_>, args: &[Bytes], with_flags: bool) -> CmdResult {
    let call = &args[2..];
    let cmd = match super::lookup(&call[0]) {
        Some(c) if !c.subcommands.is_empty() => call.get(1).and_then(|sub| super::lookup_sub(c, sub)),
        other => other,
    };
    let cmd = cmd.ok_or_else(|| CommandError::err("Invalid command specified"))?;
    if !meta::has_keys(cmd) {
        return Err(CommandError::err("The command has no key arguments"));
    }
    if !cmd.arity_ok(call.len()) {
        return Err(CommandError::err("Invalid number of arguments specified for command"));
    }
    let keys = meta::find_keys(cmd, call);
    if keys.is_empty() && cmd.flags & NO_MANDATORY_KEYS == 0 {
        return Err(CommandError::err("Invalid arguments specified for command"));
    }
    ctx.out.array(keys.len());
    for k in keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(&call[k.pos]);
            names_reply(&mut ctx.out, k.flags, key_flag::NAMES, "");
        } else {
            ctx.out.bulk(&call[k.pos]);
        }
    }
    Ok(())
}

fn help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}
