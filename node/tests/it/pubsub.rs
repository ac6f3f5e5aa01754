//! Pub/sub and keyspace notifications, compared frame by frame with
//! `redis-server`: the same scenario runs on both servers over the same
//! numbered connections ([`Twin`]) and every frame each connection receives
//! (replies, confirmations, messages, pushes) must be identical. Also: a
//! subscriber that never reads is disconnected by the output buffer limit,
//! and the `redis` crate's async pub/sub API works against tessera-node.
//!
//! Redis walks a client's channels (UNSUBSCRIBE with no argument), the
//! server's channels (PUBSUB CHANNELS) and its patterns (a message matching
//! several patterns of one client) in hash table order, which is random per
//! process; the scenarios compare those as sets.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use resp::Frame;

use crate::support::{Conn, Kind, Server, show, split_args};

/// A tessera-node and a redis-server, and numbered connections to both.
/// With `TESSERA_IT_SELFCHECK=1` both are redis-servers (to check that a
/// scenario is deterministic).
struct Twin {
    servers: [Server; 2],
    conns: Vec<Option<[Conn; 2]>>,
}

impl Twin {
    fn start(args: &[&str]) -> Option<Twin> {
        let redis = Server::redis(args)?;
        let selfcheck = std::env::var_os("TESSERA_IT_SELFCHECK").is_some_and(|v| v == "1");
        let tessera = Server::start(if selfcheck { Kind::Redis } else { Kind::Tessera }, args);
        Some(Twin {
            servers: [tessera, redis],
            conns: Vec::new(),
        })
    }

    /// Connection `i` to both servers (opened on first use).
    fn conn(&mut self, i: usize) -> &mut [Conn; 2] {
        if self.conns.len() <= i {
            self.conns.resize_with(i + 1, || None);
        }
        let servers = &self.servers;
        self.conns[i].get_or_insert_with(|| [servers[0].conn(), servers[1].conn()])
    }

