//! The link to our master, when we are a replica: connect, the handshake
//! (PING, AUTH, REPLCONF listening-port / ip-address / capa eof psync2),
//! PSYNC with our history, then a full resync (the RDB, `$<len>` or
//! `$EOF:<mark>` framed) or a partial one (`+CONTINUE`), then the command
//! stream applied through the one command path, with REPLCONF ACK every
//! second and on GETACK.
//!
//! A snapshot is loaded into fresh databases that replace ours only once it
//! loaded completely: a garbage or truncated transfer drops the link (with
//! a log line saying why) and leaves the old dataset in place; the link is
//! retried every second. The exact bytes of the stream go to our own
//! backlog, so replicas of ours follow at the same offsets.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::backlog::Backlog;
use super::{LinkState, NO_ID};
use crate::keyspace::Db;
use crate::persistence::rdb;
use crate::server::Server;

/// Runs for the life of the server: keeps a link to the master REPLICAOF
/// names, reconnecting every second while it is down.
pub async fn supervise(server: Rc<RefCell<Server>>) {
    loop {
        let notify = server.borrow().repl.notify.clone();
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let target = server
            .borrow()
            .repl
            .master
            .as_ref()
            .map(|m| (m.host.clone(), m.port, m.generation));
        let Some((host, port, generation)) = target else {
            notified.await;
            continue;
        };
        let client_id = Cell::new(None);
        let result = tokio::select! {
            r = link(&server, &host, port, generation, &client_id) => r,
            () = replaced(&server, generation) => Ok(()),
        };
        {
            let mut s = server.borrow_mut();
            if let Some(id) = client_id.get() {
                s.remove_client(id);
            }
            if let Some(m) = s.repl.master.as_mut().filter(|m| m.generation == generation) {
                if m.state == LinkState::Connected {
                    m.down_since = Instant::now();
                }
                m.state = LinkState::Connect;
                m.client = None;
            }
        }
        if let Err(e) = result {
            tracing::warn!("{e}");
        }
        if current(&server, generation) {
            let retry = tokio::time::sleep(Duration::from_secs(1));
            tokio::pin!(retry);
            loop {
                let notified = notify.notified();
                tokio::select! {
                    () = &mut retry => break,
                    () = notified => if !current(&server, generation) { break },
                }
            }
        }
    }
}

fn current(server: &Rc<RefCell<Server>>, generation: u64) -> bool {
    server
        .borrow()
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.generation == generation)
}

/// Completes when REPLICAOF changed the master (or ended replication).
async fn replaced(server: &Rc<RefCell<Server>>, generation: u64) {
    let notify = server.borrow().repl.notify.clone();
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !current(server, generation) {
            return;
        }
        notified.await;
    }
}

fn set_state(server: &Rc<RefCell<Server>>, state: LinkState) {
    if let Some(m) = server.borrow_mut().repl.master.as_mut() {
        m.state = state;
        m.last_io = Instant::now();
    }
}

/// The master's socket with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    timeout: Duration,
}

impl Conn {
    async fn send(&mut self, args: &[&[u8]]) -> Result<(), String> {
        let mut out = Vec::new();
        crate::propagate::encode(&mut out, args);
        self.stream
            .write_all(&out)
            .await
            .map_err(|e| format!("Error writing to MASTER: {e}"))
    }

    /// Reads more bytes; an error on end of file or timeout.
    async fn fill(&mut self, server: &Rc<RefCell<Server>>) -> Result<usize, String> {
        self.buf.reserve(64 * 1024);
        let n = tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
            .map_err(|e| format!("I/O error reading from MASTER: {e}"))?;
        if n == 0 {
            return Err("MASTER closed the connection (connection lost)".into());
        }
        if let Some(m) = server.borrow_mut().repl.master.as_mut() {
            m.last_io = Instant::now();
        }
        Ok(n)
    }

    /// One reply line, without its line ending.
    async fn line(&mut self, server: &Rc<RefCell<Server>>) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf.split_to(i + 1);
                let text = String::from_utf8_lossy(&line[..i]);
                return Ok(text.trim_end_matches('\r').to_string());
            }
            if self.buf.len() > 64 * 1024 {
                return Err("MASTER sent a reply line that is too long".into());
            }
            self.fill(server).await?;
        }
    }

    /// A command's reply line, checked with `ok` (else the error says what
    /// was sent).
    async fn call(&mut self, server: &Rc<RefCell<Server>>, args: &[&[u8]]) -> Result<String, String> {
        self.send(args).await?;
        self.line(server).await
    }
}

