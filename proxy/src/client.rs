//! One client connection: decodes its requests, answers connection commands
//! itself, routes the rest through the database's links (split, fanned out,
//! pinned for transactions, dedicated for blocking and pub/sub) and writes
//! the replies back in request order. Replies that do not depend on a slow
//! shard are written as soon as everything before them is.
//!
//! One task serves a client: between requests it waits on the connection
//! ([`Replies::poll_event`]), writing replies as they arrive and reading
//! requests while fewer than `pipeline_limit` replies are owed. Handling a
//! request never waits for a reply except at a switch between a shared and a
//! dedicated backend connection, where the client's earlier replies are
//! written first so requests to one shard keep their order.

use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use resp::{Frame, FrameDecoder, Limits, Request, RequestDecoder, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::backend::{CONNECTION_LOST, Link};
use crate::metrics::Class;
use crate::replies::{Event, Merge, Meta, Out, Pending, Push, READ_SIZE, Replies, Stream};
use crate::routing::{self, Join, Route, RouteError, Split};
use crate::server::{Db, Routes};

const CROSSSLOT: &[u8] = b"CROSSSLOT Keys in request don't hash to the same slot";
const NOAUTH: &[u8] = b"NOAUTH Authentication required.";
const WRONGPASS: &[u8] = b"WRONGPASS invalid username-password pair or user is disabled.";
/// How long a closing client's last replies may take to be written.
const CLOSE_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);
/// Reported by HELLO.
const REDIS_VERSION: &str = "7.0.15";

/// An open transaction (after MULTI).
struct Tx {
    /// The slot its keys hash to so far.
    slot: Option<u16>,
    /// MULTI, the queued requests.
    queued: BytesMut,
    count: usize,
    /// A queued command was refused: EXEC answers EXECABORT.
    aborted: bool,
}

/// A WATCH held on a dedicated link of one shard.
struct Watch {
    slot: u16,
    shard: usize,
    link: Link,
}

/// A subscriber connection to one shard.
struct Subscriber {
    commands: mpsc::UnboundedSender<Bytes>,
}

/// The client's subscriptions, kept by the proxy as Redis keeps them, so
/// subscribed mode ends with the last UNSUBSCRIBE the client sent, whatever
/// the shards have answered so far.
#[derive(Default)]
struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard_channels: HashSet<Bytes>,
}

