//! One client connection: reads requests, runs every complete command of a
//! read in order, and writes all their replies with as few writes as
//! possible.
//!
//! The task owns the socket and the input buffer; the client's state and
//! output buffer live in the server's registry, because other clients may
//! append to it (pub/sub, MONITOR) or close it (CLIENT KILL). A client whose
//! pending output goes over its class's `client-output-buffer-limit` (hard
//! limit, or soft limit for longer than its seconds) is disconnected; with no
//! limit configured, reading stops while a lot of output is pending, so a
//! client that does not read its replies cannot grow memory without bound.
//!
//! CLIENT PAUSE is applied here: a command it holds back stays unprocessed,
//! with the rest of the client's input behind it, until the pause ends.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use resp::RequestDecoder;
use tokio::net::TcpStream;

use crate::client::{Client, ClientType, ReplyMode};
use crate::config::ClientClass;
use crate::server::Server;

/// Read buffer size per read call (as Redis's `PROTO_IOBUF_LEN`).
const READ_CHUNK: usize = 16 * 1024;

/// Serves one accepted connection until it closes.
pub async fn serve(server: Rc<RefCell<Server>>, stream: TcpStream, client: Rc<RefCell<Client>>) {
    let id = client.borrow().id;
    let wake = client.borrow().wake.clone();
    let result = run(&server, &stream, &client, &wake).await;
    if let Err(e) = result {
        tracing::debug!(client = id, "connection closed: {e}");
    }
    server.borrow_mut().remove_client(id);
}

