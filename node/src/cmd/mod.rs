//! Commands: the table that describes every command (arity, flags, key
//! positions — what `COMMAND INFO` reports), argument parsing shared by all
//! commands, and [`execute`], the one path every command runs through
//! (clients now; AOF replay and the replication stream later).
//!
//! A command parses its arguments, runs against the keyspace and writes its
//! reply through [`Reply`]; it never touches a socket. Each Redis command
//! group has its own module.

pub mod command;
pub mod connection;
pub mod hash;
pub mod keys;
pub mod list;
pub mod meta;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod string;
pub mod transactions;
pub mod zset;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;

use crate::client::Client;
use crate::keyspace::{Access, Db, Object};
use crate::propagate::Op;
use crate::reply::Reply;
use crate::server::Server;

/// A command failure; `Display` is the exact Redis error line (without `-`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// `ERR wrong number of arguments for '<name>' command`.
    #[error("ERR wrong number of arguments for '{0}' command")]
    Arity(String),
    /// `ERR syntax error`.
    #[error("ERR syntax error")]
    Syntax,
    /// An argument that must be an integer is not.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// An argument that must be a float is not.
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// The key holds another type.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// `ERR no such key`.
    #[error("ERR no such key")]
    NoSuchKey,
    /// `ERR DB index is out of range`.
    #[error("ERR DB index is out of range")]
    DbIndex,
    /// Any other error, with its full text (starting with its code, e.g. `ERR`).
    #[error("{0}")]
    Other(Cow<'static, str>),
}

impl CommandError {
    /// An `ERR …` error with the given message.
    pub fn err(msg: impl Into<String>) -> Self {
        CommandError::Other(Cow::Owned(format!("ERR {}", msg.into())))
    }
}

/// What a command returns.
pub type CmdResult = Result<(), CommandError>;

/// A command implementation.
pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CmdResult;

/// Command flags, as `COMMAND INFO` lists them.
pub mod flag {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused when over `maxmemory` with noeviction.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed from scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading the dataset.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a replica with stale data.
    pub const STALE: u32 = 1 << 8;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged to SLOWLOG.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log N).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate even when not a write (e.g. PUBLISH).
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Allowed while a script runs too long.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Allowed on a cluster replica after ASKING.
    pub const ASKING: u32 = 1 << 16;
    /// Keys are optional (EVAL with 0 keys…).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// Not allowed while a replica loads its dataset asynchronously.
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// Refused unless enabled by configuration (DEBUG: `enable-debug-command`).
    /// Not listed by `COMMAND INFO`.
    pub const PROTECTED: u32 = 1 << 19;
    /// Key positions depend on the arguments. Never set in a command table:
    /// `COMMAND INFO` derives it from the key specs ([`super::meta::movable_keys`]).
    pub const MOVABLE_KEYS: u32 = 1 << 20;

    /// Names in `COMMAND INFO` order (MAY_REPLICATE and PROTECTED are not
    /// shown, as in Redis).
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Keyspace event classes, as the letters of `notify-keyspace-events`: the
/// same bits as the parsed configuration
/// ([`KeyspaceEvents`](crate::config::KeyspaceEvents)), so a class is
/// tested against it directly.
pub mod event {
    use crate::config::KeyspaceEvents;

    /// `g`: generic commands (DEL, EXPIRE, RENAME…).
    pub const GENERIC: u32 = KeyspaceEvents::GENERIC;
    /// `$`: string commands.
    pub const STRING: u32 = KeyspaceEvents::STRING;
    /// `l`: list commands.
    pub const LIST: u32 = KeyspaceEvents::LIST;
    /// `s`: set commands.
    pub const SET: u32 = KeyspaceEvents::SET;
    /// `h`: hash commands.
    pub const HASH: u32 = KeyspaceEvents::HASH;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = KeyspaceEvents::ZSET;
    /// `x`: expired events.
    pub const EXPIRED: u32 = KeyspaceEvents::EXPIRED;
    /// `e`: evicted events.
    pub const EVICTED: u32 = KeyspaceEvents::EVICTED;
    /// `m`: key miss events.
    pub const KEY_MISS: u32 = KeyspaceEvents::KEY_MISS;
    /// `n`: new key events.
    pub const NEW: u32 = KeyspaceEvents::NEW;
}

