//! Protocol-level differential tests: raw (often malformed) bytes are sent
//! to `tessera-node` and `redis-server`; the replies, and whether each
//! server then closes the connection, must be the same.

use std::fmt::Write as _;

use crate::diff::{Compare, Outcome, Pair};
use crate::support::{Conn, Server, multibulk, pretty_frame};

/// What a server did after receiving some raw bytes: every reply up to the
/// connection's close (or up to `replies` replies), then whether it closed.
#[derive(Debug)]
struct Reaction {
    replies: Vec<Outcome>,
    closed: bool,
}

impl Reaction {
    fn show(&self) -> String {
        let mut s = String::new();
        for r in &self.replies {
            let _ = write!(s, "\n      {}", r.show().replace('\n', "\n      "));
        }
        let _ = write!(s, "\n      then {}", if self.closed { "closed" } else { "still open" });
        s
    }

    fn matches(&self, other: &Reaction) -> bool {
        self.closed == other.closed
            && self.replies.len() == other.replies.len()
            && self
                .replies
                .iter()
                .zip(&other.replies)
                .all(|(a, b)| a.matches(b, Compare::Exact))
    }
}

/// Sends `bytes` on a fresh connection, reads `replies` replies (5 s
/// timeout each), then checks whether the server has closed the connection.
fn react(server: &Server, bytes: &[u8], replies: usize) -> Reaction {
    let mut conn = server.conn();
    conn.set_read_timeout(std::time::Duration::from_secs(5));
    // A server may close (and reset) before reading everything: the write
    // error is not the interesting part, the replies are.
    let _ = conn.try_send_raw(bytes);
    let mut out = Vec::new();
    let mut closed = false;
    for _ in 0..replies {
        match Outcome::from_io(conn.try_recv()) {
            Outcome::Reply(f) => out.push(Outcome::Reply(f)),
            other => {
                closed = matches!(other, Outcome::Closed);
                out.push(other);
                break;
            }
        }
    }
    if !closed {
        // Still open? A PING answers fast either way: any reply (PONG, or
        // NOAUTH) means open, EOF or reset means closed.
        closed = conn.try_send(&["PING"]).is_err() || matches!(Outcome::from_io(conn.try_recv()), Outcome::Closed);
    }
    Reaction { replies: out, closed }
}

/// Runs every case on both servers; panics with all the differences.
fn compare_cases(pair: &Pair, cases: &[(&str, Vec<u8>, usize)]) {
    let mut report = String::new();
    for (name, bytes, replies) in cases {
        let t = react(&pair.tessera, bytes, *replies);
        let r = react(&pair.redis, bytes, *replies);
        if !t.matches(&r) {
            let _ = writeln!(report, "case {name:?}:\n  tessera:{}\n  redis:{}\n", t.show(), r.show());
        }
    }
    assert!(report.is_empty(), "protocol mismatches (tessera vs redis):\n\n{report}");
}

/// Malformed requests: the error line and the close must match Redis.
#[test]
fn malformed_requests() {
    let Some(pair) = Pair::start(&[]) else { return };
    let inline_70k = vec![b'x'; 70 * 1024];
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("bad multibulk length", b"*abc\r\n".to_vec(), 1),
        ("negative bulk length", b"*1\r\n$-5\r\n".to_vec(), 1),
        ("expected '$'", b"*1\r\nfoo\r\n".to_vec(), 1),
        (
            "expected '$' after a good argument",
            b"*2\r\n$4\r\nPING\r\n:12\r\n".to_vec(),
            1,
        ),
        (
            "bulk longer than proto-max-bulk-len",
            b"*1\r\n$536870913\r\n".to_vec(),
            1,
        ),
        ("multibulk length over INT_MAX", b"*3000000000\r\n".to_vec(), 1),
        ("bulk length not a number", b"*1\r\n$x\r\n".to_vec(), 1),
        ("bulk length with plus sign", b"*1\r\n$+4\r\nPING\r\n".to_vec(), 1),
        ("unbalanced double quote inline", b"SET \"a b\r\n".to_vec(), 1),
        ("unbalanced single quote inline", b"SET 'a b\r\n".to_vec(), 1),
        ("closing quote followed by a letter", b"SET \"a\"b c\r\n".to_vec(), 1),
        ("70 KB inline request without newline", inline_70k, 1),
        (
            "commands before a protocol error still run",
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n".to_vec(),
            3,
        ),
    ];
    compare_cases(&pair, &cases);
}

