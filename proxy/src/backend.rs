//! Connections to shards. A [`Link`] is one pipelined backend connection that
//! many clients share: jobs (request bytes and where their replies go) are
//! written in arrival order and replies matched in FIFO order. The link
//! reconnects by itself and follows its shard's master address: when it
//! changes, in-flight replies are drained from the old master and waiting
//! jobs go to the new one, failing only after [`CONNECT_WAIT`]. Each new
//! connection first sends `AUTH <password>` when the shards have one (and
//! `HELLO 3` for RESP3) before any job; a changed password moves the link to
//! a fresh connection the same way a changed address does. This module owns
//! backend sockets; it knows nothing about commands.
//!
//! Durability `sync`: a job marked `acked` (a write of a `sync` database)
//! gets its reply only once a replica has it. Every write of the link's
//! batch is followed by one `WAIT 1 <SYNC_WAIT_MS>` (group commit); the
//! replies of its acked jobs are held until WAIT answers, then passed on if
//! a replica acknowledged, or replaced by [`NOT_REPLICATED`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use resp::{Frame, FrameDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::Secret;
use crate::metrics::DbMetrics;

/// How long a job waits for a reachable master before it fails.
pub const CONNECT_WAIT: Duration = Duration::from_secs(2);
/// How long in-flight replies may take to drain from a master being left.
const DRAIN_WAIT: Duration = Duration::from_secs(2);
/// Jobs queued per link before senders wait.
const LINK_QUEUE: usize = 8192;
/// Bytes gathered into one write.
const WRITE_BATCH: usize = 64 * 1024;

/// The error a client sees when its shard is unreachable (an upstream error:
/// the request was not sent, so nothing was applied).
pub const UNAVAILABLE: &[u8] = b"ERR shard unavailable, try again";
/// How long a `sync` write waits for a replica's acknowledgement.
pub const SYNC_WAIT_MS: u64 = 1000;
/// The error a `sync` write gets when no replica acknowledged it in time
/// (applied on the master, maybe lost by a failover: not acknowledged).
pub const NOT_REPLICATED: &[u8] =
    b"NOREPLICAS write not acknowledged by a replica in time (durability sync); it may or may not be applied";

/// The error a client sees when the connection died after sending (an
/// upstream error: the request may or may not have been applied).
pub const CONNECTION_LOST: &[u8] = b"ERR connection to shard lost before it answered";

/// `text` as an error reply (`-text\r\n`), the form a job's reply takes.
pub fn error_reply(text: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 3);
    resp::encode::error(&mut out, text);
    out.freeze()
}

/// Where a link connects: a shard's master and the password it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// Sent with `AUTH` on connect.
    pub password: Option<Secret>,
}

/// One request (or an atomic run of requests) for a link.
#[derive(Debug)]
pub struct Job {
    /// Encoded request(s).
    pub bytes: Bytes,
    /// Replies to discard before the one that is sent on (`n - 1` for a run
    /// of `n` requests such as MULTI … EXEC).
    pub skip: usize,
    /// Where the reply goes, as the shard sent it (one whole frame, in the
    /// link's protocol); a dropped receiver is fine.
    pub reply: oneshot::Sender<Bytes>,
    /// Reply only once a replica has the write (durability `sync`).
    pub acked: bool,
}

/// A shared, self-reconnecting pipelined connection to one shard.
#[derive(Debug, Clone)]
pub struct Link {
    jobs: mpsc::Sender<Job>,
    /// False while the link cannot reach its shard (true until a first
    /// attempt fails).
    up: Arc<AtomicBool>,
}

impl Link {
    /// Starts a link, on `runtime`, to the target `addr` holds (and
    /// follows), speaking RESP `protocol` (2, or 3 after `HELLO 3`).
    pub fn spawn(runtime: &Handle, addr: watch::Receiver<Target>, protocol: u8, metrics: Arc<DbMetrics>) -> Link {
        let (tx, rx) = mpsc::channel(LINK_QUEUE);
        let up = Arc::new(AtomicBool::new(true));
        runtime.spawn(run(addr, protocol, rx, up.clone(), metrics));
        Link { jobs: tx, up }
    }

