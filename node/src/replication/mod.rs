//! Master–replica replication, as Redis 7.0 speaks it (PSYNC2): the
//! replication state of the server (ids, offsets, backlog, replicas, the
//! link to our master), and the operations on it that commands and the cron
//! use.
//!
//! # Layout
//! - [`backlog`]: the stream's recent bytes by offset, which replicas are
//!   served from.
//! - [`master`]: serving replicas: PSYNC decisions, the RDB transfer (disk or
//!   diskless), the command stream, ACKs.
//! - [`replica`]: the link to our master: handshake, full and partial
//!   resync, applying the stream through the one command path.
//! - [`failover`]: FAILOVER, the coordinated switch with a replica.
//!
//! Writes reach the stream through [`crate::propagate`]: its replication
//! feed is enabled while this server is a master with a backlog, and
//! [`feed`] moves what it collected into the backlog. A replica does not
//! propagate what it applies: it appends the exact bytes its master sent to
//! its own backlog, so its replicas see the same stream at the same offsets.

pub mod backlog;
pub mod failover;
pub mod master;
pub mod replica;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Instant;

use crate::server::Server;
use backlog::Backlog;

/// A replica's state as INFO shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for the snapshot to be produced.
    WaitBgsave,
    /// The snapshot is being sent.
    SendBulk,
    /// Streaming.
    Online,
}

impl ReplicaState {
    /// INFO's name.
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// A replica connected to us (by client id in [`Replication::replicas`]).
#[derive(Debug)]
pub struct Replica {
    /// Its address.
    pub ip: IpAddr,
    /// The port it listens on (REPLCONF listening-port).
    pub port: u16,
    /// Its state.
    pub state: ReplicaState,
    /// Offset of the next stream byte to send it.
    pub next: i64,
    /// The offset it acknowledged last (REPLCONF ACK).
    pub ack_offset: i64,
    /// When it last acknowledged.
    pub ack_time: Instant,
    /// The snapshot job it waits for (full resync).
    pub job: u64,
    /// After a diskless snapshot the stream waits for its first ACK: the
    /// replica finds the snapshot's end by the mark that ends its input,
    /// so nothing may follow the mark until it has loaded (as Redis does).
    pub stream_on_ack: bool,
}

/// A connection's part in replication: a replica of ours or our master,
/// and what a replica said about itself with REPLCONF before PSYNC.
#[derive(Debug, Clone, Default)]
pub struct ClientRepl {
    /// A replica of ours (after PSYNC/SYNC).
    pub is_replica: bool,
    /// Our master's connection.
    pub is_master: bool,
    /// REPLCONF listening-port.
    pub port: u16,
    /// REPLCONF ip-address.
    pub ip: Option<IpAddr>,
    /// REPLCONF capa eof.
    pub capa_eof: bool,
}

/// State of the link to our master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; will connect.
    Connect,
    /// Connecting.
    Connecting,
    /// Handshake (PING, AUTH, REPLCONF, PSYNC).
    Handshake,
    /// Receiving the snapshot.
    Transfer,
    /// Streaming.
    Connected,
}

