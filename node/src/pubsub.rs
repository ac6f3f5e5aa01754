//! Pub/sub: who is subscribed to what, message delivery, and keyspace
//! notifications.
//!
//! As in Redis, each client keeps its own subscriptions ([`Subscriptions`],
//! in its [`Client`]) and the server keeps the reverse index ([`Registry`]:
//! channel, pattern or shard channel → subscribed clients) that PUBLISH
//! walks. A message is appended to each subscriber's output buffer in that
//! client's protocol (RESP2 array, RESP3 push) and its connection task is
//! woken. The client whose command is running is borrowed by that command:
//! its own messages go into the command's reply instead ([`Running`]), at
//! the point the command publishes them, as Redis interleaves them.
//!
//! A subscriber whose pending output reaches the `pubsub` class's hard
//! `client-output-buffer-limit` while messages are appended is closed at
//! once (nothing more is appended to it); the soft limit and the rest of the
//! accounting are the connection task's (see [`crate::connection`]).
//!
//! Keyspace notifications ([`notify_keyspace_event`]) are published on
//! `__keyspace@<db>__:<key>` (message: the event name) and
//! `__keyevent@<db>__:<event>` (message: the key) as
//! `notify-keyspace-events` selects, exactly as Redis's `notifyKeyspaceEvent`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::rc::Weak;

use bytes::Bytes;
use resp::encode;

use crate::client::Client;
use crate::config::{ClientClass, KeyspaceEvents};
use crate::glob::glob_match;
use crate::keyspace::Key;
use crate::reply::Reply;
use crate::server::Server;

type Hasher = foldhash::fast::RandomState;

/// What a subscription is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A channel (SUBSCRIBE, PUBLISH).
    Channel = 0,
    /// A glob pattern over channel names (PSUBSCRIBE).
    Pattern = 1,
    /// A shard channel (SSUBSCRIBE, SPUBLISH).
    Shard = 2,
}

impl Kind {
    /// The confirmation a subscription replies with.
    pub fn subscribe_reply(self) -> &'static [u8] {
        [&b"subscribe"[..], b"psubscribe", b"ssubscribe"][self as usize]
    }

    /// The confirmation an unsubscription replies with.
    pub fn unsubscribe_reply(self) -> &'static [u8] {
        [&b"unsubscribe"[..], b"punsubscribe", b"sunsubscribe"][self as usize]
    }
}

/// A set of names in insertion order (Redis keeps patterns in subscription
/// order; channel order is unspecified there, insertion order here).
#[derive(Debug, Default)]
struct NameSet {
    /// Name → insertion sequence number.
    names: HashMap<Bytes, u64, Hasher>,
    next: u64,
}

impl NameSet {
    fn insert(&mut self, name: &Bytes) -> bool {
        match self.names.entry(name.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(self.next);
                self.next += 1;
                true
            }
        }
    }

    fn remove(&mut self, name: &[u8]) -> bool {
        self.names.remove(name).is_some()
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    fn in_order(&self) -> Vec<Bytes> {
        let mut all: Vec<(&Bytes, u64)> = self.names.iter().map(|(n, s)| (n, *s)).collect();
        all.sort_unstable_by_key(|(_, s)| *s);
        all.into_iter().map(|(n, _)| n.clone()).collect()
    }
}

/// One client's subscriptions (CLIENT LIST `sub=`, `psub=`, `ssub=`).
#[derive(Debug, Default)]
pub struct Subscriptions {
    sets: [NameSet; 3],
}

impl Subscriptions {
    /// How many subscriptions of `kind` the client has.
    pub fn count(&self, kind: Kind) -> usize {
        self.sets[kind as usize].len()
    }

    /// The count (un)subscribe confirmations of `kind` report, as Redis:
    /// channels and patterns together, shard channels on their own.
    pub fn reported_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.count(Kind::Channel) + self.count(Kind::Pattern),
            Kind::Shard => self.count(Kind::Shard),
        }
    }

    /// Whether the client is in pub/sub mode (subscribed to anything): the
    /// `P` flag, the `pubsub` client type and, in RESP2, the restricted
    /// command set.
    pub fn is_active(&self) -> bool {
        self.sets.iter().any(|s| s.len() > 0)
    }

    /// The client's subscriptions of `kind`, oldest first.
    pub fn names(&self, kind: Kind) -> Vec<Bytes> {
        self.sets[kind as usize].in_order()
    }
}

