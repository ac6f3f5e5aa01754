//! Routing: what the proxy answers equals what one node answers.

use crate::support::*;
use resp::Frame;

/// A tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_command(rng: &mut Rng) -> Vec<String> {
    let key = |rng: &mut Rng| format!("key:{}", rng.below(60));
    let val = |rng: &mut Rng| format!("v{}", rng.below(1000));
    let k = key(rng);
    let cmd: Vec<String> = match rng.below(22) {
        0 => vec!["SET".into(), k, val(rng)],
        1 => vec!["GET".into(), k],
        2 => vec!["INCR".into(), format!("n:{}", rng.below(20))],
        3 => vec!["MGET".into(), k, key(rng), key(rng), key(rng)],
        4 => vec!["MSET".into(), k, val(rng), key(rng), val(rng), key(rng), val(rng)],
        5 => vec!["DEL".into(), k, key(rng), key(rng)],
        6 => vec!["EXISTS".into(), k, key(rng), key(rng)],
        7 => vec!["LPUSH".into(), format!("l:{}", rng.below(10)), val(rng), val(rng)],
        8 => vec!["LRANGE".into(), format!("l:{}", rng.below(10)), "0".into(), "-1".into()],
        9 => vec!["HSET".into(), format!("h:{}", rng.below(10)), val(rng), val(rng)],
        10 => vec!["HGETALL".into(), format!("h:{}", rng.below(10))],
        11 => vec!["SADD".into(), format!("s:{}", rng.below(10)), val(rng)],
        12 => vec!["SCARD".into(), format!("s:{}", rng.below(10))],
        13 => vec![
            "ZADD".into(),
            format!("z:{}", rng.below(10)),
            rng.below(100).to_string(),
            val(rng),
        ],
        14 => vec![
            "ZRANGE".into(),
            format!("z:{}", rng.below(10)),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
        15 => vec!["APPEND".into(), k, val(rng)],
        16 => vec!["UNLINK".into(), k, key(rng)],
        17 => vec!["TOUCH".into(), k, key(rng)],
        18 => vec!["EXPIRE".into(), k, "1000".into()],
        19 => vec!["TTL".into(), k],
        20 => vec!["TYPE".into(), k],
        _ => vec!["PING".into()],
    };
    cmd
}

/// Runs `commands` as one pipeline and returns the replies.
fn pipeline(conn: &mut Conn, commands: &[Vec<String>]) -> Vec<Frame> {
    let mut bytes = Vec::new();
    for c in commands {
        bytes.extend_from_slice(&multibulk(c));
    }
    conn.send_raw(&bytes).expect("send pipeline");
    commands.iter().map(|_| conn.recv()).collect()
}

#[test]
fn pipelines_equal_a_single_node() {
    let cluster = Cluster::start();
    let single = node();
    let mut rng = Rng(0x5eed_1234_5678);
    let commands: Vec<Vec<String>> = (0..5000).map(|_| random_command(&mut rng)).collect();
    let mut via_proxy = cluster.conn();
    let mut direct = single.conn();
    for chunk in commands.chunks(1000) {
        let a = pipeline(&mut via_proxy, chunk);
        let b = pipeline(&mut direct, chunk);
        for ((cmd, x), y) in chunk.iter().zip(&a).zip(&b) {
            assert_eq!(x, y, "reply to {cmd:?} differs (proxy vs single node)");
        }
    }
    // The keys really are spread over the three shards.
    for shard in &cluster.shards {
        let Frame::Integer(n) = shard.conn().cmd(&["DBSIZE"]) else {
            panic!("dbsize")
        };
        assert!(n > 0, "a shard holds no key");
    }
}

#[test]
fn multi_key_commands_split_across_shards() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    let keys: Vec<String> = (0..3).map(|s| key_on(s, 1)).collect();
    assert_eq!(
        c.cmd(&["MSET", &keys[0], "a", &keys[1], "b", &keys[2], "c"]),
        simple("OK")
    );
    for (i, shard) in cluster.shards.iter().enumerate() {
        assert_eq!(
            shard.conn().cmd(&["GET", &keys[i]]),
            bulk(["a", "b", "c"][i]),
            "key {i} on its shard"
        );
    }
    assert_eq!(
        c.cmd(&["MGET", &keys[2], "missing", &keys[0], &keys[1], &keys[2]]),
        Frame::Array(vec![bulk("c"), Frame::Null, bulk("a"), bulk("b"), bulk("c")])
    );
    assert_eq!(
        c.cmd(&["EXISTS", &keys[0], &keys[1], &keys[2], &keys[0], "missing"]),
        Frame::Integer(4)
    );
    assert_eq!(c.cmd(&["TOUCH", &keys[0], &keys[1]]), Frame::Integer(2));
    assert_eq!(c.cmd(&["DEL", &keys[0], &keys[1], "missing"]), Frame::Integer(2));
    assert_eq!(c.cmd(&["UNLINK", &keys[2]]), Frame::Integer(1));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(0));
    // Atomic multi-key commands need one slot.
    let crossslot = "CROSSSLOT Keys in request don't hash to the same slot";
    assert_eq!(err_text(&c.cmd(&["MSETNX", &keys[0], "1", &keys[1], "2"])), crossslot);
    assert_eq!(err_text(&c.cmd(&["RENAME", &keys[0], &keys[1]])), crossslot);
    assert_eq!(err_text(&c.cmd(&["SINTER", &keys[0], &keys[1]])), crossslot);
    assert_eq!(c.cmd(&["MSETNX", "{t}a", "1", "{t}b", "2"]), Frame::Integer(1));
    assert_eq!(c.cmd(&["RENAME", "{t}a", "{t}c"]), simple("OK"));
    assert_eq!(
        c.cmd(&["MGET", "{t}a", "{t}b", "{t}c"]),
        Frame::Array(vec![Frame::Null, bulk("2"), bulk("1")])
    );
    assert_eq!(
        err_text(&c.cmd(&["MSET", "a"])),
        "ERR wrong number of arguments for 'mset' command"
    );
}