impl LinkState {
    /// ROLE's name.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// Our master, when we are a replica.
#[derive(Debug)]
pub struct MasterLink {
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The link's state.
    pub state: LinkState,
    /// Last time data came from the master.
    pub last_io: Instant,
    /// Since when the link has been down (never up: since it was set).
    pub down_since: Instant,
    /// Bytes of the snapshot expected (-1: unknown, diskless) and read.
    pub transfer: (i64, i64),
    /// Changes on every REPLICAOF: a link task of another generation stops.
    pub generation: u64,
    /// The client the master's commands run as, while connected.
    pub client: Option<u64>,
}

/// A client waiting in WAIT.
#[derive(Debug)]
pub struct Waiter {
    /// The client.
    pub client: u64,
    /// Replicas wanted.
    pub numreplicas: usize,
    /// Offset they must have acknowledged.
    pub offset: i64,
}

/// The replication state of the server.
#[derive(Debug)]
pub struct Replication {
    /// Our replication id (`master_replid`).
    pub replid: String,
    /// The id of the history we continue (`master_replid2`), after a
    /// promotion or a change of master.
    pub replid2: String,
    /// Offset up to which `replid2` is valid (+1), or -1.
    pub second_offset: i64,
    /// Stream offset (`master_repl_offset`).
    pub offset: i64,
    /// The backlog; created when the first replica attaches.
    pub backlog: Option<Backlog>,
    /// Since when no replica has been connected (backlog TTL).
    pub no_replicas_since: Instant,
    /// Replicas by client id.
    pub replicas: BTreeMap<u64, Replica>,
    /// Our master, when we are a replica.
    pub master: Option<MasterLink>,
    /// Wakes the tasks serving replicas (stream grew, snapshot ready) and
    /// the link task (REPLICAOF).
    pub notify: Rc<tokio::sync::Notify>,
    /// Snapshot jobs for full resyncs ([`master`]).
    pub jobs: master::Jobs,
    /// Full resyncs served (INFO `sync_full`).
    pub sync_full: u64,
    /// Partial resyncs accepted (INFO `sync_partial_ok`).
    pub sync_partial_ok: u64,
    /// Partial resyncs refused (INFO `sync_partial_err`).
    pub sync_partial_err: u64,
    /// When the last PING went to the replicas.
    pub last_ping: Instant,
    /// Clients in WAIT.
    pub waiters: Vec<Waiter>,
    /// The database our master's stream has selected (for its client).
    pub master_db: usize,
    /// A FAILOVER in progress.
    pub failover: Option<failover::Failover>,
    next_generation: u64,
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            replid: crate::server::random_hex_id(),
            replid2: NO_ID.to_string(),
            second_offset: -1,
            offset: 0,
            backlog: None,
            no_replicas_since: Instant::now(),
            replicas: BTreeMap::new(),
            master: None,
            notify: Rc::new(tokio::sync::Notify::new()),
            jobs: master::Jobs::default(),
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            last_ping: Instant::now(),
            waiters: Vec::new(),
            master_db: 0,
            failover: None,
            next_generation: 1,
        }
    }
}

/// The all-zeros id of "no secondary id".
pub const NO_ID: &str = "0000000000000000000000000000000000000000";

impl Replication {
    /// Whether we are a replica.
    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    /// Whether the link to our master is up.
    pub fn link_up(&self) -> bool {
        self.master.as_ref().is_some_and(|m| m.state == LinkState::Connected)
    }

    /// Replicas that acknowledged within `max_lag` seconds
    /// (`min-replicas-max-lag`).
    pub fn good_replicas(&self, max_lag: u64) -> usize {
        self.replicas
            .values()
            .filter(|r| r.state == ReplicaState::Online && r.ack_time.elapsed().as_secs() <= max_lag)
            .count()
    }

    /// Replicas that acknowledged `offset` or more.
    pub fn acked(&self, offset: i64) -> usize {
        self.replicas
            .values()
            .filter(|r| r.state == ReplicaState::Online && r.ack_offset >= offset)
            .count()
    }

    /// Starts a new history (Redis's `changeReplicationId` +
    /// `clearReplicationId2`).
    pub fn new_history(&mut self) {
        self.replid = crate::server::random_hex_id();
        self.replid2 = NO_ID.to_string();
        self.second_offset = -1;
    }

    /// Keeps the current id as the secondary one and takes a new id (a
    /// replica becoming master, Redis's `shiftReplicationId`): replicas that
    /// followed the old history continue with a partial resync.
    pub fn shift_id(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, crate::server::random_hex_id());
        self.second_offset = self.offset + 1;
    }

    fn next_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }
}

/// Moves what the propagator collected for replicas into the backlog and
/// wakes the tasks that send it.
pub fn feed(server: &mut Server) {
    let repl = &mut server.propagator.repl;
    if repl.buf.is_empty() {
        return;
    }
    let mut buf = std::mem::take(&mut repl.buf);
    append_stream(server, &buf);
    buf.clear();
    server.propagator.repl.buf = buf;
}

