//! Blocking commands between connections (BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, CLIENT UNBLOCK), run
//! against `tessera-node` and `redis-server` side by side: the same
//! scenario goes through the same numbered connections of both servers and
//! every reply must be identical (and is checked against the expected one
//! where it matters).
//!
//! A scenario waits until the servers report the expected number of
//! blocked clients (`b` in CLIENT LIST) before pushing, so the order in
//! which clients block is the order of the script. Timeouts are checked by
//! their reply and by the reply not arriving early; there is never an upper
//! bound on how late it arrives.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use resp::Frame;

use crate::support::{Conn, Kind, Server, show, split_args};

/// A tessera-node and a redis-server, and numbered connections to both.
/// With `TESSERA_IT_SELFCHECK=1` both are redis-servers.
struct Twin {
    servers: [Server; 2],
    conns: Vec<Option<[Conn; 2]>>,
}

impl Twin {
    fn start() -> Option<Twin> {
        let redis = Server::redis(&[])?;
        let selfcheck = std::env::var_os("TESSERA_IT_SELFCHECK").is_some_and(|v| v == "1");
        let tessera = Server::start(if selfcheck { Kind::Redis } else { Kind::Tessera }, &[]);
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

    /// Reads one reply on connection `i` of both servers; panics unless they
    /// are identical. Returns tessera's.
    fn recv(&mut self, i: usize, what: &str) -> Frame {
        let [t, r] = self.conn(i).each_mut().map(Conn::recv);
        assert_eq!(
            t.to_bytes(),
            r.to_bytes(),
            "[conn {i}] {what}:\n  tessera: {}\n  redis:   {}",
            show(&t),
            show(&r)
        );
        t
    }

    /// Runs `line` on connection `i` of both; returns the (identical) reply.
    fn cmd(&mut self, i: usize, line: &str) -> Frame {
        self.send(i, line);
        self.recv(i, line)
    }

    /// Runs `line` on connection `i` and checks the reply against `want`
    /// (written like [`show`] prints it).
    fn expect(&mut self, i: usize, line: &str, want: &Frame) {
        let got = self.cmd(i, line);
        assert_eq!(&got, want, "[conn {i}] {line}: got {}", show(&got));
    }

    /// Waits (up to 10 s) until each server has `n` clients blocked on keys.
    fn wait_blocked(&mut self, n: usize) {
        for server in &self.servers {
            let mut c = server.conn();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let blocked = blocked_clients(&mut c);
                if blocked == n {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{server:?}: {blocked} blocked clients, want {n}"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// Checks that connection `i` has no reply pending on either server
    /// (its client is still blocked).
    fn pending(&mut self, i: usize) {
        for (side, c) in self.conn(i).iter_mut().enumerate() {
            c.set_read_timeout(Duration::from_millis(100));
            match c.try_recv() {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                other => panic!("[conn {i}] side {side}: expected no reply yet, got {other:?}"),
            }
            c.set_read_timeout(crate::support::READ_TIMEOUT);
        }
    }

    /// The client id of connection `i` on each server.
    fn ids(&mut self, i: usize) -> [i64; 2] {
        self.conn(i).each_mut().map(|c| match c.cmd(&["CLIENT", "ID"]) {
            Frame::Integer(id) => id,
            other => panic!("CLIENT ID: {}", show(&other)),
        })
    }

    /// Runs `CLIENT UNBLOCK <id> extra...` on connection `i`, with the id
    /// each server gave (see [`Twin::ids`]); returns the (identical) reply.
    fn unblock(&mut self, i: usize, ids: [i64; 2], extra: &[&str]) -> Frame {
        let replies: Vec<Frame> = self
            .conn(i)
            .iter_mut()
            .zip(ids)
            .map(|(c, id)| {
                let mut args = vec!["CLIENT".to_owned(), "UNBLOCK".to_owned(), id.to_string()];
                args.extend(extra.iter().map(|s| (*s).to_owned()));
                c.cmd(&args)
            })
            .collect();
        assert_eq!(replies[0], replies[1], "CLIENT UNBLOCK {extra:?}");
        replies[0].clone()
    }

    /// Reads the pending reply of connection `i` (a served or timed out
    /// blocked client) and checks it against `want`.
    fn served(&mut self, i: usize, want: &Frame) {
        let got = self.recv(i, "reply of the blocked command");
        assert_eq!(
            &got,
            want,
            "[conn {i}] reply of the blocked command: got {}",
            show(&got)
        );
    }

    /// Switches connection `i` to RESP3 (the HELLO replies differ: ids).
    fn hello3(&mut self, i: usize) {
        for c in self.conn(i) {
            assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
        }
    }

    /// Whether MULTI is implemented by tessera-node.
    fn has_multi(&mut self) -> bool {
        !matches!(self.servers[0].conn().cmd(&["MULTI"]), Frame::Error(_))
    }
}

/// How many clients CLIENT LIST shows with the `b` flag.
fn blocked_clients(c: &mut Conn) -> usize {
    let text = match c.cmd(&["CLIENT", "LIST"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
        other => panic!("CLIENT LIST: {}", show(&other)),
    };
    text.lines()
        .filter(|l| {
            l.split(' ')
                .find_map(|f| f.strip_prefix("flags="))
                .is_some_and(|f| f.contains('b'))
        })
        .count()
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec().into())
}

fn arr(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

#[test]
fn blpop_is_served_by_a_later_push() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    t.pending(1);
    t.expect(0, "LPUSH k a", &int(1));
    t.served(1, &arr(&["k", "a"]));
    t.expect(0, "EXISTS k", &int(0));
    t.wait_blocked(0);
    // The connection works normally afterwards.
    t.expect(1, "PING", &Frame::Simple("PONG".into()));
    // BRPOP on several keys, served from the one pushed to.
    t.send(1, "BRPOP k1 k2 k3 0");
    t.wait_blocked(1);
    t.expect(0, "RPUSH k2 x y z", &int(3));
    t.served(1, &arr(&["k2", "z"]));
    t.expect(0, "LRANGE k2 0 -1", &arr(&["x", "y"]));
}

#[test]
fn clients_are_served_in_the_order_they_blocked() {
    let Some(mut t) = Twin::start() else { return };
    for i in 1..=3 {
        t.send(i, "BLPOP k 0");
        t.wait_blocked(i);
    }
    // One element serves only the first.
    t.expect(0, "RPUSH k a", &int(1));
    t.served(1, &arr(&["k", "a"]));
    t.pending(2);
    t.pending(3);
    // Three elements: the second client gets the first one, and so on;
    // the one left over stays.
    t.send(1, "BLPOP k 0");
    t.wait_blocked(3);
    t.expect(0, "RPUSH k b c d e", &int(4));
    t.served(2, &arr(&["k", "b"]));
    t.served(3, &arr(&["k", "c"]));
    t.served(1, &arr(&["k", "d"]));
    t.expect(0, "LRANGE k 0 -1", &arr(&["e"]));
    t.wait_blocked(0);
    // BLPOP and BRPOP waiting on the same key take from their own ends.
    t.cmd(0, "DEL k");
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    t.send(2, "BRPOP k 0");
    t.wait_blocked(2);
    t.expect(0, "RPUSH k a b c", &int(3));
    t.served(1, &arr(&["k", "a"]));
    t.served(2, &arr(&["k", "c"]));
    t.expect(0, "LRANGE k 0 -1", &arr(&["b"]));
}

#[test]
fn timeouts_reply_null() {
    let Some(mut t) = Twin::start() else { return };
    t.cmd(0, "SET str v");
    for (line, ms) in [
        ("BLPOP k 0.2", 200),
        ("BRPOP k1 k2 0.05", 50),
        ("BLMOVE k dst LEFT RIGHT 0.05", 50),
        ("BRPOPLPUSH k dst 0.05", 50),
        ("BLMPOP 0.05 2 k k2 LEFT COUNT 2", 50),
        ("BZPOPMIN z 0.05", 50),
        ("BZPOPMAX z 0.05", 50),
        ("BZMPOP 0.05 1 z MAX", 50),
        // The destination's type is only looked at when served.
        ("BLMOVE k str LEFT RIGHT 0.05", 50),
    ] {
        let start = Instant::now();
        t.send(1, line);
        t.served(1, &Frame::NullArray);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(ms), "{line} replied after {took:?}");
    }
    t.wait_blocked(0);
    // RESP3: the null type.
    t.hello3(2);
    t.send(2, "BLPOP k 0.05");
    t.served(2, &Frame::Null);
    t.send(2, "BLMOVE k dst LEFT RIGHT 0.05");
    t.served(2, &Frame::Null);
    t.expect(0, "EXISTS k dst", &int(0));
}

#[test]
fn blmove_chains_serve_clients_blocked_on_the_destination() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLMOVE a b LEFT RIGHT 0");
    t.wait_blocked(1);
    t.send(2, "BRPOPLPUSH b c 0");
    t.wait_blocked(2);
    t.send(3, "BLPOP c 0");
    t.wait_blocked(3);
    t.expect(0, "LPUSH a x", &int(1));
    t.served(1, &bulk("x"));
    t.served(2, &bulk("x"));
    t.served(3, &arr(&["c", "x"]));
    t.expect(0, "EXISTS a b c", &int(0));
    t.wait_blocked(0);
    // A rotation onto the same key serves the next client too.
    t.send(1, "BLMOVE r r LEFT RIGHT 0");
    t.wait_blocked(1);
    t.send(2, "BLPOP r 0");
    t.wait_blocked(2);
    t.expect(0, "RPUSH r 1 2", &int(2));
    t.served(1, &bulk("1"));
    t.served(2, &arr(&["r", "2"]));
    t.expect(0, "LRANGE r 0 -1", &arr(&["1"]));
}

#[test]
fn blmove_to_a_key_of_another_type_fails_when_served() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLMOVE src dst LEFT RIGHT 0");
    t.wait_blocked(1);
    t.send(2, "BLPOP src 0");
    t.wait_blocked(2);
    t.expect(0, "SET dst string", &ok());
    t.expect(0, "RPUSH src a", &int(1));
    t.served(
        1,
        &Frame::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into()),
    );
    // The element was not taken: the next client gets it.
    t.served(2, &arr(&["src", "a"]));
    t.wait_blocked(0);
}