    /// Sends a command (split like redis-cli) on connection `i` of both.
    fn send(&mut self, i: usize, line: &str) {
        let args = split_args(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        for c in self.conn(i) {
            c.send(&args);
        }
    }

    /// Reads `n` frames from connection `i` of both servers, panicking
    /// unless they are identical; returns tessera's.
    fn recv(&mut self, i: usize, n: usize, what: &str) -> Vec<Frame> {
        let mut got = Vec::new();
        for k in 0..n {
            let [t, r] = self.conn(i).each_mut().map(Conn::recv);
            assert_eq!(
                t.to_bytes(),
                r.to_bytes(),
                "[conn {i}] {what}: frame {} of {n} differs\n  tessera: {}\n  redis:   {}",
                k + 1,
                show(&t),
                show(&r)
            );
            got.push(t);
        }
        got
    }

    /// Sends `line` on connection `i` and compares the `n` frames it gets.
    fn cmd(&mut self, i: usize, line: &str, n: usize) -> Vec<Frame> {
        self.send(i, line);
        self.recv(i, n, line)
    }

    /// Sends `line` on connection `i` and returns both replies, uncompared
    /// (HELLO, whose reply holds the client id).
    fn cmd_unchecked(&mut self, i: usize, line: &str) -> [Frame; 2] {
        self.send(i, line);
        self.conn(i).each_mut().map(Conn::recv)
    }

    /// Reads `n` (un)subscribe confirmations `[kind, name, count]` from
    /// connection `i`: the kinds and the count sequence must be identical,
    /// the names the same set (Redis walks a client's channels in hash
    /// order).
    fn recv_confirmations_unordered(&mut self, i: usize, n: usize, what: &str) {
        // Per server: the kind and count of each confirmation in order, and
        // the names as a sorted list.
        let mut shapes: [Vec<Vec<u8>>; 2] = Default::default();
        let mut names: [Vec<Vec<u8>>; 2] = Default::default();
        for _ in 0..n {
            let frames = self.conn(i).each_mut().map(Conn::recv);
            for (side, f) in frames.iter().enumerate() {
                let items = match f {
                    Frame::Array(items) | Frame::Push(items) if items.len() == 3 => items,
                    other => panic!("[conn {i}] {what}: not a confirmation: {}", show(other)),
                };
                shapes[side].push([items[0].to_bytes(), items[2].to_bytes()].concat());
                names[side].push(items[1].to_bytes().to_vec());
            }
        }
        for n in &mut names {
            n.sort();
        }
        assert_eq!(
            shapes[0], shapes[1],
            "[conn {i}] {what}: kinds or counts differ (tessera, redis)"
        );
        assert_eq!(names[0], names[1], "[conn {i}] {what}: names differ (tessera, redis)");
    }

    /// Sends `line` on connection `i` and compares its one reply, an
    /// aggregate, as a multiset of elements.
    fn cmd_unordered(&mut self, i: usize, line: &str) {
        self.send(i, line);
        let sorted = |f: Frame| match f {
            Frame::Array(mut items) => {
                items.sort_by_key(Frame::to_bytes);
                Frame::Array(items)
            }
            other => other,
        };
        let [t, r] = self.conn(i).each_mut().map(|c| sorted(c.recv()));
        assert_eq!(
            t.to_bytes(),
            r.to_bytes(),
            "{line}: (sorted)\n  tessera: {}\n  redis:   {}",
            show(&t),
            show(&r)
        );
    }

    /// Asserts that nothing more arrives on connection `i` of either server.
    fn quiet(&mut self, i: usize) {
        for (side, c) in self.conn(i).iter_mut().enumerate() {
            c.set_read_timeout(Duration::from_millis(150));
            match c.try_recv() {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                other => panic!("[conn {i}] side {side}: unexpected {other:?}"),
            }
            c.set_read_timeout(crate::support::READ_TIMEOUT);
        }
    }

    /// Runs `line` on connection `i` of both servers (until both agree or
    /// `timeout`), for state that settles asynchronously (a disconnected
    /// client's subscriptions).
    fn eventually(&mut self, i: usize, line: &str, want: &Frame) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let args = split_args(line).expect("split");
        for c in self.conn(i) {
            loop {
                let got = c.cmd(&args);
                if got == *want {
                    break;
                }
                assert!(Instant::now() < deadline, "{line}: still {}", show(&got));
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

#[test]
fn subscribe_confirmations_match_redis() {
    let Some(mut t) = Twin::start(&[]) else { return };
    // Nothing to unsubscribe from: one confirmation with a nil name.
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "PUNSUBSCRIBE", 1);
    t.cmd(0, "SUNSUBSCRIBE", 1);
    t.cmd(0, "GET k", 1);
    // Duplicates confirm again without counting twice; channels and
    // patterns share one count, shard channels have their own.
    t.cmd(0, "SUBSCRIBE a b a", 3);
    t.cmd(0, "PSUBSCRIBE p* a", 2);
    t.cmd(0, "SSUBSCRIBE s1 s2 s1", 3);
    t.cmd(0, "UNSUBSCRIBE a never", 2);
    t.cmd(0, "SUNSUBSCRIBE s2", 1);
    // Patterns are unsubscribed in subscription order.
    t.cmd(0, "PUNSUBSCRIBE", 2);
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "SUNSUBSCRIBE", 1);
    t.cmd(0, "GET k", 1);
    t.cmd(0, "SUBSCRIBE x y z", 3);
    t.send(0, "UNSUBSCRIBE");
    t.recv_confirmations_unordered(0, 3, "UNSUBSCRIBE (all)");
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "SSUBSCRIBE s", 1);
    t.cmd(0, "PSUBSCRIBE p", 1);
    t.send(0, "UNSUBSCRIBE");
    t.recv(0, 1, "UNSUBSCRIBE with only a pattern");
    t.cmd(0, "PUNSUBSCRIBE p", 1);
    // Still subscribed to a shard channel: still in pub/sub mode.
    t.cmd(0, "GET k", 1);
    t.cmd(0, "SUNSUBSCRIBE", 1);
    t.cmd(0, "GET k", 1);
    // Binary and empty names.
    t.cmd(0, "SUBSCRIBE \"\" \"a\\x00b\\r\\n\"", 2);
    t.cmd(0, "UNSUBSCRIBE \"\" \"a\\x00b\\r\\n\"", 2);
    t.quiet(0);
}

#[test]
fn resp2_subscribed_mode_allows_few_commands() {
    let Some(mut t) = Twin::start(&[]) else { return };
    t.cmd(0, "SUBSCRIBE ch", 1);
    for line in [
        "GET k",
        "SET k v",
        "CLIENT ID",
        "PUBLISH ch x",
        "PUBSUB NUMSUB ch",
        "HELLO 3",
        "PING",
        "PING hello",
        "PING \"\"",
        "PING a b",
        "NOSUCHCOMMAND x",
        "SET k",
        "SUBSCRIBE ch",
    ] {
        t.cmd(0, line, 1);
    }
    t.cmd(0, "PSUBSCRIBE p*", 1);
    t.cmd(0, "UNSUBSCRIBE", 1);
    // A pattern left: still restricted.
    t.cmd(0, "GET k", 1);
    t.cmd(0, "PUNSUBSCRIBE", 1);
    t.cmd(0, "GET k", 1);
    t.cmd(0, "PING", 1);
    // RESET leaves pub/sub mode, QUIT works in it.
    t.cmd(0, "SSUBSCRIBE s", 1);
    t.cmd(0, "ECHO x", 1);
    t.cmd(0, "RESET", 1);
    t.cmd(0, "ECHO x", 1);
    t.cmd(1, "PUBSUB SHARDNUMSUB s", 1);
    t.cmd(0, "SUBSCRIBE q", 1);
    t.cmd(0, "QUIT", 1);
    for c in t.conn(0) {
        assert!(c.is_closed(), "QUIT closes a subscribed client");
    }
    t.eventually(
        1,
        "PUBSUB NUMSUB q",
        &Frame::Array(vec![Frame::Bulk("q".into()), int(0)]),
    );
}

#[test]
fn publish_reaches_every_subscriber_in_order() {
    let Some(mut t) = Twin::start(&[]) else { return };
    t.cmd(1, "SUBSCRIBE news sport", 2);
    t.cmd(2, "PSUBSCRIBE n*", 1);
    t.cmd(3, "SUBSCRIBE news", 1);
    t.cmd(3, "PSUBSCRIBE s?o*", 1);
    t.cmd(4, "SSUBSCRIBE news", 1);
    // Receivers: a client with a channel and a matching pattern counts twice.
    let published = [
        ("PUBLISH news 1", 3),
        ("PUBLISH sport 2", 2),
        ("PUBLISH nothing 3", 1),
        ("PUBLISH other 4", 0),
        ("SPUBLISH news 5", 1),
        ("SPUBLISH sport 6", 0),
        ("PUBLISH \"\" 7", 0),
        ("PUBLISH news \"bin\\x00\\r\\nary\"", 3),
        ("PUBLISH news \"\"", 3),
    ];
    for (line, receivers) in published {
        assert_eq!(t.cmd(0, line, 1), vec![int(receivers)], "{line}");
    }
    t.recv(1, 4, "messages of news and sport, in publish order");
    t.recv(2, 4, "pmessages of n*");
    t.recv(3, 4, "news messages and the s?o* pmessage");
    t.recv(4, 1, "smessage");
    for i in 1..=4 {
        t.quiet(i);
    }
    // Unsubscribed clients get nothing more.
    t.cmd(1, "UNSUBSCRIBE news", 1);
    t.cmd(2, "PUNSUBSCRIBE", 1);
    t.cmd(0, "PUBLISH news again", 1);
    t.recv(3, 1, "news once more");
    t.quiet(1);
    t.quiet(2);
    t.cmd(0, "PUBLISH sport last", 1);
    t.recv(1, 1, "sport");
    t.recv(3, 1, "s?o*");
}

#[test]
fn many_subscribers_and_large_messages() {
    let Some(mut t) = Twin::start(&[]) else { return };
    for i in 1..=20 {
        t.cmd(i, &format!("SUBSCRIBE ch{} all", i % 3), 2);
    }
    let big = "x".repeat(100_000);
    assert_eq!(t.cmd(0, &format!("PUBLISH all {big}"), 1), vec![int(20)]);
    assert_eq!(t.cmd(0, "PUBLISH ch1 one", 1), vec![int(7)]);
    for i in 1..=20 {
        t.recv(i, if i % 3 == 1 { 2 } else { 1 }, "big message, then ch1");
        t.quiet(i);
    }
    t.cmd(0, "PUBSUB NUMSUB all ch0 ch1 ch2", 1);
}

#[test]
fn pubsub_introspection_matches_redis() {
    let Some(mut t) = Twin::start(&[]) else { return };
    t.cmd(1, "SUBSCRIBE a b c", 3);
    t.cmd(2, "SUBSCRIBE a", 1);
    t.cmd(2, "PSUBSCRIBE x* y* x*", 3);
    t.cmd(3, "SSUBSCRIBE s1 s2", 2);
    t.cmd(4, "PSUBSCRIBE y*", 1);
    t.cmd_unordered(0, "PUBSUB CHANNELS");
    t.cmd_unordered(0, "PUBSUB CHANNELS [ab]");
    t.cmd_unordered(0, "PUBSUB CHANNELS *");
    t.cmd(0, "PUBSUB CHANNELS z*", 1);
    t.cmd(0, "PUBSUB NUMSUB a b z a", 1);
    t.cmd(0, "PUBSUB NUMSUB", 1);
    t.cmd(0, "PUBSUB NUMPAT", 1);
    t.cmd_unordered(0, "PUBSUB SHARDCHANNELS");
    t.cmd(0, "PUBSUB SHARDCHANNELS s1", 1);
    t.cmd(0, "PUBSUB SHARDNUMSUB s1 s3 a", 1);
    t.cmd(0, "PUBSUB NUMSUB s1", 1);
    let pubsub_stats = |f: &Frame| -> Vec<String> {
        let Frame::Bulk(text) = f else {
            panic!("INFO: {}", show(f))
        };
        String::from_utf8_lossy(text)
            .lines()
            .filter(|l| l.starts_with("pubsub"))
            .map(str::to_owned)
            .collect()
    };
    let [ti, ri] = t.cmd_unchecked(0, "INFO stats");
    assert_eq!(pubsub_stats(&ti), pubsub_stats(&ri));
    assert_eq!(
        pubsub_stats(&ti),
        ["pubsub_channels:3", "pubsub_patterns:2", "pubsubshard_channels:2"]
    );
    // Subscriptions go away with RESET and with the connection.
    t.cmd(1, "RESET", 1);
    t.cmd(0, "PUBSUB NUMSUB a b", 1);
    t.conns[2] = None;
    t.eventually(0, "PUBSUB NUMPAT", &int(1));
    t.cmd(0, "PUBSUB NUMSUB a", 1);
    t.cmd(0, "PUBSUB CHANNELS", 1);
    t.conns[3] = None;
    t.eventually(
        0,
        "PUBSUB SHARDNUMSUB s1",
        &Frame::Array(vec![Frame::Bulk("s1".into()), int(0)]),
    );
    t.cmd(0, "PUBSUB SHARDCHANNELS", 1);
    // CLIENT LIST: flag P, sub/psub/ssub counts, TYPE pubsub.
    t.cmd(5, "CLIENT SETNAME listed", 1);
    t.cmd(5, "SUBSCRIBE a b", 2);
    t.cmd(5, "PSUBSCRIBE p", 1);
    t.cmd(5, "SSUBSCRIBE s", 1);
    let fields = |f: &Frame| -> Vec<String> {
        let Frame::Bulk(text) = f else {
            panic!("CLIENT LIST: {}", show(f))
        };
        String::from_utf8_lossy(text)
            .lines()
            .map(|l| {
                l.split(' ')
                    .filter(|kv| {
                        ["name=", "flags=", "sub=", "psub=", "ssub=", "cmd="]
                            .iter()
                            .any(|k| kv.starts_with(k))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let [tl, rl] = t.cmd_unchecked(0, "CLIENT LIST TYPE pubsub");
    assert_eq!(fields(&tl), fields(&rl));
    assert_eq!(
        fields(&tl),
        [
            "name= flags=P sub=0 psub=1 ssub=0 cmd=psubscribe",
            "name=listed flags=P sub=2 psub=1 ssub=1 cmd=ssubscribe"
        ]
    );
    t.cmd(0, "CLIENT KILL TYPE pubsub", 1);
    t.eventually(0, "PUBSUB NUMPAT", &int(0));
}

#[test]
fn resp3_pushes_interleave_with_replies() {
    let Some(mut t) = Twin::start(&[]) else { return };
    let [hello, _] = t.cmd_unchecked(0, "HELLO 3");
    assert!(matches!(hello, Frame::Map(_)), "HELLO 3: {}", show(&hello));
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "SUBSCRIBE ch", 1);
    // Any command runs while subscribed; a message to oneself comes first.
    t.cmd(0, "PUBLISH ch self", 2);
    t.cmd(0, "SET k v", 1);
    t.cmd(1, "PUBLISH ch other", 1);
    t.cmd(0, "GET k", 2);
    t.cmd(0, "PSUBSCRIBE c*", 1);
    t.cmd(0, "PUBLISH ch both", 3);
    t.cmd(0, "SSUBSCRIBE s", 1);
    t.cmd(0, "SPUBLISH s shard", 2);
    t.cmd(0, "PING", 1);
    t.cmd(0, "PUBSUB NUMSUB ch", 1);
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "PUNSUBSCRIBE", 1);
    t.cmd(0, "SUNSUBSCRIBE", 1);
    t.cmd(0, "UNSUBSCRIBE", 1);
    t.cmd(0, "RESET", 1);
    t.cmd(0, "PUBLISH ch gone", 1);
    t.quiet(0);
}

/// Runs `line` on connection 0, then reads every keyspace event it caused
/// on connection 1 (subscribed to `__key*__:*` and `sync`), up to the
/// `sync` message published after it.
fn events_of(t: &mut Twin, line: &str) {
    t.cmd(0, line, 1);
    t.cmd(0, "PUBLISH sync done", 1);
    loop {
        let [a, b] = t.conn(1).each_mut().map(Conn::recv);
        assert_eq!(
            a.to_bytes(),
            b.to_bytes(),
            "events of {line}:\n  tessera: {}\n  redis:   {}",
            show(&a),
            show(&b)
        );
        if matches!(&a, Frame::Array(items) if items.len() == 3 && items[1] == Frame::Bulk("sync".into())) {
            break;
        }
    }
}

/// Connection 1 subscribed to every keyspace event (and `sync`), with
/// `notify-keyspace-events KEA`.
fn keyspace_listener() -> Option<Twin> {
    let mut t = Twin::start(&[])?;
    t.cmd(0, "CONFIG SET notify-keyspace-events KEA", 1);
    t.cmd(0, "CONFIG GET notify-keyspace-events", 1);
    t.cmd(1, "PSUBSCRIBE __key*__:*", 1);
    t.cmd(1, "SUBSCRIBE sync", 1);
    Some(t)
}

#[test]
fn keyspace_notifications_match_redis() {
    let Some(mut t) = keyspace_listener() else { return };
    for line in KEYSPACE_COMMANDS {
        events_of(&mut t, line);
    }
    events_of(&mut t, "SET e v PX 50");
    // Expiry: the key expires (actively or on access) and `expired` is sent.
    std::thread::sleep(Duration::from_millis(300));
    events_of(&mut t, "GET e");
    // Another database, and a class filter.
    events_of(&mut t, "SELECT 1");
    events_of(&mut t, "SET other v");
    events_of(&mut t, "CONFIG SET notify-keyspace-events Ez");
    events_of(&mut t, "SET quiet v");
    events_of(&mut t, "ZADD zz 1 a");
    events_of(&mut t, "CONFIG SET notify-keyspace-events Kgn");
    events_of(&mut t, "SET fresh v");
    events_of(&mut t, "DEL fresh");
    events_of(&mut t, "CONFIG SET notify-keyspace-events \"\"");
    events_of(&mut t, "DEL other");
    t.quiet(1);
}

/// The list commands of the keyspace notification scenarios.
const LIST_COMMANDS: &[&str] = &[
    "LPUSH l a b",
    "RPUSH l c",
    "LPUSHX l d",
    "LINSERT l BEFORE a x",
    "LSET l 0 y",
    "LTRIM l 0 2",
    "LREM l 1 a",
    "LMOVE l l2 LEFT RIGHT",
    "LPOP l",
    "RPOP l 2",
    "RPOP l2",
];

#[test]
fn keyspace_notifications_of_list_commands() {
    let Some(mut t) = keyspace_listener() else { return };
    for line in LIST_COMMANDS {
        events_of(&mut t, line);
    }
    t.quiet(1);
}

/// The commands of the keyspace notification scenarios (lists aside).
const KEYSPACE_COMMANDS: &[&str] = &[
    "SET foo bar",
    "SET foo bar2 EX 100",
    "SETNX foo x",
    "INCR n",
    "INCRBY n 5",
    "DECR n",
    "INCRBYFLOAT n 1.5",
    "APPEND foo x",
    "SETRANGE foo 1 yy",
    "GETDEL foo",
    "MSET a 1 b 2",
    "DEL a b missing",
    "EXPIRE missing 100",
    "SET k1 v",
    "EXPIRE k1 100",
    "PEXPIRE k1 100000",
    "PERSIST k1",
    "RENAME k1 k2",
    "COPY k2 k3",
    "MOVE k3 1",
    "EXPIRE k2 0",
    "HSET h f v g w",
    "HSET h f v2",
    "HINCRBY h n 1",
    "HDEL h f",
    "HDEL h g n",
    "SADD s a b c",
    "SADD s a",
    "SREM s a",
    "SMOVE s s2 b",
    "SMOVE s s2 c",
    "SADD p only",
    "SPOP p",
    "ZADD z 1 a 2 b",
    "ZINCRBY z 2 a",
    "ZREM z a",
    "ZREM z b",
];

/// Frames on connection `i` of one server up to and including the reply
/// to the `PUBLISH sync` that follows the `sync` message.
fn until_sync(conn: &mut Conn) -> Vec<Frame> {
    let mut frames = Vec::new();
    loop {
        let f = conn.recv();
        let sync = matches!(&f, Frame::Push(items) if items.len() == 3 && items[1] == Frame::Bulk("sync".into()));
        frames.push(f);
        if sync {
            frames.push(conn.recv());
            return frames;
        }
    }
}

/// Redis sends a command's keyspace events into its own reply stream at
/// the point it calls `notifyKeyspaceEvent`: before the reply for most
/// commands, after it for some (EXPIRE, HSET, LPUSH, ZADD...).
#[test]
fn resp3_keyspace_events_of_own_commands_come_where_redis_sends_them() {
    let Some(mut t) = Twin::start(&["--notify-keyspace-events", "KEA"]) else {
        return;
    };
    let [hello, _] = t.cmd_unchecked(0, "HELLO 3");
    assert!(matches!(hello, Frame::Map(_)), "HELLO 3: {}", show(&hello));
    t.cmd(0, "PSUBSCRIBE __key*__:*", 1);
    t.cmd(0, "SUBSCRIBE sync", 1);
    let mut mismatches = Vec::new();
    for line in KEYSPACE_COMMANDS.iter().chain(LIST_COMMANDS) {
        t.send(0, line);
        t.send(0, "PUBLISH sync done");
        let [a, b] = t.conn(0).each_mut().map(until_sync);
        let wire = |frames: &[Frame]| frames.iter().map(|f| f.to_bytes().to_vec()).collect::<Vec<_>>();
        if wire(&a) != wire(&b) {
            let list = |frames: &[Frame]| {
                frames
                    .iter()
                    .map(|f| crate::support::pretty_frame(f).replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n      ")
            };
            mismatches.push(format!(
                "{line}\n  tessera:\n      {}\n  redis:\n      {}",
                list(&a),
                list(&b)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} command(s) differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Reads whatever the server sends on `conn` until it closes the
/// connection; false when it is still open after `timeout`.
fn closed_within(conn: &mut Conn, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    conn.set_read_timeout(Duration::from_millis(100));
    while Instant::now() < deadline {
        match conn.try_recv() {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// One run of the slow-subscriber scenario on `server`: a subscriber that
/// never reads is disconnected once its output passes the pubsub limit,
/// while other clients keep being served.
fn slow_subscriber_on(server: &Server, limit: &str, pause: Duration) {
    let name = server.name();
    let mut admin = server.conn();
    let ok = admin.cmd(&["CONFIG", "SET", "client-output-buffer-limit", limit]);
    assert_eq!(ok, Frame::Simple("OK".into()), "{name}");
    let mut slow = server.conn();
    assert!(matches!(slow.cmd(&["SUBSCRIBE", "firehose"]), Frame::Array(_)));
    let mut fast = server.conn();
    assert!(matches!(fast.cmd(&["SUBSCRIBE", "firehose"]), Frame::Array(_)));
    let chunk = vec![b'x'; 64 * 1024];
    let mut fast_got = 0;
    // Well past the limit plus what the kernel buffers hold; the fast
    // subscriber reads everything as it goes.
    for round in 0..2 {
        for _ in 0..200 {
            let n = admin.cmd(&[&b"PUBLISH"[..], b"firehose", &chunk]);
            assert!(matches!(n, Frame::Integer(1 | 2)), "{name}: PUBLISH {n:?}");
            fast.recv();
            fast_got += 1;
        }
        if round == 0 {
            std::thread::sleep(pause);
        }
    }
    assert_eq!(fast_got, 400);
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)),
        "{name}: the slow subscriber is still connected"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while admin.cmd(&["PUBSUB", "NUMSUB", "firehose"]) != Frame::Array(vec![Frame::Bulk("firehose".into()), int(1)]) {
        assert!(
            Instant::now() < deadline,
            "{name}: the slow subscriber is still subscribed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(admin.cmd(&["PING"]), Frame::Simple("PONG".into()), "{name}");
    assert_eq!(admin.cmd(&["PUBLISH", "firehose", "after"]), int(1), "{name}");
    assert_eq!(
        fast.recv().to_bytes(),
        b"*3\r\n$7\r\nmessage\r\n$8\r\nfirehose\r\n$5\r\nafter\r\n".to_vec()
    );
}

#[test]
fn slow_subscriber_is_disconnected_at_the_hard_limit() {
    let Some(redis) = Server::redis(&[]) else { return };
    let tessera = Server::tessera(&[]);
    for server in [&tessera, &redis] {
        slow_subscriber_on(server, "pubsub 1mb 0 0", Duration::ZERO);
    }
}

#[test]
fn slow_subscriber_is_disconnected_after_the_soft_limit_time() {
    let Some(redis) = Server::redis(&[]) else { return };
    let tessera = Server::tessera(&[]);
    for server in [&tessera, &redis] {
        slow_subscriber_on(server, "pubsub 0 256kb 1", Duration::from_millis(2200));
    }
}

#[test]
fn subscribers_are_exempt_from_idle_timeout() {
    let Some(redis) = Server::redis(&["--timeout", "1"]) else {
        return;
    };
    let tessera = Server::tessera(&["--timeout", "1"]);
    for server in [&tessera, &redis] {
        let mut idle = server.conn();
        let mut subscriber = server.conn();
        assert_eq!(idle.cmd(&["PING"]), Frame::Simple("PONG".into()));
        assert!(matches!(subscriber.cmd(&["SUBSCRIBE", "ch"]), Frame::Array(_)));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(idle.is_closed(), "{}: an idle client is closed", server.name());
        assert_eq!(
            server.conn().cmd(&["PUBLISH", "ch", "still here"]),
            int(1),
            "{}",
            server.name()
        );
        assert!(
            matches!(subscriber.recv(), Frame::Array(items) if items.len() == 3),
            "{}",
            server.name()
        );
    }
}

/// Polls the next message of a `redis` crate pub/sub stream.
async fn next_message<S: futures_core::Stream<Item = redis::Msg> + Unpin>(stream: &mut S) -> redis::Msg {
    let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx));
    tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("a message within 10 s")
        .expect("the stream is open")
}

#[tokio::test]
async fn redis_crate_async_pubsub() {
    use redis::AsyncCommands;

    let server = Server::tessera(&[]);
    let client = redis::Client::open(server.url()).expect("client");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub connection");
    pubsub.subscribe("news").await.expect("SUBSCRIBE");
    pubsub.psubscribe("sp*").await.expect("PSUBSCRIBE");
    let mut con = client.get_multiplexed_async_connection().await.expect("connection");
    let n: i64 = con.publish("news", "hello").await.expect("PUBLISH");
    assert_eq!(n, 1);
    let n: i64 = con.publish("sport", b"goal\x00".to_vec()).await.expect("PUBLISH");
    assert_eq!(n, 1);
    let n: i64 = con.publish("weather", "rain").await.expect("PUBLISH");
    assert_eq!(n, 0);
    {
        let mut messages = pubsub.on_message();
        let m = next_message(&mut messages).await;
        assert_eq!(m.get_channel_name(), "news");
        assert_eq!(m.get_payload::<String>().expect("payload"), "hello");
        assert!(!m.from_pattern());
        let m = next_message(&mut messages).await;
        assert_eq!(m.get_channel_name(), "sport");
        assert_eq!(m.get_pattern::<String>().expect("pattern"), "sp*");
        assert_eq!(m.get_payload_bytes(), b"goal\x00");
    }
    let pong: Vec<String> = pubsub.ping().await.expect("PING while subscribed");
    assert_eq!(pong, ["pong", ""]);
    pubsub.unsubscribe("news").await.expect("UNSUBSCRIBE");
    let n: i64 = con.publish("news", "unheard").await.expect("PUBLISH");
    assert_eq!(n, 0);
    let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news")
        .arg("sport")
        .query_async(&mut con)
        .await
        .expect("NUMSUB");
    assert_eq!(counts, vec![("news".to_string(), 0), ("sport".to_string(), 0)]);
    let numpat: i64 = redis::cmd("PUBSUB")
        .arg("NUMPAT")
        .query_async(&mut con)
        .await
        .expect("NUMPAT");
    assert_eq!(numpat, 1);
    drop(pubsub);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let numpat: i64 = redis::cmd("PUBSUB")
            .arg("NUMPAT")
            .query_async(&mut con)
            .await
            .expect("NUMPAT");
        if numpat == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "subscriptions outlive the connection");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn keyspace_notifications_of_zset_commands() {
    let Some(mut t) = keyspace_listener() else { return };
    for line in [
        "ZADD z 1 a 2 b",
        "ZADD z 1 a",
        "ZADD z XX 1 nosuch",
        "ZADD z CH 5 a",
        "ZINCRBY z 1 a",
        "ZADD z INCR 0 a",
        "ZADD z NX INCR 1 a",
        "ZREM z nosuch",
        "ZADD z 3 c 4 d 5 e 6 f 7 g",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYRANK z 100 200",
        "ZREMRANGEBYSCORE z 3 3",
        "ZREMRANGEBYLEX z [d [d",
        "ZPOPMIN z",
        "ZPOPMIN z 0",
        "ZPOPMAX z 10",
        "ZPOPMAX z",
        "ZADD z1 1 a 2 b",
        "ZADD z2 2 b 3 c",
        "ZUNIONSTORE d 2 z1 z2",
        "ZINTERSTORE d 2 z1 z2",
        "ZDIFFSTORE d 2 z1 z2",
        "ZDIFFSTORE d 2 z1 z1",
        "ZDIFFSTORE d 2 z1 z1",
        "ZRANGESTORE d z1 0 0",
        "ZRANGESTORE d z1 5 6",
        "ZMPOP 1 z1 MIN COUNT 5",
        "ZREM z2 b c",
        "ZADD z3 1 a",
        "ZREMRANGEBYSCORE z3 -inf +inf",
        "ZADD z4 1 a",
        "ZREMRANGEBYLEX z4 - +",
    ] {
        events_of(&mut t, line);
    }
    t.quiet(1);
}

/// The string and bit commands of the keyspace notification scenarios:
/// every write, and the forms that change nothing (and send no event).
const STRING_COMMANDS: &[&str] = &[
    "SET s1 v",
    "SET s1 v2 XX EX 100",
    "SET s1 v3 KEEPTTL GET",
    "SET s1 v NX",
    "SET s2 v PX 100000 GET",
    "SETNX s3 1",
    "SETNX s3 2",
    "SETEX s4 100 v",
    "PSETEX s4 100000 w",
    "GETSET s5 a",
    "GETSET s5 b",
    "GETDEL s5",
    "GETDEL s5",
    "GETEX s4",
    "GETEX s4 EX 100",
    "GETEX s4 PERSIST",
    "GETEX s4 PERSIST",
    "GETEX s4 PXAT 1",
    "MSET m1 1 m2 2 m1 3",
    "MSETNX m3 1 m4 2",
    "MSETNX m3 1",
    "INCR c",
    "DECRBY c 5",
    "INCRBYFLOAT c 0.5",
    "INCRBYFLOAT f 1",
    "APPEND a x",
    "APPEND a y",
    "APPEND a \"\"",
    "SETRANGE r 2 x",
    "SETRANGE r 0 \"\"",
    "SETRANGE r2 0 \"\"",
    "SETRANGE r 0 y",
    "SETBIT b 3 1",
    "SETBIT b 3 1",
    "SETBIT b 100 0",
    "BITOP OR d b r",
    "BITOP AND d nokey",
    "BITOP AND d nokey",
    "BITFIELD bf SET u8 0 1 GET u8 0",
    "BITFIELD bf SET u8 0 1",
    "BITFIELD bf GET u8 0",
    "BITFIELD bf2 OVERFLOW FAIL INCRBY u2 0 9",
    "GET s1",
    "MGET s1 nokey",
    "LCS s1 a",
];

#[test]
fn keyspace_notifications_of_string_commands() {
    let Some(mut t) = keyspace_listener() else { return };
    for line in STRING_COMMANDS {
        events_of(&mut t, line);
    }
    t.quiet(1);
}

/// A RESP3 client subscribed to its own string writes gets their events
/// where Redis puts them in its reply stream: before the reply, after it
/// when the reply comes first (SET GET, GETSET, GETDEL, GETEX) and for
/// BITFIELD's `setbit`.
#[test]
fn resp3_keyspace_events_of_string_commands_come_where_redis_sends_them() {
    let Some(mut t) = Twin::start(&["--notify-keyspace-events", "KEA"]) else {
        return;
    };
    let [hello, _] = t.cmd_unchecked(0, "HELLO 3");
    assert!(matches!(hello, Frame::Map(_)), "HELLO 3: {}", show(&hello));
    t.cmd(0, "PSUBSCRIBE __key*__:*", 1);
    t.cmd(0, "SUBSCRIBE sync", 1);
    for line in STRING_COMMANDS {
        t.send(0, line);
        t.send(0, "PUBLISH sync done");
        let [a, b] = t.conn(0).each_mut().map(until_sync);
        let shown = |frames: &[Frame]| frames.iter().map(show).collect::<Vec<_>>().join("\n      ");
        assert!(
            a.iter().map(Frame::to_bytes).eq(b.iter().map(Frame::to_bytes)),
            "{line}\n  tessera:\n      {}\n  redis:\n      {}",
            shown(&a),
            shown(&b)
        );
    }
}