/// The command group (`COMMAND DOCS` "group", and the ACL category).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Keyspace commands (`@keyspace`).
    Generic,
    /// Strings.
    String,
    /// Bitmaps.
    Bitmap,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Lists.
    List,
    /// Hashes.
    Hash,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Pub/sub.
    Pubsub,
    /// MULTI/EXEC and WATCH.
    Transactions,
}

impl Group {
    /// The group name as `COMMAND DOCS` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Bitmap => "bitmap",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
        }
    }

    /// The ACL category of the group.
    pub fn acl_category(self) -> Option<&'static str> {
        match self {
            Group::Generic => Some("@keyspace"),
            Group::String => Some("@string"),
            Group::Bitmap => Some("@bitmap"),
            Group::Connection => Some("@connection"),
            Group::Server => None,
            Group::List => Some("@list"),
            Group::Hash => Some("@hash"),
            Group::Set => Some("@set"),
            Group::SortedSet => Some("@sortedset"),
            Group::Pubsub => Some("@pubsub"),
            Group::Transactions => Some("@transaction"),
        }
    }
}

/// The static description of a command (or subcommand).
#[derive(Debug)]
pub struct Command {
    /// Lower-case name; subcommands are named `parent|sub`.
    pub name: &'static str,
    /// Redis arity: exact count including the name when positive, a minimum when negative.
    pub arity: i32,
    /// [`flag`] bits.
    pub flags: u32,
    /// First key argument (0: none).
    pub first_key: i32,
    /// Last key argument (-1: the last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Command group.
    pub group: Group,
    /// One-line summary (`COMMAND DOCS`).
    pub summary: &'static str,
    /// First Redis version with the command.
    pub since: &'static str,
    /// The implementation (unused for container commands with subcommands).
    pub handler: Handler,
    /// Subcommands (`CLIENT LIST`, `CONFIG GET`…).
    pub subcommands: &'static [Command],
}

impl Command {
    /// Describes a command; `keys` is (first, last, step) as `COMMAND INFO`.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: (i32, i32, i32),
        group: Group,
        since: &'static str,
        summary: &'static str,
        handler: Handler,
    ) -> Self {
        Command {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            group,
            summary,
            since,
            handler,
            subcommands: &[],
        }
    }

    /// Describes a container command (CLIENT, CONFIG…) by its subcommands.
    pub const fn container(
        name: &'static str,
        group: Group,
        since: &'static str,
        summary: &'static str,
        subcommands: &'static [Command],
    ) -> Self {
        Command {
            subcommands,
            ..Command::new(name, -2, 0, NO_KEYS, group, since, summary, no_subcommand)
        }
    }

    /// The key arguments of an invocation, by the command's key spec.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = self.first_key.max(0) as usize;
        let last = if self.last_key < 0 {
            (argc as i64 + i64::from(self.last_key)).max(0) as usize
        } else {
            self.last_key as usize
        };
        let step = self.step.max(1) as usize;
        let range = if first == 0 {
            1..1
        } else {
            first..last.min(argc.saturating_sub(1)) + 1
        };
        range.step_by(step)
    }

    fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }
}

/// Key spec of commands without keys.
pub const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
/// Key spec of commands whose only key is the first argument.
pub const KEY1: (i32, i32, i32) = (1, 1, 1);

/// Container commands never run themselves: dispatch picks a subcommand or
/// reports an unknown one.
fn no_subcommand(_: &mut Ctx<'_>, _: &[Bytes]) -> CmdResult {
    Err(CommandError::Syntax)
}

/// Every top-level command, from all groups.
pub fn all() -> impl Iterator<Item = &'static Command> {
    connection::COMMANDS
        .iter()
        .chain(command::COMMANDS)
        .chain(keys::COMMANDS)
        .chain(persistence::COMMANDS)
        .chain(string::COMMANDS)
        .chain(list::COMMANDS)
        .chain(hash::COMMANDS)
        .chain(set::COMMANDS)
        .chain(zset::COMMANDS)
        .chain(pubsub::COMMANDS)
        .chain(server::COMMANDS)
        .chain(transactions::COMMANDS)
        .chain(replication::COMMANDS)
}

type Table = HashMap<&'static [u8], &'static Command, foldhash::fast::RandomState>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| all().map(|c| (c.name.as_bytes(), c)).collect())
}