#[test]
fn clients_wait_while_the_key_holds_another_type() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    t.send(2, "BZPOPMIN k 0");
    t.wait_blocked(2);
    // A sorted set serves the BZPOPMIN waiting behind the list client.
    t.expect(0, "ZADD k 1 a", &int(1));
    t.served(2, &arr(&["k", "a", "1"]));
    t.pending(1);
    t.send(2, "BZPOPMIN k 0");
    t.wait_blocked(2);
    t.expect(0, "SET k v", &ok());
    t.expect(0, "DEL k", &int(1));
    t.pending(1);
    t.pending(2);
    t.expect(0, "RPUSH k x", &int(1));
    t.served(1, &arr(&["k", "x"]));
    t.pending(2);
    t.expect(0, "ZADD k 2 b", &int(1));
    t.served(2, &arr(&["k", "b", "2"]));
    t.wait_blocked(0);
}

#[test]
fn sorted_set_pops_are_served_by_zadd() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BZPOPMIN z1 z2 0");
    t.wait_blocked(1);
    t.send(2, "BZPOPMAX z2 0");
    t.wait_blocked(2);
    t.send(3, "BZMPOP 0 1 z2 MIN COUNT 10");
    t.wait_blocked(3);
    t.expect(0, "ZADD z2 1 a 2 b 3 c 4.5 d", &int(4));
    t.served(1, &arr(&["z2", "a", "1"]));
    t.served(2, &arr(&["z2", "d", "4.5"]));
    t.served(
        3,
        &Frame::Array(vec![bulk("z2"), Frame::Array(vec![arr(&["b", "2"]), arr(&["c", "3"])])]),
    );
    t.expect(0, "EXISTS z2", &int(0));
    // RESP3: scores are doubles.
    t.hello3(1);
    t.send(1, "BZPOPMAX z 0");
    t.wait_blocked(1);
    t.expect(0, "ZADD z 1.5 m", &int(1));
    t.served(1, &Frame::Array(vec![bulk("z"), bulk("m"), Frame::Double(1.5)]));
}