/// A bulk longer than a configured `proto-max-bulk-len` (1mb, the minimum)
/// is refused before its payload arrives.
#[test]
fn configured_proto_max_bulk_len() {
    let Some(pair) = Pair::start(&["--proto-max-bulk-len", "1mb"]) else {
        return;
    };
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        (
            "bulk of proto-max-bulk-len + 1",
            b"*2\r\n$4\r\nECHO\r\n$1048577\r\n".to_vec(),
            1,
        ),
        (
            "bulk of 2 MB",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n".to_vec(),
            1,
        ),
    ];
    compare_cases(&pair, &cases);
}

/// With `requirepass`, an unauthenticated client may not send a big
/// multibulk or a big bulk.
#[test]
fn unauthenticated_big_requests() {
    let Some(pair) = Pair::start(&["--requirepass", "secret"]) else {
        return;
    };
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("unauthenticated multibulk length", b"*20\r\n".to_vec(), 1),
        ("unauthenticated bulk length", b"*2\r\n$20000\r\n".to_vec(), 1),
        ("small command before auth", multibulk(&["GET", "a"]), 1),
        ("wrong password", multibulk(&["AUTH", "nope"]), 1),
    ];
    compare_cases(&pair, &cases);
}

/// Inline commands and the odd spacing Redis accepts.
#[test]
fn inline_commands() {
    let Some(pair) = Pair::start(&[]) else { return };
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("inline PING", b"PING\r\n".to_vec(), 1),
        ("inline PING with bare LF", b"PING\n".to_vec(), 1),
        ("inline with quotes", b"SET a \"b c\"\r\nGET a\r\n".to_vec(), 2),
        (
            "inline single quotes and escapes",
            b"ECHO 'x y' \r\nECHO \"\\x41\\n\"\r\n".to_vec(),
            2,
        ),
        ("empty lines are skipped", b"\r\n\r\n   \r\nPING\r\n".to_vec(), 1),
        ("lowercase inline", b"echo hello\r\n".to_vec(), 1),
        ("*0 and *-1 are skipped", b"*0\r\n*-1\r\nPING\r\n".to_vec(), 1),
        ("inline unknown command", b"NOPE a b\r\n".to_vec(), 1),
        (
            "multibulk split mid-argument is fine in one write",
            b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n".to_vec(),
            1,
        ),
    ];
    compare_cases(&pair, &cases);
}

/// 1000 commands in one write get 1000 replies, in order, identical to
/// Redis's.
#[test]
fn pipeline_of_1000_commands() {
    let Some(pair) = Pair::start(&[]) else { return };
    let mut bytes = Vec::new();
    for i in 0..1000 {
        let cmd: Vec<String> = match i % 4 {
            0 => vec!["SET".into(), format!("key:{}", i % 50), format!("value:{i}")],
            1 => vec!["GET".into(), format!("key:{}", (i + 7) % 50)],
            2 => vec!["ECHO".into(), format!("echo:{i}")],
            _ => vec!["DEL".into(), format!("key:{}", (i * 3) % 50)],
        };
        bytes.extend_from_slice(&multibulk(&cmd));
    }
    let read_all = |server: &Server| -> Vec<resp::Frame> {
        let mut conn: Conn = server.conn();
        conn.send_raw(&bytes);
        (0..1000).map(|_| conn.recv()).collect()
    };
    let t = read_all(&pair.tessera);
    let r = read_all(&pair.redis);
    for (i, reply) in t.iter().enumerate().filter(|(i, _)| i % 4 == 2) {
        let expected = format!("echo:{i}");
        assert!(
            matches!(reply, resp::Frame::Bulk(b) if b[..] == *expected.as_bytes()),
            "reply {i} out of order: {}",
            pretty_frame(reply)
        );
    }
    for (i, (a, b)) in t.iter().zip(&r).enumerate() {
        assert!(
            a.to_bytes() == b.to_bytes(),
            "pipeline reply {i} differs:\n  tessera: {}\n  redis:   {}",
            pretty_frame(a),
            pretty_frame(b)
        );
    }
}