/// Finds a top-level command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    let name = buf.get_mut(..name.len()).map(|b| {
        b.copy_from_slice(name);
        b.make_ascii_lowercase();
        &*b
    })?;
    table().get(name).copied()
}

/// Finds a subcommand of `parent`, case-insensitively.
pub fn lookup_sub(parent: &'static Command, sub: &[u8]) -> Option<&'static Command> {
    let prefix = parent.name.len() + 1;
    parent
        .subcommands
        .iter()
        .find(|c| c.name.as_bytes()[prefix..].eq_ignore_ascii_case(sub))
}

/// The state a command runs with.
pub struct Ctx<'a> {
    /// The whole server.
    pub server: &'a mut Server,
    /// The client that sent the command.
    pub client: &'a mut Client,
    /// Where the reply goes.
    pub out: Reply<'a>,
    /// The command's clock and lookup policy.
    pub access: Access,
    /// Arguments hidden from SLOWLOG and MONITOR (bit i: argument i).
    redacted: u64,
    /// What the command asked to propagate instead of its arguments
    /// ([`Ctx::propagate_as`]).
    propagate: Option<Vec<Op>>,
    /// `dirty` when the command started: it changed something if it grew.
    dirty_before: u64,
}

impl<'a> Ctx<'a> {
    /// Looks `key` up for reading in the selected database and counts a
    /// keyspace hit or miss (INFO `keyspace_hits`/`keyspace_misses`), as
    /// Redis's `lookupKeyRead` does; read commands use this, writes use
    /// [`Ctx::db`]. Returns the reply writer too, so the command can reply
    /// straight from the stored value.
    pub fn read(&mut self, key: &[u8]) -> (Option<&mut Object>, &mut Reply<'a>) {
        let server = &mut *self.server;
        let found = server.dbs[self.client.db].lookup(key, &self.access);
        if found.is_some() {
            server.stats.keyspace_hits += 1;
        } else {
            server.stats.keyspace_misses += 1;
        }
        (found, &mut self.out)
    }

    /// Hides argument `i` (a password) from SLOWLOG and MONITOR, which show
    /// `(redacted)` instead, as Redis's `redactClientCommandArgument`.
    pub fn redact(&mut self, i: usize) {
        if i < 64 {
            self.redacted |= 1 << i;
        }
    }

    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.server.dbs[self.client.db]
    }

    /// The selected database, the reply and the access policy at once (for
    /// replying straight from a stored value without copying it).
    pub fn parts(&mut self) -> (&mut Db, &mut Reply<'a>, &Access) {
        (&mut self.server.dbs[self.client.db], &mut self.out, &self.access)
    }

    /// Propagates `argv` (in the client's database) to the AOF and replicas
    /// instead of the command's own arguments, as Redis's
    /// `rewriteClientCommandVector`/`alsoPropagate`: each call adds one
    /// command. Call it only when the command changed something.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        self.propagate_to(argv, crate::propagate::target::ALL);
    }

    /// Propagates `argv` to replicas only (PUBLISH).
    pub fn propagate_to_replicas(&mut self, argv: Vec<Bytes>) {
        self.propagate_to(argv, crate::propagate::target::REPL);
    }

    fn propagate_to(&mut self, argv: Vec<Bytes>, targets: u8) {
        if self.server.propagator.active() {
            let db = self.client.db;
            self.propagate
                .get_or_insert_with(Vec::new)
                .push(Op { db, argv, targets });
        }
    }

    /// What the finished command propagates: what it asked for, else its
    /// arguments when it is a write that changed something.
    fn propagation(&mut self, cmd: &Command, args: &[Bytes]) -> Vec<Op> {
        if let Some(ops) = self.propagate.take() {
            return ops;
        }
        if cmd.flags & flag::WRITE != 0 && self.server.dirty != self.dirty_before && self.server.propagator.active() {
            return vec![Op {
                db: self.client.db,
                argv: args.to_vec(),
                targets: crate::propagate::target::ALL,
            }];
        }
        Vec::new()
    }

    /// Records a change to `key` in database `db`: counts it for save
    /// points. Called once per modified key by every write.
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        self.server.dirty += 1;
        // Clients blocked on the key are served after the command.
        self.server.blocking.signal(db, key);
        // Transactions watching it will fail.
        self.server.touch_watched_key(db, key);
    }

    /// Publishes a keyspace notification (`notify-keyspace-events`) for
    /// `key` in the client's database: `class` is one of [`event`]'s bits,
    /// `event` Redis's event name ("set", "lpush", "expire", "del"…).
    /// Every write calls it once per event, exactly where Redis does (a
    /// RESP3 client subscribed to its own events gets them at that point of
    /// its reply).
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.notify_db(class, event, key, db);
    }

    /// [`Ctx::notify`] for a key of database `db` (MOVE, COPY).
    pub fn notify_db(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        let mut running = crate::pubsub::Running {
            id: self.client.id,
            out: &mut self.out,
        };
        crate::pubsub::notify_keyspace_event(self.server, Some(&mut running), class, event, key, db);
    }
}