/// A subscribed client, as the registry reaches it.
#[derive(Debug)]
struct Subscriber {
    id: u64,
    client: Weak<RefCell<Client>>,
}

/// The server's reverse index: name → subscribed clients, per [`Kind`].
#[derive(Debug, Default)]
pub struct Registry {
    subscribers: [HashMap<Bytes, Vec<Subscriber>, Hasher>; 3],
}

impl Registry {
    /// Subscribes client `id` (reachable through `client`, its registry
    /// entry) to `name`, recording it in `subs` too; false when it already
    /// was subscribed.
    pub fn subscribe(
        &mut self,
        kind: Kind,
        subs: &mut Subscriptions,
        id: u64,
        client: Weak<RefCell<Client>>,
        name: &Bytes,
    ) -> bool {
        if !subs.sets[kind as usize].insert(name) {
            return false;
        }
        self.subscribers[kind as usize]
            .entry(name.clone())
            .or_default()
            .push(Subscriber { id, client });
        true
    }

    /// Unsubscribes client `id` from `name`; false when it was not
    /// subscribed. A name nobody subscribes to any more is forgotten.
    pub fn unsubscribe(&mut self, kind: Kind, subs: &mut Subscriptions, id: u64, name: &[u8]) -> bool {
        if !subs.sets[kind as usize].remove(name) {
            return false;
        }
        let map = &mut self.subscribers[kind as usize];
        if let Some(list) = map.get_mut(name) {
            if let Some(i) = list.iter().position(|s| s.id == id) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                map.remove(name);
            }
        }
        true
    }

    /// Drops every subscription of client `id` without replying (RESET,
    /// disconnection).
    pub fn unsubscribe_all(&mut self, subs: &mut Subscriptions, id: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in subs.names(kind) {
                self.unsubscribe(kind, subs, id, &name);
            }
        }
    }

    /// Number of distinct names of `kind` with subscribers (PUBSUB NUMPAT,
    /// INFO `pubsub_channels`...).
    pub fn len(&self, kind: Kind) -> usize {
        self.subscribers[kind as usize].len()
    }

    /// Whether no client is subscribed to any channel or pattern (shard
    /// channels do not receive keyspace notifications).
    pub fn is_empty(&self) -> bool {
        self.len(Kind::Channel) == 0 && self.len(Kind::Pattern) == 0
    }

    /// Number of clients subscribed to `name` (PUBSUB NUMSUB).
    pub fn subscriber_count(&self, kind: Kind, name: &[u8]) -> usize {
        self.subscribers[kind as usize].get(name).map_or(0, Vec::len)
    }

    /// The names of `kind` with subscribers (PUBSUB CHANNELS), in no
    /// particular order.
    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &Bytes> {
        self.subscribers[kind as usize].keys()
    }

    /// Delivers `message` on `channel` (a shard channel when `shard`) to its
    /// subscribers, then to the clients whose patterns match it (not for
    /// shard channels); returns the number of deliveries, as PUBLISH
    /// replies. `hard_limit` is the pubsub output buffer hard limit (0: none).
    fn publish(
        &self,
        hard_limit: u64,
        mut running: Option<&mut Running<'_, '_>>,
        shard: bool,
        channel: &[u8],
        message: &[u8],
    ) -> usize {
        let (kind, name) = if shard {
            (Kind::Shard, &b"smessage"[..])
        } else {
            (Kind::Channel, &b"message"[..])
        };
        let mut receivers = 0;
        if let Some(list) = self.subscribers[kind as usize].get(channel) {
            for s in list {
                deliver(s, running.as_deref_mut(), hard_limit, &[name, channel, message]);
            }
            receivers += list.len();
        }
        if !shard {
            for (pattern, list) in &self.subscribers[Kind::Pattern as usize] {
                if glob_match(pattern, channel, false) {
                    for s in list {
                        deliver(
                            s,
                            running.as_deref_mut(),
                            hard_limit,
                            &[b"pmessage", pattern, channel, message],
                        );
                    }
                    receivers += list.len();
                }
            }
        }
        receivers
    }
}

/// The client whose command is running: it is borrowed by the command, so
/// messages for it are written to the command's reply.
#[derive(Debug)]
pub struct Running<'r, 'a> {
    /// The client's id.
    pub id: u64,
    /// The command's reply.
    pub out: &'r mut Reply<'a>,
}

