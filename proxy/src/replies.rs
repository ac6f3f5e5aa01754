//! The replies one client is owed, in request order, and the client's
//! connection. [`Replies`] owns the stream, unsplit, in the client's own
//! task: it writes each reply as soon as it and everything before it are
//! known, gathering all that are known into one write (one TLS record rather
//! than one per reply), and reads requests when the client's task asks for
//! them, so a request costs no hop between a reader and a writer task and
//! TLS no lock between them.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use resp::Frame;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::backend::CONNECTION_LOST;
use crate::client::{error, ok};
use crate::metrics::{Class, DbMetrics};
use crate::routing::Join;

/// A client's connection: plain TCP or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Encoded replies gathered into one write at most (TLS cuts it into 16 KiB records).
const WRITE_BATCH: usize = 64 * 1024;
/// Free room in the read buffer after it grows: one full TLS record.
pub const READ_SIZE: usize = 16 * 1024;
/// The read buffer grows (by [`READ_SIZE`]) only when less room than this
/// is left. Forwarded requests are slices of it, in flight in the links'
/// queues, so it is rarely unshared: growing it at every read would cost a
/// new buffer per read; this way one buffer serves many reads.
const MIN_READ_ROOM: usize = 4 * 1024;

/// A reply owed to the client, in request order.
pub enum Out {
    /// One reply, counted in the metrics once written.
    Reply(Pending, Meta),
    /// A subscriber request's replies: the pushes up to the [`Push::Done`]
    /// of its shard's subscriber connection.
    Pushes(usize),
}

/// Where a reply comes from.
pub enum Pending {
    /// Known now.
    Ready(Frame),
    /// From a shard, passed on as it sent it.
    Wait(oneshot::Receiver<Bytes>),
    /// From several shards, merged once all have answered (`got`: the
    /// answers so far, in order).
    Merge {
        merge: Merge,
        parts: Vec<oneshot::Receiver<Bytes>>,
        got: Vec<Frame>,
    },
}

/// A reply once known.
enum Answer {
    /// Built by the proxy: encoded for the client's protocol.
    Frame(Frame),
    /// A shard's reply, already in the client's protocol: copied as is.
    Raw(Bytes),
}

impl Pending {
    /// The replies of `parts`, merged.
    pub fn merge(merge: Merge, parts: Vec<oneshot::Receiver<Bytes>>) -> Pending {
        Pending::Merge {
            merge,
            got: Vec::with_capacity(parts.len()),
            parts,
        }
    }

    /// The reply once known; not polled again after that.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Answer> {
        let lost = || error(CONNECTION_LOST);
        match self {
            Pending::Ready(frame) => Poll::Ready(Answer::Frame(std::mem::replace(frame, Frame::Null))),
            Pending::Wait(rx) => Pin::new(rx)
                .poll(cx)
                .map(|r| r.map_or_else(|_| Answer::Frame(lost()), Answer::Raw)),
            Pending::Merge { merge, parts, got } => {
                while let Some(rx) = parts.get_mut(got.len()) {
                    let part = match ready!(Pin::new(rx).poll(cx)) {
                        // The link checked it with the same limits: failing here would be
                        // a decoder bug, answered rather than panicked on.
                        Ok(raw) => Frame::parse(&raw).unwrap_or_else(|_| error(b"ERR bad reply from shard")),
                        Err(_) => lost(),
                    };
                    got.push(part);
                }
                Poll::Ready(Answer::Frame(merged(
                    std::mem::replace(merge, Merge::Ok),
                    std::mem::take(got),
                )))
            }
        }
    }
}

/// What subscriber connections send the client's task.
pub enum Push {
    /// A frame for the client (a message, or a reply to a subscriber request).
    Frame(Frame),
    /// Every reply of one request on the subscriber connection of this shard was sent.
    Done(usize),
}

/// When and how a reply is counted.
#[derive(Clone, Copy)]
pub struct Meta {
    /// Its metrics class.
    pub class: Class,
    /// When its request arrived.
    pub start: Instant,
    /// Encoded in RESP3.
    pub resp3: bool,
}

/// How replies from several shards become one.
pub enum Merge {
    /// MGET: `(part, index in part)` per key, in the client's order.
    Mget(Vec<(usize, usize)>),
    /// MSET: OK when every part is.
    Ok,
    /// Integers summed.
    Sum,
    /// A fan-out join.
    Join(Join),
    /// SCAN on shard `shard` of `shards`.
    Scan { shard: u64, shards: u64 },
}

/// What the client's task waits for between requests.
pub enum Event {
    /// Bytes read from the client (0: it closed).
    Read(usize),
    /// The replies owed fell below the pipeline limit: buffered requests
    /// can be handled again.
    Room,
    /// Reading or writing failed.
    Failed,
    /// The database was removed.
    Removed,
    /// The idle timer ran out.
    Idle,
}

