//! Serving replicas: the PSYNC decision (partial or full resync), the
//! snapshot jobs that produce the RDB for full resyncs, and the task that
//! sends a replica its snapshot and then the stream, and reads its ACKs.
//!
//! A snapshot is made by a forked child (copy-on-write, the server goes
//! on): with `repl-diskless-sync` it writes the RDB into a pipe and the
//! replica gets it framed as `$EOF:<40 bytes>…<40 bytes>`; otherwise it
//! writes `dbfilename` as BGSAVE does and the replica gets `$<len>` and the
//! file. Replicas that ask for a full resync while a snapshot is being made
//! share it: they start the stream at the snapshot's offset, which the
//! backlog still holds.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;

use super::{Replica, ReplicaState, feed};
use crate::client::Client;
use crate::persistence::{fork, rdb, snapshot};
use crate::server::Server;

/// A snapshot for full resyncs.
#[derive(Debug)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// The stream offset the snapshot covers: replicas continue at `offset + 1`.
    pub offset: i64,
    /// Written for diskless replicas (EOF-marked framing).
    pub diskless: bool,
    /// The RDB once made, or why it failed.
    pub result: Option<Result<Bytes, String>>,
}

/// The snapshot jobs.
#[derive(Debug, Default)]
pub struct Jobs {
    next_id: u64,
    /// The running or last job.
    pub current: Option<Rc<RefCell<Job>>>,
}

impl Jobs {
    /// The job with id `id`, if it is still known.
    pub fn get(&self, id: u64) -> Option<Rc<RefCell<Job>>> {
        self.current.as_ref().filter(|j| j.borrow().id == id).cloned()
    }
}

/// The error a replica gets when we cannot serve a resync.
pub const NOMASTERLINK: &str = "NOMASTERLINK Can't SYNC while not connected with my master";

/// PSYNC replid offset (and SYNC, `psync: None`): decides between a
/// partial and a full resync, registers the replica and returns the status
/// reply (`CONTINUE <id>` or `FULLRESYNC <id> <offset>`; none for SYNC); the
/// client's connection then switches to [`serve`].
///
/// # Errors
/// `-NOMASTERLINK` on a replica whose own link is down, or when the
/// snapshot cannot be started.
pub fn psync(
    server: &mut Server,
    client: &mut Client,
    psync: Option<(&[u8], &[u8])>,
) -> Result<Option<String>, String> {
    if server.repl.is_replica() && !server.repl.link_up() {
        return Err(NOMASTERLINK.to_string());
    }
    feed(server);
    super::ensure_backlog(server);
    let hs = client.repl.clone();
    let ip = hs.ip.unwrap_or_else(|| client.addr.ip());
    let replica = |next: i64, state: ReplicaState, job: u64| Replica {
        ip,
        port: hs.port,
        state,
        next,
        ack_offset: 0,
        ack_time: Instant::now(),
        job,
        stream_on_ack: false,
    };
    if let Some((replid, offset)) = psync {
        let offset = crate::cmd::arg::parse_i64(offset).unwrap_or(-1);
        let replid = String::from_utf8_lossy(replid);
        let repl = &server.repl;
        let same_history =
            replid == repl.replid || (replid == repl.replid2 && offset <= repl.second_offset && offset >= 0);
        let held = repl.backlog.as_ref().is_some_and(|b| b.serves(offset));
        if same_history && held {
            let line = format!("CONTINUE {}", repl.replid);
            tracing::info!(
                "Partial resynchronization request from {ip}:{} accepted. Sending {} bytes of backlog starting from offset {offset}.",
                hs.port,
                repl.offset + 1 - offset
            );
            server.repl.sync_partial_ok += 1;
            server
                .repl
                .replicas
                .insert(client.id, replica(offset, ReplicaState::Online, 0));
            client.repl.is_replica = true;
            return Ok(Some(line));
        }
        if replid != "?" {
            server.repl.sync_partial_err += 1;
            tracing::info!(
                "Partial resynchronization not accepted: {}",
                if same_history {
                    "the requested offset is not in the backlog"
                } else {
                    "replication ID mismatch"
                }
            );
        } else {
            tracing::info!("Full resync requested by replica {ip}:{}", hs.port);
        }
    }
    let diskless = server.config.repl_diskless_sync && hs.capa_eof;
    let job = attachable_job(server, diskless).map_or_else(|| start_job(server, diskless), Ok)?;
    let (id, offset) = {
        let j = job.borrow();
        (j.id, j.offset)
    };
    server.repl.sync_full += 1;
    server
        .repl
        .replicas
        .insert(client.id, replica(offset + 1, ReplicaState::WaitBgsave, id));
    client.repl.is_replica = true;
    Ok(psync.map(|_| format!("FULLRESYNC {} {offset}", server.repl.replid)))
}

