//! Keyspace walks that a differential script cannot check: a full SCAN
//! returns every key present for the whole scan although the table grows
//! and shrinks between calls (cursor values and reply order depend on the
//! hash function, so they are not compared with Redis), and expired keys are
//! never returned. Each test also runs against `redis-server` when it is
//! installed, which checks the test's own expectations.

use std::collections::HashSet;

use resp::Frame;

use crate::support::{Conn, Server, redis_installed};

/// Runs `f` against tessera-node, then against redis-server if installed.
fn on_both(f: impl Fn(&mut Conn)) {
    let tessera = Server::tessera(&[]);
    f(&mut tessera.conn());
    if redis_installed() {
        let redis = Server::redis(&[]).expect("redis-server is installed");
        f(&mut redis.conn());
    }
}

/// Sends every command, then reads every reply (one round trip).
fn pipeline(conn: &mut Conn, commands: &[Vec<Vec<u8>>]) -> Vec<Frame> {
    for c in commands {
        conn.send(c);
    }
    commands.iter().map(|_| conn.recv()).collect()
}

fn set_all(conn: &mut Conn, keys: impl IntoIterator<Item = String>) {
    let cmds: Vec<Vec<Vec<u8>>> = keys
        .into_iter()
        .map(|k| vec![b"SET".to_vec(), k.into_bytes(), b"v".to_vec()])
        .collect();
    for reply in pipeline(conn, &cmds) {
        assert_eq!(reply, Frame::Simple("OK".into()));
    }
}

fn del_all(conn: &mut Conn, keys: impl IntoIterator<Item = String>) {
    let cmds: Vec<Vec<Vec<u8>>> = keys
        .into_iter()
        .map(|k| vec![b"DEL".to_vec(), k.into_bytes()])
        .collect();
    for reply in pipeline(conn, &cmds) {
        assert!(matches!(reply, Frame::Integer(1)), "DEL replied {reply:?}");
    }
}

/// One SCAN call: the next cursor and the keys.
fn scan(conn: &mut Conn, cursor: &[u8], extra: &[&str]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut args: Vec<&[u8]> = vec![b"SCAN", cursor];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    match conn.cmd(&args) {
        Frame::Array(parts) => match <[Frame; 2]>::try_from(parts) {
            Ok([Frame::Bulk(next), Frame::Array(keys)]) => {
                let keys = keys
                    .into_iter()
                    .map(|k| match k {
                        Frame::Bulk(b) => b.to_vec(),
                        other => panic!("SCAN returned a non-bulk key {other:?}"),
                    })
                    .collect();
                (next.to_vec(), keys)
            }
            Ok(other) => panic!("unexpected SCAN reply {other:?}"),
            Err(parts) => panic!("SCAN reply has {} elements", parts.len()),
        },
        other => panic!("unexpected SCAN reply {other:?}"),
    }
}

#[test]
fn full_scan_returns_every_stable_key_while_the_table_resizes() {
    const STABLE: usize = 1000;
    const CHURN: usize = 9000;
    on_both(|conn| {
        set_all(conn, (0..STABLE).map(|i| format!("stable:{i}")));
        for count in 1..=10usize {
            let count_arg = count.to_string();
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            let mut cursor = b"0".to_vec();
            // Churn keys alive right now, in insertion order.
            let mut churn: std::collections::VecDeque<usize> = Default::default();
            let mut next_churn = 0;
            let mut calls = 0;
            loop {
                let (next, keys) = scan(conn, &cursor, &["COUNT", &count_arg]);
                for k in keys {
                    assert!(
                        k.starts_with(b"stable:") || k.starts_with(b"churn:"),
                        "unknown key {k:?}"
                    );
                    seen.insert(k);
                }
                calls += 1;
                assert!(calls < 100_000, "SCAN COUNT {count} does not terminate");
                if next == b"0" {
                    break;
                }
                cursor = next;
                // Grow the table from 1000 to 10000 keys (1024 to 16384
                // buckets), then delete back to 1000, which is under a tenth
                // of the table and shrinks it: every resize and most rehash
                // steps happen in the middle of the scan.
                if next_churn < CHURN {
                    let batch = (next_churn..(next_churn + 100).min(CHURN)).collect::<Vec<_>>();
                    next_churn += batch.len();
                    set_all(conn, batch.iter().map(|i| format!("churn:{i}")));
                    churn.extend(batch);
                } else if !churn.is_empty() {
                    let n = churn.len().min(200);
                    del_all(conn, churn.drain(..n).map(|i| format!("churn:{i}")));
                }
            }
            let missed: Vec<usize> = (0..STABLE)
                .filter(|i| !seen.contains(format!("stable:{i}").as_bytes()))
                .collect();
            assert!(
                missed.is_empty(),
                "SCAN COUNT {count} ({calls} calls) missed stable keys {missed:?}"
            );
            del_all(conn, churn.drain(..).map(|i| format!("churn:{i}")));
        }
    });
}

#[test]
fn scan_skips_expired_keys_and_filters() {
    on_both(|conn| {
        set_all(conn, (0..200).map(|i| format!("k:{i}")));
        let expire: Vec<Vec<Vec<u8>>> = (0..200)
            .step_by(2)
            .map(|i| vec![b"PEXPIRE".to_vec(), format!("k:{i}").into_bytes(), b"20".to_vec()])
            .collect();
        for reply in pipeline(conn, &expire) {
            assert_eq!(reply, Frame::Integer(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(60));
        for extra in [
            &["COUNT", "7"][..],
            &["COUNT", "3", "MATCH", "k:*"],
            &["TYPE", "string", "COUNT", "5"],
        ] {
            let mut seen = HashSet::new();
            let mut cursor = b"0".to_vec();
            loop {
                let (next, keys) = scan(conn, &cursor, extra);
                seen.extend(keys);
                if next == b"0" {
                    break;
                }
                cursor = next;
            }
            let want: HashSet<Vec<u8>> = (1..200).step_by(2).map(|i| format!("k:{i}").into_bytes()).collect();
            assert_eq!(seen, want, "SCAN {extra:?}");
        }
        let (_, none) = scan(conn, b"0", &["MATCH", "k:1?", "TYPE", "hash", "COUNT", "1000"]);
        assert!(none.is_empty());
        let (cursor, some) = scan(conn, b"0", &["MATCH", "k:1?", "COUNT", "1000"]);
        assert_eq!(cursor, b"0");
        let mut some: Vec<String> = some.into_iter().map(|k| String::from_utf8(k).expect("ascii")).collect();
        some.sort();
        assert_eq!(some, ["k:11", "k:13", "k:15", "k:17", "k:19"]);
    });
}
