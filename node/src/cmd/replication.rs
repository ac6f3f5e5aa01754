//! Replication commands: REPLICAOF (SLAVEOF), REPLCONF, PSYNC, SYNC, WAIT,
//! ROLE and FAILOVER. The replication state and its I/O belong to
//! [`crate::replication`].

use bytes::Bytes;

use super::flag::*;
use super::{CmdResult, Command, CommandError, Ctx, Group, NO_KEYS, arg};
use crate::replication::{self, Waiter, failover, master};

/// The replication commands.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        NO_KEYS,
        Group::Server,
        "5.0.0",
        "Configure a server as replica of another, or promote it to a master.",
        replicaof,
    ),
    Command::new(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "Sets a Redis server as a replica of another, or promotes it to being a master.",
        replicaof,
    ),
    Command::new(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NO_KEYS,
        Group::Server,
        "3.0.0",
        "An internal command for configuring the replication stream.",
        replconf,
    ),
    Command::new(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        NO_KEYS,
        Group::Server,
        "2.8.0",
        "An internal command used in replication.",
        psync,
    ),
    Command::new(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        NO_KEYS,
        Group::Server,
        "1.0.0",
        "An internal command used in replication.",
        psync,
    ),
    Command::new(
        "wait",
        3,
        NOSCRIPT,
        NO_KEYS,
        Group::Generic,
        "3.0.0",
        "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
        wait,
    ),
    Command::new(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        NO_KEYS,
        Group::Server,
        "2.8.12",
        "Returns the replication role.",
        role,
    ),
    Command::new(
        "failover",
        -1,
        ADMIN | NOSCRIPT | STALE,
        NO_KEYS,
        Group::Server,
        "6.2.0",
        "Starts a coordinated failover between this server and one of its replicas.",
        failover_cmd,
    ),
];

/// REPLICAOF host port | NO ONE.
fn replicaof(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if arg::is(&args[1], "no") && arg::is(&args[2], "one") {
        if ctx.server.repl.is_replica() {
            replication::set_no_master(ctx.server);
            tracing::info!("MASTER MODE enabled (user request from 'id={}')", ctx.client.id);
        }
        ctx.out.ok();
        return Ok(());
    }
    if ctx.client.repl.is_replica {
        return Err(CommandError::err("Command is not valid when client is a replica."));
    }
    let port = arg::int(&args[2])?;
    let port = u16::try_from(port).map_err(|_| CommandError::err("Invalid master port"))?;
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    if let Some(m) = &ctx.server.repl.master
        && m.host.eq_ignore_ascii_case(&host)
        && m.port == port
    {
        tracing::info!(
            "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed."
        );
        ctx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    replication::set_master(ctx.server, host.clone(), port);
    tracing::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={}')",
        ctx.client.id
    );
    ctx.out.ok();
    Ok(())
}