/// Appends bytes to the stream: the backlog, the offset, the replicas.
pub fn append_stream(server: &mut Server, data: &[u8]) {
    let keep = server.config.repl_backlog_size as usize;
    let repl = &mut server.repl;
    let Some(backlog) = &mut repl.backlog else {
        return;
    };
    backlog.append(data);
    repl.offset = backlog.end();
    let needed = repl.replicas.values().map(|r| r.next).min();
    backlog.trim(keep, needed);
    if !repl.replicas.is_empty() {
        repl.notify.notify_waiters();
    }
}

/// Creates the backlog if there is none, and makes writes flow into it
/// (on a master).
pub fn ensure_backlog(server: &mut Server) {
    if server.repl.backlog.is_none() {
        server.repl.backlog = Some(Backlog::new(server.repl.offset));
        // The first command after a new backlog starts with a SELECT.
        server.propagator.repl.reset_db();
    }
    server.propagator.repl.enabled = !server.repl.is_replica();
}

/// REPLICAOF host port: follow `host:port` (Redis's `replicationSetMaster`).
/// Our replicas are disconnected so that they resync with the new history
/// (partially, when they can).
pub fn set_master(server: &mut Server, host: String, port: u16) {
    let was_master = !server.repl.is_replica();
    let generation = server.repl.next_generation();
    if let Some(link) = &server.repl.master
        && let Some(id) = link.client
    {
        kill_client(server, id);
    }
    tracing::info!("Connecting to MASTER {host}:{port}");
    server.config.replicaof = Some((host.clone(), port));
    server.repl.master = Some(MasterLink {
        host,
        port,
        state: LinkState::Connect,
        last_io: Instant::now(),
        down_since: Instant::now(),
        transfer: (-1, 0),
        generation,
        client: None,
    });
    // Writes of our own no longer go to the stream: we relay our master's.
    crate::replication::feed(server);
    server.propagator.repl.enabled = false;
    server.propagator.repl.buf.clear();
    if was_master {
        // We continue our own history from where it is (Redis caches
        // itself as the master): the new master may accept a partial resync.
        if server.repl.backlog.is_none() {
            server.repl.backlog = Some(Backlog::new(server.repl.offset));
        }
    }
    disconnect_replicas(server);
    // WAIT cannot be answered by replicas any more.
    serve_waiters(server, true);
    server.repl.notify.notify_waiters();
}

/// REPLICAOF NO ONE: become a master, keeping the dataset and the history
/// (the old id becomes the secondary id).
pub fn set_no_master(server: &mut Server) {
    let Some(link) = server.repl.master.take() else {
        return;
    };
    server.config.replicaof = None;
    if let Some(id) = link.client {
        kill_client(server, id);
    }
    server.repl.shift_id();
    if server.repl.backlog.is_none() {
        server.repl.backlog = Some(Backlog::new(server.repl.offset));
    }
    server.propagator.repl.enabled = true;
    server.propagator.repl.reset_db();
    // Replicas reconnect and learn the new id with +CONTINUE.
    disconnect_replicas(server);
    server.repl.notify.notify_waiters();
}

fn kill_client(server: &mut Server, id: u64) {
    if let Some(c) = server.clients.get(&id)
        && let Ok(mut c) = c.try_borrow_mut()
    {
        c.kill();
    }
}

/// Disconnects every replica.
pub fn disconnect_replicas(server: &mut Server) {
    let ids: Vec<u64> = server.repl.replicas.keys().copied().collect();
    for id in ids {
        kill_client(server, id);
    }
}

/// A replica's connection ended.
pub fn remove_replica(server: &mut Server, id: u64) {
    if server.repl.replicas.remove(&id).is_some() {
        tracing::info!("Connection with replica client id #{id} lost.");
        if server.repl.replicas.is_empty() {
            server.repl.no_replicas_since = Instant::now();
        }
    }
}

