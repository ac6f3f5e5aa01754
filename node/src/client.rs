//! Per-client state: identity, selected database, protocol, authentication,
//! and the output buffer replies are appended to.
//!
//! The socket is owned by the connection task; this state lives in the
//! server's client registry so that other clients can see it (CLIENT LIST),
//! write to it (pub/sub) or close it (CLIENT KILL).

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent.
    On,
    /// Replies are discarded.
    Off,
    /// The next command's reply is discarded.
    Skip,
}

/// Wakes a client's connection task from elsewhere on the server's thread:
/// [`tokio::sync::Notify`] for one waiting task, without the lock and waiter
/// list that the connection's wait would set up and tear down at every
/// request.
#[derive(Debug, Default)]
pub struct Wakeup {
    notified: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Wakeup {
    /// Wakes the waiting task; with none waiting, the next wait completes at once.
    pub fn notify_one(&self) {
        self.notified.set(true);
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Completes once notified since the last wait completed.
    pub async fn notified(&self) {
        std::future::poll_fn(|cx| {
            if self.notified.replace(false) {
                return Poll::Ready(());
            }
            let mut waker = self.waker.borrow_mut();
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

/// A client's type, for CLIENT LIST/KILL `TYPE` and the output buffer
/// limit classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// An ordinary client (MONITOR clients included, as in Redis).
    Normal,
    /// Our master, when we are a replica.
    Master,
    /// A replica of ours.
    Replica,
    /// A client in pub/sub mode.
    Pubsub,
}

impl ClientType {
    /// Parses a `TYPE` argument (`slave` is an alias of `replica`).
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        [
            ("normal", ClientType::Normal),
            ("master", ClientType::Master),
            ("replica", ClientType::Replica),
            ("slave", ClientType::Replica),
            ("pubsub", ClientType::Pubsub),
        ]
        .into_iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, t)| t)
    }
}

/// One connected client.
#[derive(Debug)]
pub struct Client {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address the client connected to.
    pub laddr: SocketAddr,
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// Selected database.
    pub db: usize,
    /// Protocol version chosen with HELLO (2 or 3).
    pub protocol: u8,
    /// Whether the client may run commands that need authentication.
    pub authenticated: bool,
    /// Replies not yet written to the socket.
    pub out: BytesMut,
    /// When the connection was accepted.
    pub created: Instant,
    /// Last time a command was received.
    pub last_interaction: Instant,
    /// Name of the last command run (CLIENT LIST `cmd=`).
    pub last_command: &'static str,
    /// CLIENT REPLY state.
    pub reply_mode: ReplyMode,
    /// Close once the pending output is written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// Close now, dropping pending output (CLIENT KILL, limits).
    pub killed: bool,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// In MONITOR mode: receives every command the server runs.
    pub monitor: bool,
    /// Holding a command back because of CLIENT PAUSE (counts as blocked).
    pub paused: bool,
    /// Blocked on keys by a blocking command ([`crate::blocking`]).
    pub blocked: bool,
    /// Since when the pending output has been over the soft
    /// `client-output-buffer-limit`.
    pub obuf_soft_since: Option<Instant>,
    /// Bytes of unparsed input (CLIENT LIST `qbuf=`).
    pub query_buffer: usize,
    /// Wakes the connection task when another client wrote to `out` or set
    /// `killed`.
    pub wake: Rc<Wakeup>,
    /// Pub/sub subscriptions (kept by [`crate::pubsub`]).
    pub pubsub: crate::pubsub::Subscriptions,
    /// MULTI state and queued commands (kept by [`crate::multi`]).
    pub multi: crate::multi::Transaction,
    /// Its part in replication (a replica of ours, our master).
    pub repl: crate::replication::ClientRepl,
}

impl Client {
    /// A new, not yet authenticated client.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, authenticated: bool) -> Self {
        let now = Instant::now();
        Client {
            id,
            addr,
            laddr,
            name: None,
            db: 0,
            protocol: 2,
            authenticated,
            out: BytesMut::with_capacity(16 * 1024),
            created: now,
            last_interaction: now,
            last_command: "NULL",
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            killed: false,
            no_evict: false,
            monitor: false,
            paused: false,
            blocked: false,
            obuf_soft_since: None,
            query_buffer: 0,
            wake: Rc::default(),
            pubsub: crate::pubsub::Subscriptions::default(),
            multi: crate::multi::Transaction::default(),
            repl: crate::replication::ClientRepl::default(),
        }
    }

    /// Whether replies use RESP3.
    pub fn resp3(&self) -> bool {
        self.protocol == 3
    }

    /// Marks the client for closing and wakes its connection task.
    pub fn kill(&mut self) {
        self.killed = true;
        self.wake.notify_one();
    }

    /// The client's type (CLIENT LIST/KILL `TYPE`).
    pub fn kind(&self) -> ClientType {
        if self.repl.is_master {
            return ClientType::Master;
        }
        if self.repl.is_replica {
            return ClientType::Replica;
        }
        if self.pubsub.is_active() {
            return ClientType::Pubsub;
        }
        ClientType::Normal
    }

    /// CLIENT LIST `flags=`, in Redis's order (`N` when none).
    fn flags(&self, dirty_cas: bool) -> String {
        let mut f = String::new();
        for (on, c) in [
            (self.repl.is_replica, 'S'),
            (self.repl.is_master, 'M'),
            (self.monitor, 'O'),
            (self.pubsub.is_active(), 'P'),
            (self.multi.is_active(), 'x'),
            (self.paused || self.blocked, 'b'),
            (dirty_cas, 'd'),
            (self.close_after_reply, 'c'),
            (self.killed, 'A'),
            (self.no_evict, 'e'),
        ] {
            if on {
                f.push(c);
            }
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// CLIENT LIST / CLIENT INFO line (without the trailing newline);
    /// `dirty_cas` when a key it WATCHes was modified (flag `d`).
    pub fn info_line(&self, now: Instant, dirty_cas: bool) -> String {
        let name = self.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            name,
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_interaction).as_secs(),
            self.flags(dirty_cas),
            self.db,
            self.pubsub.count(crate::pubsub::Kind::Channel),
            self.pubsub.count(crate::pubsub::Kind::Pattern),
            self.pubsub.count(crate::pubsub::Kind::Shard),
            self.multi.client_list_count(),
            self.query_buffer,
            self.out.len(),
            self.out.capacity() + self.query_buffer + 16384,
            self.last_command,
            self.protocol,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake};

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_wakeup_wakes_the_waiting_task_or_completes_the_next_wait() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let wakeup = Wakeup::default();
        wakeup.notify_one();
        assert!(pin!(wakeup.notified()).poll(&mut cx).is_ready());
        let mut wait = pin!(wakeup.notified());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        wakeup.notify_one();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        // One notification completes one wait.
        assert!(pin!(wakeup.notified()).poll(&mut cx).is_pending());
    }
}
