//! Properties of sorted set commands that a differential script cannot
//! compare reply for reply: ZRANDMEMBER (how many members, distinct or not,
//! all from the set, scores that match, RESP3 pairs), full ZSCAN walks over
//! a skiplist-encoded set, and a differential run over a set large enough
//! for many chunks of the order index. The property tests also run against
//! `redis-server` when it is installed, which checks their expectations.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use resp::Frame;

use crate::diff::{Compare, Pair};
use crate::support::{Conn, Server, redis_installed, show_cmd};

/// Runs `f` against tessera-node, then against redis-server if installed.
fn on_both(f: impl Fn(&mut Conn)) {
    let tessera = Server::tessera(&[]);
    f(&mut tessera.conn());
    if redis_installed() {
        let redis = Server::redis(&[]).expect("redis-server is installed");
        f(&mut redis.conn());
    }
}

fn bulk(f: &Frame) -> Vec<u8> {
    match f {
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

fn score(f: &Frame) -> f64 {
    match f {
        Frame::Double(d) => *d,
        Frame::Bulk(b) => std::str::from_utf8(b).expect("ascii").parse().expect("a score"),
        other => panic!("expected a score, got {other:?}"),
    }
}

/// Creates `key` with `n` members `m0..` (scores `i * 1.5`), padded to
/// `width` bytes; returns member → score.
fn make_zset(conn: &mut Conn, key: &str, n: usize, width: usize) -> BTreeMap<Vec<u8>, f64> {
    conn.cmd(&["DEL", key]);
    let mut want = BTreeMap::new();
    let mut args = vec![b"ZADD".to_vec(), key.as_bytes().to_vec()];
    for i in 0..n {
        let member = format!("m{i:0>width$}").into_bytes();
        let s = i as f64 * 1.5;
        args.push(s.to_string().into_bytes());
        args.push(member.clone());
        want.insert(member, s);
    }
    assert_eq!(conn.cmd(&args), Frame::Integer(n as i64));
    want
}

/// (member, score) pairs of a flat RESP2 WITHSCORES reply.
fn flat_pairs(reply: Frame) -> Vec<(Vec<u8>, f64)> {
    let v = items(reply);
    assert_eq!(v.len() % 2, 0);
    v.chunks(2).map(|p| (bulk(&p[0]), score(&p[1]))).collect()
}

fn check_zrandmember(conn: &mut Conn, key: &str, want: &BTreeMap<Vec<u8>, f64>) {
    let size = want.len();
    for count in [1, 2, 5, size - 1, size, size + 7, 3 * size] {
        let got: Vec<Vec<u8>> = items(conn.cmd(&["ZRANDMEMBER", key, &count.to_string()]))
            .iter()
            .map(bulk)
            .collect();
        assert_eq!(got.len(), count.min(size), "ZRANDMEMBER {key} {count}");
        let distinct: BTreeSet<_> = got.iter().collect();
        assert_eq!(distinct.len(), got.len(), "distinct for positive count {count}");
        assert!(got.iter().all(|m| want.contains_key(m)));
        let pairs = flat_pairs(conn.cmd(&["ZRANDMEMBER", key, &count.to_string(), "WITHSCORES"]));
        assert_eq!(pairs.len(), count.min(size));
        for (m, s) in &pairs {
            assert_eq!(want.get(m), Some(s), "score of {m:?}");
        }
    }
    // Negative counts: exactly that many, repeats allowed (and, for many
    // picks from a small set, certain).
    for count in [1usize, 3, size, 10 * size] {
        let got: Vec<Vec<u8>> = items(conn.cmd(&["ZRANDMEMBER", key, &format!("-{count}")]))
            .iter()
            .map(bulk)
            .collect();
        assert_eq!(got.len(), count);
        assert!(got.iter().all(|m| want.contains_key(m)));
        if count == 10 * size && size > 1 {
            let distinct: BTreeSet<_> = got.iter().collect();
            assert!(distinct.len() < got.len(), "repeats expected");
            assert!(distinct.len() > 1, "more than one member expected");
        }
        let pairs = flat_pairs(conn.cmd(&["ZRANDMEMBER", key, &format!("-{count}"), "WITHSCORES"]));
        assert_eq!(pairs.len(), count);
        assert!(pairs.iter().all(|(m, s)| want.get(m) == Some(s)));
    }
    // Without a count: one member; every member eventually.
    let mut seen = BTreeSet::new();
    for _ in 0..40 * size {
        seen.insert(bulk(&conn.cmd(&["ZRANDMEMBER", key])));
    }
    assert_eq!(seen.len(), size, "every member is drawn");
    // RESP3: [member, double] pairs.
    conn.cmd(&["HELLO", "3"]);
    for count in ["3", "-3", "1000"] {
        for pair in items(conn.cmd(&["ZRANDMEMBER", key, count, "WITHSCORES"])) {
            let p = items(pair);
            assert_eq!(p.len(), 2);
            assert!(matches!(p[1], Frame::Double(_)), "a double score");
            assert_eq!(want.get(&bulk(&p[0])), Some(&score(&p[1])));
        }
    }
    conn.cmd(&["HELLO", "2"]);
}

#[test]
fn zrandmember_listpack_and_skiplist() {
    on_both(|conn| {
        let small = make_zset(conn, "small", 10, 1);
        assert_eq!(
            conn.cmd(&["OBJECT", "ENCODING", "small"]),
            Frame::Bulk("listpack".into())
        );
        check_zrandmember(conn, "small", &small);
        let big = make_zset(conn, "big", 300, 4);
        assert_eq!(conn.cmd(&["OBJECT", "ENCODING", "big"]), Frame::Bulk("skiplist".into()));
        check_zrandmember(conn, "big", &big);
        let one = make_zset(conn, "one", 1, 1);
        check_zrandmember(conn, "one", &one);
    });
}

#[test]
fn zscan_walks_every_member_of_a_skiplist() {
    on_both(|conn| {
        let want = make_zset(conn, "big", 1000, 3);
        for (count, pattern) in [("1", None), ("7", None), ("100", None), ("10", Some("m0*"))] {
            let mut seen = BTreeMap::new();
            let mut cursor = b"0".to_vec();
            let mut calls = 0;
            loop {
                let mut args = vec![
                    b"ZSCAN".to_vec(),
                    b"big".to_vec(),
                    cursor.clone(),
                    b"COUNT".to_vec(),
                    count.into(),
                ];
                if let Some(p) = pattern {
                    args.extend([b"MATCH".to_vec(), p.into()]);
                }
                let reply = items(conn.cmd(&args));
                cursor = bulk(&reply[0]);
                for (m, s) in flat_pairs(reply[1].clone()) {
                    seen.insert(m, s);
                }
                calls += 1;
                if cursor == b"0" {
                    break;
                }
                assert!(calls < 100_000, "the scan ends");
            }
            let expect: BTreeMap<Vec<u8>, f64> = want
                .iter()
                .filter(|(m, _)| pattern.is_none() || m.starts_with(b"m0"))
                .map(|(m, s)| (m.clone(), *s))
                .collect();
            assert_eq!(seen, expect, "COUNT {count} MATCH {pattern:?}");
        }
    });
}

/// A differential run over one set of a few thousand members: random
/// updates, removals and queries by rank, score and lex (all scores equal
/// in the lex set), compared with redis-server reply for reply.
#[test]
fn big_sets_match_redis() {
    let Some(mut pair) = Pair::start(&[]) else { return };
    let seed: u64 = match std::env::var("TESSERA_SEED") {
        Ok(s) => s.trim().parse().expect("TESSERA_SEED must be a u64"),
        Err(_) => StdRng::from_os_rng().random(),
    };
    eprintln!("zsets: TESSERA_SEED={seed}");
    let mut r = StdRng::seed_from_u64(seed);
    let mut run = |args: Vec<String>| {
        let [t, rr] = pair.run(0, &args);
        assert!(
            t.matches(&rr, Compare::Exact),
            "seed {seed}: {}\n  tessera: {}\n  redis:   {}",
            show_cmd(&args),
            t.show(),
            rr.show()
        );
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    // Build both sets in batches.
    for batch in 0..20 {
        let mut a = s(&["ZADD", "z"]);
        let mut l = s(&["ZADD", "lex"]);
        for i in 0..200 {
            let n = batch * 200 + i;
            a.push(r.random_range(-500i32..500).to_string());
            a.push(format!("m{}", r.random_range(0..6000)));
            l.push("0".into());
            l.push(format!("{n:x}"));
        }
        run(a);
        run(l);
    }
    for _ in 0..3000 {
        let idx = |r: &mut StdRng| r.random_range(-4500i64..4500).to_string();
        let bound = |r: &mut StdRng| {
            let v = r.random_range(-520i32..520);
            if r.random_ratio(1, 3) {
                format!("({v}")
            } else {
                v.to_string()
            }
        };
        let lexb = |r: &mut StdRng| match r.random_range(0..10) {
            0 => "-".to_string(),
            1 => "+".to_string(),
            n => format!("{}{:x}", if n % 2 == 0 { "[" } else { "(" }, r.random_range(0..4200)),
        };
        let member = |r: &mut StdRng| format!("m{}", r.random_range(0..6000));
        let cmd = match r.random_range(0..16) {
            0..=2 => s(&["ZADD", "z", &r.random_range(-500i32..500).to_string(), &member(&mut r)]),
            3 => s(&[
                "ZINCRBY",
                "z",
                &format!("{:.1}", r.random_range(-5.0f64..5.0)),
                &member(&mut r),
            ]),
            4 => s(&["ZREM", "z", &member(&mut r), &member(&mut r)]),
            5 => s(&[if r.random() { "ZRANK" } else { "ZREVRANK" }, "z", &member(&mut r)]),
            6 => s(&["ZRANGE", "z", &idx(&mut r), &idx(&mut r), "WITHSCORES"]),
            7 => {
                let (a, b) = (bound(&mut r), bound(&mut r));
                let off = r.random_range(0..50).to_string();
                let cnt = r.random_range(-1..40).to_string();
                if r.random() {
                    s(&["ZRANGE", "z", &a, &b, "BYSCORE", "LIMIT", &off, &cnt, "WITHSCORES"])
                } else {
                    s(&["ZRANGE", "z", &a, &b, "BYSCORE", "REV", "LIMIT", &off, &cnt])
                }
            }
            8 => s(&["ZCOUNT", "z", &bound(&mut r), &bound(&mut r)]),
            9 => {
                let (a, b) = (lexb(&mut r), lexb(&mut r));
                let off = r.random_range(0..50).to_string();
                let cnt = r.random_range(-1..40).to_string();
                if r.random() {
                    s(&["ZRANGE", "lex", &a, &b, "BYLEX", "LIMIT", &off, &cnt])
                } else {
                    s(&["ZRANGE", "lex", &a, &b, "BYLEX", "REV", "LIMIT", &off, &cnt])
                }
            }
            10 => s(&["ZLEXCOUNT", "lex", &lexb(&mut r), &lexb(&mut r)]),
            11 => {
                let n = r.random_range(0..30) as i64;
                let start = r.random_range(0..4000i64);
                s(&["ZREMRANGEBYRANK", "z", &start.to_string(), &(start + n).to_string()])
            }
            12 => {
                let v = r.random_range(-500i32..500);
                s(&[
                    "ZREMRANGEBYSCORE",
                    "z",
                    &v.to_string(),
                    &format!("({}", v + r.random_range(0..4)),
                ])
            }
            13 => {
                let v = r.random_range(0..4200);
                s(&[
                    "ZREMRANGEBYLEX",
                    "lex",
                    &format!("[{v:x}"),
                    &format!("({:x}", v + r.random_range(0..20)),
                ])
            }
            14 => s(&[
                if r.random() { "ZPOPMIN" } else { "ZPOPMAX" },
                "z",
                &r.random_range(0..5).to_string(),
            ]),
            _ => s(&["ZADD", "lex", "0", &format!("{:x}", r.random_range(0..4200))]),
        };
        run(cmd);
    }
    run(s(&["ZCARD", "z"]));
    run(s(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]));
    run(s(&["ZRANGE", "lex", "0", "-1"]));
    run(s(&["OBJECT", "ENCODING", "z"]));
}