/// The replication cron (every server tick): PINGs to replicas, backlog
/// TTL, WAIT timeouts and replies.
pub fn cron(server: &mut Server) {
    let period = server.config.repl_ping_replica_period.max(1);
    // No PING while writes are paused (a FAILOVER waits for the offset).
    if !server.repl.is_replica()
        && !server.repl.replicas.is_empty()
        && server.pause_mode().is_none()
        && server.repl.last_ping.elapsed().as_secs() >= period
    {
        server.repl.last_ping = Instant::now();
        // Redis sends the PING without a SELECT.
        let mut ping = Vec::new();
        crate::propagate::encode(&mut ping, &[b"PING"]);
        feed(server);
        append_stream(server, &ping);
    }
    let ttl = server.config.repl_backlog_ttl;
    if ttl > 0
        && !server.repl.is_replica()
        && server.repl.replicas.is_empty()
        && server.repl.backlog.is_some()
        && server.repl.no_replicas_since.elapsed().as_secs() >= ttl
    {
        // Nobody can continue from it any more: a new history.
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
        server.repl.backlog = None;
        server.propagator.repl.enabled = false;
        server.repl.new_history();
    }
    serve_waiters(server, false);
    failover::progress(server);
}

/// Replies to the WAIT clients whose replicas acknowledged enough (or all
/// of them, with the count reached, when `all`).
pub fn serve_waiters(server: &mut Server, all: bool) {
    if server.repl.waiters.is_empty() {
        return;
    }
    let waiters = std::mem::take(&mut server.repl.waiters);
    for w in waiters {
        let acked = server.repl.acked(w.offset);
        let timed_out = server.blocking.deadline(w.client).is_some_and(|d| d <= Instant::now());
        if acked >= w.numreplicas || all || timed_out {
            master::reply_wait(server, w.client, acked);
        } else {
            server.repl.waiters.push(w);
        }
    }
}