/// Replies that can grow without bound (SRANDMEMBER with a huge negative
/// count): Redis would keep writing until memory runs out.
impl Ctx<'_> {
    /// The most reply bytes such a command writes: the normal clients' hard
    /// `client-output-buffer-limit`, or 1 GiB when there is none. Past it the
    /// command stops and calls [`Client::kill`] (the reply is cut short, so
    /// the connection cannot be used any more, as Redis's CLIENT_CLOSE_ASAP).
    pub fn reply_cap(&self) -> usize {
        use crate::config::ClientClass;
        match self.server.config.client_output_buffer_limit[ClientClass::Normal as usize].hard {
            0 => 1 << 30,
            hard => usize::try_from(hard).unwrap_or(usize::MAX),
        }
    }
}

/// Runs one command for `client`, writing its reply to `client.out`.
///
/// This is where the checks Redis makes before calling a command live
/// (unknown command, arity, protected commands, authentication, MULTI,
/// maxmemory with its evictions), where commands sent inside MULTI are
/// queued ([`crate::multi`]), and what Redis does after a call: statistics,
/// SLOWLOG, the latency monitor and MONITOR.
/// CLIENT PAUSE is applied before this, by the connection ([`is_paused`]).
pub fn execute(server: &mut Server, client: &mut Client, args: &[Bytes]) {
    if args.is_empty() {
        return;
    }
    let mut access = server.clock();
    access.expired_visible = client.repl.is_master;
    let mut out = std::mem::take(&mut client.out);
    let resp3 = client.resp3();
    let mut ran = None;
    let result = match resolve(args) {
        Ok(cmd) => {
            client.last_command = cmd.name;
            dispatch(server, client, cmd, args, Reply::new(&mut out, resp3), access, &mut ran)
        }
        Err(e) => {
            client.last_command = "NULL";
            client.multi.flag_error();
            Err(e)
        }
    };
    if let Err(e) = &result {
        let line = e.to_string();
        Reply::new(&mut out, resp3).error(&line);
        server.stats.record_error(&line);
    }
    client.out = out;
    if let Some(ran) = &ran {
        after_call(server, client, args, ran);
    }
    let resp3 = client.resp3();
    let mut running = crate::pubsub::Running {
        id: client.id,
        out: &mut Reply::new(&mut client.out, resp3),
    };
    // Keys the command found expired are deleted before what it changed.
    server.collect_expired_for(Some(&mut running));
    for op in ran.map(|r| r.ops).unwrap_or_default() {
        server.propagator.push(op);
    }
    server.propagator.commit();
}