/// A client's connection and the replies it is owed.
pub struct Replies {
    stream: Box<dyn Stream>,
    queue: VecDeque<Out>,
    wbuf: BytesMut,
    /// Written but not flushed (TLS may hold the last record).
    unflushed: bool,
    push: mpsc::Receiver<Push>,
    /// [`Push::Done`] received before the [`Out::Pushes`] it ends, per shard.
    early_done: HashMap<usize, usize>,
    /// A subscriber connection was asked for (an [`Out::Pushes`] owed), so
    /// pushes may come: until then the push channel is not polled, which
    /// would cost every reply a poll of a channel nobody sends on.
    pushes: bool,
    /// Pushes are encoded in RESP3.
    pub push_resp3: bool,
    /// Blocking commands whose reply is owed.
    blocked: usize,
    metrics: Arc<DbMetrics>,
}

impl Replies {
    /// Serves `stream`, with pushes from the client's subscriber connections.
    pub fn new(stream: Box<dyn Stream>, push: mpsc::Receiver<Push>, metrics: Arc<DbMetrics>) -> Replies {
        Replies {
            stream,
            queue: VecDeque::new(),
            wbuf: BytesMut::with_capacity(READ_SIZE),
            unflushed: false,
            push,
            early_done: HashMap::new(),
            pushes: false,
            push_resp3: false,
            blocked: 0,
            metrics,
        }
    }

    /// Adds a reply owed after all the others.
    pub fn owe(&mut self, out: Out) {
        match &out {
            Out::Reply(_, meta) if meta.class == Class::Blocking => self.blocked += 1,
            Out::Reply(..) => {}
            Out::Pushes(_) => self.pushes = true,
        }
        self.queue.push_back(out);
    }

    /// Replies owed and not yet gathered for writing.
    pub fn owed(&self) -> usize {
        self.queue.len()
    }

    /// Whether a blocking command's reply is owed.
    pub fn blocked(&self) -> bool {
        self.blocked > 0
    }

    /// Moves the replies known at the front of the queue into the write
    /// buffer, in order; with nothing owed, pushes (messages) as they come.
    fn gather(&mut self, cx: &mut Context<'_>) {
        while self.wbuf.len() < WRITE_BATCH {
            match self.queue.front_mut() {
                None if !self.pushes => return,
                None => match self.push.poll_recv(cx) {
                    Poll::Ready(Some(Push::Frame(frame))) => frame.encode_as(&mut self.wbuf, self.push_resp3),
                    // Replies that came before their Out::Pushes.
                    Poll::Ready(Some(Push::Done(shard))) => *self.early_done.entry(shard).or_default() += 1,
                    Poll::Ready(None) | Poll::Pending => return,
                },
                Some(Out::Pushes(shard)) => {
                    let shard = *shard;
                    if let Some(n) = self.early_done.get_mut(&shard).filter(|n| **n > 0) {
                        *n -= 1;
                        self.queue.pop_front();
                        continue;
                    }
                    match self.push.poll_recv(cx) {
                        Poll::Ready(Some(Push::Frame(frame))) => frame.encode_as(&mut self.wbuf, self.push_resp3),
                        Poll::Ready(Some(Push::Done(other))) if other != shard => {
                            *self.early_done.entry(other).or_default() += 1
                        }
                        Poll::Ready(_) => drop(self.queue.pop_front()),
                        Poll::Pending => return,
                    }
                }
                Some(Out::Reply(pending, meta)) => {
                    let Poll::Ready(answer) = pending.poll(cx) else { return };
                    let meta = *meta;
                    self.queue.pop_front();
                    if meta.class == Class::Blocking {
                        self.blocked -= 1;
                    }
                    match answer {
                        Answer::Frame(frame) => {
                            record(
                                &self.metrics,
                                matches!(frame, Frame::Error(_) | Frame::BlobError(_)),
                                meta,
                            );
                            frame.encode_as(&mut self.wbuf, meta.resp3);
                        }
                        Answer::Raw(raw) => {
                            record(&self.metrics, matches!(raw.first(), Some(b'-' | b'!')), meta);
                            self.wbuf.extend_from_slice(&raw);
                        }
                    }
                }
            }
        }
    }