/// INFO's replication section.
pub fn info(server: &Server, w: &mut crate::info::Writer<'_>) {
    let repl = &server.repl;
    match &repl.master {
        None => w.field("role", "master"),
        Some(m) => {
            w.field("role", "slave");
            w.field("master_host", &m.host);
            w.field("master_port", m.port);
            let up = m.state == LinkState::Connected;
            w.field("master_link_status", if up { "up" } else { "down" });
            w.field(
                "master_last_io_seconds_ago",
                if m.client.is_some() || m.state == LinkState::Transfer {
                    m.last_io.elapsed().as_secs() as i64
                } else {
                    -1
                },
            );
            let syncing = m.state == LinkState::Transfer;
            w.field("master_sync_in_progress", u8::from(syncing));
            w.field("slave_read_repl_offset", repl.offset);
            w.field("slave_repl_offset", repl.offset);
            if syncing {
                let (total, read) = m.transfer;
                w.field("master_sync_total_bytes", total);
                w.field("master_sync_read_bytes", read);
                w.field("master_sync_left_bytes", if total < 0 { -1 } else { total - read });
                let perc = if total > 0 {
                    read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                w.field("master_sync_perc", format!("{perc:.2}"));
                w.field("master_sync_last_io_seconds_ago", m.last_io.elapsed().as_secs());
            }
            if !up {
                w.field("master_link_down_since_seconds", m.down_since.elapsed().as_secs());
            }
            w.field("slave_priority", server.config.replica_priority);
            w.field("slave_read_only", u8::from(server.config.replica_read_only));
            w.field("replica_announced", u8::from(server.config.replica_announced));
        }
    }
    w.field("connected_slaves", repl.replicas.len());
    if server.config.min_replicas_to_write > 0 && server.config.min_replicas_max_lag > 0 {
        w.field(
            "min_slaves_good_slaves",
            repl.good_replicas(server.config.min_replicas_max_lag),
        );
    }
    for (i, r) in repl.replicas.values().enumerate() {
        w.field(
            &format!("slave{i}"),
            format!(
                "ip={},port={},state={},offset={},lag={}",
                r.ip,
                r.port,
                r.state.name(),
                r.ack_offset,
                r.ack_time.elapsed().as_secs()
            ),
        );
    }
    w.field("master_failover_state", failover::state_name(server));
    w.field("master_replid", &repl.replid);
    w.field("master_replid2", &repl.replid2);
    w.field("master_repl_offset", repl.offset);
    w.field("second_repl_offset", repl.second_offset);
    let (active, first, histlen) = match &repl.backlog {
        Some(b) => (1, b.first_byte_offset(), b.histlen()),
        None => (0, 0, 0),
    };
    w.field("repl_backlog_active", active);
    w.field("repl_backlog_size", server.config.repl_backlog_size);
    w.field("repl_backlog_first_byte_offset", first);
    w.field("repl_backlog_histlen", histlen);
}

/// ROLE's reply.
pub fn role(server: &Server, out: &mut crate::reply::Reply<'_>) {
    let repl = &server.repl;
    match &repl.master {
        None => {
            out.array(3);
            out.bulk(b"master");
            out.int(repl.offset);
            out.array(repl.replicas.len());
            for r in repl.replicas.values() {
                out.array(3);
                out.bulk(r.ip.to_string().as_bytes());
                out.bulk(r.port.to_string().as_bytes());
                out.bulk(r.ack_offset.to_string().as_bytes());
            }
        }
        Some(m) => {
            out.array(5);
            out.bulk(b"slave");
            out.bulk(m.host.as_bytes());
            out.int(i64::from(m.port));
            out.bulk(m.state.role_name().as_bytes());
            out.int(if m.client.is_some() { repl.offset } else { -1 });
        }
    }
}

/// Aux fields that let a restarted server continue its replication history
/// (`repl-stream-db`, `repl-id`, `repl-offset`), as Redis writes them.
pub fn rdb_aux(server: &Server) -> Vec<(&'static str, String)> {
    let repl = &server.repl;
    if repl.backlog.is_none() && !repl.is_replica() {
        return Vec::new();
    }
    let stream_db = if repl.is_replica() { repl.master_db } else { 0 };
    vec![
        ("repl-stream-db", stream_db.to_string()),
        ("repl-id", repl.replid.clone()),
        ("repl-offset", repl.offset.to_string()),
    ]
}

/// Takes the replication history from the aux fields of the RDB file
/// loaded at start-up. A replica (`replicaof` set) continues it as its own,
/// so it can partial-resync with its master; a master keeps it as its
/// secondary id, so its replicas can partial-resync with it (as Redis 7.0).
pub fn restore_from_aux(server: &mut Server, aux: &[(String, String)]) {
    let get = |k: &str| aux.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (Some(id), Some(offset)) = (get("repl-id"), get("repl-offset")) else {
        return;
    };
    let Ok(offset) = offset.parse::<i64>() else { return };
    if id.len() != 40 || offset < 0 {
        return;
    }
    let repl = &mut server.repl;
    if server.config.replicaof.is_some() {
        repl.replid = id.to_string();
    } else {
        repl.replid2 = id.to_string();
        repl.second_offset = offset + 1;
        server.propagator.repl.enabled = true;
        server.propagator.repl.reset_db();
    }
    repl.offset = offset;
    repl.master_db = get("repl-stream-db").and_then(|d| d.parse().ok()).unwrap_or(0);
    repl.backlog = Some(Backlog::new(offset));
    repl.no_replicas_since = Instant::now();
}

/// The replication checks before a command runs (Redis's
/// `processCommand`): writes on a read-only replica, commands on a replica
/// whose link is down with `replica-serve-stale-data no`, writes on a
/// master without `min-replicas-to-write` good replicas. Our master's
/// commands always run.
///
/// # Errors
/// `-READONLY`, `-MASTERDOWN` or `-NOREPLICAS`.
pub fn admit(server: &Server, client: &crate::client::Client, cmd: &crate::cmd::Command) -> crate::cmd::CmdResult {
    use crate::cmd::{CommandError, flag};
    if client.repl.is_master {
        return Ok(());
    }
    let flags = match cmd.name {
        "exec" => cmd.flags | client.multi.queued_flags(),
        _ => cmd.flags,
    };
    let write = flags & flag::WRITE != 0;
    if server.repl.is_replica() {
        if write && server.config.replica_read_only {
            return Err(CommandError::Other(
                "READONLY You can't write against a read only replica.".into(),
            ));
        }
        if !server.repl.link_up() && !server.config.replica_serve_stale_data && flags & flag::STALE == 0 {
            return Err(CommandError::Other(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
            ));
        }
    } else if write
        && server.config.min_replicas_to_write > 0
        && server.config.min_replicas_max_lag > 0
        && server.repl.good_replicas(server.config.min_replicas_max_lag) < server.config.min_replicas_to_write as usize
    {
        return Err(CommandError::Other(
            "NOREPLICAS Not enough good replicas to write.".into(),
        ));
    }
    Ok(())
}