async fn run(
    server: &Rc<RefCell<Server>>,
    stream: &TcpStream,
    client: &Rc<RefCell<Client>>,
    wake: &crate::client::Wakeup,
) -> io::Result<()> {
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::new();
    let mut decoder = RequestDecoder::new(server.borrow().request_limits());
    // A command CLIENT PAUSE is holding back.
    let mut held: Option<Vec<Bytes>> = None;
    let mut eof = false;
    // Blocked by a blocking command (BLPOP…) when last looked.
    let mut blocked = false;
    // Commands just run on what was read left replies: they wait one yield.
    let mut replied = false;
    loop {
        // Resume after CLIENT PAUSE, or after the block ended (served, timed
        // out or CLIENT UNBLOCK): run the input that waited.
        if held.is_some() || (blocked && !client.borrow().blocked) {
            process(server, client, &mut decoder, &mut input, 0, &mut held);
        }
        blocked = client.borrow().blocked;
        // With appendfsync always, replies wait for the fsync of the writes
        // before them; yielding first lets the other connections ready now
        // write theirs, so that one fsync covers them all.
        let must_sync = crate::persistence::aof::pending_sync(&server.borrow());
        // Replies are written once the other connections ready now have run
        // their commands too (tokio resumes a yielded task after polling for
        // I/O), as Redis writes them all in beforeSleep: writing each at once
        // wakes the client, which preempts the server on a busy machine and
        // sends its next request alone, a context switch per reply. The only
        // client waits for no one: that yield would cost a poll for I/O
        // (a system call) per request.
        if (std::mem::take(&mut replied) && server.borrow().clients.len() > 1) || must_sync.is_some() {
            tokio::task::yield_now().await;
        }
        if let Some(pos) = must_sync {
            crate::persistence::aof::sync_up_to(&mut server.borrow_mut(), pos);
        }
        // Collect output from the client's buffer (our replies and anything
        // other clients appended) and decide whether to keep going.
        let (closing, killed) = {
            let mut c = client.borrow_mut();
            if output.is_empty() {
                std::mem::swap(&mut output, &mut c.out);
            } else if !c.out.is_empty() {
                output.extend_from_slice(&c.out);
                c.out.clear();
            }
            (c.close_after_reply || (eof && held.is_none()), c.killed)
        };
        if killed {
            return Ok(());
        }
        // After PSYNC/SYNC the connection serves a replica.
        if client.borrow().repl.is_replica {
            return crate::replication::master::serve(server, stream, client, output).await;
        }
        if output_limit_reached(&server.borrow(), &mut client.borrow_mut(), output.len()) {
            return Ok(());
        }
        if !output.is_empty() {
            write_some(stream, &mut output, server)?;
        }
        if closing && output.is_empty() {
            return Ok(());
        }
        let can_read = !closing && !eof && output.len() < server.borrow().output_soft_limit();
        // While a command is held, wait for the pause to end too.
        let pause = held.as_ref().map(|_| {
            let s = server.borrow();
            (s.unpause_notify.clone(), s.pause_deadline())
        });
        let pause_ended = async {
            match &pause {
                Some((unpause, Some(deadline))) => {
                    tokio::select! {
                        _ = unpause.notified() => {}
                        _ = tokio::time::sleep_until((*deadline).into()) => {}
                    }
                }
                Some((unpause, None)) => unpause.notified().await,
                None => std::future::pending().await,
            }
        };
        // While blocked, wait for the block's timeout too.
        let deadline = if blocked {
            let s = server.borrow();
            s.blocking.deadline(client.borrow().id)
        } else {
            None
        };
        let block_timeout = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = wake.notified() => {}
            _ = pause_ended => {}
            _ = block_timeout => crate::blocking::time_out(&mut server.borrow_mut(), &mut client.borrow_mut()),
            r = stream.writable(), if !output.is_empty() => r?,
            r = stream.readable(), if can_read => {
                r?;
                input.reserve(READ_CHUNK);
                match read_some(stream, &mut input) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        process(server, client, &mut decoder, &mut input, n, &mut held);
                        replied = !client.borrow().out.is_empty();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// Whether `client` must be disconnected for the output it has pending
/// (`pending` bytes besides its buffer): over the hard limit of its class,
/// or over the soft limit for more than the soft seconds. Redis counts only
/// the output beyond a client's fixed 16 KiB reply buffer; here all pending
/// output counts.
fn output_limit_reached(server: &Server, client: &mut Client, pending: usize) -> bool {
    let class = match client.kind() {
        ClientType::Normal | ClientType::Master => ClientClass::Normal,
        ClientType::Replica => ClientClass::Replica,
        ClientType::Pubsub => ClientClass::Pubsub,
    };
    let limit = server.config.client_output_buffer_limit[class as usize];
    let used = (pending + client.out.len()) as u64;
    let hard = limit.hard > 0 && used >= limit.hard;
    let soft = limit.soft > 0 && used >= limit.soft;
    let soft_expired = match (soft, client.obuf_soft_since) {
        (false, _) => {
            client.obuf_soft_since = None;
            false
        }
        (true, None) => {
            client.obuf_soft_since = Some(std::time::Instant::now());
            false
        }
        (true, Some(since)) => since.elapsed().as_secs() > limit.soft_seconds,
    };
    if hard || soft_expired {
        tracing::warn!(
            client = client.id,
            "client scheduled to be closed ASAP for overcoming of output buffer limits"
        );
        return true;
    }
    false
}

/// Reads what the socket holds into `input`. A read that leaves room in
/// `input` drained the socket, so its readiness is cleared (as tokio's
/// `AsyncRead` does): the next wait goes to epoll rather than to a read that
/// could only fail with `WouldBlock`, one syscall in five at one command per
/// read. Data arriving later is a new readiness event.
fn read_some(stream: &TcpStream, input: &mut BytesMut) -> io::Result<usize> {
    let room = input.capacity() - input.len();
    let mut got = 0;
    let drained = stream.try_io(tokio::io::Interest::READABLE, || {
        got = stream.try_read_buf(input)?;
        if got > 0 && got < room {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(())
        }
    });
    match drained {
        Err(e) if e.kind() != io::ErrorKind::WouldBlock || got == 0 => Err(e),
        _ => Ok(got),
    }
}

/// Writes as much of `output` as the socket takes now.
fn write_some(stream: &TcpStream, output: &mut BytesMut, server: &Rc<RefCell<Server>>) -> io::Result<()> {
    let mut written = 0;
    while written < output.len() {
        match stream.try_write(&output[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    bytes::Buf::advance(output, written);
    if output.is_empty() {
        output.clear();
    }
    if written > 0 {
        let mut s = server.borrow_mut();
        s.stats.net_output_bytes += written as u64;
        s.stats.writes_processed += 1;
    }
    Ok(())
}

/// Parses and runs every complete command in `input` (after the one
/// CLIENT PAUSE held back, if any), stopping at a command the pause holds.
fn process(
    server: &Rc<RefCell<Server>>,
    client: &Rc<RefCell<Client>>,
    decoder: &mut RequestDecoder,
    input: &mut BytesMut,
    read: usize,
    held: &mut Option<Vec<Bytes>>,
) {
    let mut server = server.borrow_mut();
    let mut client = client.borrow_mut();
    if read > 0 {
        server.stats.net_input_bytes += read as u64;
        server.stats.reads_processed += 1;
        client.last_interaction = std::time::Instant::now();
        // CONFIG SET proto-max-bulk-len applies to connected clients too.
        decoder.set_limits(server.request_limits());
    }
    loop {
        if client.close_after_reply || client.killed {
            input.clear();
            break;
        }
        // A blocked client's input waits until the block ends.
        if client.blocked {
            break;
        }
        let args = match held.take() {
            Some(args) => args,
            None => match decoder.decode(input, client.authenticated || !server.requires_auth()) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(e) => {
                    let line = e.to_string();
                    tracing::debug!(client = client.id, "protocol error: {line}");
                    // Byte-exact, as Redis writes it (a raw byte in "expected '$', got 'X'").
                    e.write_reply(&mut client.out);
                    server.stats.record_error(&line);
                    client.close_after_reply = true;
                    input.clear();
                    break;
                }
            },
        };
        if crate::cmd::is_paused(&server, &client, &args) {
            *held = Some(args);
            client.paused = true;
            break;
        }
        client.paused = false;
        let mark = client.out.len();
        // CLIENT REPLY SKIP applies to this one command: consume it first,
        // so that the command may set it again for the next one.
        let skip = client.reply_mode == ReplyMode::Skip;
        if skip {
            client.reply_mode = ReplyMode::On;
        }
        server.execute(&mut client, &args);
        if skip || client.reply_mode == ReplyMode::Off {
            client.out.truncate(mark);
        }
        // Serve the clients blocked on keys the command made ready.
        crate::blocking::serve_ready(&mut server);
    }
    // What these commands changed reaches the AOF before any reply is sent,
    // and the replication stream.
    crate::persistence::aof::flush(&mut server);
    crate::replication::feed(&mut server);
    client.query_buffer = input.len();
    if input.len() > server.query_buffer_limit() {
        tracing::warn!(
            client = client.id,
            "closing client that exceeded client-query-buffer-limit"
        );
        client.killed = true;
    }
}