impl Subscriptions {
    fn any(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    /// Applies a (P|S)(UN)SUBSCRIBE request (`name` lower case).
    fn apply(&mut self, name: &str, args: &[Bytes]) {
        let set = match name {
            "psubscribe" | "punsubscribe" => &mut self.patterns,
            "ssubscribe" | "sunsubscribe" => &mut self.shard_channels,
            _ => &mut self.channels,
        };
        if !name.contains("unsubscribe") {
            set.extend(args[1..].iter().cloned());
        } else if args.len() == 1 {
            set.clear();
        } else {
            for a in &args[1..] {
                set.remove(a);
            }
        }
    }
}

/// Per-connection state.
struct Conn {
    db: Arc<Db>,
    id: u64,
    peer: SocketAddr,
    name: Option<Bytes>,
    resp3: bool,
    authenticated: bool,
    /// The connection and the replies owed on it.
    replies: Replies,
    /// Where subscriber connections send their frames.
    push: mpsc::Sender<Push>,
    tx: Option<Tx>,
    watch: Option<Watch>,
    /// Dedicated links for blocking commands, per shard.
    blocking: HashMap<usize, Link>,
    /// Subscriber connections, per shard.
    subscribers: HashMap<usize, Subscriber>,
    subscriptions: Subscriptions,
    /// The last forwarded request used a dedicated link.
    last_dedicated: bool,
    closing: bool,
}

/// Serves one client until it closes, errs, idles out, or the database is
/// removed.
pub async fn run(db: Arc<Db>, peer: SocketAddr, stream: Box<dyn Stream>) {
    let (push, push_rx) = mpsc::channel(1024);
    let id = db.client_id();
    let span = tracing::debug_span!("client", id, %peer, database = %db.name);
    let _enter = span.enter();
    tracing::debug!("client connected");
    let mut conn = Conn {
        authenticated: !db.needs_password(),
        replies: Replies::new(stream, push_rx, db.metrics.clone()),
        db,
        id,
        peer,
        name: None,
        resp3: false,
        push,
        tx: None,
        watch: None,
        blocking: HashMap::new(),
        subscribers: HashMap::new(),
        subscriptions: Subscriptions::default(),
        last_dedicated: false,
        closing: false,
    };
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    // Made once: a waiter on the database's watch, which every client shares.
    let mut closed = conn.db.closed();
    let removed = async move {
        let _ = closed.changed().await;
    };
    tokio::pin!(removed);
    let idle = conn.db.limits.idle_timeout;
    let mut idle_timer = idle.map(|t| Box::pin(tokio::time::sleep(t)));
    let limit = conn.db.limits.pipeline_limit;
    // QUIT and protocol errors owe the client their reply; a client that
    // went away (or idled out, or whose database was removed) is owed nothing.
    let mut graceful = false;
    'conn: loop {
        let mut depth = 0u32;
        while conn.replies.owed() < limit {
            match decoder.decode_request(&mut buf, conn.authenticated) {
                Ok(Some(request)) => {
                    depth += 1;
                    conn.handle(request).await;
                    if conn.closing {
                        graceful = true;
                        break 'conn;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let mut reply = BytesMut::new();
                    e.write_reply(&mut reply);
                    tracing::debug!("protocol error: {e}");
                    // The reply is a simple error line without CRLF inside.
                    let text = Bytes::copy_from_slice(&reply[1..reply.len() - 2]);
                    conn.reply(Frame::Error(text), Class::Local);
                    graceful = true;
                    break 'conn;
                }
            }
        }
        if depth > 0 {
            conn.db.metrics.pipeline_depth.observe(f64::from(depth));
        }
        if decoder.query_buffer_len(&buf) > conn.db.limits.query_buffer_limit {
            tracing::warn!("closing client: query buffer over the limit");
            break;
        }
        let event = poll_fn(|cx| {
            let idle = idle_timer.as_mut().map(|t| t.as_mut());
            conn.replies.poll_event(cx, &mut buf, limit, removed.as_mut(), idle)
        })
        .await;
        match event {
            Event::Read(0) | Event::Failed | Event::Removed => break,
            Event::Read(n) => conn.db.metrics.bytes_in.inc_by(n as u64),
            Event::Room => continue,
            // As in Redis, blocked and subscribed clients do not idle out.
            Event::Idle if conn.replies.blocked() || conn.subscribed() => {}
            Event::Idle => {
                tracing::debug!("closing idle client");
                break;
            }
        }
        if let (Some(t), Some(timer)) = (idle, idle_timer.as_mut()) {
            timer.as_mut().reset(tokio::time::Instant::now() + t);
        }
    }
    if graceful {
        let _ = tokio::time::timeout(CLOSE_FLUSH, conn.replies.close()).await;
    }
    // Replies still awaited (a blocked BLPOP) are abandoned with the
    // connection, so their dedicated links close and the shard forgets the
    // blocked client.
    drop(conn);
    tracing::debug!("client gone");
}

pub(crate) fn error(text: &'static [u8]) -> Frame {
    Frame::Error(Bytes::from_static(text))
}

fn error_owned(text: String) -> Frame {
    Frame::Error(Bytes::from(text))
}

pub(crate) fn ok() -> Frame {
    Frame::Simple(Bytes::from_static(b"OK"))
}

fn lower(name: &[u8]) -> String {
    String::from_utf8_lossy(name).to_ascii_lowercase()
}

fn arity_error(name: &[u8]) -> Frame {
    error_owned(format!("ERR wrong number of arguments for '{}' command", lower(name)))
}

/// Redis's reply to an unknown command.
fn unknown_command(args: &[Bytes]) -> Frame {
    let mut text = format!(
        "ERR unknown command '{}', with args beginning with: ",
        String::from_utf8_lossy(&args[0])
    );
    for a in args.iter().skip(1) {
        text.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
    }
    error_owned(text)
}

fn route_error(e: RouteError, name: &[u8]) -> Frame {
    match e {
        RouteError::CrossSlot => error(CROSSSLOT),
        RouteError::WrongArity => arity_error(name),
        RouteError::BadNumKeys => error(b"ERR numkeys should be greater than 0 and not exceed the number of arguments"),
    }
}

/// Encodes a request as a RESP multibulk.
fn encode_request<'a>(args: impl ExactSizeIterator<Item = &'a [u8]>, out: &mut BytesMut) {
    encode::array_len(out, args.len());
    for a in args {
        encode::bulk(out, a);
    }
}