    /// Whether the link is connected to its shard, or has not tried yet.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Queues `bytes` (holding `skip + 1` requests) and returns where the
    /// last reply will arrive; with `acked`, once a replica has the writes.
    pub async fn send(&self, bytes: Bytes, skip: usize, acked: bool) -> oneshot::Receiver<Bytes> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            bytes,
            skip,
            reply,
            acked,
        };
        // The queue almost always has room: then no future is built and polled.
        let refused = match self.jobs.try_send(job) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(job)) => self.jobs.send(job).await.err().map(|e| e.0),
            Err(mpsc::error::TrySendError::Closed(job)) => Some(job),
        };
        if let Some(job) = refused {
            let _ = job.reply.send(error_reply(UNAVAILABLE));
        }
        rx
    }
}

/// Connects to `target`, authenticating when it has a password and
/// switching to RESP3 when `protocol` is 3.
pub(crate) async fn connect(target: &Target, protocol: u8) -> std::io::Result<(TcpStream, BytesMut)> {
    let mut stream = TcpStream::connect(&target.addr).await?;
    stream.set_nodelay(true)?;
    let mut handshake = BytesMut::new();
    let mut replies = 0;
    if let Some(password) = &target.password {
        resp::encode::array_len(&mut handshake, 2);
        resp::encode::bulk(&mut handshake, b"AUTH");
        resp::encode::bulk(&mut handshake, password.0.as_bytes());
        replies += 1;
    }
    if protocol == 3 {
        resp::encode::array_len(&mut handshake, 2);
        resp::encode::bulk(&mut handshake, b"HELLO");
        resp::encode::bulk(&mut handshake, b"3");
        replies += 1;
    }
    let mut buf = BytesMut::with_capacity(16 * 1024);
    if replies == 0 {
        return Ok((stream, buf));
    }
    stream.write_all(&handshake).await?;
    let mut decoder = FrameDecoder::new();
    while replies > 0 {
        match decoder.next_frame(&mut buf).map_err(std::io::Error::other)? {
            Some(Frame::Error(e)) => {
                return Err(std::io::Error::other(String::from_utf8_lossy(&e).into_owned()));
            }
            Some(_) => replies -= 1,
            None => {
                if stream.read_buf(&mut buf).await? == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
        }
    }
    Ok((stream, buf))
}

/// A job taken from the queue while no connection was up.
struct Waiting {
    job: Job,
    since: Instant,
}

async fn run(
    mut addr: watch::Receiver<Target>,
    protocol: u8,
    mut jobs: mpsc::Receiver<Job>,
    up: Arc<AtomicBool>,
    metrics: Arc<DbMetrics>,
) {
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    // False once the topology side dropped the address: keep the last one.
    let mut watching = true;
    loop {
        // Connect, holding jobs that arrive meanwhile and failing those that
        // waited longer than CONNECT_WAIT.
        let target = addr.borrow_and_update().clone();
        let (stream, rbuf) = match connect(&target, protocol).await {
            Ok(c) => c,
            Err(e) => {
                up.store(false, Ordering::Relaxed);
                tracing::warn!(shard = %target.addr, "cannot connect to shard: {e}");
                let retry = tokio::time::sleep(Duration::from_millis(100));
                tokio::pin!(retry);
                loop {
                    tokio::select! {
                        () = &mut retry => break,
                        changed = addr.changed(), if watching => if changed.is_err() { watching = false } else { break },
                        job = jobs.recv() => match job {
                            Some(job) => waiting.push_back(Waiting { job, since: Instant::now() }),
                            None if waiting.is_empty() => return,
                            None => {}
                        },
                    }
                }
                while waiting.front().is_some_and(|w| w.since.elapsed() >= CONNECT_WAIT) {
                    if let Some(w) = waiting.pop_front() {
                        let _ = w.job.reply.send(error_reply(UNAVAILABLE));
                    }
                }
                continue;
            }
        };
        tracing::debug!(shard = %target.addr, protocol, "connected to shard");
        up.store(true, Ordering::Relaxed);
        metrics.backend_connections.inc();
        let end = serve(
            stream,
            rbuf,
            &mut addr,
            &mut watching,
            &mut jobs,
            &mut waiting,
            &metrics,
        )
        .await;
        metrics.backend_connections.dec();
        match end {
            End::Closed => return,
            End::Moved => tracing::info!(from = %target.addr, "shard master or password changed, reconnecting"),
            End::Failed(e) => {
                up.store(false, Ordering::Relaxed);
                tracing::warn!(shard = %target.addr, "shard connection failed: {e}")
            }
        }
    }
}

enum End {
    /// Every sender is gone and nothing is in flight.
    Closed,
    /// The master address or the password changed.
    Moved,
    /// The connection failed; in-flight jobs were answered with an error.
    Failed(String),
}

/// A sent job awaiting its reply, or the WAIT closing a batch with acked jobs.
struct InFlight {
    skip: usize,
    /// None for a WAIT.
    reply: Option<oneshot::Sender<Bytes>>,
    acked: bool,
}

impl InFlight {
    fn job(job: Job) -> InFlight {
        InFlight {
            skip: job.skip,
            reply: Some(job.reply),
            acked: job.acked,
        }
    }
}

/// Appends a job to the batch being written.
fn push_job(job: Job, wbuf: &mut BytesMut, in_flight: &mut VecDeque<InFlight>, acked: &mut bool) {
    wbuf.extend_from_slice(&job.bytes);
    *acked |= job.acked;
    in_flight.push_back(InFlight::job(job));
}

/// Moves the jobs already queued into the batch being written (up to
/// [`WRITE_BATCH`] bytes); returns how many.
fn drain_jobs(
    jobs: &mut mpsc::Receiver<Job>,
    wbuf: &mut BytesMut,
    in_flight: &mut VecDeque<InFlight>,
    acked: &mut bool,
) -> usize {
    let mut n = 0;
    while wbuf.len() < WRITE_BATCH {
        let Ok(job) = jobs.try_recv() else { break };
        push_job(job, wbuf, in_flight, acked);
        n += 1;
    }
    n
}

async fn serve(
    mut stream: TcpStream,
    mut rbuf: BytesMut,
    addr: &mut watch::Receiver<Target>,
    watching: &mut bool,
    jobs: &mut mpsc::Receiver<Job>,
    waiting: &mut VecDeque<Waiting>,
    metrics: &DbMetrics,
) -> End {
    let mut decoder = FrameDecoder::new();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut wbuf = BytesMut::with_capacity(WRITE_BATCH);
    let mut draining: Option<Instant> = None;
    let mut closed = false;
    // The batch in wbuf holds an acked job: close it with a WAIT.
    let mut batch_acked = false;
    // Replies of acked jobs waiting for their batch's WAIT.
    let mut held: Vec<(oneshot::Sender<Bytes>, Bytes)> = Vec::new();
    // Whether to wait for the rest of the scheduler turn before writing a
    // batch. Waiting gathers the requests of every client being served now
    // into one write, but costs the link task a second poll and its first
    // job the wait: worth it only while other jobs arrive alongside. So the
    // link waits while its batches hold more than the job that woke it, and
    // after a wait that gathered nothing writes at once, until jobs queue up
    // by themselves again (found already waiting behind the first).
    let mut wait = true;
    for w in waiting.drain(..) {
        push_job(w.job, &mut wbuf, &mut in_flight, &mut batch_acked);
    }
    let fail = |in_flight: &mut VecDeque<InFlight>, held: &mut Vec<(oneshot::Sender<Bytes>, Bytes)>, why: String| {
        let lost = in_flight
            .drain(..)
            .filter_map(|f| f.reply)
            .chain(held.drain(..).map(|(r, _)| r));
        for reply in lost {
            let _ = reply.send(error_reply(CONNECTION_LOST));
        }
        End::Failed(why)
    };
    // Made once, not per turn of the loop: a change of master (or the
    // sender gone), and the drain deadline once draining.
    let moved = async {
        if *watching && addr.changed().await.is_err() {
            *watching = false;
        }
        if !*watching {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(moved);
    let drain_timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(drain_timer);
    loop {
        if batch_acked {
            let timeout = SYNC_WAIT_MS.to_string();
            resp::encode::array_len(&mut wbuf, 3);
            for arg in [&b"WAIT"[..], b"1", timeout.as_bytes()] {
                resp::encode::bulk(&mut wbuf, arg);
            }
            in_flight.push_back(InFlight {
                skip: 0,
                reply: None,
                acked: false,
            });
            batch_acked = false;
        }
        if !wbuf.is_empty() {
            metrics.backend_bytes_out.inc_by(wbuf.len() as u64);
            if let Err(e) = stream.write_all(&wbuf).await {
                return fail(&mut in_flight, &mut held, e.to_string());
            }
            wbuf.clear();
        }
        if in_flight.is_empty() && (closed || draining.is_some()) {
            return if closed { End::Closed } else { End::Moved };
        }
        // Nobody sends any more and nobody waits for what is in flight (a
        // dedicated link whose client left during a blocking command).
        if closed && held.is_empty() && in_flight.iter().all(|f| f.reply.as_ref().is_none_or(|r| r.is_closed())) {
            return End::Closed;
        }
        tokio::select! {
            biased;
            read = stream.read_buf(&mut rbuf) => {
                match read {
                    Ok(0) => return fail(&mut in_flight, &mut held, "shard closed the connection".into()),
                    Err(e) => return fail(&mut in_flight, &mut held, e.to_string()),
                    Ok(n) => metrics.backend_bytes_in.inc_by(n as u64),
                }
                loop {
                    // Replies pass on as the shard sent them: not built, not encoded again.
                    match decoder.next_raw(&mut rbuf) {
                        Ok(Some(raw)) => {
                            let Some(front) = in_flight.front_mut() else {
                                return fail(&mut in_flight, &mut held, "reply without a request".into());
                            };
                            if front.skip > 0 {
                                front.skip -= 1;
                            } else if let Some(done) = in_flight.pop_front() {
                                match done.reply {
                                    // An error was not applied: nothing to wait for.
                                    Some(reply) if done.acked && raw.first() != Some(&b'-') => held.push((reply, raw)),
                                    Some(reply) => {
                                        let _ = reply.send(raw);
                                    }
                                    None => release(&mut held, &raw),
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return fail(&mut in_flight, &mut held, format!("bad reply from shard: {e}")),
                    }
                }
            }
            job = jobs.recv(), if draining.is_none() && !closed => {
                let Some(job) = job else {
                    closed = true;
                    continue;
                };
                push_job(job, &mut wbuf, &mut in_flight, &mut batch_acked);
                let mut more = drain_jobs(jobs, &mut wbuf, &mut in_flight, &mut batch_acked);
                if wait {
                    // Let the clients whose requests are being read queue
                    // theirs too (the rest of this scheduler turn), so a busy
                    // link writes many requests per system call.
                    tokio::task::yield_now().await;
                    more += drain_jobs(jobs, &mut wbuf, &mut in_flight, &mut batch_acked);
                }
                wait = more > 0;
            }
            () = &mut moved, if draining.is_none() => {
                draining = Some(Instant::now());
                drain_timer.as_mut().reset((Instant::now() + DRAIN_WAIT).into());
            }
            () = &mut drain_timer, if draining.is_some() => {
                return fail(&mut in_flight, &mut held, "old master did not answer in time".into());
            }
        }
    }
}

/// Passes the held replies on if `wait` (the reply of `WAIT 1`) says a
/// replica has the writes, else answers them with [`NOT_REPLICATED`].
fn release(held: &mut Vec<(oneshot::Sender<Bytes>, Bytes)>, wait: &Bytes) {
    let replicated = matches!(Frame::parse(wait), Ok(Frame::Integer(n)) if n >= 1);
    for (reply, frame) in held.drain(..) {
        let _ = reply.send(if replicated { frame } else { error_reply(NOT_REPLICATED) });
    }
}