async fn link(
    server: &Rc<RefCell<Server>>,
    host: &str,
    port: u16,
    generation: u64,
    client_id: &Cell<Option<u64>>,
) -> Result<(), String> {
    let (timeout, nodelay, auth, user, my_port, announce_ip) = {
        let s = server.borrow();
        let c = &s.config;
        (
            Duration::from_secs(c.repl_timeout.max(1)),
            !c.repl_disable_tcp_nodelay,
            c.masterauth.clone(),
            c.masteruser.clone(),
            if c.replica_announce_port != 0 {
                c.replica_announce_port
            } else {
                s.listen_addrs.first().map_or(c.port, |a| a.port())
            },
            c.replica_announce_ip.clone(),
        )
    };
    set_state(server, LinkState::Connecting);
    let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("Timeout connecting to the MASTER {host}:{port}"))?
        .map_err(|e| format!("Error condition on socket for SYNC: {e} ({host}:{port})"))?;
    let _ = stream.set_nodelay(nodelay);
    tracing::info!("MASTER <-> REPLICA sync started");
    set_state(server, LinkState::Handshake);
    let mut conn = Conn {
        stream,
        buf: BytesMut::new(),
        timeout,
    };
    let pong = conn.call(server, &[b"PING"]).await?;
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    tracing::info!("Master replied to PING, replication can continue...");
    if let Some(pass) = &auth {
        let reply = match &user {
            Some(u) => conn.call(server, &[b"AUTH", u.as_bytes(), pass.as_bytes()]).await?,
            None => conn.call(server, &[b"AUTH", pass.as_bytes()]).await?,
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port_arg = my_port.to_string();
    let reply = conn
        .call(server, &[b"REPLCONF", b"listening-port", port_arg.as_bytes()])
        .await?;
    if reply.starts_with('-') {
        tracing::info!("(Non critical) Master does not understand REPLCONF listening-port: {reply}");
    }
    if let Some(ip) = &announce_ip {
        let reply = conn.call(server, &[b"REPLCONF", b"ip-address", ip.as_bytes()]).await?;
        if reply.starts_with('-') {
            tracing::info!("(Non critical) Master does not understand REPLCONF ip-address: {reply}");
        }
    }
    let reply = conn
        .call(server, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    if reply.starts_with('-') {
        tracing::info!("(Non critical) Master does not understand REPLCONF capa: {reply}");
    }
    // PSYNC with our own history: our id and offset are our master's (or,
    // for a former master, our own; the new master may share it).
    let (replid, next, failover) = {
        let s = server.borrow();
        let failover = super::failover::in_progress(&s);
        (s.repl.replid.clone(), (s.repl.offset + 1).to_string(), failover)
    };
    tracing::info!("Trying a partial resynchronization (request {replid}:{next}).");
    if failover {
        // The target promotes itself and continues our history.
        conn.send(&[b"PSYNC", replid.as_bytes(), next.as_bytes(), b"FAILOVER"])
            .await?;
    } else {
        conn.send(&[b"PSYNC", replid.as_bytes(), next.as_bytes()]).await?;
    }
    let reply = loop {
        let l = conn.line(server).await?;
        // Newlines keep the link alive while the master prepares.
        if !l.is_empty() {
            break l;
        }
    };
    if failover {
        let mut s = server.borrow_mut();
        if reply.starts_with('-') {
            let _ = super::failover::abort(&mut s, &format!("Failover target rejected psync request: {reply}"));
            return Err(format!("FAILOVER target rejected PSYNC: {reply}"));
        }
        super::failover::done(&mut s);
    }
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split(' ');
        let id = parts.next().filter(|id| id.len() == 40).map(str::to_string);
        let offset = parts.next().and_then(|o| o.parse::<i64>().ok());
        let (Some(id), Some(offset)) = (id, offset) else {
            return Err(format!("Bad +FULLRESYNC reply from MASTER: '{reply}'"));
        };
        tracing::info!("Full resync from master: {id}:{offset}");
        full_sync(server, &mut conn, id, offset).await?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let mut s = server.borrow_mut();
        tracing::info!("Successful partial resynchronization with master.");
        if new_id.len() == 40 && new_id != s.repl.replid {
            // The master's history goes on under a new id (it was promoted):
            // ours becomes the secondary id, and our replicas reconnect.
            s.repl.replid2 = std::mem::replace(&mut s.repl.replid, new_id.to_string());
            s.repl.second_offset = s.repl.offset + 1;
            super::disconnect_replicas(&mut s);
            tracing::info!("Master replication ID changed to {new_id}");
        }
        if s.repl.backlog.is_none() {
            s.repl.backlog = Some(Backlog::new(s.repl.offset));
        }
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        ));
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    apply_stream(server, conn, generation, client_id).await
}