fn request_bytes(args: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(args.iter().map(|a| a.len() + 16).sum::<usize>() + 16);
    encode_request(args.iter().map(|a| a.as_ref()), &mut out);
    out.freeze()
}

impl Conn {
    fn meta(&self, class: Class) -> Meta {
        Meta {
            class,
            start: Instant::now(),
            resp3: self.resp3,
        }
    }

    fn emit(&mut self, pending: Pending, class: Class) {
        let meta = self.meta(class);
        self.replies.owe(Out::Reply(pending, meta));
    }

    fn reply(&mut self, frame: Frame, class: Class) {
        self.emit(Pending::Ready(frame), class);
    }

    /// Waits until every earlier reply is written (a connection that failed
    /// meanwhile is noticed at the next read).
    async fn barrier(&mut self) {
        let _ = self.replies.drain().await;
    }

    /// Keeps a client's requests to one shard in order across a switch
    /// between shared and dedicated backend connections.
    async fn switch_to(&mut self, dedicated: bool) {
        if self.last_dedicated != dedicated {
            self.barrier().await;
            self.last_dedicated = dedicated;
        }
    }

    /// Whether a command's reply waits for a replica (a write of a `sync` database).
    fn acked(&self, name: &[u8]) -> bool {
        self.db.sync() && routing::is_write(name)
    }

    fn protocol(&self) -> u8 {
        if self.resp3 { 3 } else { 2 }
    }

    fn subscribed(&self) -> bool {
        self.subscriptions.any()
    }

    /// Answers, forwards or queues one request. Requests forwarded as they
    /// came are sent as the bytes the client sent (`request.bytes`); only
    /// those the proxy changes (split over shards, SCAN's cursor) are
    /// encoded again.
    async fn handle(&mut self, request: Request) {
        let Request { args, bytes } = request;
        let name = args[0].clone();
        let Some(entry) = routing::lookup(&name, args.get(1).map(|a| a.as_ref())) else {
            if let Some(tx) = &mut self.tx {
                tx.aborted = true;
            }
            return self.reply(unknown_command(&args), Class::Local);
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if !(self.authenticated || is("auth") || is("hello") || is("quit") || is("reset")) {
            return self.reply(error(NOAUTH), Class::Local);
        }
        if self.tx.is_some()
            && !(is("exec") || is("discard") || is("multi") || is("watch") || is("quit") || is("reset"))
        {
            return self.queue(entry.route, args, &bytes).await;
        }
        let allowed_subscribed = matches!(entry.route, Route::Subscribe) || is("ping") || is("quit") || is("reset");
        if !self.resp3 && !allowed_subscribed && self.subscribed() {
            let text = format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                lower(&name)
            );
            return self.reply(error_owned(text), Class::Pubsub);
        }
        match entry.route {
            Route::Local => self.local(args, bytes).await,
            Route::Unsupported => {
                let text = format!("ERR command '{}' is not supported by the proxy", lower(&name));
                self.reply(error_owned(text), Class::Local)
            }
            Route::Transaction => self.transaction(args, bytes).await,
            Route::Subscribe => self.subscribe(args, bytes).await,
            Route::FirstShard => {
                let routes = self.db.routes();
                self.forward_with(&routes, 0, &name, bytes, Class::Single).await
            }
            Route::Split(split) => self.split(split, args, bytes).await,
            Route::All(join) => self.fan_out(join, &name, bytes).await,
            Route::Scan => self.scan(args).await,
            route @ (Route::Keys { .. } | Route::NumKeys { .. } | Route::Streams) => {
                let slot = match routing::keys(route, &args).and_then(routing::one_slot) {
                    Ok(slot) => slot,
                    Err(e) => return self.reply(route_error(e, &name), Class::Single),
                };
                let routes = self.db.routes();
                let shard = slot.map_or(0, |s| routes.shard_of(s));
                let blocks = entry.blocking && (route != Route::Streams || routing::stream_read_blocks(&args));
                if blocks {
                    self.switch_to(true).await;
                    let protocol = self.protocol();
                    let link = self
                        .blocking
                        .entry(shard)
                        .or_insert_with(|| routes.dedicated(shard, protocol))
                        .clone();
                    let rx = link.send(bytes, 0, self.acked(&name)).await;
                    self.emit(Pending::Wait(rx), Class::Blocking);
                } else {
                    self.forward_with(&routes, shard, &name, bytes, Class::Single).await;
                }
            }
        }
    }