/// Runs the rest of a blocked command of `client` when a key it waits on is
/// ready ([`crate::blocking`]): `f` runs as a command of that client, its
/// reply (or error) goes to the client's output buffer.
pub fn run_unblocked(server: &mut Server, client: &mut Client, f: impl FnOnce(&mut Ctx<'_>) -> CmdResult) {
    let access = server.clock();
    let mut out = std::mem::take(&mut client.out);
    let resp3 = client.resp3();
    let dirty_before = server.dirty;
    let mut ctx = Ctx {
        server: &mut *server,
        client: &mut *client,
        out: Reply::new(&mut out, resp3),
        access,
        redacted: 0,
        propagate: None,
        dirty_before,
    };
    let result = f(&mut ctx);
    // A served blocking command propagates what it did (its non-blocking form).
    let ops = ctx.propagate.take().unwrap_or_default();
    if let Err(e) = result {
        let line = e.to_string();
        Reply::new(&mut out, resp3).error(&line);
        server.stats.record_error(&line);
    }
    client.out = out;
    server.collect_expired();
    for op in ops {
        server.propagator.push(op);
    }
    server.propagator.commit();
}

/// What [`dispatch`] reports about a command that ran.
struct Ran {
    cmd: &'static Command,
    took: std::time::Duration,
    redacted: u64,
    /// What it propagates.
    ops: Vec<Op>,
}

/// Finds the command (or subcommand) `args` name.
fn resolve(args: &[Bytes]) -> Result<&'static Command, CommandError> {
    let cmd = lookup(&args[0]).ok_or_else(|| unknown_command(args))?;
    if cmd.subcommands.is_empty() || args.len() < 2 {
        return Ok(cmd);
    }
    lookup_sub(cmd, &args[1]).ok_or_else(|| {
        CommandError::err(format!(
            "unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&args[1][..args[1].len().min(128)]),
            cmd.name.to_uppercase()
        ))
    })
}

fn dispatch(
    server: &mut Server,
    client: &mut Client,
    cmd: &'static Command,
    args: &[Bytes],
    mut out: Reply<'_>,
    access: Access,
    ran: &mut Option<Ran>,
) -> CmdResult {
    if let Err(e) = admit(server, client, cmd, args, &mut out) {
        server.stats.record_rejected(cmd.name);
        return Err(crate::multi::rejected(server, client, cmd, args, e));
    }
    if client.multi.queues(cmd) {
        crate::multi::queue(server, client, cmd, args);
        out.simple("QUEUED");
        return Ok(());
    }
    let start = std::time::Instant::now();
    let dirty_before = server.dirty;
    let mut ctx = Ctx {
        server: &mut *server,
        client: &mut *client,
        out,
        access,
        redacted: 0,
        propagate: None,
        dirty_before,
    };
    let result = (cmd.handler)(&mut ctx, args);
    let redacted = ctx.redacted;
    let ops = ctx.propagation(cmd, args);
    let took = start.elapsed();
    server.stats.record_call(cmd.name, took, result.is_err());
    *ran = Some(Ran {
        cmd,
        took,
        redacted,
        ops,
    });
    result
}

