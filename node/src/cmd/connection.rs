//! Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET and
//! CLIENT — what clients and `redis-cli` call when they connect.
//!
//! There is one user, `default`, whose password is `requirepass` (no
//! password: any password is accepted for it, as Redis's `nopass`).
//! Client-side caching (CLIENT TRACKING ON) is not supported yet: it
//! replies an error; the tracking introspection commands report tracking
//! off.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, NO_KEYS, arg, reply_help, subcommand_syntax_error};
use crate::client::{Client, ClientType, ReplyMode};
use crate::server::PauseMode;

/// The connection group's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "ping",
        -1,
        FAST,
        NO_KEYS,
        Group::Connection,
        "1.0.0",
        "Ping the server",
        ping,
    ),
    Command::new(
        "echo",
        2,
        FAST | STALE | LOADING,
        NO_KEYS,
        Group::Connection,
        "1.0.0",
        "Echo the given string",
        echo,
    ),
    Command::new(
        "select",
        2,
        FAST | STALE | LOADING,
        NO_KEYS,
        Group::Connection,
        "1.0.0",
        "Change the selected database for the current connection",
        select,
    ),
    Command::new(
        "quit",
        -1,
        NO_AUTH | NOSCRIPT | STALE | LOADING | ALLOW_BUSY | FAST,
        NO_KEYS,
        Group::Connection,
        "1.0.0",
        "Close the connection",
        quit,
    ),
    Command::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NO_KEYS,
        Group::Connection,
        "1.0.0",
        "Authenticate to the server",
        auth,
    ),
    Command::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NO_KEYS,
        Group::Connection,
        "6.0.0",
        "Handshake with Redis",
        hello,
    ),
    Command::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NO_KEYS,
        Group::Connection,
        "6.2.0",
        "Reset the connection",
        reset,
    ),
    Command::container(
        "client",
        Group::Connection,
        "2.4.0",
        "A container for client connection commands",
        CLIENT,
    ),
];

const CLIENT_FLAGS: u32 = NOSCRIPT | LOADING | STALE;

const CLIENT: &[Command] = &[
    Command::new(
        "client|caching",
        3,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.0.0",
        "Instruct the server about tracking or not keys in the next request",
        client_caching,
    ),
    Command::new(
        "client|getname",
        2,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "2.6.9",
        "Get the current connection name",
        client_getname,
    ),
    Command::new(
        "client|getredir",
        2,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.0.0",
        "Get tracking notifications redirection client ID if any",
        client_getredir,
    ),
    Command::new(
        "client|help",
        2,
        LOADING | STALE,
        NO_KEYS,
        Group::Connection,
        "5.0.0",
        "Show helpful text about the different subcommands",
        client_help,
    ),
    Command::new(
        "client|id",
        2,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "5.0.0",
        "Returns the client ID for the current connection",
        client_id,
    ),
    Command::new(
        "client|info",
        2,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.2.0",
        "Returns information about the current client connection.",
        client_info,
    ),
    Command::new(
        "client|kill",
        -3,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "2.4.0",
        "Kill the connection of a client",
        client_kill,
    ),
    Command::new(
        "client|list",
        -2,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "2.4.0",
        "Get the list of client connections",
        client_list,
    ),
    Command::new(
        "client|no-evict",
        3,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "7.0.0",
        "Set client eviction mode for the current connection",
        client_no_evict,
    ),
    Command::new(
        "client|pause",
        -3,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "2.9.50",
        "Stop processing commands from clients for some time",
        client_pause,
    ),
    Command::new(
        "client|reply",
        3,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "3.2.0",
        "Instruct the server whether to reply to commands",
        client_reply,
    ),
    Command::new(
        "client|setname",
        3,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "2.6.9",
        "Set the current connection name",
        client_setname,
    ),
    Command::new(
        "client|tracking",
        -3,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.0.0",
        "Enable or disable server assisted client side caching support",
        client_tracking,
    ),
    Command::new(
        "client|trackinginfo",
        2,
        CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.2.0",
        "Return information about server assisted client side caching for the current connection",
        client_trackinginfo,
    ),
    Command::new(
        "client|unblock",
        -3,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "5.0.0",
        "Unblock a client blocked in a blocking command from a different connection",
        client_unblock,
    ),
    Command::new(
        "client|unpause",
        2,
        ADMIN | CLIENT_FLAGS,
        NO_KEYS,
        Group::Connection,
        "6.2.0",
        "Resume processing of clients that were paused",
        client_unpause,
    ),
];

fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() <= 2 && ctx.client.pubsub.is_active() && !ctx.client.resp3() {
        // A RESP2 subscriber reads every reply as a message: `pong`, payload.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).map_or(&b""[..], |a| &a[..]));
        return Ok(());
    }
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
    let id = arg::int(&args[1])?;
    if i32::try_from(id).is_err() {
        return Err(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
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

/// `WRONGPASS`: unknown user or wrong password.
fn wrongpass() -> CommandError {
    CommandError::Other("WRONGPASS invalid username-password pair or user is disabled.".into())
}

/// Checks `user`/`pass` against the `default` user and authenticates the
/// client on success.
fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> CmdResult {
    let ok = user == b"default"
        && match &ctx.server.config.requirepass {
            None => true,
            Some(p) => p.as_bytes() == pass,
        };
    if !ok {
        return Err(wrongpass());
    }
    ctx.client.authenticated = true;
    Ok(())
}

fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    for i in 1..args.len() {
        ctx.redact(i);
    }
    let (user, pass) = match args {
        [_, pass] => {
            if ctx.server.config.requirepass.is_none() {
                return Err(CommandError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (&b"default"[..], pass)
        }
        [_, user, pass] => (&user[..], pass),
        _ => return Err(CommandError::Syntax),
    };
    authenticate(ctx, user, pass)?;
    ctx.out.ok();
    Ok(())
}

fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut protocol = None;
    if let Some(v) = args.get(1) {
        let v =
            arg::parse_i64(v).ok_or_else(|| CommandError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CommandError::Other("NOPROTO unsupported protocol version".into()));
        }
        protocol = Some(v as u8);
    }
    let mut credentials = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if arg::is(&args[i], "auth") && more >= 2 {
            ctx.redact(i + 1);
            ctx.redact(i + 2);
            credentials = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if arg::is(&args[i], "setname") && more >= 1 {
            // Redis 7.0 names the client as it parses, whatever follows.
            validate_name(&args[i + 1])?;
            set_name(ctx.client, &args[i + 1]);
            i += 2;
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    if let Some((user, pass)) = credentials {
        authenticate(ctx, user, pass)?;
    }
    if !ctx.client.authenticated && ctx.server.requires_auth() {
        return Err(CommandError::Other(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(p) = protocol {
        ctx.client.protocol = p;
        // The reply is already in the new protocol.
        ctx.out.set_resp3(p == 3);
    }
    let replica = ctx.server.repl.is_replica();
    let out = &mut ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(i64::from(ctx.client.protocol));
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(if replica { b"replica" } else { b"master" });
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let id = ctx.client.id;
    crate::multi::discard(ctx.server, ctx.client);
    ctx.server.pubsub.unsubscribe_all(&mut ctx.client.pubsub, id);
    if ctx.client.monitor {
        ctx.server.monitors.retain(|m| *m != id);
    }
    let c = &mut *ctx.client;
    c.monitor = false;
    c.db = 0;
    c.protocol = 2;
    c.authenticated = !ctx.server.requires_auth();
    c.name = None;
    c.no_evict = false;
    c.reply_mode = ReplyMode::On;
    ctx.out.set_resp3(false);
    ctx.out.simple("RESET");
    Ok(())
}

/// Redis's `validateClientName`: printable ASCII without spaces (empty is
/// allowed: it clears the name).
fn validate_name(name: &[u8]) -> CmdResult {
    if name.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
        Ok(())
    } else {
        Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ))
    }
}

fn set_name(client: &mut Client, name: &Bytes) {
    client.name = (!name.is_empty()).then(|| name.clone());
}

fn client_setname(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    validate_name(&args[2])?;
    set_name(ctx.client, &args[2]);
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    match &ctx.client.name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    Ok(())
}

fn client_id(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

fn client_info(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let dirty = ctx.server.watches.is_dirty(ctx.client.id);
    let mut line = ctx.client.info_line(Instant::now(), dirty);
    line.push('\n');
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

/// Calls `f` for every client, the running one included (it is borrowed
/// by the command, so it is not reachable through the registry).
fn for_each_client(ctx: &mut Ctx<'_>, mut f: impl FnMut(&mut Client, bool)) {
    let me = ctx.client.id;
    for (id, c) in &ctx.server.clients {
        if *id == me {
            f(ctx.client, true);
        } else if let Ok(mut c) = c.try_borrow_mut() {
            f(&mut c, false);
        }
    }
}

/// The `TYPE` argument of CLIENT LIST/KILL.
fn client_type(name: &[u8]) -> Result<ClientType, CommandError> {
    ClientType::parse(name)
        .ok_or_else(|| CommandError::err(format!("Unknown client type '{}'", String::from_utf8_lossy(name))))
}

fn client_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = Instant::now();
    let mut text = String::new();
    let dirty: Vec<u64> = ctx
        .server
        .clients
        .keys()
        .copied()
        .filter(|id| ctx.server.watches.is_dirty(*id))
        .collect();
    let push_line = |text: &mut String, c: &Client, now: Instant| {
        text.push_str(&c.info_line(now, dirty.contains(&c.id)));
        text.push('\n');
    };
    match &args[2..] {
        [] => for_each_client(ctx, |c, _| push_line(&mut text, c, now)),
        [t, name] if arg::is(t, "type") => {
            let kind = client_type(name)?;
            for_each_client(ctx, |c, _| {
                if c.kind() == kind {
                    push_line(&mut text, c, now);
                }
            });
        }
        [t, ids @ ..] if arg::is(t, "id") && !ids.is_empty() => {
            let ids = ids
                .iter()
                .map(|i| arg::parse_i64(i).ok_or_else(|| CommandError::err("Invalid client ID")))
                .collect::<Result<Vec<i64>, _>>()?;
            for id in ids {
                if id as u64 == ctx.client.id {
                    push_line(&mut text, ctx.client, now);
                } else if let Some(c) = ctx.server.clients.get(&(id as u64)).and_then(|c| c.try_borrow().ok()) {
                    push_line(&mut text, &c, now);
                }
            }
        }
        _ => return Err(CommandError::Syntax),
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// CLIENT KILL filters (the new form); `None` fields match everything.
#[derive(Default)]
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    kind: Option<ClientType>,
    id: Option<u64>,
    skipme: bool,
}

impl KillFilter {
    fn parse(args: &[Bytes]) -> Result<KillFilter, CommandError> {
        let mut f = KillFilter {
            skipme: true,
            ..KillFilter::default()
        };
        for pair in args.chunks(2) {
            let [opt, value] = pair else {
                return Err(CommandError::Syntax);
            };
            if arg::is(opt, "id") {
                let id = arg::parse_i64(value).filter(|&i| i >= 1);
                f.id = Some(id.ok_or_else(|| CommandError::err("client-id should be greater than 0"))? as u64);
            } else if arg::is(opt, "type") {
                f.kind = Some(client_type(value)?);
            } else if arg::is(opt, "addr") {
                f.addr = Some(value.clone());
            } else if arg::is(opt, "laddr") {
                f.laddr = Some(value.clone());
            } else if arg::is(opt, "user") {
                if &value[..] != b"default" {
                    return Err(CommandError::err(format!(
                        "No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
            } else if arg::is(opt, "skipme") {
                f.skipme = if arg::is(value, "yes") {
                    true
                } else if arg::is(value, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                };
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(f)
    }

    fn matches(&self, c: &Client, is_me: bool) -> bool {
        self.addr
            .as_ref()
            .is_none_or(|a| c.addr.to_string().as_bytes() == &a[..])
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| c.laddr.to_string().as_bytes() == &a[..])
            && self.kind.is_none_or(|k| c.kind() == k)
            && self.id.is_none_or(|id| c.id == id)
            && !(is_me && self.skipme)
    }
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let old_form = args.len() == 3;
    let filter = if old_form {
        // CLIENT KILL addr: may kill the caller itself.
        KillFilter {
            addr: Some(args[2].clone()),
            ..KillFilter::default()
        }
    } else {
        KillFilter::parse(&args[2..])?
    };
    let mut killed = 0;
    for_each_client(ctx, |c, is_me| {
        if filter.matches(c, is_me) {
            killed += 1;
            if is_me {
                // After this reply.
                c.close_after_reply = true;
            } else {
                c.kill();
            }
        }
    });
    if !old_form {
        ctx.out.int(killed);
    } else if killed == 0 {
        return Err(CommandError::err("No such client"));
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn client_pause(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mode = match args.get(3) {
        None => PauseMode::All,
        Some(m) if args.len() == 4 && arg::is(m, "write") => PauseMode::Write,
        Some(m) if args.len() == 4 && arg::is(m, "all") => PauseMode::All,
        Some(_) if args.len() == 4 => return Err(CommandError::err("CLIENT PAUSE mode must be WRITE or ALL")),
        Some(_) => return Err(subcommand_syntax_error(args)),
    };
    let ms = arg::parse_i64(&args[2]).ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    // Redis adds the timeout to the Unix time in milliseconds; a sum that
    // overflows pauses nothing (it is in the past), as there.
    if ms > 0 && ms.checked_add(ctx.access.now_ms).is_some() {
        let until = Instant::now()
            .checked_add(Duration::from_millis(ms as u64))
            .unwrap_or_else(far_future);
        ctx.server.pause_clients(mode, until);
    }
    ctx.out.ok();
    Ok(())
}

/// An instant as far ahead as the platform allows (about 30 years).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(30 * 365 * 86_400)
}

fn client_unpause(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.server.unpause_clients();
    ctx.out.ok();
    Ok(())
}

fn client_reply(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if arg::is(&args[2], "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if arg::is(&args[2], "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if arg::is(&args[2], "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(())
}

fn client_no_evict(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ctx.client.no_evict = if arg::is(&args[2], "on") {
        true
    } else if arg::is(&args[2], "off") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    ctx.out.ok();
    Ok(())
}

fn client_tracking(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if arg::is(&args[2], "off") && args.len() == 3 {
        // Tracking is never on.
        ctx.out.ok();
        return Ok(());
    }
    if !arg::is(&args[2], "on") && !arg::is(&args[2], "off") {
        return Err(CommandError::Syntax);
    }
    Err(CommandError::err(
        "client side caching (CLIENT TRACKING ON) is not supported",
    ))
}

fn client_caching(_: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    Err(CommandError::err(
        "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
    ))
}

fn client_getredir(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    ctx.out.int(-1);
    Ok(())
}

fn client_trackinginfo(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    let out = &mut ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(1);
    out.bulk(b"off");
    out.bulk(b"redirect");
    out.int(-1);
    out.bulk(b"prefixes");
    out.array(0);
    Ok(())
}

fn client_unblock(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax_error(args));
    }
    let id = arg::int(&args[2])?;
    let error = match args.get(3) {
        None => false,
        Some(r) if arg::is(r, "timeout") => false,
        Some(r) if arg::is(r, "error") => true,
        Some(_) => return Err(CommandError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let unblocked = crate::blocking::unblock(ctx.server, id as u64, error);
    ctx.out.int(i64::from(unblocked));
    Ok(())
}

fn client_help(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    reply_help(
        &mut ctx.out,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}