/// A running snapshot of the same kind whose offset the backlog still
/// serves: a new replica shares it.
fn attachable_job(server: &Server, diskless: bool) -> Option<Rc<RefCell<Job>>> {
    let job = server.repl.jobs.current.as_ref()?;
    let j = job.borrow();
    let held = server.repl.backlog.as_ref().is_some_and(|b| b.serves(j.offset + 1));
    (j.result.is_none() && j.diskless == diskless && held).then(|| job.clone())
}

/// Forks the child that makes a snapshot, and a task that collects it.
fn start_job(server: &mut Server, diskless: bool) -> Result<Rc<RefCell<Job>>, String> {
    server.repl.jobs.next_id += 1;
    let opts = snapshot::options(server);
    let job = Rc::new(RefCell::new(Job {
        id: server.repl.jobs.next_id,
        offset: server.repl.offset,
        diskless,
        result: None,
    }));
    // The replicas' stream starts at the snapshot: it selects its database first.
    server.propagator.repl.reset_db();
    let notify = server.repl.notify.clone();
    let dbs = &server.dbs;
    if diskless {
        let (reader, writer) = io::pipe().map_err(|e| format!("pipe: {e}"))?;
        let pid = fork::fork_child(|| {
            let w = io::BufWriter::with_capacity(1 << 16, &writer);
            i32::from(rdb::write_rdb(w, dbs, &opts).is_err())
        })
        .map_err(|e| format!("fork: {e}"))?;
        drop(writer);
        tracing::info!("Starting BGSAVE for SYNC with target: replicas sockets (pid {pid})");
        let task_job = job.clone();
        tokio::task::spawn_local(async move {
            let result = collect_pipe(reader).await;
            finish(&task_job, pid, result, &notify).await;
        });
    } else {
        let path = snapshot::path(server);
        let pid = fork::fork_child(|| i32::from(snapshot::write_file(&path, dbs, &opts).is_err()))
            .map_err(|e| format!("fork: {e}"))?;
        tracing::info!("Starting BGSAVE for SYNC with target: disk (pid {pid})");
        let task_job = job.clone();
        tokio::task::spawn_local(async move {
            let exit = reap(pid).await;
            let result = match exit {
                Ok(()) => std::fs::read(&path)
                    .map(Bytes::from)
                    .map_err(|e| format!("reading '{}': {e}", path.display())),
                Err(e) => Err(e),
            };
            finish(&task_job, 0, result, &notify).await;
        });
    }
    server.repl.jobs.current = Some(job.clone());
    Ok(job)
}

async fn collect_pipe(reader: io::PipeReader) -> Result<Bytes, String> {
    use tokio::io::AsyncReadExt;
    let fd: std::os::fd::OwnedFd = reader.into();
    let mut rx = tokio::net::unix::pipe::Receiver::from_owned_fd(fd).map_err(|e| format!("pipe: {e}"))?;
    let mut data = Vec::new();
    rx.read_to_end(&mut data)
        .await
        .map_err(|e| format!("reading the snapshot: {e}"))?;
    Ok(Bytes::from(data))
}

/// Waits for the child `pid` to exit.
async fn reap(pid: fork::Pid) -> Result<(), String> {
    loop {
        match fork::try_reap(pid) {
            Ok(Some(exit)) if exit.success() => return Ok(()),
            Ok(Some(exit)) => return Err(format!("the snapshot child failed ({exit:?})")),
            Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => return Err(format!("waitpid: {e}")),
        }
    }
}

async fn finish(job: &Rc<RefCell<Job>>, pid: fork::Pid, result: Result<Bytes, String>, notify: &tokio::sync::Notify) {
    // A pipe's end of file: the child wrote all it had; its exit says
    // whether that was the whole snapshot.
    let result = match (result, pid) {
        (r, 0) => r,
        (Ok(data), pid) => reap(pid).await.map(|()| data),
        (Err(e), pid) => {
            fork::kill(pid);
            Err(e)
        }
    };
    match &result {
        Ok(data) => tracing::info!("Background RDB transfer ready ({} bytes)", data.len()),
        Err(e) => tracing::warn!("Background transfer error: {e}"),
    }
    job.borrow_mut().result = Some(result);
    notify.notify_waiters();
}