    /// Sends request `bytes` of command `name` to `shard` on a shared link.
    async fn forward_with(&mut self, routes: &Routes, shard: usize, name: &[u8], bytes: Bytes, class: Class) {
        self.switch_to(false).await;
        let rx = routes
            .link_for(name, shard, self.protocol(), self.id)
            .send(bytes, 0, self.acked(name))
            .await;
        self.emit(Pending::Wait(rx), class);
    }

    /// MGET, MSET, DEL, UNLINK, EXISTS, TOUCH: one request per shard.
    async fn split(&mut self, split: Split, args: Vec<Bytes>, bytes: Bytes) {
        let step = if split == Split::Mset { 2 } else { 1 };
        if args.len() < 2 || !(args.len() - 1).is_multiple_of(step) {
            return self.reply(arity_error(&args[0]), Class::Multi);
        }
        let routes = self.db.routes();
        // Per shard (in first-seen order): the argument groups it gets.
        let mut parts: Vec<(usize, Vec<&[Bytes]>)> = Vec::new();
        let mut order = Vec::with_capacity((args.len() - 1) / step);
        for group in args[1..].chunks(step) {
            let shard = routes.shard_of(resp::key_slot(&group[0]));
            let part = match parts.iter().position(|(s, _)| *s == shard) {
                Some(p) => p,
                None => {
                    parts.push((shard, Vec::new()));
                    parts.len() - 1
                }
            };
            order.push((part, parts[part].1.len()));
            parts[part].1.push(group);
        }
        if parts.len() == 1 {
            return self
                .forward_with(&routes, parts[0].0, &args[0], bytes, Class::Multi)
                .await;
        }
        self.switch_to(false).await;
        let mut receivers = Vec::with_capacity(parts.len());
        for (shard, groups) in &parts {
            let items =
                || std::iter::once(args[0].as_ref()).chain(groups.iter().flat_map(|g| g.iter().map(|a| a.as_ref())));
            // Sized once: growing it step by step costs more than the encoding.
            let mut bytes = BytesMut::with_capacity(items().map(|a| a.len() + 16).sum::<usize>() + 16);
            encode::array_len(&mut bytes, 1 + groups.len() * step);
            for a in items() {
                encode::bulk(&mut bytes, a);
            }
            receivers.push(
                routes
                    .link_for(&args[0], *shard, self.protocol(), self.id)
                    .send(bytes.freeze(), 0, self.acked(&args[0]))
                    .await,
            );
        }
        let merge = match split {
            Split::Mget => Merge::Mget(order),
            Split::Mset => Merge::Ok,
            Split::Count => Merge::Sum,
        };
        self.emit(Pending::merge(merge, receivers), Class::Multi);
    }

    async fn fan_out(&mut self, join: Join, name: &[u8], bytes: Bytes) {
        self.switch_to(false).await;
        let routes = self.db.routes();
        let mut receivers = Vec::with_capacity(routes.shards.len());
        for shard in 0..routes.shards.len() {
            receivers.push(
                routes
                    .link_for(name, shard, self.protocol(), self.id)
                    .send(bytes.clone(), 0, self.acked(name))
                    .await,
            );
        }
        self.emit(Pending::merge(Merge::Join(join), receivers), Class::Fanout);
    }

    /// SCAN: the cursor is `shard cursor * shards + shard index`.
    async fn scan(&mut self, mut args: Vec<Bytes>) {
        if args.len() < 2 {
            return self.reply(arity_error(&args[0]), Class::Fanout);
        }
        let routes = self.db.routes();
        let shards = routes.shards.len() as u64;
        let Some(cursor) = std::str::from_utf8(&args[1]).ok().and_then(|s| s.parse::<u64>().ok()) else {
            return self.reply(error(b"ERR invalid cursor"), Class::Fanout);
        };
        let shard = cursor % shards;
        args[1] = Bytes::from((cursor / shards).to_string());
        self.switch_to(false).await;
        let rx = routes
            .link_for(&args[0], shard as usize, self.protocol(), self.id)
            .send(request_bytes(&args), 0, false)
            .await;
        self.emit(Pending::merge(Merge::Scan { shard, shards }, vec![rx]), Class::Fanout);
    }