/// Receives and loads the snapshot of a full resync.
async fn full_sync(server: &Rc<RefCell<Server>>, conn: &mut Conn, id: String, offset: i64) -> Result<(), String> {
    set_state(server, LinkState::Transfer);
    let header = loop {
        let l = conn.line(server).await?;
        if !l.is_empty() {
            break l;
        }
    };
    let data = if let Some(mark) = header.strip_prefix("$EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            return Err(format!("Bad EOF mark from MASTER: '{header}'"));
        }
        tracing::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        loop {
            if conn.buf.len() >= 40 && conn.buf.ends_with(&mark) {
                let mut data = std::mem::take(&mut conn.buf);
                data.truncate(data.len() - 40);
                break data.freeze();
            }
            conn.fill(server).await?;
            progress(server, -1, conn.buf.len());
        }
    } else if let Some(len) = header.strip_prefix('$').and_then(|l| l.parse::<usize>().ok()) {
        tracing::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to disk");
        while conn.buf.len() < len {
            conn.fill(server).await?;
            progress(server, len as i64, conn.buf.len().min(len));
        }
        conn.buf.split_to(len).freeze()
    } else if header.starts_with('-') {
        return Err(format!("MASTER aborted replication with an error: {header}"));
    } else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?"
        ));
    };
    load(server, &data, id, offset)
}

fn progress(server: &Rc<RefCell<Server>>, total: i64, read: usize) {
    if let Some(m) = server.borrow_mut().repl.master.as_mut() {
        m.transfer = (total, read as i64);
    }
}

