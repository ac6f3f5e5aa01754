//! Properties of the hash commands that a differential script cannot
//! compare reply for reply: HRANDFIELD (how many fields, distinct or not,
//! all from the hash with their own values, the RESP2 and RESP3 shapes of
//! WITHVALUES, a runaway negative count cut off by the output limit) and
//! complete HSCAN walks over a table-encoded hash; and the keyspace events
//! of hash writes, compared with redis-server's. Each test also runs
//! against `redis-server` when it is installed, which checks the test's own
//! expectations.

use std::collections::{BTreeMap, BTreeSet};

use resp::Frame;

use crate::support::{Conn, Server, redis_installed};

/// Runs `f` against tessera-node, then against redis-server if installed,
/// both started with `args`.
fn on_both(args: &[&str], f: impl Fn(&Server)) {
    f(&Server::tessera(args));
    if redis_installed() {
        f(&Server::redis(args).expect("redis-server is installed"));
    }
}

type Fields = BTreeMap<Vec<u8>, Vec<u8>>;

fn bulk(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn items(reply: Frame) -> Vec<Frame> {
    match reply {
        Frame::Array(items) => items,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn text(reply: Frame) -> Vec<u8> {
    match reply {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        other => panic!("expected a string, got {other:?}"),
    }
}

/// Creates `key` with fields `f0..f{n-1}` holding `v0..`, returns them.
fn make_hash(conn: &mut Conn, key: &str, n: usize) -> Fields {
    conn.cmd(&["DEL", key]);
    let all: Fields = (0..n)
        .map(|i| (format!("f{i}").into_bytes(), format!("v{i}").into_bytes()))
        .collect();
    let mut args: Vec<Vec<u8>> = vec![b"HSET".to_vec(), key.as_bytes().to_vec()];
    for (f, v) in &all {
        args.push(f.clone());
        args.push(v.clone());
    }
    assert_eq!(conn.cmd(&args), Frame::Integer(n as i64));
    all
}

/// The two encodings, small and large.
const SHAPES: [(&str, usize); 3] = [("listpack", 10), ("listpack", 512), ("hashtable", 600)];

/// HRANDFIELD key count [WITHVALUES] as (field, value) pairs, checking the
/// reply shape of the protocol (`resp3`): flat pairs in RESP2, one
/// two-element array per pair in RESP3.
fn hrandfield(conn: &mut Conn, count: i64, withvalues: bool, resp3: bool) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let count = count.to_string();
    let mut args = vec!["HRANDFIELD", "h", count.as_str()];
    if withvalues {
        args.push("WITHVALUES");
    }
    let reply = items(conn.cmd(&args));
    match (withvalues, resp3) {
        (false, _) => reply.iter().map(|f| (bulk(f), None)).collect(),
        (true, false) => {
            assert_eq!(reply.len() % 2, 0, "odd flat WITHVALUES reply");
            reply.chunks(2).map(|p| (bulk(&p[0]), Some(bulk(&p[1])))).collect()
        }
        (true, true) => reply
            .into_iter()
            .map(|pair| match &items(pair)[..] {
                [f, v] => (bulk(f), Some(bulk(v))),
                other => panic!("a RESP3 WITHVALUES element is not a pair: {other:?}"),
            })
            .collect(),
    }
}

fn check_members(all: &Fields, got: &[(Vec<u8>, Option<Vec<u8>>)], what: &str) {
    for (f, v) in got {
        let want = all.get(f).unwrap_or_else(|| panic!("{what}: made-up field {f:?}"));
        if let Some(v) = v {
            assert_eq!(v, want, "{what}: wrong value for {f:?}");
        }
    }
}

#[test]
fn hrandfield_positive_count_returns_distinct_fields() {
    on_both(&[], |server| {
        let mut conn = server.conn();
        for resp3 in [false, true] {
            conn.cmd(&["HELLO", if resp3 { "3" } else { "2" }]);
            for (enc, size) in SHAPES {
                let all = make_hash(&mut conn, "h", size);
                assert_eq!(text(conn.cmd(&["OBJECT", "ENCODING", "h"])), enc.as_bytes());
                let n = size as i64;
                // One, small shares (drawn one by one), large shares (a
                // subset of a copy), the whole hash and more.
                for count in [1, 2, n / 4, n / 3 + 1, n - 1, n, n + 5, 1000] {
                    for withvalues in [false, true] {
                        let what =
                            format!("HRANDFIELD h {count} withvalues={withvalues} resp3={resp3} on {enc} of {size}");
                        let got = hrandfield(&mut conn, count, withvalues, resp3);
                        let want = count.min(n) as usize;
                        assert_eq!(got.len(), want, "{what}");
                        let distinct: BTreeSet<&Vec<u8>> = got.iter().map(|(f, _)| f).collect();
                        assert_eq!(distinct.len(), want, "{what}: repeated a field");
                        check_members(&all, &got, &what);
                    }
                }
            }
        }
    });
}

#[test]
fn hrandfield_negative_count_repeats_and_covers() {
    on_both(&[], |server| {
        let mut conn = server.conn();
        for resp3 in [false, true] {
            conn.cmd(&["HELLO", if resp3 { "3" } else { "2" }]);
            for (enc, size) in SHAPES {
                let all = make_hash(&mut conn, "h", size);
                // 50 draws per field on average: redis-server's draw from a
                // table (`dictGetFairRandomKey`) is only roughly uniform, and
                // at 20 it missed a field in about one run in ten.
                let n = size * 50;
                for withvalues in [false, true] {
                    let what = format!("HRANDFIELD h -{n} withvalues={withvalues} resp3={resp3} on {enc}");
                    let got = hrandfield(&mut conn, -(n as i64), withvalues, resp3);
                    assert_eq!(got.len(), n, "{what}");
                    check_members(&all, &got, &what);
                    let mut seen: BTreeMap<&Vec<u8>, usize> = BTreeMap::new();
                    for (f, _) in &got {
                        *seen.entry(f).or_default() += 1;
                    }
                    // Each field shows up, some more than once.
                    assert_eq!(seen.len(), size, "{what}: not every field drawn");
                    assert!(seen.values().any(|&c| c > 1), "{what}: no repeats");
                }
                assert_eq!(hrandfield(&mut conn, -1, true, resp3).len(), 1);
            }
            // More than the hash holds: still that many.
            let all = make_hash(&mut conn, "h", 2);
            let got = hrandfield(&mut conn, -7, true, resp3);
            assert_eq!(got.len(), 7);
            check_members(&all, &got, "HRANDFIELD h -7 WITHVALUES on 2 fields");
        }
    });
}

#[test]
fn hrandfield_without_count_is_a_field_and_fair() {
    on_both(&[], |server| {
        let mut conn = server.conn();
        for (_, size) in [("listpack", 5), ("hashtable", 200)] {
            let all = make_hash(&mut conn, "h", size);
            let mut seen = BTreeSet::new();
            for _ in 0..size * 30 {
                let f = bulk(&conn.cmd(&["HRANDFIELD", "h"]));
                assert!(all.contains_key(&f), "made-up field {f:?}");
                seen.insert(f);
            }
            assert_eq!(seen.len(), size, "not every field drawn");
        }
    });
}

#[test]
fn hrandfield_runaway_negative_count_closes_the_connection() {
    // A bounded normal-client output buffer: instead of building an
    // enormous reply, the server drops the client (as Redis's
    // CLIENT_CLOSE_ASAP) and carries on.
    on_both(&["--client-output-buffer-limit", "normal 1mb 1mb 0"], |server| {
        let mut conn = server.conn();
        let all = make_hash(&mut conn, "h", 3);
        conn.send(&["HRANDFIELD", "h", "-1000000000000", "WITHVALUES"]);
        assert!(conn.try_recv().is_err(), "{server:?} replied to a runaway HRANDFIELD");
        let mut conn = server.conn();
        assert_eq!(conn.cmd(&["PING"]), Frame::Simple("PONG".into()));
        assert_eq!(conn.cmd(&["HLEN", "h"]), Frame::Integer(all.len() as i64));
    });
}

#[test]
fn hscan_walks_a_whole_table() {
    on_both(&[], |server| {
        let mut conn = server.conn();
        let all = make_hash(&mut conn, "h", 1000);
        assert_eq!(text(conn.cmd(&["OBJECT", "ENCODING", "h"])), b"hashtable");
        for (count, pattern) in [("1", "*"), ("7", "*"), ("100", "f1*"), ("5000", "*")] {
            let mut seen = Fields::new();
            let mut cursor = b"0".to_vec();
            let mut calls = 0;
            loop {
                let reply = items(conn.cmd(&[
                    &b"HSCAN"[..],
                    b"h",
                    &cursor,
                    b"COUNT",
                    count.as_bytes(),
                    b"MATCH",
                    pattern.as_bytes(),
                ]));
                let [next, found] = <[Frame; 2]>::try_from(reply).expect("HSCAN replies [cursor, items]");
                let found = items(found);
                assert_eq!(found.len() % 2, 0);
                for pair in found.chunks(2) {
                    seen.insert(bulk(&pair[0]), bulk(&pair[1]));
                }
                cursor = bulk(&next);
                calls += 1;
                if cursor == b"0" {
                    break;
                }
            }
            let want: Fields = all
                .iter()
                .filter(|(f, _)| pattern == "*" || f.starts_with(b"f1"))
                .map(|(f, v)| (f.clone(), v.clone()))
                .collect();
            assert_eq!(seen, want, "HSCAN COUNT {count} MATCH {pattern}");
            if count == "5000" {
                assert_eq!(calls, 1, "a large COUNT walks the table in one call");
            } else {
                assert!(calls > 1, "COUNT {count} walked the table in one call");
            }
        }
    });
}

/// Hash writes and the keyspace events each fires (none for no-ops and
/// errors, `del` when the last field goes).
const EVENT_SCENARIO: &[&str] = &[
    "HSET h f v g w",
    "HSET h f v2",
    "HMSET h a 1",
    "HSETNX h a 2",
    "HSETNX h b 2",
    "HSETNX fresh f v",
    "HINCRBY h n 1",
    "HINCRBY h f 1",
    "HINCRBYFLOAT h x 1.5",
    "HINCRBYFLOAT h f 1",
    "HINCRBYFLOAT h x inf",
    "HDEL h nosuch",
    "HDEL missing f",
    "HDEL h f g",
    "HDEL h a b n x",
    "HDEL fresh f",
    "HGET h f",
    "SET str x",
    "HSET str f v",
    "HINCRBY str f 1",
];

/// Every frame connection `listener` receives up to the `sync` message.
fn events_until_sync(listener: &mut Conn) -> Vec<Frame> {
    let mut frames = Vec::new();
    loop {
        let f = listener.recv();
        let done = matches!(&f, Frame::Array(items) if items.len() == 3 && items[1] == Frame::Bulk("sync".into()));
        frames.push(f);
        if done {
            return frames;
        }
    }
}

#[test]
fn hash_keyspace_events_match_redis() {
    if !redis_installed() {
        return;
    }
    let args = ["--notify-keyspace-events", "KEA"];
    let servers = [
        Server::tessera(&args),
        Server::redis(&args).expect("redis-server is installed"),
    ];
    let mut conns: Vec<(Conn, Conn)> = servers
        .iter()
        .map(|s| {
            let (cmd, mut listener) = (s.conn(), s.conn());
            listener.cmd(&["PSUBSCRIBE", "__key*__:*"]);
            listener.cmd(&["SUBSCRIBE", "sync"]);
            (cmd, listener)
        })
        .collect();
    let mut events = 0;
    for line in EVENT_SCENARIO {
        let [tessera, redis] = [0, 1].map(|i| {
            let (cmd, listener) = &mut conns[i];
            cmd.cmd_str(line);
            cmd.cmd(&["PUBLISH", "sync", "done"]);
            events_until_sync(listener)
        });
        assert_eq!(tessera, redis, "keyspace events of {line}");
        events += tessera.len() - 1;
    }
    // Two messages (keyspace and keyevent) per event.
    assert_eq!(events, 2 * 13, "events seen");
}