    /// PING, ECHO, AUTH, HELLO, QUIT, RESET, SELECT, CLIENT, READONLY.
    async fn local(&mut self, args: Vec<Bytes>, bytes: Bytes) {
        let name = lower(&args[0]);
        let reply = match name.as_str() {
            "ping" => {
                if args.len() > 2 {
                    arity_error(&args[0])
                } else if !self.resp3 && self.subscribed() {
                    // The subscriber connection answers in the pub/sub form.
                    return self.send_subscriber(None, bytes).await;
                } else if let Some(msg) = args.get(1) {
                    Frame::Bulk(msg.clone())
                } else {
                    Frame::Simple(Bytes::from_static(b"PONG"))
                }
            }
            "echo" if args.len() == 2 => Frame::Bulk(args[1].clone()),
            "auth" => self.auth(&args).await,
            "hello" => self.hello(&args).await,
            "quit" => {
                self.closing = true;
                ok()
            }
            "reset" => {
                self.reset();
                Frame::Simple(Bytes::from_static(b"RESET"))
            }
            "select" if args.len() == 2 => match resp::parse_i64(&args[1]) {
                Some(0) => ok(),
                Some(_) => error(b"ERR DB index is out of range"),
                None => error(b"ERR value is not an integer or out of range"),
            },
            "client" => self.client(&args),
            "readonly" | "readwrite" if args.len() == 1 => ok(),
            _ => arity_error(&args[0]),
        };
        self.reply(reply, Class::Local);
    }

    fn reset(&mut self) {
        self.tx = None;
        self.watch = None;
        self.subscribers.clear();
        self.subscriptions = Subscriptions::default();
        self.blocking.clear();
        self.name = None;
        self.set_resp3(false);
        self.authenticated = !self.db.needs_password();
    }

    fn set_resp3(&mut self, resp3: bool) {
        if self.resp3 != resp3 {
            // Links of the old protocol would answer in the wrong one.
            self.blocking.clear();
            self.watch = None;
        }
        self.resp3 = resp3;
        self.replies.push_resp3 = resp3;
    }

    async fn auth(&mut self, args: &[Bytes]) -> Frame {
        let (user, pass) = match args.len() {
            2 => (None, &args[1]),
            3 => (Some(&args[1]), &args[2]),
            _ => return error(b"ERR syntax error"),
        };
        match self.check(user, pass).await {
            Ok(()) => ok(),
            Err(e) => e,
        }
    }

    async fn check(&mut self, user: Option<&Bytes>, pass: &[u8]) -> Result<(), Frame> {
        if user.is_some_and(|u| u.as_ref() != b"default") {
            return Err(error(WRONGPASS));
        }
        match self.db.check_password(pass).await {
            Ok(true) => {
                self.authenticated = true;
                Ok(())
            }
            Ok(false) => {
                tracing::info!("client failed to authenticate");
                Err(error(WRONGPASS))
            }
            Err(text) => Err(error(text.as_bytes())),
        }
    }

