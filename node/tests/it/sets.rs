//! Properties of the random set commands that a differential script cannot
//! compare reply for reply: SRANDMEMBER and SPOP (how many members, distinct
//! or not, all from the set, SPOP removes exactly what it returns, the
//! encoding of what SPOP leaves), and full SSCAN walks over a table-encoded
//! set. Each test also runs against `redis-server` when it is installed,
//! which checks the test's own expectations.

use std::collections::{BTreeSet, HashMap};

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

type Members = BTreeSet<Vec<u8>>;

/// The bulk strings of an array or set reply, in reply order.
fn bulks(reply: Frame) -> Vec<Vec<u8>> {
    match reply {
        Frame::Array(items) | Frame::Set(items) => items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => b.to_vec(),
                other => panic!("expected a bulk string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn int(reply: Frame) -> i64 {
    match reply {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn cmd(conn: &mut Conn, args: &[&[u8]]) -> Frame {
    conn.cmd(args)
}

/// Creates `key` holding `members` (after deleting it) and returns them.
fn make_set(conn: &mut Conn, key: &str, members: &[String]) -> Members {
    cmd(conn, &[b"DEL", key.as_bytes()]);
    let mut args: Vec<&[u8]> = vec![b"SADD", key.as_bytes()];
    args.extend(members.iter().map(|m| m.as_bytes()));
    assert_eq!(int(conn.cmd(&args)), members.len() as i64);
    members.iter().map(|m| m.as_bytes().to_vec()).collect()
}

fn smembers(conn: &mut Conn, key: &str) -> Members {
    bulks(cmd(conn, &[b"SMEMBERS", key.as_bytes()])).into_iter().collect()
}

fn encoding(conn: &mut Conn, key: &str) -> Vec<u8> {
    match cmd(conn, &[b"OBJECT", b"ENCODING", key.as_bytes()]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("OBJECT ENCODING replied {other:?}"),
    }
}

fn ints(range: std::ops::Range<i64>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

fn strings(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i}")).collect()
}

/// The two encodings, small and large.
fn shapes() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("intset", ints(0..10)),
        ("intset", ints(-100..100)),
        ("hashtable", strings(10)),
        ("hashtable", strings(300)),
    ]
}

#[test]
fn srandmember_with_positive_count_returns_distinct_members() {
    on_both(|conn| {
        for (enc, members) in shapes() {
            let all = make_set(conn, "s", &members);
            assert_eq!(encoding(conn, "s"), enc.as_bytes());
            let size = members.len() as i64;
            // 1, small shares (sampling), large shares (subset of a copy),
            // the whole set and more.
            for count in [1, 2, size / 4, size / 3 + 1, size - 1, size, size + 5, 1000] {
                let got = bulks(cmd(conn, &[b"SRANDMEMBER", b"s", count.to_string().as_bytes()]));
                let want = count.min(size) as usize;
                assert_eq!(got.len(), want, "SRANDMEMBER s {count} on {enc} of {size}");
                let distinct: Members = got.iter().cloned().collect();
                assert_eq!(distinct.len(), want, "SRANDMEMBER s {count} repeated a member");
                assert!(distinct.is_subset(&all), "SRANDMEMBER s {count} made a member up");
            }
            assert_eq!(smembers(conn, "s"), all, "SRANDMEMBER changed the set");
        }
    });
}

#[test]
fn srandmember_with_negative_count_repeats_and_covers() {
    on_both(|conn| {
        for (enc, members) in shapes() {
            let all = make_set(conn, "s", &members);
            let size = members.len();
            // 50 draws per member on average: redis-server's draw from a
            // table (`dictGetFairRandomKey`) is only roughly uniform.
            let n = size * 50;
            let got = bulks(cmd(conn, &[b"SRANDMEMBER", b"s", format!("-{n}").as_bytes()]));
            assert_eq!(got.len(), n);
            let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
            for m in got {
                assert!(all.contains(&m), "made-up member {m:?} from {enc}");
                *seen.entry(m).or_default() += 1;
            }
            // Each member shows up, some more than once.
            assert_eq!(seen.len(), size, "not every member drawn from {enc} of {size}");
            assert!(seen.values().any(|&c| c > 1));
            let one = bulks(cmd(conn, &[b"SRANDMEMBER", b"s", b"-1"]));
            assert_eq!(one.len(), 1);
            // More than the set holds: still that many.
            let small = make_set(conn, "t", &ints(0..2));
            let got = bulks(cmd(conn, &[b"SRANDMEMBER", b"t", b"-7"]));
            assert_eq!(got.len(), 7);
            assert!(got.iter().all(|m| small.contains(m)));
        }
    });
}

#[test]
fn srandmember_without_count_is_a_member_and_fair() {
    on_both(|conn| {
        let all = make_set(conn, "s", &strings(5));
        let mut seen = Members::new();
        for _ in 0..200 {
            match cmd(conn, &[b"SRANDMEMBER", b"s"]) {
                Frame::Bulk(b) => {
                    assert!(all.contains(&b[..]));
                    seen.insert(b.to_vec());
                }
                other => panic!("SRANDMEMBER replied {other:?}"),
            }
        }
        assert_eq!(seen, all);
    });
}

#[test]
fn spop_removes_exactly_what_it_returns() {
    on_both(|conn| {
        for (enc, members) in shapes() {
            let size = members.len() as i64;
            // Few members (popped one by one) and most of them (the rest is
            // rebuilt as a new set).
            for count in [1, 2, size / 6, size / 2, size - size / 6, size - 1] {
                let all = make_set(conn, "s", &members);
                let got = bulks(cmd(conn, &[b"SPOP", b"s", count.to_string().as_bytes()]));
                assert_eq!(got.len(), count as usize, "SPOP s {count} on {enc} of {size}");
                let popped: Members = got.into_iter().collect();
                assert_eq!(popped.len(), count as usize, "SPOP s {count} repeated a member");
                assert!(popped.is_subset(&all));
                let left = smembers(conn, "s");
                assert_eq!(int(cmd(conn, &[b"SCARD", b"s"])), size - count);
                let want: Members = all.difference(&popped).cloned().collect();
                assert_eq!(
                    left, want,
                    "SPOP s {count} on {enc}: the rest is not what was not returned"
                );
            }
            // The whole set or more: everything, and the key is gone.
            for count in [size, size + 1, i64::MAX] {
                let all = make_set(conn, "s", &members);
                let got: Members = bulks(cmd(conn, &[b"SPOP", b"s", count.to_string().as_bytes()]))
                    .into_iter()
                    .collect();
                assert_eq!(got, all);
                assert_eq!(int(cmd(conn, &[b"EXISTS", b"s"])), 0);
            }
        }
    });
}

#[test]
fn spop_one_by_one_empties_the_set() {
    on_both(|conn| {
        for (_, members) in shapes() {
            let all = make_set(conn, "s", &members);
            let mut popped = Members::new();
            for _ in 0..members.len() {
                match cmd(conn, &[b"SPOP", b"s"]) {
                    Frame::Bulk(b) => assert!(popped.insert(b.to_vec()), "popped {b:?} twice"),
                    other => panic!("SPOP replied {other:?}"),
                }
            }
            assert_eq!(popped, all);
            assert_eq!(int(cmd(conn, &[b"EXISTS", b"s"])), 0);
            assert_eq!(cmd(conn, &[b"SPOP", b"s"]), Frame::Null);
        }
    });
}

#[test]
fn spop_of_most_members_rebuilds_the_rest_as_sadd_would() {
    on_both(|conn| {
        // A hashtable of integers (too many for an intset): popping all but
        // one rebuilds the remaining member as a new set, an intset.
        make_set(conn, "big", &ints(0..600));
        assert_eq!(encoding(conn, "big"), b"hashtable");
        bulks(cmd(conn, &[b"SPOP", b"big", b"599"]));
        assert_eq!(int(cmd(conn, &[b"SCARD", b"big"])), 1);
        assert_eq!(encoding(conn, "big"), b"intset");
        // Popping a few one by one keeps the table.
        make_set(conn, "big", &ints(0..600));
        bulks(cmd(conn, &[b"SPOP", b"big", b"10"]));
        assert_eq!(encoding(conn, "big"), b"hashtable");
        // Mixed members: the new set is an intset exactly when the one
        // member left is an integer.
        for _ in 0..20 {
            let members: Vec<String> = ["a", "1", "2", "3", "4", "5"].iter().map(|s| s.to_string()).collect();
            make_set(conn, "mix", &members);
            bulks(cmd(conn, &[b"SPOP", b"mix", b"5"]));
            let left = smembers(conn, "mix");
            let want: &[u8] = if left.contains(&b"a"[..]) {
                b"hashtable"
            } else {
                b"intset"
            };
            assert_eq!(encoding(conn, "mix"), want, "left {left:?}");
        }
    });
}

/// One SSCAN call: the next cursor and the members.
fn sscan(conn: &mut Conn, key: &str, cursor: &[u8], extra: &[&str]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut args: Vec<&[u8]> = vec![b"SSCAN", key.as_bytes(), cursor];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    match conn.cmd(&args) {
        Frame::Array(parts) => match <[Frame; 2]>::try_from(parts) {
            Ok([Frame::Bulk(next), members]) => (next.to_vec(), bulks(members)),
            Ok(other) => panic!("SSCAN replied {other:?}"),
            Err(parts) => panic!("SSCAN replied {parts:?}"),
        },
        other => panic!("SSCAN replied {other:?}"),
    }
}

#[test]
fn sscan_walks_a_table_and_returns_an_intset_at_once() {
    on_both(|conn| {
        let all = make_set(conn, "h", &strings(1000));
        let mut seen = Members::new();
        let mut cursor = b"0".to_vec();
        let mut calls = 0;
        loop {
            let (next, members) = sscan(conn, "h", &cursor, &["COUNT", "20"]);
            calls += 1;
            assert!(members.len() < 200, "COUNT 20 returned {}", members.len());
            seen.extend(members);
            cursor = next;
            if cursor == b"0" {
                break;
            }
        }
        assert_eq!(seen, all);
        assert!(calls > 10, "a 1000-member table took only {calls} calls");

        // MATCH filters what each step visited.
        let mut seen = Members::new();
        let mut cursor = b"0".to_vec();
        loop {
            let (next, members) = sscan(conn, "h", &cursor, &["MATCH", "m1*"]);
            seen.extend(members);
            cursor = next;
            if cursor == b"0" {
                break;
            }
        }
        let want: Members = all.iter().filter(|m| m.starts_with(b"m1")).cloned().collect();
        assert_eq!(seen, want);

        let ints = make_set(conn, "i", &ints(0..500));
        let (next, members) = sscan(conn, "i", b"0", &["COUNT", "1"]);
        assert_eq!(next, b"0");
        assert_eq!(members.into_iter().collect::<Members>(), ints);
    });
}