/// REPLCONF option value …: what a replica says about itself, its ACKs,
/// and GETACK from our master.
fn replconf(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    for pair in args[1..].chunks(2) {
        let (opt, value) = (&pair[0], &pair[1]);
        if arg::is(opt, "listening-port") {
            let port = arg::int(value)?;
            ctx.client.repl.port = u16::try_from(port).map_err(|_| CommandError::NotInteger)?;
        } else if arg::is(opt, "ip-address") {
            let ip = String::from_utf8_lossy(value);
            ctx.client.repl.ip = ip.parse().ok();
        } else if arg::is(opt, "capa") {
            if arg::is(value, "eof") {
                ctx.client.repl.capa_eof = true;
            }
        } else if arg::is(opt, "ack") {
            // From a replica: no reply.
            if ctx.client.repl.is_replica
                && let Some(offset) = arg::parse_i64(value)
            {
                master::ack(ctx.server, ctx.client.id, offset);
            }
            return Ok(());
        } else if arg::is(opt, "fack") {
            return Ok(());
        } else if arg::is(opt, "getack") {
            // From our master: the ACK is the reply.
            if ctx.client.repl.is_master {
                let offset = ctx.server.repl.offset.to_string();
                ctx.out.array(3);
                ctx.out.bulk(b"REPLCONF");
                ctx.out.bulk(b"ACK");
                ctx.out.bulk(offset.as_bytes());
            }
            return Ok(());
        } else if arg::is(opt, "rdb-only") || arg::is(opt, "rdb-filter-only") {
            // Accepted and ignored: every sync sends the whole dataset.
        } else {
            return Err(CommandError::err(format!(
                "Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    ctx.out.ok();
    Ok(())
}

/// PSYNC replid offset, and SYNC.
fn psync(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if ctx.client.repl.is_replica {
        return Ok(());
    }
    // Our master hands over to us (its FAILOVER): we promote ourselves and
    // it continues as our replica.
    if args.len() > 3 && arg::is(&args[3], "failover") {
        if args[1] != ctx.server.repl.replid.as_bytes() {
            return Err(CommandError::err("PSYNC FAILOVER replid must match my replid."));
        }
        tracing::info!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(&args[1])
        );
        replication::set_no_master(ctx.server);
    }
    let request = (args.len() >= 3).then(|| (&args[1][..], &args[2][..]));
    match master::psync(ctx.server, ctx.client, request) {
        Ok(Some(line)) => ctx.out.simple(&line),
        Ok(None) => {}
        Err(e) => return Err(CommandError::Other(e.into())),
    }
    Ok(())
}

/// WAIT numreplicas timeout (milliseconds).
fn wait(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if ctx.server.repl.is_replica() {
        return Err(CommandError::err(
            "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let numreplicas = arg::int(&args[1])?;
    let timeout =
        arg::parse_i64(&args[2]).ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    replication::feed(ctx.server);
    let offset = ctx.server.repl.offset;
    let acked = ctx.server.repl.acked(offset);
    let wanted = usize::try_from(numreplicas).unwrap_or(0);
    let timeout = (timeout > 0).then(|| std::time::Duration::from_millis(timeout as u64));
    let wait = crate::blocking::Wait {
        keys: &[],
        timeout,
        wants: "",
        serve: |_, _, _| Ok(()),
    };
    if acked >= wanted || !crate::blocking::block(ctx, args, wait) {
        ctx.out.int(acked as i64);
        return Ok(());
    }
    ctx.server.repl.waiters.push(Waiter {
        client: ctx.client.id,
        numreplicas: wanted,
        offset,
    });
    master::request_acks(ctx.server);
    Ok(())
}

/// ROLE.
fn role(ctx: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    replication::role(ctx.server, &mut ctx.out);
    Ok(())
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms].
fn failover_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut target = None;
    let mut timeout = None;
    let (mut force, mut abort) = (false, false);
    let mut i = 1;
    while i < args.len() {
        let rest = args.len() - i - 1;
        if arg::is(&args[i], "to") && target.is_none() && rest >= 2 {
            let port = arg::int(&args[i + 2])?;
            let port = u16::try_from(port).map_err(|_| CommandError::err("Invalid port"))?;
            target = Some((String::from_utf8_lossy(&args[i + 1]).into_owned(), port));
            i += 3;
        } else if arg::is(&args[i], "timeout") && timeout.is_none() && rest >= 1 {
            let ms = arg::int(&args[i + 1])?;
            if ms <= 0 {
                return Err(CommandError::err("FAILOVER timeout must be greater than 0"));
            }
            timeout = Some(ms as u64);
            i += 2;
        } else if arg::is(&args[i], "force") && !force {
            force = true;
            i += 1;
        } else if arg::is(&args[i], "abort") && !abort {
            abort = true;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let result = if abort {
        if target.is_some() || force || timeout.is_some() {
            return Err(CommandError::err("FAILOVER abort cannot be used with other options."));
        }
        failover::abort(ctx.server, "Failover manually aborted")
    } else {
        failover::start(ctx.server, target, timeout, force)
    };
    result.map_err(|e| CommandError::Other(e.into()))?;
    ctx.out.ok();
    Ok(())
}