/// Serves a replica on its connection, after PSYNC/SYNC: its snapshot
/// (full resync), then the stream from its offset; reads its REPLCONF ACKs.
/// Returns when the connection ends or the replica is dropped.
///
/// # Errors
/// Socket errors.
pub async fn serve(
    server: &Rc<RefCell<Server>>,
    stream: &TcpStream,
    client: &Rc<RefCell<Client>>,
    mut out: BytesMut,
) -> io::Result<()> {
    let id = client.borrow().id;
    let notify = server.borrow().repl.notify.clone();
    let wake = client.borrow().wake.clone();
    let mut input = BytesMut::with_capacity(1024);
    let mut decoder = resp::RequestDecoder::new(server.borrow().request_limits());
    // The snapshot being sent: its framing and how much went out.
    let mut bulk: Option<(Vec<Bytes>, usize)> = None;
    let mut keepalive = tokio::time::interval(Duration::from_secs(1));
    let mut scratch = Vec::new();
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if client.borrow().killed {
            return Ok(());
        }
        {
            let mut s = server.borrow_mut();
            let s = &mut *s;
            let Some(r) = s.repl.replicas.get_mut(&id) else {
                return Ok(());
            };
            // What it has yet to get of the stream is its output buffer.
            let lag = (s.repl.offset + 1 - r.next).max(0) as u64;
            let limit = s.config.client_output_buffer_limit[crate::config::ClientClass::Replica as usize];
            if limit.hard > 0 && lag > limit.hard {
                tracing::warn!(
                    "Client id={id} scheduled to be closed ASAP for overcoming of output buffer limits (replica {}:{} is {lag} bytes behind)",
                    r.ip,
                    r.port
                );
                return Ok(());
            }
            match r.state {
                ReplicaState::WaitBgsave => {
                    let job = s.repl.jobs.get(r.job);
                    let result = job.as_ref().and_then(|j| j.borrow().result.clone());
                    match (job, result) {
                        (None, _) => {
                            tracing::warn!("Replica {}:{}: its snapshot is gone", r.ip, r.port);
                            return Ok(());
                        }
                        (Some(_), None) => {}
                        (Some(_), Some(Err(e))) => {
                            tracing::warn!("Dropping replica {}:{}: no snapshot ({e})", r.ip, r.port);
                            return Ok(());
                        }
                        (Some(job), Some(Ok(data))) => {
                            let diskless = job.borrow().diskless;
                            bulk = Some((frame(&data, diskless), 0));
                            r.state = ReplicaState::SendBulk;
                            r.stream_on_ack = diskless;
                        }
                    }
                }
                ReplicaState::SendBulk if bulk.is_none() => {
                    r.state = ReplicaState::Online;
                    r.ack_time = Instant::now();
                    tracing::info!("Synchronization with replica {}:{} succeeded", r.ip, r.port);
                }
                ReplicaState::SendBulk => {}
                ReplicaState::Online => {
                    if !r.stream_on_ack
                        && out.len() < 64 * 1024
                        && let Some(b) = &s.repl.backlog
                    {
                        scratch.clear();
                        let n = b.read(r.next, 256 * 1024, &mut scratch);
                        r.next += n as i64;
                        out.extend_from_slice(&scratch);
                    }
                }
            }
            // Anything queued for it (replies are not sent to replicas).
            client.borrow_mut().out.clear();
        }
        // Send: the snapshot first, then the stream.
        if let Some((parts, sent)) = &mut bulk {
            if !out.is_empty() && *sent == 0 {
                // The +FULLRESYNC line goes before the snapshot.
                write_all_now(stream, &mut out)?;
            }
            if out.is_empty() {
                let mut done = true;
                let mut skip = *sent;
                for p in parts.iter() {
                    if skip >= p.len() {
                        skip -= p.len();
                        continue;
                    }
                    match stream.try_write(&p[skip..]) {
                        Ok(n) => {
                            *sent += n;
                            if n < p.len() - skip {
                                done = false;
                                break;
                            }
                            skip = 0;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            done = false;
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
                if done {
                    bulk = None;
                    continue;
                }
            }
        } else if !out.is_empty() {
            write_all_now(stream, &mut out)?;
        }
        let sending = bulk.is_some() || !out.is_empty();
        let waiting = server
            .borrow()
            .repl
            .replicas
            .get(&id)
            .is_some_and(|r| r.state == ReplicaState::WaitBgsave);
        tokio::select! {
            biased;
            _ = wake.notified() => {}
            _ = &mut notified => {}
            r = stream.writable(), if sending => r?,
            r = stream.readable() => {
                r?;
                input.reserve(4096);
                match stream.try_read_buf(&mut input) {
                    Ok(0) => return Ok(()),
                    Ok(_) => replica_input(server, client, &mut decoder, &mut input)?,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            _ = keepalive.tick() => {
                // While the snapshot is made, a newline keeps the replica
                // from timing out (Redis does the same).
                if waiting && bulk.is_none() && out.is_empty() {
                    out.extend_from_slice(b"\n");
                }
                if timed_out(&server.borrow(), id) {
                    tracing::warn!("Disconnecting timedout replica (streaming sync): {id}");
                    return Ok(());
                }
            }
        }
    }
}

/// The snapshot as sent: `$<len>\r\n<rdb>`, or for diskless replicas
/// `$EOF:<mark>\r\n<rdb><mark>`.
fn frame(data: &Bytes, diskless: bool) -> Vec<Bytes> {
    if diskless {
        let mark = crate::server::random_hex_id();
        vec![
            Bytes::from(format!("$EOF:{mark}\r\n")),
            data.clone(),
            Bytes::from(mark.into_bytes()),
        ]
    } else {
        vec![Bytes::from(format!("${}\r\n", data.len())), data.clone()]
    }
}

/// Whether replica `id` has not acknowledged for `repl-timeout` seconds.
fn timed_out(server: &Server, id: u64) -> bool {
    server
        .repl
        .replicas
        .get(&id)
        .is_some_and(|r| r.state == ReplicaState::Online && r.ack_time.elapsed().as_secs() > server.config.repl_timeout)
}

/// Writes what the socket takes now.
fn write_all_now(stream: &TcpStream, out: &mut BytesMut) -> io::Result<()> {
    let mut written = 0;
    while written < out.len() {
        match stream.try_write(&out[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    bytes::Buf::advance(out, written);
    Ok(())
}

/// Runs what a replica sent (REPLCONF ACK) through the command path;
/// replies are dropped.
fn replica_input(
    server: &Rc<RefCell<Server>>,
    client: &Rc<RefCell<Client>>,
    decoder: &mut resp::RequestDecoder,
    input: &mut BytesMut,
) -> io::Result<()> {
    let mut s = server.borrow_mut();
    let mut c = client.borrow_mut();
    loop {
        match decoder.decode(input, true) {
            Ok(Some(args)) => {
                c.last_interaction = Instant::now();
                s.execute(&mut c, &args);
                c.out.clear();
            }
            Ok(None) => break,
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
    }
    // Released first: a failover completing now disconnects this replica too.
    drop(c);
    super::serve_waiters(&mut s, false);
    super::failover::progress(&mut s);
    Ok(())
}

/// REPLCONF ACK from replica `id`.
pub fn ack(server: &mut Server, id: u64, offset: i64) {
    if let Some(r) = server.repl.replicas.get_mut(&id) {
        r.ack_offset = r.ack_offset.max(offset);
        r.ack_time = Instant::now();
        r.stream_on_ack = false;
    }
}

/// Ends a WAIT of `client_id` with `acked` replicas.
pub fn reply_wait(server: &mut Server, client_id: u64, acked: usize) {
    server.blocking.remove_client(client_id);
    if let Some(c) = server.clients.get(&client_id)
        && let Ok(mut c) = c.try_borrow_mut()
        && c.blocked
    {
        c.blocked = false;
        let resp3 = c.resp3();
        crate::reply::Reply::new(&mut c.out, resp3).int(acked as i64);
        c.wake.notify_one();
    }
}

/// A WAIT's timeout passed: replies with the replicas that acknowledged.
/// False when `client` is not in WAIT.
pub fn wait_timed_out(server: &mut Server, client: &mut Client) -> bool {
    let Some(i) = server.repl.waiters.iter().position(|w| w.client == client.id) else {
        return false;
    };
    let w = server.repl.waiters.remove(i);
    server.blocking.remove_client(client.id);
    client.blocked = false;
    let acked = server.repl.acked(w.offset);
    let resp3 = client.resp3();
    crate::reply::Reply::new(&mut client.out, resp3).int(acked as i64);
    true
}

/// Asks every replica for an ACK (WAIT): `REPLCONF GETACK *` in the stream.
pub fn request_acks(server: &mut Server) {
    if server.repl.replicas.is_empty() {
        return;
    }
    let mut getack = Vec::new();
    crate::propagate::encode(&mut getack, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    feed(server);
    super::append_stream(server, &getack);
}