/// Appends one message (`parts` as bulk strings in an array or push) to a
/// subscriber's output and wakes its connection.
fn deliver(s: &Subscriber, running: Option<&mut Running<'_, '_>>, hard_limit: u64, parts: &[&[u8]]) {
    if let Some(r) = running
        && r.id == s.id
    {
        r.out.push(parts.len());
        for p in parts {
            r.out.bulk(p);
        }
        return;
    }
    let Some(client) = s.client.upgrade() else { return };
    let Ok(mut c) = client.try_borrow_mut() else {
        // Only the running client is ever borrowed while commands run.
        tracing::debug!(client = s.id, "pub/sub message dropped: subscriber busy");
        return;
    };
    if c.killed {
        return;
    }
    let resp3 = c.resp3();
    encode::push_len(&mut c.out, parts.len(), resp3);
    for p in parts {
        encode::bulk(&mut c.out, p);
    }
    if hard_limit > 0 && c.out.len() as u64 >= hard_limit {
        tracing::warn!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            c.id,
            c.addr
        );
        c.kill();
    } else {
        c.wake.notify_one();
    }
}

/// PUBLISH / SPUBLISH: delivers `message` on `channel` and returns the
/// number of receivers.
pub fn publish(
    server: &Server,
    running: Option<&mut Running<'_, '_>>,
    shard: bool,
    channel: &[u8],
    message: &[u8],
) -> usize {
    let hard_limit = server.config.client_output_buffer_limit[ClientClass::Pubsub as usize].hard;
    server.pubsub.publish(hard_limit, running, shard, channel, message)
}

/// Whether an event of `class` (one of [`crate::cmd::event`]'s bits) is
/// published and someone may receive it.
fn wanted(server: &Server, class: u32) -> bool {
    let flags = server.config.notify_keyspace_events;
    flags.has(class) && flags.has(KeyspaceEvents::KEYSPACE | KeyspaceEvents::KEYEVENT) && !server.pubsub.is_empty()
}

/// Publishes keyspace notification `event` for `key` in database `db` when
/// `notify-keyspace-events` selects its `class`. Keys that expired earlier
/// in the command are notified first, as Redis notifies them when it
/// deletes them on access.
pub fn notify_keyspace_event(
    server: &mut Server,
    mut running: Option<&mut Running<'_, '_>>,
    class: u32,
    event: &str,
    key: &[u8],
    db: usize,
) {
    if !wanted(server, class) {
        return;
    }
    server.collect_expired_for(running.as_deref_mut());
    publish_keyspace_event(server, running, event.as_bytes(), key, db);
}

/// Publishes the `expired` events of `keys`, which expired in database `db`.
pub fn notify_expired(server: &Server, mut running: Option<&mut Running<'_, '_>>, keys: &[Key], db: usize) {
    if !wanted(server, KeyspaceEvents::EXPIRED) {
        return;
    }
    for key in keys {
        publish_keyspace_event(server, running.as_deref_mut(), b"expired", key, db);
    }
}

