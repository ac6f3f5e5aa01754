//! DEBUG DIGEST and DEBUG DIGEST-VALUE against redis-server: the same
//! dataset, built with the same commands, digests to the same 40 hex
//! characters for every type and encoding, with and without TTLs.

use resp::Frame;

use crate::support::{Conn, Server, pretty_frame};

const ZEROS: &str = "0000000000000000000000000000000000000000";

/// Builds a dataset step by step; after each step, the digests to compare.
fn steps() -> Vec<Vec<Vec<String>>> {
    let to = |parts: &[&str]| parts.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let mut big_list = vec!["RPUSH".to_string(), "list:big".to_string()];
    let mut big_hash = vec!["HSET".to_string(), "hash:big".to_string()];
    let mut big_set = vec!["SADD".to_string(), "set:big".to_string()];
    let mut big_zset = vec!["ZADD".to_string(), "zset:big".to_string()];
    for i in 0..300 {
        big_list.push(if i % 2 == 0 { i.to_string() } else { format!("item-{i}") });
        big_hash.extend([format!("field-{i}"), format!("value-{i}")]);
        big_set.push(format!("member-{i}"));
        big_zset.extend([(f64::from(i) / 7.0).to_string(), format!("m-{i}")]);
    }
    vec![
        vec![to(&["SET", "str", "hello"])],
        vec![
            to(&["SET", "int", "12345"]),
            to(&["SET", "empty", ""]),
            to(&["SET", "neg", "-7"]),
        ],
        vec![to(&["RPUSH", "list", "a", "1", "-1", "70000", "b"])],
        vec![big_list],
        vec![to(&["HSET", "hash", "f1", "v1", "n", "42"]), big_hash],
        vec![
            to(&["SADD", "set:ints", "1", "-2", "70000"]),
            to(&["SADD", "set:strs", "x", "y"]),
            big_set,
        ],
        vec![
            to(&[
                "ZADD", "zset", "1", "a", "2.5", "b", "0.1", "c", "1e300", "d", "inf", "e", "-inf", "f", "-3", "7",
            ]),
            big_zset,
        ],
        vec![
            to(&["SET", "ttl:str", "v", "PX", "50000000"]),
            to(&["EXPIRE", "hash", "100000"]),
        ],
        vec![to(&["SELECT", "3"]), to(&["SET", "db3", "other"]), to(&["SELECT", "0"])],
        vec![to(&["PERSIST", "hash"]), to(&["DEL", "list"])],
    ]
}

const KEYS: &[&str] = &[
    "str", "int", "empty", "neg", "list", "list:big", "hash", "hash:big", "set:ints", "set:strs", "set:big", "zset",
    "zset:big", "ttl:str", "missing",
];

/// DEBUG DIGEST, then DEBUG DIGEST-VALUE of every key, as text.
fn digests(conn: &mut Conn) -> Vec<String> {
    let mut out = vec![pretty_frame(&conn.cmd(&["DEBUG", "DIGEST"]))];
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend_from_slice(KEYS);
    out.push(pretty_frame(&conn.cmd(&args)));
    out
}

#[test]
fn digests_match_redis_for_every_type() {
    let Some(redis) = Server::redis(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let tessera = Server::tessera(&["--enable-debug-command", "yes"]);
    let (mut r, mut t) = (redis.conn(), tessera.conn());
    for conn in [&mut r, &mut t] {
        assert_eq!(
            conn.cmd(&["DEBUG", "DIGEST"]),
            Frame::Simple(bytes::Bytes::from_static(ZEROS.as_bytes()))
        );
        let reply = conn.cmd(&["DEBUG", "DIGEST-VALUE", "nokey"]);
        assert_eq!(
            reply,
            Frame::Array(vec![Frame::Simple(bytes::Bytes::from_static(ZEROS.as_bytes()))])
        );
        assert_eq!(conn.cmd(&["DEBUG", "DIGEST-VALUE"]), Frame::Array(vec![]));
    }
    for (n, step) in steps().into_iter().enumerate() {
        for cmd in &step {
            let (a, b) = (r.cmd(cmd), t.cmd(cmd));
            assert_eq!(pretty_frame(&a), pretty_frame(&b), "step {n}: {cmd:?}");
        }
        let want = digests(&mut r);
        assert_ne!(want[0], format!("{ZEROS}\n"), "step {n}: redis digest is empty");
        assert_eq!(want, digests(&mut t), "step {n}: digests differ from redis-server");
    }
    // The same keys moved to another database digest differently.
    let before = digests(&mut t);
    for conn in [&mut r, &mut t] {
        assert_eq!(conn.cmd(&["MOVE", "str", "5"]), Frame::Integer(1));
    }
    let after = digests(&mut r);
    assert_ne!(before[0], after[0]);
    assert_eq!(after, digests(&mut t));
}