/// The checks Redis makes before running a command (`processCommand`), in
/// its order; an error rejects the command (and flags a transaction). Over
/// `maxmemory`, this is where keys are evicted.
fn admit(server: &mut Server, client: &Client, cmd: &Command, args: &[Bytes], out: &mut Reply<'_>) -> CmdResult {
    if !cmd.arity_ok(args.len()) {
        return Err(CommandError::Arity(cmd.name.to_string()));
    }
    if cmd.flags & flag::PROTECTED != 0 && !server.debug_command_allowed(client) {
        return Err(CommandError::err(
            "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    if !client.authenticated && server.requires_auth() && cmd.flags & flag::NO_AUTH == 0 {
        return Err(CommandError::Other("NOAUTH Authentication required.".into()));
    }
    if client.multi.is_active() && cmd.flags & flag::NO_MULTI != 0 {
        return Err(CommandError::err("Command not allowed inside a transaction"));
    }
    crate::evict::admit(server, client, cmd, out)?;
    if (cmd.flags & flag::WRITE != 0 || cmd.name == "ping")
        && let Some(e) = crate::persistence::disk_error(server)
    {
        return Err(CommandError::Other(e.into()));
    }
    if client.pubsub.is_active() && !client.resp3() && !pubsub::allowed_while_subscribed(cmd) {
        return Err(pubsub::not_allowed_while_subscribed(cmd));
    }
    crate::replication::admit(server, client, cmd)?;
    if server.loading.is_some() && cmd.flags & flag::LOADING == 0 && client.id != crate::persistence::aof::CLIENT_ID {
        return Err(CommandError::Other(crate::persistence::loading::LOADING.into()));
    }
    Ok(())
}

/// Runs `cmd` as part of the command running in `ctx` (the queued commands
/// of EXEC): the checks of [`execute`] ran when it was queued. Its error,
/// if any, is its reply; it is counted, slow-logged and shown to MONITOR as
/// a command of its own, and runs at the time of the outer command.
pub fn call_nested(ctx: &mut Ctx<'_>, cmd: &'static Command, args: &[Bytes]) {
    let start = std::time::Instant::now();
    let dirty_before = ctx.server.dirty;
    let mut inner = Ctx {
        server: &mut *ctx.server,
        client: &mut *ctx.client,
        out: ctx.out.reborrow(),
        access: ctx.access,
        redacted: 0,
        propagate: None,
        dirty_before,
    };
    let result = (cmd.handler)(&mut inner, args);
    let redacted = inner.redacted;
    let ops = inner.propagation(cmd, args);
    // HELLO and RESET switch the protocol of what follows.
    let resp3 = inner.out.resp3();
    let took = start.elapsed();
    ctx.out.set_resp3(resp3);
    if let Err(e) = &result {
        let line = e.to_string();
        ctx.out.error(&line);
        ctx.server.stats.record_error(&line);
    }
    ctx.server.stats.record_call(cmd.name, took, result.is_err());
    // The transaction's unit gets the keys this command found expired, then
    // what it changed.
    let mut running = crate::pubsub::Running {
        id: ctx.client.id,
        out: &mut ctx.out,
    };
    ctx.server.collect_expired_for(Some(&mut running));
    for op in ops {
        ctx.server.propagator.push(op);
    }
    after_call(
        ctx.server,
        ctx.client,
        args,
        &Ran {
            cmd,
            took,
            redacted,
            ops: Vec::new(),
        },
    );
}

/// SLOWLOG, the latency monitor and MONITOR, for a command that ran.
fn after_call(server: &mut Server, client: &mut Client, args: &[Bytes], ran: &Ran) {
    let flags = ran.cmd.flags;
    let redacted = |i: usize| i < 64 && ran.redacted & (1 << i) != 0;
    let usec = ran.took.as_micros() as u64;
    server.latency.record_command(
        flags & flag::FAST != 0,
        usec / 1000,
        server.config.latency_monitor_threshold,
    );
    if flags & flag::SKIP_SLOWLOG == 0 {
        let threshold = server.config.slowlog_log_slower_than;
        if threshold >= 0 && usec >= threshold as u64 {
            let max_len = server.config.slowlog_max_len as usize;
            server.slowlog.push(args, redacted, usec, client, max_len);
        }
    }
    if !server.monitors.is_empty() && flags & (flag::SKIP_MONITOR | flag::ADMIN) == 0 {
        server.feed_monitors(client, args, redacted);
    }
}

/// Whether CLIENT PAUSE holds `args` of `client` back now: every command in
/// ALL mode; in WRITE mode the commands that write or may replicate, and an
/// EXEC whose queue holds one. Unknown commands and wrong arities are never
/// held: they fail at once.
pub fn is_paused(server: &Server, client: &Client, args: &[Bytes]) -> bool {
    let Some(pause) = server.pause_mode() else { return false };
    if args.is_empty() {
        return false;
    }
    const WRITES: u32 = flag::WRITE | flag::MAY_REPLICATE;
    match resolve(args) {
        Ok(cmd) if cmd.arity_ok(args.len()) => {
            let flags = match cmd.name {
                "exec" => cmd.flags | client.multi.queued_flags(),
                _ => cmd.flags,
            };
            pause == crate::server::PauseMode::All || flags & WRITES != 0
        }
        _ => false,
    }
}

/// Redis's `addReplySubcommandSyntaxError`: a subcommand (`args[1]`) that
/// does not exist or got a number of arguments it does not take.
pub fn subcommand_syntax_error(args: &[Bytes]) -> CommandError {
    let sub = args.get(1).map_or(&b""[..], |s| &s[..s.len().min(128)]);
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        String::from_utf8_lossy(&args[0]).to_uppercase()
    ))
}

/// Replies the HELP text of a container command as Redis's `addReplyHelp`:
/// a header naming `cmd`, the `lines`, and the HELP entry, as status replies.
pub fn reply_help(out: &mut Reply<'_>, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

fn unknown_command(args: &[Bytes]) -> CommandError {
    // As Redis: each argument quoted, truncated so that the list stays
    // within 128 bytes, and no more arguments once it reaches 128.
    let mut list: Vec<u8> = Vec::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(&a[..a.len().min(room)]);
        list.extend_from_slice(b"' ");
    }
    CommandError::err(format!(
        "unknown command '{}', with args beginning with: {}",
        String::from_utf8_lossy(&args[0][..args[0].len().min(128)]),
        String::from_utf8_lossy(&list)
    ))
}