/// Redis's `notifyKeyspaceEvent` once the class is known to be wanted.
fn publish_keyspace_event(
    server: &Server,
    mut running: Option<&mut Running<'_, '_>>,
    event: &[u8],
    key: &[u8],
    db: usize,
) {
    let flags = server.config.notify_keyspace_events;
    let mut digits = itoa::Buffer::new();
    let db = digits.format(db).as_bytes();
    let mut channel = Vec::with_capacity(16 + db.len() + key.len().max(event.len()));
    if flags.has(KeyspaceEvents::KEYSPACE) {
        channel.extend_from_slice(b"__keyspace@");
        channel.extend_from_slice(db);
        channel.extend_from_slice(b"__:");
        channel.extend_from_slice(key);
        publish(server, running.as_deref_mut(), false, &channel, event);
    }
    if flags.has(KeyspaceEvents::KEYEVENT) {
        channel.clear();
        channel.extend_from_slice(b"__keyevent@");
        channel.extend_from_slice(db);
        channel.extend_from_slice(b"__:");
        channel.extend_from_slice(event);
        publish(server, running, false, &channel, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn client(id: u64, protocol: u8) -> Rc<RefCell<Client>> {
        let addr = "127.0.0.1:1".parse().expect("addr");
        let c = Rc::new(RefCell::new(Client::new(id, addr, addr, true)));
        c.borrow_mut().protocol = protocol;
        c
    }

    fn subscribe(reg: &mut Registry, kind: Kind, c: &Rc<RefCell<Client>>, name: &str) -> bool {
        let handle = Rc::downgrade(c);
        let mut c = c.borrow_mut();
        let id = c.id;
        reg.subscribe(
            kind,
            &mut c.pubsub,
            id,
            handle,
            &Bytes::copy_from_slice(name.as_bytes()),
        )
    }

    #[test]
    fn subscriptions_are_counted_and_forgotten() {
        let mut reg = Registry::default();
        let a = client(1, 2);
        let b = client(2, 2);
        assert!(subscribe(&mut reg, Kind::Channel, &a, "x"));
        assert!(!subscribe(&mut reg, Kind::Channel, &a, "x"));
        assert!(subscribe(&mut reg, Kind::Channel, &b, "x"));
        assert!(subscribe(&mut reg, Kind::Pattern, &a, "x*"));
        assert!(subscribe(&mut reg, Kind::Shard, &a, "s"));
        assert_eq!(reg.subscriber_count(Kind::Channel, b"x"), 2);
        assert_eq!(reg.len(Kind::Pattern), 1);
        let mut a = a.borrow_mut();
        assert_eq!(a.pubsub.reported_count(Kind::Channel), 2);
        assert_eq!(a.pubsub.reported_count(Kind::Shard), 1);
        assert!(a.pubsub.is_active());
        reg.unsubscribe_all(&mut a.pubsub, 1);
        assert!(!a.pubsub.is_active());
        assert_eq!(reg.subscriber_count(Kind::Channel, b"x"), 1);
        assert_eq!(reg.len(Kind::Pattern), 0);
        assert_eq!(reg.len(Kind::Shard), 0);
        let mut b = b.borrow_mut();
        assert!(reg.unsubscribe(Kind::Channel, &mut b.pubsub, 2, b"x"));
        assert!(!reg.unsubscribe(Kind::Channel, &mut b.pubsub, 2, b"x"));
        assert!(reg.is_empty());
    }

    #[test]
    fn names_keep_subscription_order() {
        let mut set = NameSet::default();
        for n in ["z", "a", "m", "b"] {
            assert!(set.insert(&Bytes::from(n)));
        }
        assert!(set.remove(b"m"));
        assert!(set.insert(&Bytes::from("m")));
        assert_eq!(set.in_order(), ["z", "a", "b", "m"].map(Bytes::from).to_vec());
    }

    #[test]
    fn messages_reach_subscribers_in_their_protocol() {
        let mut reg = Registry::default();
        let a = client(1, 2);
        let b = client(2, 3);
        subscribe(&mut reg, Kind::Channel, &a, "ch");
        subscribe(&mut reg, Kind::Channel, &b, "ch");
        subscribe(&mut reg, Kind::Pattern, &a, "c*");
        assert_eq!(reg.publish(0, None, false, b"ch", b"hi"), 3);
        assert_eq!(
            &a.borrow().out[..],
            &b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n"[..]
        );
        assert_eq!(
            &b.borrow().out[..],
            &b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"[..]
        );
        assert_eq!(
            reg.publish(0, None, true, b"ch", b"hi"),
            0,
            "shard channels are separate"
        );
        // The running client (borrowed by its command) gets its message in its reply.
        let mut buf = bytes::BytesMut::new();
        let mut out = Reply::new(&mut buf, false);
        let _busy = a.borrow_mut();
        let mut running = Running { id: 1, out: &mut out };
        assert_eq!(reg.publish(0, Some(&mut running), false, b"cx", b"m"), 1);
        assert_eq!(
            &buf[..],
            &b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$1\r\nm\r\n"[..]
        );
    }

    #[test]
    fn a_subscriber_over_the_hard_limit_is_killed() {
        let mut reg = Registry::default();
        let a = client(1, 2);
        subscribe(&mut reg, Kind::Channel, &a, "ch");
        let big = vec![b'x'; 100];
        assert_eq!(reg.publish(150, None, false, b"ch", &big), 1);
        assert!(!a.borrow().killed);
        assert_eq!(reg.publish(150, None, false, b"ch", &big), 1);
        assert!(a.borrow().killed);
        let len = a.borrow().out.len();
        assert_eq!(reg.publish(150, None, false, b"ch", &big), 1, "still counted, as Redis");
        assert_eq!(a.borrow().out.len(), len, "nothing more for a killed client");
    }
}