#[test]
fn blmpop_is_served_with_its_count() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLMPOP 0 2 a b RIGHT COUNT 2");
    t.wait_blocked(1);
    t.send(2, "BLMPOP 0 1 b LEFT COUNT 5");
    t.wait_blocked(2);
    t.expect(0, "RPUSH b 1 2 3 4", &int(4));
    t.served(1, &Frame::Array(vec![bulk("b"), arr(&["4", "3"])]));
    t.served(2, &Frame::Array(vec![bulk("b"), arr(&["1", "2"])]));
    t.expect(0, "EXISTS b", &int(0));
}

#[test]
fn client_unblock_times_out_or_fails_the_blocked_command() {
    let Some(mut t) = Twin::start() else { return };
    let ids = t.ids(1);
    let own = t.ids(0);
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    assert_eq!(t.unblock(0, ids, &[]), int(1));
    t.served(1, &Frame::NullArray);
    t.send(1, "BZPOPMIN k 0");
    t.wait_blocked(1);
    assert_eq!(t.unblock(0, ids, &["TIMEOUT"]), int(1));
    t.served(1, &Frame::NullArray);
    t.send(1, "BLMOVE k d LEFT RIGHT 0");
    t.wait_blocked(1);
    assert_eq!(t.unblock(0, ids, &["error"]), int(1));
    t.served(1, &Frame::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into()));
    t.wait_blocked(0);
    // Not blocked: nothing to do.
    assert_eq!(t.unblock(0, ids, &["ERROR"]), int(0));
    assert_eq!(t.unblock(0, own, &[]), int(0));
    t.expect(0, "CLIENT UNBLOCK 999999 TIMEOUT", &int(0));
    t.expect(0, "CLIENT UNBLOCK -1", &int(0));
    t.cmd(0, "CLIENT UNBLOCK abc");
    t.cmd(0, "CLIENT UNBLOCK 1 FOO");
    t.cmd(0, "CLIENT UNBLOCK 1 TIMEOUT x");
    // After an unblock the connection runs what it sent meanwhile.
    t.send(1, "BLPOP k 0");
    t.send(1, "PING");
    t.wait_blocked(1);
    t.pending(1);
    assert_eq!(t.unblock(0, ids, &[]), int(1));
    t.served(1, &Frame::NullArray);
    t.served(1, &Frame::Simple("PONG".into()));
}

