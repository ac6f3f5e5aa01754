//! Malformed input and resource limits: the proxy answers or closes the
//! offending connection and keeps serving everyone else.

use crate::support::*;
use resp::Frame;
use std::time::Duration;

#[test]
fn malformed_requests_close_only_their_connection() {
    let mut cluster = Cluster::start();
    let mut healthy = cluster.conn();
    for (input, reply) in [
        (&b"*99999999999\r\n"[..], "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n$99999999999\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\nxx\r\n", "ERR Protocol error: expected '$', got 'x'"),
        (b"\"unbalanced\r\n", "ERR Protocol error: unbalanced quotes in request"),
    ] {
        let mut c = cluster.conn();
        c.send_raw(input).expect("send");
        assert_eq!(err_text(&c.recv()), reply);
        assert!(c.closed());
    }
    // Binary garbage.
    let mut c = cluster.conn();
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = c.send_raw(&garbage);
    assert!(cluster.proxy.running());
    assert_eq!(healthy.cmd(&["PING"]), simple("PONG"));
    // Inline commands work as in Redis.
    let mut c = cluster.conn();
    c.send_raw(b"SET inline yes\r\nGET inline\r\n").expect("send");
    assert_eq!(c.recv(), simple("OK"));
    assert_eq!(c.recv(), bulk("yes"));
    // They reach the shards as sent, quotes and all, inside MULTI too.
    c.send_raw(b"SET \"in line\" 'a b'\r\nMULTI\r\nGET \"in line\"\nEXEC\r\n")
        .expect("send");
    assert_eq!(c.recv(), simple("OK"));
    assert_eq!(c.recv(), simple("OK"));
    assert_eq!(c.recv(), simple("QUEUED"));
    assert_eq!(c.recv(), resp::Frame::Array(vec![bulk("a b")]));
}

#[test]
fn a_client_that_never_reads_does_not_hurt_others() {
    let mut cluster = Cluster::with("pipeline_limit = 64", "");
    let mut c = cluster.conn();
    assert_eq!(c.cmd(&["SET", "big", &"x".repeat(512 * 1024)]), simple("OK"));
    let mut greedy = std::net::TcpStream::connect(("127.0.0.1", cluster.proxy.port)).expect("connect");
    greedy.set_write_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let batch = multibulk(&["GET", "big"]).repeat(1000);
    // Keep asking and never read: the proxy stops reading from it, so the
    // writes block long before 16 MB of requests.
    let mut sent = 0;
    while sent < 640 {
        use std::io::Write;
        if greedy.write_all(&batch).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 640, "the proxy kept reading a client that never reads");
    let mut other = cluster.conn();
    for i in 0..100 {
        assert_eq!(other.cmd(&["SET", &format!("o{i}"), "v"]), simple("OK"));
    }
    assert!(cluster.proxy.running());
}

#[test]
fn max_connections_and_idle_timeout() {
    let cluster = Cluster::with("idle_timeout_secs = 1", "max_connections = 2");
    // The start-up readiness probe may hold a place for a moment after it
    // closes: take the two places as they come free.
    let admitted = || {
        let mut conn = None;
        eventually("a place", || {
            let mut c = cluster.conn();
            let ok = matches!(c.try_cmd(&["PING"]), Ok(Frame::Simple(_)));
            conn = ok.then_some(c);
            ok
        });
        conn.expect("admitted")
    };
    let mut a = admitted();
    let mut b = admitted();
    let mut c = cluster.conn();
    assert_eq!(err_text(&c.recv()), "ERR max number of clients reached");
    // Idle clients are closed, which frees their places.
    assert!(a.closed());
    assert!(b.closed());
    eventually("a free place", || {
        let mut d = cluster.conn();
        matches!(d.try_cmd(&["PING"]), Ok(Frame::Simple(_)))
    });
}

/// The soft limit on open files, raised to `want` when below it (children
/// started later inherit it); `None` when the hard limit is lower.
fn open_files_limit(want: u64) -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft >= want {
        return Some(soft);
    }
    (hard >= want && setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok()).then_some(want)
}

#[test]
fn five_thousand_idle_connections_are_held() {
    const IDLE: usize = 5000;
    // This process holds the client ends, the proxy the other ends.
    if open_files_limit(IDLE as u64 + 1000).is_none() {
        eprintln!("skipping: the hard limit on open files is below {}", IDLE + 1000);
        return;
    }
    let mut cluster = Cluster::start();
    let before = cluster.proxy.rss_kb();
    let mut conns: Vec<Conn> = (0..IDLE).map(|_| cluster.conn()).collect();
    // Every one is accepted and served (the accept queue is shorter than 5,000).
    for c in conns.iter_mut().step_by(100) {
        assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    }
    eventually("all connections accepted", || {
        metric(
            cluster.metrics_port,
            "tessera_proxy_client_connections{database=\"db\"}",
        ) >= IDLE as f64
    });
    let mut c = cluster.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert!(cluster.proxy.running());
    // Idle connections cost little: well under 64 kB each.
    let grown = cluster.proxy.rss_kb().saturating_sub(before);
    assert!(grown < 64 * IDLE as u64, "{grown} kB for {IDLE} idle connections");
    drop(conns);
}