    /// Writes the write buffer, then flushes.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.wbuf.is_empty() {
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &self.wbuf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.metrics.bytes_out.inc_by(n as u64);
            if n == self.wbuf.len() {
                self.wbuf.clear();
            } else {
                self.wbuf.advance(n);
            }
            self.unflushed = true;
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Gathers and writes replies while they are known and the client
    /// takes them: ready once nothing more can be written now.
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            self.gather(cx);
            if self.wbuf.is_empty() && !self.unflushed {
                return Poll::Ready(Ok(()));
            }
            ready!(self.poll_write(cx))?;
        }
    }

    /// Writes every reply owed, waiting for those not known yet.
    pub async fn drain(&mut self) -> io::Result<()> {
        poll_fn(|cx| {
            ready!(self.poll_out(cx))?;
            if self.queue.is_empty() {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Writes every reply owed, then closes the connection.
    pub async fn close(&mut self) -> io::Result<()> {
        self.drain().await?;
        self.stream.shutdown().await
    }

    /// Writes replies as they become known and, while fewer than `limit`
    /// are owed, reads into `buf`, until something the client's task must
    /// act on happens.
    pub fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        limit: usize,
        removed: Pin<&mut impl Future<Output = ()>>,
        idle: Option<Pin<&mut tokio::time::Sleep>>,
    ) -> Poll<Event> {
        let full = self.queue.len() >= limit;
        if let Poll::Ready(Err(_)) = self.poll_out(cx) {
            return Poll::Ready(Event::Failed);
        }
        if self.queue.len() < limit {
            if full {
                return Poll::Ready(Event::Room);
            }
            if buf.capacity() - buf.len() < MIN_READ_ROOM {
                buf.reserve(READ_SIZE);
            }
            if let Poll::Ready(read) = pin!(self.stream.read_buf(buf)).poll(cx) {
                return Poll::Ready(read.map_or(Event::Failed, Event::Read));
            }
        }
        if removed.poll(cx).is_ready() {
            return Poll::Ready(Event::Removed);
        }
        if idle.is_some_and(|idle| idle.poll(cx).is_ready()) {
            return Poll::Ready(Event::Idle);
        }
        Poll::Pending
    }
}

fn record(metrics: &DbMetrics, is_error: bool, meta: Meta) {
    let class = metrics.class(meta.class);
    class.requests.inc();
    if is_error {
        class.errors.inc();
    }
    class.latency.observe(meta.start.elapsed().as_secs_f64());
}

/// Joins the shards' replies of a split or fanned-out command.
fn merged(merge: Merge, frames: Vec<Frame>) -> Frame {
    if let Some(e) = frames
        .iter()
        .find(|f| matches!(f, Frame::Error(_) | Frame::BlobError(_)))
    {
        return e.clone();
    }
    match merge {
        Merge::Mget(order) => {
            let mut parts: Vec<Vec<Frame>> = frames
                .into_iter()
                .map(|f| match f {
                    Frame::Array(items) => items,
                    _ => Vec::new(),
                })
                .collect();
            let mut out = Vec::with_capacity(order.len());
            for (part, index) in order {
                let item = parts
                    .get_mut(part)
                    .and_then(|p| p.get_mut(index))
                    .map(|f| std::mem::replace(f, Frame::Null));
                out.push(item.unwrap_or(Frame::Null));
            }
            Frame::Array(out)
        }
        Merge::Ok | Merge::Join(Join::AllOk) => ok(),
        Merge::Sum | Merge::Join(Join::Sum) => Frame::Integer(
            frames
                .iter()
                .map(|f| if let Frame::Integer(n) = f { *n } else { 0 })
                .sum(),
        ),
        Merge::Join(Join::Concat) => Frame::Array(
            frames
                .into_iter()
                .flat_map(|f| match f {
                    Frame::Array(items) | Frame::Set(items) => items,
                    _ => Vec::new(),
                })
                .collect(),
        ),
        Merge::Join(Join::First) => frames.into_iter().next().unwrap_or(Frame::Null),
        Merge::Join(Join::AnyNonNull) => {
            let mut keys: Vec<Frame> = frames.into_iter().filter(|f| !matches!(f, Frame::Null)).collect();
            if keys.is_empty() {
                Frame::Null
            } else {
                let i = rand::random_range(0..keys.len());
                keys.swap_remove(i)
            }
        }
        Merge::Join(Join::Info) => crate::info::merge(frames),
        Merge::Scan { shard, shards } => match frames.into_iter().next() {
            Some(Frame::Array(mut items)) if items.len() == 2 => {
                let next = match &items[0] {
                    Frame::Bulk(c) => std::str::from_utf8(c).ok().and_then(|c| c.parse::<u64>().ok()),
                    _ => None,
                };
                let cursor = match next {
                    Some(0) if shard + 1 < shards => Some(shard + 1),
                    Some(0) => Some(0),
                    Some(c) => c.checked_mul(shards).and_then(|c| c.checked_add(shard)),
                    None => None,
                };
                match cursor {
                    Some(c) => {
                        items[0] = Frame::Bulk(Bytes::from(c.to_string()));
                        Frame::Array(items)
                    }
                    None => error(b"ERR shard returned a cursor the proxy cannot encode"),
                }
            }
            _ => error(b"ERR unexpected SCAN reply from shard"),
        },
    }
}