#[test]
fn commands_sent_while_blocked_run_after_the_block() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.send(1, "LLEN k");
    t.send(1, "RPUSH other 1");
    t.wait_blocked(1);
    t.pending(1);
    t.expect(0, "EXISTS other", &int(0));
    t.expect(0, "RPUSH k a b", &int(2));
    t.served(1, &arr(&["k", "a"]));
    t.served(1, &int(1));
    t.served(1, &int(1));
    // A pipelined push and the pop it serves, on one connection: the blocked
    // client is served right after the push, before the next command.
    t.send(2, "BLPOP q 0");
    t.wait_blocked(1);
    t.send(0, "RPUSH q x");
    t.send(0, "LLEN q");
    t.served(0, &int(1));
    t.served(0, &int(0));
    t.served(2, &arr(&["q", "x"]));
}

#[test]
fn a_disconnected_client_stops_waiting() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.send(2, "BLPOP k 0");
    t.wait_blocked(2);
    t.conns[1] = None;
    t.wait_blocked(1);
    t.expect(0, "RPUSH k a b", &int(2));
    t.served(2, &arr(&["k", "a"]));
    t.expect(0, "LRANGE k 0 -1", &arr(&["b"]));
}

#[test]
fn a_killed_client_takes_nothing() {
    let Some(mut t) = Twin::start() else { return };
    let ids = t.ids(1);
    t.send(1, "BLPOP k 0");
    t.send(2, "BLPOP k 0");
    t.wait_blocked(2);
    // Kill and push in one write: the killed client must not consume.
    for (c, id) in t.conn(0).iter_mut().zip(ids) {
        let mut both = crate::support::multibulk(&["CLIENT", "KILL", "ID", &id.to_string()]);
        both.extend(crate::support::multibulk(&["RPUSH", "k", "a", "b"]));
        c.send_raw(&both);
        assert_eq!(c.recv(), Frame::Integer(1));
        assert_eq!(c.recv(), Frame::Integer(2));
    }
    t.served(2, &arr(&["k", "a"]));
    t.expect(0, "LRANGE k 0 -1", &arr(&["b"]));
}

#[test]
fn blocking_follows_the_selected_database() {
    let Some(mut t) = Twin::start() else { return };
    t.cmd(1, "SELECT 3");
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    t.expect(0, "RPUSH k in-db-0", &int(1));
    t.pending(1);
    t.cmd(0, "SELECT 3");
    t.expect(0, "RPUSH k in-db-3", &int(1));
    t.served(1, &arr(&["k", "in-db-3"]));
    t.cmd(0, "SELECT 0");
    t.expect(0, "LRANGE k 0 -1", &arr(&["in-db-0"]));
}