#[test]
fn fan_out_commands_cover_every_shard() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    let mut all: Vec<String> = (0..300).map(|i| format!("scan:{i}")).collect();
    for k in &all {
        assert_eq!(c.cmd(&["SET", k, "1"]), simple("OK"));
    }
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(300));
    let Frame::Array(keys) = c.cmd(&["KEYS", "scan:*"]) else {
        panic!("keys")
    };
    assert_eq!(keys.len(), 300);
    // A full SCAN walk returns every key (once, as nothing changes meanwhile).
    let mut cursor = "0".to_owned();
    let mut seen = Vec::new();
    loop {
        let Frame::Array(reply) = c.cmd(&["SCAN", &cursor, "COUNT", "20"]) else {
            panic!("scan")
        };
        let (Frame::Bulk(next), Frame::Array(batch)) = (&reply[0], &reply[1]) else {
            panic!("scan reply")
        };
        seen.extend(batch.iter().map(|k| match k {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        }));
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    all.sort();
    assert_eq!(seen, all);
    let Frame::Bulk(random) = c.cmd(&["RANDOMKEY"]) else {
        panic!("randomkey")
    };
    assert!(random.starts_with(b"scan:"));
    let Frame::Bulk(info) = c.cmd(&["INFO", "keyspace"]) else {
        panic!("info")
    };
    assert!(
        String::from_utf8_lossy(&info).contains("db0:keys=300,"),
        "{}",
        String::from_utf8_lossy(&info)
    );
    assert_eq!(c.cmd(&["FLUSHDB"]), simple("OK"));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(0));
    assert_eq!(c.cmd(&["RANDOMKEY"]), Frame::Null);
    assert_eq!(err_text(&c.cmd(&["SCAN", "x"])), "ERR invalid cursor");
}

#[test]
fn local_unknown_and_unsupported_commands_keep_the_connection() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["ECHO", "hi"]), bulk("hi"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "me"]), simple("OK"));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("me"));
    assert!(matches!(c.cmd(&["CLIENT", "ID"]), Frame::Integer(n) if n > 0));
    assert_eq!(c.cmd(&["SELECT", "0"]), simple("OK"));
    assert_eq!(err_text(&c.cmd(&["SELECT", "1"])), "ERR DB index is out of range");
    assert_eq!(
        err_text(&c.cmd(&["CONFIG", "GET", "maxmemory"])),
        "ERR command 'config' is not supported by the proxy"
    );
    assert_eq!(
        err_text(&c.cmd(&["NOSUCH", "a"])),
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' "
    );
    assert_eq!(
        err_text(&c.cmd(&["GET"])),
        "ERR wrong number of arguments for 'get' command"
    );
    assert!(matches!(c.cmd(&["COMMAND", "COUNT"]), Frame::Integer(n) if n > 100));
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.cmd(&["QUIT"]), simple("OK"));
    assert!(c.closed());
}

#[test]
fn redis_benchmark_and_cli_work_through_the_proxy() {
    let cluster = Cluster::start();
    let port = cluster.proxy.port.to_string();
    let out = std::process::Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-n",
            "2000",
            "-c",
            "10",
            "-P",
            "8",
            "-t",
            "set,get,mset",
            "-q",
        ])
        .output();
    let Ok(out) = out else {
        eprintln!("skipping: redis-benchmark not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for t in ["SET", "GET", "MSET"] {
        assert!(
            text.contains(&format!("{t}: ")) || text.contains(&format!("{t} (10 keys)")),
            "{t} missing: {text}"
        );
    }
    let out = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port, "mget", "key:__rand_int__", "nothere"])
        .output()
        .expect("redis-cli");
    assert!(out.status.success());
    // redis-benchmark wrote 3-byte values under key:__rand_int__.
    let Frame::Bulk(value) = cluster.conn().cmd(&["GET", "key:__rand_int__"]) else {
        panic!("value")
    };
    assert_eq!(value.len(), 3);
    assert_eq!(out.stdout, [&value[..], b"\n\n"].concat());
}