    /// HELLO [protover [AUTH user pass] [SETNAME name]].
    async fn hello(&mut self, args: &[Bytes]) -> Frame {
        let mut protocol = None;
        if let Some(v) = args.get(1) {
            match resp::parse_i64(v) {
                Some(v @ 2..=3) => protocol = Some(v == 3),
                Some(_) => return error(b"NOPROTO unsupported protocol version"),
                None => return error(b"ERR Protocol version is not an integer or out of range"),
            }
        }
        let mut i = 2;
        let mut auth = None;
        let mut setname = None;
        while i < args.len() {
            let more = args.len() - i - 1;
            if args[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
                auth = Some((args[i + 1].clone(), args[i + 2].clone()));
                i += 3;
            } else if args[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
                setname = Some(args[i + 1].clone());
                i += 2;
            } else {
                return error_owned(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&args[i])
                ));
            }
        }
        if let Some((user, pass)) = auth
            && let Err(e) = self.check(Some(&user), &pass).await
        {
            return e;
        }
        if !self.authenticated {
            return error(
                b"NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
            );
        }
        if let Some(name) = setname {
            if name.iter().any(|b| *b <= b' ' || *b > b'~') {
                return error(b"ERR Client names cannot contain spaces, newlines or special characters.");
            }
            self.name = (!name.is_empty()).then_some(name);
        }
        if let Some(resp3) = protocol {
            self.set_resp3(resp3);
        }
        let bulk = |s: &str| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()));
        Frame::Map(vec![
            (bulk("server"), bulk("redis")),
            (bulk("version"), bulk(REDIS_VERSION)),
            (bulk("proto"), Frame::Integer(if self.resp3 { 3 } else { 2 })),
            (bulk("id"), Frame::Integer(self.id as i64)),
            (bulk("mode"), bulk("standalone")),
            (bulk("role"), bulk("master")),
            (bulk("modules"), Frame::Array(Vec::new())),
        ])
    }

    /// CLIENT SETNAME/GETNAME/ID/INFO about this connection.
    fn client(&mut self, args: &[Bytes]) -> Frame {
        let sub = args.get(1).map(|s| lower(s)).unwrap_or_default();
        match (sub.as_str(), args.len()) {
            ("id", 2) => Frame::Integer(self.id as i64),
            ("getname", 2) => self.name.clone().map_or(Frame::Null, Frame::Bulk),
            ("setname", 3) => {
                if args[2].iter().any(|b| *b <= b' ' || *b > b'~') {
                    return error(b"ERR Client names cannot contain spaces, newlines or special characters.");
                }
                self.name = (!args[2].is_empty()).then(|| args[2].clone());
                ok()
            }
            ("info", 2) => {
                let name = self.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                let multi = self.tx.as_ref().map_or(-1, |t| t.count as i64);
                Frame::Verbatim {
                    format: *b"txt",
                    text: Bytes::from(format!(
                        "id={} addr={} laddr= fd=0 name={} db=0 multi={} resp={}\n",
                        self.id,
                        self.peer,
                        name,
                        multi,
                        self.protocol()
                    )),
                }
            }
            ("help", 2) => Frame::Array(
                ["CLIENT <subcommand>", "ID", "GETNAME", "SETNAME <name>", "INFO"]
                    .iter()
                    .map(|l| Frame::Simple(Bytes::from_static(l.as_bytes())))
                    .collect(),
            ),
            _ => error_owned(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                args.get(1)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_default()
            )),
        }
    }

    /// A command inside MULTI: checked, then queued by the proxy.
    async fn queue(&mut self, route: Route, args: Vec<Bytes>, bytes: &[u8]) {
        if let Some(text) = self.db.arities().await.and_then(|a| a.check(&args)) {
            if let Some(tx) = &mut self.tx {
                tx.aborted = true;
            }
            return self.reply(error_owned(text), Class::Transaction);
        }
        let keys: Result<routing::Keys, RouteError> = match route {
            Route::Keys { .. } | Route::NumKeys { .. } | Route::Streams => routing::keys(route, &args),
            Route::Split(split) => {
                let step = if split == Split::Mset { 2 } else { 1 };
                if args.len() < 2 || !(args.len() - 1).is_multiple_of(step) {
                    Err(RouteError::WrongArity)
                } else {
                    Ok(routing::key_run(&args[1..], step, None))
                }
            }
            Route::FirstShard => Ok(routing::key_run(&[], 1, None)),
            _ => {
                let text = format!(
                    "ERR command '{}' cannot be used inside MULTI through the proxy",
                    lower(&args[0])
                );
                if let Some(tx) = &mut self.tx {
                    tx.aborted = true;
                }
                return self.reply(error_owned(text), Class::Transaction);
            }
        };
        let tx = self.tx.as_mut().expect("queue is called inside MULTI");
        let slot = keys.and_then(routing::one_slot);
        let reply = match slot {
            Ok(slot) => match (slot, tx.slot) {
                (Some(s), Some(t)) if s != t => {
                    tx.aborted = true;
                    error(CROSSSLOT)
                }
                _ => {
                    tx.slot = tx.slot.or(slot);
                    tx.queued.extend_from_slice(bytes);
                    tx.count += 1;
                    Frame::Simple(Bytes::from_static(b"QUEUED"))
                }
            },
            Err(e) => {
                tx.aborted = true;
                route_error(e, &args[0])
            }
        };
        self.reply(reply, Class::Transaction);
    }

    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH.
    async fn transaction(&mut self, args: Vec<Bytes>, bytes: Bytes) {
        let name = lower(&args[0]);
        let class = Class::Transaction;
        match name.as_str() {
            "multi" if args.len() == 1 => {
                if self.tx.is_some() {
                    return self.reply(error(b"ERR MULTI calls can not be nested"), class);
                }
                let mut queued = BytesMut::new();
                encode_request(std::iter::once(&b"MULTI"[..]), &mut queued);
                self.tx = Some(Tx {
                    slot: self.watch.as_ref().map(|w| w.slot),
                    queued,
                    count: 0,
                    aborted: false,
                });
                self.reply(ok(), class)
            }
            "exec" if args.len() == 1 => {
                let Some(mut tx) = self.tx.take() else {
                    return self.reply(error(b"ERR EXEC without MULTI"), class);
                };
                let watch = self.watch.take();
                if tx.aborted {
                    if let Some(w) = watch {
                        drop(
                            w.link
                                .send(request_bytes(&[Bytes::from_static(b"UNWATCH")]), 0, false)
                                .await,
                        );
                    }
                    let text = b"EXECABORT Transaction discarded because of previous errors.";
                    return self.reply(error(text), class);
                }
                encode_request(std::iter::once(&b"EXEC"[..]), &mut tx.queued);
                let skip = tx.count + 1;
                let acked = self.acked(b"exec");
                let rx = match watch {
                    Some(w) => {
                        self.switch_to(true).await;
                        w.link.send(tx.queued.freeze(), skip, acked).await
                    }
                    None => {
                        self.switch_to(false).await;
                        let routes = self.db.routes();
                        let shard = tx.slot.map_or(0, |s| routes.shard_of(s));
                        // One job: no other client's request lands inside it.
                        routes
                            .link(shard, self.protocol(), self.id)
                            .send(tx.queued.freeze(), skip, acked)
                            .await
                    }
                };
                self.emit(Pending::Wait(rx), class)
            }
            "discard" if args.len() == 1 => {
                if self.tx.take().is_none() {
                    return self.reply(error(b"ERR DISCARD without MULTI"), class);
                }
                if let Some(w) = self.watch.take() {
                    drop(
                        w.link
                            .send(request_bytes(&[Bytes::from_static(b"UNWATCH")]), 0, false)
                            .await,
                    );
                }
                self.reply(ok(), class)
            }
            "unwatch" if args.len() == 1 => {
                if let Some(w) = self.watch.take() {
                    drop(w.link.send(bytes, 0, false).await);
                }
                self.reply(ok(), class)
            }
            "watch" if args.len() >= 2 => {
                if self.tx.is_some() {
                    return self.reply(error(b"ERR WATCH inside MULTI is not allowed"), class);
                }
                let slot = match routing::one_slot(&args[1..]) {
                    Ok(Some(slot)) if self.watch.as_ref().is_none_or(|w| w.slot == slot) => slot,
                    _ => return self.reply(error(CROSSSLOT), class),
                };
                let routes = self.db.routes();
                let shard = routes.shard_of(slot);
                if self.watch.as_ref().is_some_and(|w| w.shard != shard) {
                    self.watch = None;
                }
                let protocol = self.protocol();
                let watch = self.watch.get_or_insert_with(|| Watch {
                    slot,
                    shard,
                    link: routes.dedicated(shard, protocol),
                });
                let link = watch.link.clone();
                self.switch_to(true).await;
                let rx = link.send(bytes, 0, false).await;
                self.emit(Pending::Wait(rx), class)
            }
            _ => self.reply(arity_error(&args[0]), class),
        }
    }

    /// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE on the first shard;
    /// SSUBSCRIBE, SUNSUBSCRIBE on the shard of their channels' slot.
    async fn subscribe(&mut self, args: Vec<Bytes>, bytes: Bytes) {
        let name = lower(&args[0]);
        let sharded = name == "ssubscribe" || name == "sunsubscribe";
        let unsubscribe = name.contains("unsubscribe");
        if args.len() < 2 && !unsubscribe {
            return self.reply(arity_error(&args[0]), Class::Pubsub);
        }
        if self.tx.is_some() {
            return self.reply(error(b"ERR Command not allowed inside a transaction"), Class::Pubsub);
        }
        let routes = self.db.routes();
        let shard = if sharded {
            match routing::one_slot(&args[1..]) {
                Ok(Some(slot)) => Some(routes.shard_of(slot)),
                Ok(None) => None,
                Err(_) => return self.reply(error(CROSSSLOT), Class::Pubsub),
            }
        } else {
            Some(0)
        };
        self.subscriptions.apply(&name, &args);
        match shard {
            Some(shard) => self.send_subscriber(Some(shard), bytes).await,
            None => {
                // SUNSUBSCRIBE with no channel: every shard it subscribed on.
                let shards: Vec<usize> = self
                    .subscribers
                    .keys()
                    .copied()
                    .filter(|s| *s != 0 || sharded)
                    .collect();
                if shards.is_empty() {
                    return self.send_subscriber(Some(0), bytes).await;
                }
                for shard in shards {
                    self.send_subscriber(Some(shard), bytes.clone()).await;
                }
            }
        }
    }

    /// Sends a request on the subscriber connection of `shard` (any existing
    /// one for `None`); its replies arrive as pushes.
    async fn send_subscriber(&mut self, shard: Option<usize>, bytes: Bytes) {
        if !self.last_dedicated {
            self.barrier().await;
            self.last_dedicated = true;
        }
        let shard = shard.or_else(|| self.subscribers.keys().next().copied()).unwrap_or(0);
        let routes = self.db.routes();
        let (protocol, push) = (self.protocol(), self.push.clone());
        let subscriber = self.subscribers.entry(shard).or_insert_with(|| {
            let (commands, rx) = mpsc::unbounded_channel();
            tokio::spawn(subscriber_loop(shard, routes.target(shard), protocol, rx, push));
            Subscriber { commands }
        });
        if subscriber.commands.send(bytes).is_err() {
            self.subscribers.remove(&shard);
            return self.reply(error(CONNECTION_LOST), Class::Pubsub);
        }
        // Later replies wait until this request's replies are written.
        self.replies.owe(Out::Pushes(shard));
    }
}