#[test]
fn swapdb_serves_clients_blocked_on_keys_it_brings_in() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.wait_blocked(1);
    t.send(2, "BZPOPMIN z 0");
    t.wait_blocked(2);
    t.cmd(0, "SELECT 1");
    t.expect(0, "RPUSH k a b", &int(2));
    t.expect(0, "SET z string", &ok());
    t.expect(0, "SWAPDB 0 1", &ok());
    t.served(1, &arr(&["k", "a"]));
    t.pending(2);
    t.cmd(0, "SELECT 0");
    t.expect(0, "LRANGE k 0 -1", &arr(&["b"]));
}

#[test]
fn keys_named_twice_are_waited_on_once() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k k other k 0");
    t.wait_blocked(1);
    t.send(2, "BLPOP k 0");
    t.wait_blocked(2);
    t.expect(0, "RPUSH k a b", &int(2));
    t.served(1, &arr(&["k", "a"]));
    t.served(2, &arr(&["k", "b"]));
    t.wait_blocked(0);
}

#[test]
fn moves_and_renames_make_keys_ready() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP dst 0");
    t.wait_blocked(1);
    t.cmd(0, "RPUSH src a b");
    t.expect(0, "LMOVE src dst RIGHT LEFT", &bulk("b"));
    t.served(1, &arr(&["dst", "b"]));
    t.send(1, "BLPOP renamed 0");
    t.wait_blocked(1);
    t.expect(0, "RENAME src renamed", &ok());
    t.served(1, &arr(&["renamed", "a"]));
    t.expect(0, "EXISTS renamed", &int(0));
}

#[test]
fn transactions_serve_after_exec_and_never_block() {
    let Some(mut t) = Twin::start() else { return };
    if !t.has_multi() {
        eprintln!("skipping: tessera-node has no MULTI yet");
        return;
    }
    // Pushes inside a transaction serve blocked clients after EXEC, from the
    // list as EXEC left it, in the order the keys were first pushed to.
    t.send(1, "BLPOP a b 0");
    t.wait_blocked(1);
    t.cmd(0, "MULTI");
    t.cmd(0, "RPUSH b 1");
    t.cmd(0, "RPUSH a 2");
    t.cmd(0, "LPUSH b 0");
    t.expect(0, "EXEC", &Frame::Array(vec![int(1), int(1), int(2)]));
    t.served(1, &arr(&["b", "0"]));
    // A list pushed and emptied in the transaction serves nobody.
    t.send(1, "BLPOP c 0");
    t.wait_blocked(1);
    t.cmd(0, "MULTI");
    t.cmd(0, "RPUSH c x");
    t.cmd(0, "LPOP c");
    t.cmd(0, "EXEC");
    t.pending(1);
    t.expect(0, "RPUSH c y", &int(1));
    t.served(1, &arr(&["c", "y"]));
    // Blocking commands inside MULTI reply as if they timed out.
    t.cmd(0, "MULTI");
    for line in [
        "BLPOP none 0",
        "BRPOP none 0",
        "BLMOVE none d LEFT RIGHT 0",
        "BRPOPLPUSH none d 0",
        "BLMPOP 0 1 none LEFT",
        "BZPOPMIN none 0",
        "BZPOPMAX none 0",
        "BZMPOP 0 1 none MIN",
        "RPUSH l x",
        "BLPOP l 0",
    ] {
        t.cmd(0, line);
    }
    t.expect(
        0,
        "EXEC",
        &Frame::Array(vec![
            Frame::NullArray,
            Frame::NullArray,
            Frame::Null,
            Frame::Null,
            Frame::NullArray,
            Frame::NullArray,
            Frame::NullArray,
            Frame::NullArray,
            int(1),
            arr(&["l", "x"]),
        ]),
    );
    t.wait_blocked(0);
}

#[test]
fn blocked_clients_are_counted_and_flagged() {
    let Some(mut t) = Twin::start() else { return };
    t.send(1, "BLPOP k 0");
    t.send(2, "BZPOPMIN z 10");
    t.wait_blocked(2);
    // INFO clients: blocked_clients (tessera-node's INFO may not have it yet).
    for (side, c) in t.conn(0).iter_mut().enumerate() {
        let Frame::Bulk(info) = c.cmd(&["INFO", "clients"]) else {
            panic!("INFO")
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        if let Some(line) = info.lines().find(|l| l.starts_with("blocked_clients:")) {
            assert_eq!(line, "blocked_clients:2", "side {side}");
        }
    }
    t.expect(0, "RPUSH k a", &int(1));
    t.served(1, &arr(&["k", "a"]));
    t.wait_blocked(1);
}