/// Replaces the dataset with the snapshot, if it loads completely.
fn load(server: &Rc<RefCell<Server>>, data: &Bytes, id: String, offset: i64) -> Result<(), String> {
    let mut s = server.borrow_mut();
    let s = &mut *s;
    tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let started = Instant::now();
    let mut dbs: Vec<Db> = (0..s.dbs.len()).map(|_| Db::new()).collect();
    let enc = rdb::Encodings::from_config(&s.config);
    let mut access = s.clock();
    // A replica keeps keys that expired: its master will delete them.
    access.now_ms = i64::MIN;
    let stats = rdb::load(data, &mut dbs, &enc, &access, s.config.rdbchecksum).map_err(|e| {
        format!("Failed trying to load the MASTER synchronization DB from socket, the dataset is kept as it was: {e}")
    })?;
    s.touch_watched_flush(None);
    s.dbs = dbs;
    s.dirty += 1;
    let stream_db = stats
        .aux
        .iter()
        .find(|(k, _)| k == "repl-stream-db")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .filter(|&db| db < s.dbs.len())
        .unwrap_or(0);
    s.repl.master_db = stream_db;
    s.repl.replid = id;
    s.repl.replid2 = NO_ID.to_string();
    s.repl.second_offset = -1;
    s.repl.offset = offset;
    s.repl.backlog = Some(Backlog::new(offset));
    // Our replicas had the old dataset: they must resync too.
    super::disconnect_replicas(s);
    if s.config.appendonly {
        // The AOF must describe the new dataset.
        if let Err(e) = crate::persistence::aof::start_rewrite(s) {
            tracing::warn!("Can't rewrite the append only file after the sync with the master: {e}");
        }
    }
    tracing::info!(
        "MASTER <-> REPLICA sync: Finished with success ({} keys in {:.3}s)",
        stats.keys,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Applies the command stream until the link breaks.
async fn apply_stream(
    server: &Rc<RefCell<Server>>,
    mut conn: Conn,
    generation: u64,
    client_id: &Cell<Option<u64>>,
) -> Result<(), String> {
    let client = {
        let mut s = server.borrow_mut();
        let peer = conn
            .stream
            .peer_addr()
            .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
        let local = conn.stream.local_addr().unwrap_or(peer);
        let client = s.add_client(peer, local);
        {
            let mut c = client.borrow_mut();
            c.repl.is_master = true;
            c.authenticated = true;
            c.db = s.repl.master_db;
        }
        let id = client.borrow().id;
        client_id.set(Some(id));
        if let Some(m) = s.repl.master.as_mut().filter(|m| m.generation == generation) {
            m.state = LinkState::Connected;
            m.client = Some(id);
            m.last_io = Instant::now();
        }
        client
    };
    tracing::info!(
        "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization or finished a full one; streaming."
    );
    let wake = client.borrow().wake.clone();
    let mut decoder = resp::RequestDecoder::new(server.borrow().request_limits());
    let mut ack = tokio::time::interval(Duration::from_secs(1));
    // Bytes read but not yet part of a complete command (what the decoder
    // consumed of them included): the exact stream bytes for our backlog.
    let mut raw: Vec<u8> = conn.buf.to_vec();
    let mut consumed = 0usize;
    let mut input = std::mem::take(&mut conn.buf);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if !input.is_empty() {
            apply(
                server,
                &client,
                &mut decoder,
                &mut input,
                &mut raw,
                &mut consumed,
                &mut out,
            )?;
        }
        if !out.is_empty() {
            conn.stream
                .write_all(&out)
                .await
                .map_err(|e| format!("Error writing to MASTER: {e}"))?;
            out.clear();
        }
        input.reserve(64 * 1024);
        tokio::select! {
            r = conn.stream.read_buf(&mut input) => {
                let before = raw.len();
                let n = r.map_err(|e| format!("I/O error reading from MASTER: {e}"))?;
                if n == 0 {
                    return Err("Connection with master lost.".into());
                }
                raw.extend_from_slice(&input[input.len() - n..]);
                debug_assert_eq!(raw.len(), before + n);
                if let Some(m) = server.borrow_mut().repl.master.as_mut() {
                    m.last_io = Instant::now();
                }
            }
            _ = ack.tick() => {
                let silent = server.borrow().repl.master.as_ref().map(|m| m.last_io.elapsed());
                if silent.is_some_and(|s| s > conn.timeout) {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                let offset = server.borrow().repl.offset.to_string();
                crate::propagate::encode(&mut out, &[&b"REPLCONF"[..], b"ACK", offset.as_bytes()]);
            }
            () = wake.notified() => {
                if client.borrow().killed {
                    return Err("Connection with master closed (CLIENT KILL).".into());
                }
            }
        }
    }
}

/// Runs the complete commands in `input` as the master's client; each
/// one's bytes then go to our backlog and advance our offset.
fn apply(
    server: &Rc<RefCell<Server>>,
    client: &Rc<RefCell<crate::client::Client>>,
    decoder: &mut resp::RequestDecoder,
    input: &mut BytesMut,
    raw: &mut Vec<u8>,
    consumed: &mut usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut s = server.borrow_mut();
    let mut c = client.borrow_mut();
    let mut start = 0usize;
    loop {
        let before = input.len();
        let decoded = decoder
            .decode(input, true)
            .map_err(|e| format!("Protocol error from MASTER, dropping the link: {e}"))?;
        *consumed += before - input.len();
        let Some(args) = decoded else { break };
        let is_replconf = args[0].eq_ignore_ascii_case(b"replconf");
        s.execute(&mut c, &args);
        if is_replconf {
            out.extend_from_slice(&c.out);
        }
        c.out.clear();
        let end = start + *consumed;
        super::append_stream(&mut s, &raw[start..end]);
        start = end;
        *consumed = 0;
        crate::blocking::serve_ready(&mut s);
    }
    raw.drain(..start);
    s.repl.master_db = c.db;
    crate::persistence::aof::flush(&mut s);
    Ok(())
}
