//! One client connection: reads requests, runs every complete command of a
//! read in order, and writes all their replies with as few writes as
//! possible.
//!
//! The task owns the socket and the input buffer; the client's state and
//! output buffer live in the server's registry, because other clients may
//! append to it (pub/sub) or close it (CLIENT KILL). Reading stops while the
//! client owes us more output than `client-output-buffer-limit` allows to be
//! pending, so a client that does not read its replies cannot grow the
//! server's memory without bound.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use bytes::BytesMut;
use resp::RequestDecoder;
use tokio::net::TcpStream;

use crate::client::{Client, ReplyMode};
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

async fn run(server: &Rc<RefCell<Server>>, stream: &TcpStream, client: &Rc<RefCell<Client>>, wake: &tokio::sync::Notify) -> io::Result<()> {
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::new();
    let mut decoder = RequestDecoder::new(server.borrow().request_limits());
    let mut eof = false;
    loop {
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
            (c.close_after_reply || eof, c.killed)
        };
        if killed {
            return Ok(());
        }
        if !output.is_empty() {
            write_some(stream, &mut output, server)?;
        }
        if closing && output.is_empty() {
            return Ok(());
        }
        let can_read = !closing && output.len() < server.borrow().output_soft_limit();
        tokio::select! {
            biased;
            _ = wake.notified() => {}
            r = stream.writable(), if !output.is_empty() => r?,
            r = stream.readable(), if can_read => {
                r?;
                input.reserve(READ_CHUNK);
                match stream.try_read_buf(&mut input) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        process(server, client, &mut decoder, &mut input, n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
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
    let _ = bytes::Buf::advance(output, written);
    if output.is_empty() {
        output.clear();
    }
    server.borrow_mut().stats.net_output_bytes += written as u64;
    Ok(())
}

/// Parses and runs every complete command in `input`.
fn process(server: &Rc<RefCell<Server>>, client: &Rc<RefCell<Client>>, decoder: &mut RequestDecoder, input: &mut BytesMut, read: usize) {
    let mut server = server.borrow_mut();
    let mut client = client.borrow_mut();
    server.stats.net_input_bytes += read as u64;
    client.last_interaction = std::time::Instant::now();
    loop {
        if client.close_after_reply || client.killed {
            input.clear();
            break;
        }
        match decoder.decode(input, client.authenticated || !server.requires_auth()) {
            Ok(Some(args)) => {
                let mark = client.out.len();
                server.execute(&mut client, &args);
                match client.reply_mode {
                    ReplyMode::On => {}
                    ReplyMode::Off => client.out.truncate(mark),
                    ReplyMode::Skip => {
                        client.out.truncate(mark);
                        client.reply_mode = ReplyMode::On;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let line = e.to_string();
                tracing::debug!(client = client.id, "protocol error: {line}");
                resp::encode::error(&mut client.out, line.as_bytes());
                server.stats.record_error(&line);
                client.close_after_reply = true;
                input.clear();
                break;
            }
        }
    }
    client.query_buffer = input.len();
    if input.len() > server.query_buffer_limit() {
        tracing::warn!(client = client.id, "closing client that exceeded client-query-buffer-limit");
        client.killed = true;
    }
}