/// A subscriber connection: forwards commands to the shard and every frame
/// back to the client. Each command is followed by a `PING <marker>` whose
/// reply, not passed on, becomes [`Push::Done`]: the command's replies
/// were all pushed. Every command gets its `Done`, even when the connection
/// fails.
async fn subscriber_loop(
    shard: usize,
    target: crate::backend::Target,
    protocol: u8,
    mut commands: mpsc::UnboundedReceiver<Bytes>,
    push: mpsc::Sender<Push>,
) {
    let mut unanswered = 0usize;
    match crate::backend::connect(&target, protocol).await {
        Ok((stream, buf)) => {
            if subscribe_on(shard, stream, buf, &mut commands, &push, &mut unanswered).await {
                return;
            }
            let _ = push.send(Push::Frame(error(CONNECTION_LOST))).await;
        }
        Err(e) => {
            tracing::warn!(shard = %target.addr, "cannot open subscriber connection: {e}");
            let _ = push.send(Push::Frame(error(crate::backend::UNAVAILABLE))).await;
        }
    }
    commands.close();
    while commands.try_recv().is_ok() {
        unanswered += 1;
    }
    for _ in 0..unanswered {
        let _ = push.send(Push::Done(shard)).await;
    }
}

/// Serves a subscriber connection; true when the client went away, false
/// when the connection failed (`unanswered` commands then lack their `Done`).
async fn subscribe_on(
    shard: usize,
    mut stream: tokio::net::TcpStream,
    mut buf: BytesMut,
    commands: &mut mpsc::UnboundedReceiver<Bytes>,
    push: &mpsc::Sender<Push>,
    unanswered: &mut usize,
) -> bool {
    let marker = Bytes::from(format!("tessera-proxy-{:016x}", rand::random::<u64>()));
    let mut ping = BytesMut::new();
    encode_request([&b"PING"[..], &marker].into_iter(), &mut ping);
    let is_marker = |frame: &Frame| match frame {
        Frame::Bulk(b) => *b == marker,
        Frame::Array(items) | Frame::Push(items) => {
            matches!(items.as_slice(), [Frame::Bulk(pong), Frame::Bulk(b)] if &pong[..] == b"pong" && *b == marker)
        }
        _ => false,
    };
    let mut decoder = FrameDecoder::new();
    loop {
        tokio::select! {
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return true };
                *unanswered += 1;
                if stream.write_all(&cmd).await.is_err() || stream.write_all(&ping).await.is_err() {
                    return false;
                }
            }
            read = stream.read_buf(&mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return false;
                }
                while let Ok(Some(frame)) = decoder.next_frame(&mut buf) {
                    let item = if *unanswered > 0 && is_marker(&frame) {
                        *unanswered -= 1;
                        Push::Done(shard)
                    } else {
                        Push::Frame(frame)
                    };
                    if push.send(item).await.is_err() {
                        return true;
                    }
                }
            }
        }
    }
}