/// Argument parsing with Redis's rules and error messages.
pub mod arg {
    use super::CommandError;

    /// An integer argument (`string2ll`: optional `-`, digits, no spaces or `+`).
    pub fn int(b: &[u8]) -> Result<i64, CommandError> {
        parse_i64(b).ok_or(CommandError::NotInteger)
    }

    /// Parses `b` as Redis's `string2ll` does (the one implementation, in the codec).
    pub use resp::parse_i64;

    /// A float argument as Redis's `getLongDoubleFromObject`/`strtold` accepts it:
    /// no leading space, no trailing garbage, no NaN; `inf` and exponents allowed.
    pub fn float(b: &[u8]) -> Result<f64, CommandError> {
        parse_f64(b).ok_or(CommandError::NotFloat)
    }

    /// Parses a float like Redis does (see [`float`]).
    pub fn parse_f64(b: &[u8]) -> Option<f64> {
        let s = std::str::from_utf8(b).ok()?;
        if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
            return None;
        }
        let lower = s.to_ascii_lowercase();
        let v = match lower.trim_start_matches(['+', '-']) {
            "inf" | "infinity" => {
                if lower.starts_with('-') {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            t if t.starts_with("nan") || t.starts_with("inf") => return None,
            _ => s.parse::<f64>().ok()?,
        };
        if v.is_nan() { None } else { Some(v) }
    }

    /// Case-insensitive keyword comparison.
    pub fn is(b: &[u8], word: &str) -> bool {
        b.eq_ignore_ascii_case(word.as_bytes())
    }

    /// The options of HSCAN, SSCAN and ZSCAN after the cursor.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ScanOptions<'a> {
        /// COUNT (default 10).
        pub count: usize,
        /// MATCH, `None` for no pattern or `*`.
        pub pattern: Option<&'a [u8]>,
    }

    /// Parses the COUNT and MATCH options of a key's SCAN-family command as
    /// Redis's `scanGenericCommand` does: left to right, each option needs
    /// its value, COUNT must be an integer (else `NotInteger`) of at least 1
    /// (else a syntax error), anything else is a syntax error.
    pub fn scan_options(opts: &[bytes::Bytes]) -> Result<ScanOptions<'_>, CommandError> {
        let mut parsed = ScanOptions {
            count: 10,
            pattern: None,
        };
        let mut pairs = opts.chunks(2);
        for pair in &mut pairs {
            match pair {
                [opt, value] if is(opt, "count") => {
                    let n = int(value)?;
                    parsed.count = usize::try_from(n)
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or(CommandError::Syntax)?;
                }
                [opt, value] if is(opt, "match") => parsed.pattern = Some(&value[..]).filter(|p| *p != b"*"),
                _ => return Err(CommandError::Syntax),
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_lowercase_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert_eq!(c.name, c.name.to_lowercase());
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            for s in c.subcommands {
                assert!(s.name.starts_with(&format!("{}|", c.name)), "{}", s.name);
            }
        }
    }

    #[test]
    fn key_positions_follow_the_spec() {
        let mset = lookup(b"MSET").expect("mset exists");
        assert_eq!(mset.key_positions(5).collect::<Vec<_>>(), vec![1, 3]);
        let get = lookup(b"get").expect("get exists");
        assert_eq!(get.key_positions(2).collect::<Vec<_>>(), vec![1]);
        let ping = lookup(b"ping").expect("ping exists");
        assert_eq!(ping.key_positions(1).count(), 0);
    }

    #[test]
    fn integer_and_float_rules() {
        assert_eq!(arg::parse_i64(b"-12"), Some(-12));
        assert_eq!(arg::parse_i64(b"+1"), None);
        assert_eq!(arg::parse_i64(b"007"), None);
        assert_eq!(arg::parse_i64(b" 1"), None);
        assert_eq!(arg::parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(arg::parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(arg::parse_f64(b"nan"), None);
        assert_eq!(arg::parse_f64(b" 1"), None);
        assert_eq!(arg::parse_f64(b"1x"), None);
    }
}
