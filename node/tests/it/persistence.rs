//! RDB persistence against the real tools: files written here pass
//! `redis-check-rdb` and load into `redis-server` with every key, value,
//! encoding and TTL equal; files and DUMP payloads written by `redis-server`
//! load here the same way; BGSAVE, LASTSAVE, restart, MISCONF after a failed
//! save, and a crash during BGSAVE that leaves a loadable file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use resp::Frame;

use crate::support::{Conn, Server, pretty_frame, show, tool_installed};

/// Writes one key of every type and encoding (small and large
/// collections, integers of each width, long compressible strings, TTLs)
/// into databases 0 and 3.
fn populate(conn: &mut Conn) {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut c = |parts: &[&str]| cmds.push(parts.iter().map(|s| (*s).to_string()).collect());
    c(&["SET", "str:small", "hello"]);
    c(&["SET", "str:int8", "12"]);
    c(&["SET", "str:int16", "-3000"]);
    c(&["SET", "str:int32", "2000000000"]);
    c(&["SET", "str:int64", "9223372036854775807"]);
    c(&["SET", "str:notint", "007"]);
    c(&["SET", "str:empty", ""]);
    let long = "abcdefgh".repeat(500);
    c(&["SET", "str:lzf", &long]);
    c(&["SET", "str:ttl", "v", "PX", "5000000"]);
    c(&["RPUSH", "list:small", "a", "1", "-1", "300", "70000", "x"]);
    c(&["HSET", "hash:small", "f1", "v1", "n", "42"]);
    c(&["SADD", "set:ints", "1", "-2", "70000", "-5000000000"]);
    c(&["SADD", "set:strs", "a", "b", "c"]);
    c(&[
        "ZADD",
        "zset:small",
        "1",
        "a",
        "2.5",
        "b",
        "-3",
        "c",
        "1e300",
        "d",
        "inf",
        "e",
        "-inf",
        "f",
        "0.1",
        "g",
    ]);
    c(&["SELECT", "3"]);
    c(&["SET", "db3:key", "other db", "EX", "100000"]);
    c(&["SELECT", "0"]);
    for (name, n) in [("big", 2000), ("mid", 200)] {
        for i in 0..n {
            let (i, f) = (i.to_string(), f64::from(i) / 7.0);
            c(&["RPUSH", &format!("list:{name}"), &format!("element-{i}")]);
            c(&["HSET", &format!("hash:{name}"), &format!("field-{i}"), &i]);
            c(&["SADD", &format!("set:{name}"), &format!("m{i}")]);
            c(&["SADD", &format!("set:{name}ints"), &i]);
            c(&["ZADD", &format!("zset:{name}"), &f.to_string(), &format!("m{i}")]);
        }
    }
    c(&["HSET", "hash:longval", "f", &long]);
    c(&["ZADD", "zset:longmember", "1", &long]);
    for chunk in cmds.chunks(500) {
        for cmd in chunk {
            conn.send(cmd);
        }
        for cmd in chunk {
            let reply = conn.recv();
            assert!(!matches!(reply, Frame::Error(_)), "{cmd:?}: {}", pretty_frame(&reply));
        }
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => String::from_utf8_lossy(b).into_owned(),
        other => pretty_frame(other),
    }
}

fn sorted(f: Frame) -> String {
    let mut items: Vec<String> = match f {
        Frame::Array(items) => items.iter().map(text).collect(),
        other => vec![pretty_frame(&other)],
    };
    items.sort();
    items.join(",")
}

/// Every key of databases 0..4 with its type, encoding, value (collections
/// in a canonical order) and whether it has a TTL, plus the TTLs.
fn snapshot(conn: &mut Conn) -> (BTreeMap<String, String>, BTreeMap<String, i64>) {
    let mut keys = BTreeMap::new();
    let mut ttls = BTreeMap::new();
    for db in 0..4 {
        conn.cmd(&["SELECT", &db.to_string()]);
        let Frame::Array(names) = conn.cmd(&["KEYS", "*"]) else {
            panic!("KEYS")
        };
        for name in names.iter().map(text) {
            let ty = text(&conn.cmd(&["TYPE", &name]));
            let value = match ty.as_str() {
                "string" => text(&conn.cmd(&["GET", &name])),
                "list" => pretty_frame(&conn.cmd(&["LRANGE", &name, "0", "-1"])),
                "hash" => sorted(conn.cmd(&["HGETALL", &name])),
                "set" => sorted(conn.cmd(&["SMEMBERS", &name])),
                "zset" => pretty_frame(&conn.cmd(&["ZRANGE", &name, "0", "-1", "WITHSCORES"])),
                other => panic!("unexpected type {other}"),
            };
            let encoding = text(&conn.cmd(&["OBJECT", "ENCODING", &name]));
            let Frame::Integer(pttl) = conn.cmd(&["PTTL", &name]) else {
                panic!("PTTL")
            };
            keys.insert(
                format!("{db}:{name}"),
                format!("{ty} {encoding} ttl:{} {value}", pttl > 0),
            );
            if pttl > 0 {
                ttls.insert(format!("{db}:{name}"), pttl);
            }
        }
    }
    conn.cmd(&["SELECT", "0"]);
    (keys, ttls)
}

fn assert_same_dataset(from: &mut Conn, to: &mut Conn) {
    let (a, a_ttl) = snapshot(from);
    let (b, b_ttl) = snapshot(to);
    assert!(a.len() > 20, "the dataset is populated");
    for (k, v) in &a {
        assert_eq!(Some(v), b.get(k), "key {k}");
    }
    assert_eq!(a.len(), b.len(), "same keys");
    for (k, t) in &a_ttl {
        let other = b_ttl[k];
        assert!((t - other).abs() < 60_000, "TTL of {k}: {t} vs {other}");
    }
}

fn copy_dump(from: &Path, to: &Path) {
    std::fs::copy(from.join("dump.rdb"), to.join("dump.rdb")).expect("copy dump.rdb");
}

fn dir_arg(dir: &Path) -> String {
    dir.to_str().expect("UTF-8 temp dir").to_owned()
}

#[test]
fn our_rdb_passes_redis_check_rdb_and_loads_into_redis() {
    if !tool_installed("redis-check-rdb") || !crate::support::redis_installed() {
        return;
    }
    let tessera = Server::tessera(&[]);
    let mut t = tessera.conn();
    populate(&mut t);
    assert_eq!(text(&t.cmd(&["SAVE"])), "OK");
    let file = tessera.dir().join("dump.rdb");
    let check = Command::new("redis-check-rdb")
        .arg(&file)
        .output()
        .expect("run redis-check-rdb");
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && out.contains("RDB looks OK"), "{out}");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dump(tessera.dir(), dir.path());
    let redis = redis_or_skip!(&["--dir", &dir_arg(dir.path())]);
    assert_same_dataset(&mut t, &mut redis.conn());
}

#[test]
fn redis_rdb_loads_into_tessera() {
    let redis = redis_or_skip!(&[]);
    let mut r = redis.conn();
    populate(&mut r);
    assert_eq!(text(&r.cmd(&["SAVE"])), "OK");
    for compression in ["yes", "no"] {
        r.cmd(&["CONFIG", "SET", "rdbcompression", compression]);
        assert_eq!(text(&r.cmd(&["SAVE"])), "OK");
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dump(redis.dir(), dir.path());
        let tessera = Server::tessera(&["--dir", &dir_arg(dir.path()), "--enable-debug-command", "yes"]);
        let mut t = tessera.conn();
        assert_same_dataset(&mut r, &mut t);
        // And back through tessera's own writer and loader.
        assert_eq!(text(&t.cmd(&["DEBUG", "RELOAD"])), "OK");
        assert_same_dataset(&mut r, &mut t);
    }
}

#[test]
fn dump_and_restore_interchange_with_redis() {
    let redis = redis_or_skip!(&[]);
    let tessera = Server::tessera(&[]);
    let (mut r, mut t) = (redis.conn(), tessera.conn());
    populate(&mut r);
    populate(&mut t);
    let Frame::Array(names) = r.cmd(&["KEYS", "*"]) else {
        panic!("KEYS")
    };
    for name in names.iter().map(text) {
        // redis → tessera and tessera → redis, under new names.
        let from_redis = r.cmd(&["DUMP", &name]);
        let from_tessera = t.cmd(&["DUMP", &name]);
        let (Frame::Bulk(rp), Frame::Bulk(tp)) = (&from_redis, &from_tessera) else {
            panic!("DUMP {name}")
        };
        assert_eq!(
            text(&t.cmd(&[b"RESTORE".as_slice(), format!("r:{name}").as_bytes(), b"0", rp])),
            "OK"
        );
        assert_eq!(
            text(&r.cmd(&[b"RESTORE".as_slice(), format!("r:{name}").as_bytes(), b"0", tp])),
            "OK"
        );
    }
    r.cmd(&["DEL", "str:ttl"]);
    t.cmd(&["DEL", "str:ttl"]);
    assert_same_dataset(&mut r, &mut t);
}

#[test]
fn restore_replies_match_redis() {
    let redis = redis_or_skip!(&[]);
    let tessera = Server::tessera(&[]);
    let (mut r, mut t) = (redis.conn(), tessera.conn());
    for c in [&mut r, &mut t] {
        c.cmd(&["RPUSH", "src", "a", "b"]);
        c.cmd(&["SET", "busy", "x"]);
    }
    let Frame::Bulk(payload) = r.cmd(&["DUMP", "src"]) else {
        panic!("DUMP")
    };
    let mut corrupt = payload.to_vec();
    corrupt[2] ^= 0xff;
    let mut bad_body = payload[..payload.len() - 10].to_vec();
    bad_body.truncate(bad_body.len() - 1);
    bad_body.extend_from_slice(&payload[payload.len() - 10..payload.len() - 8]);
    let crc = redis_crc64(&bad_body);
    bad_body.extend_from_slice(&crc.to_le_bytes());
    let p = payload.as_ref();
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![b"RESTORE", b"busy", b"0", p],
        vec![b"RESTORE", b"k1", b"-1", p],
        vec![b"RESTORE", b"k1", b"abc", p],
        vec![b"RESTORE", b"k1", b"0", &corrupt],
        vec![b"RESTORE", b"k1", b"0", b"short"],
        vec![b"RESTORE", b"k1", b"0", &bad_body],
        vec![b"RESTORE", b"k1", b"0", p, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"k1", b"0", p, b"FREQ", b"256"],
        vec![b"RESTORE", b"k1", b"0", p, b"IDLETIME", b"1", b"FREQ", b"1"],
        vec![b"RESTORE", b"k1", b"0", p, b"BOGUS"],
        vec![b"RESTORE", b"busy", b"0", p, b"REPLACE", b"IDLETIME", b"100"],
        vec![b"TYPE", b"busy"],
        vec![b"OBJECT", b"IDLETIME", b"busy"],
        vec![b"RESTORE", b"k2", b"1000", p, b"ABSTTL"],
        vec![b"EXISTS", b"k2"],
        vec![b"RESTORE", b"busy", b"1", p, b"REPLACE", b"ABSTTL"],
        vec![b"EXISTS", b"busy"],
        vec![b"RESTORE", b"k3", b"100000", p],
        vec![b"TTL", b"k3"],
        vec![b"DUMP", b"nokey"],
    ];
    for case in cases {
        let (a, b) = (r.cmd(&case), t.cmd(&case));
        assert_eq!(
            pretty_frame(&a),
            pretty_frame(&b),
            "{:?}",
            case.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>()
        );
    }
}

/// Redis's CRC-64, to build payloads with a valid checksum but a bad body.
fn redis_crc64(bytes: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in bytes {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn info_field(conn: &mut Conn, field: &str) -> String {
    let body = text(&conn.cmd(&["INFO", "persistence"]));
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .to_owned()
}

fn wait_for(conn: &mut Conn, field: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(conn, field) != want {
        assert!(Instant::now() < deadline, "{field} never became {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bgsave_lastsave_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir_arg(dir.path());
    let tessera = Server::tessera(&["--dir", &d]);
    let mut t = tessera.conn();
    populate(&mut t);
    assert_eq!(info_field(&mut t, "rdb_saves"), "0");
    assert_ne!(info_field(&mut t, "rdb_changes_since_last_save"), "0");
    assert_eq!(text(&t.cmd(&["BGSAVE"])), "Background saving started");
    wait_for(&mut t, "rdb_bgsave_in_progress", "0");
    assert_eq!(info_field(&mut t, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut t, "rdb_saves"), "1");
    assert_eq!(info_field(&mut t, "rdb_changes_since_last_save"), "0");
    assert_eq!(text(&t.cmd(&["BGSAVE", "SCHEDULE"])), "Background saving started");
    wait_for(&mut t, "rdb_saves", "2");
    assert!(matches!(t.cmd(&["BGSAVE", "NOW"]), Frame::Error(_)));
    // A restart on the same directory loads the snapshot.
    let restarted = Server::tessera(&["--dir", &d]);
    let mut t2 = restarted.conn();
    assert_same_dataset(&mut t, &mut t2);
    assert_ne!(info_field(&mut t2, "rdb_last_load_keys_loaded"), "0");
    drop(restarted);
    // SHUTDOWN SAVE writes what changed since.
    t.cmd(&["SET", "late", "write"]);
    t.send(&["SHUTDOWN", "SAVE"]);
    assert!(t.is_closed());
    let again = Server::tessera(&["--dir", &d]);
    assert_eq!(text(&again.conn().cmd(&["GET", "late"])), "write");
}

#[test]
fn failed_save_refuses_writes_with_misconf_like_redis() {
    let args = ["--save", "3600 1", "--enable-protected-configs", "yes"];
    let redis = redis_or_skip!(&args);
    let tessera = Server::tessera(&args);
    let mut replies = Vec::new();
    for server in [&redis, &tessera] {
        let mut c = server.conn();
        let sub = server.dir().join("gone");
        std::fs::create_dir(&sub).expect("mkdir");
        assert_eq!(text(&c.cmd(&["CONFIG", "SET", "dir", &dir_arg(&sub)])), "OK");
        std::fs::remove_dir(&sub).expect("rmdir");
        c.cmd(&["SET", "a", "1"]);
        assert_eq!(text(&c.cmd(&["BGSAVE"])), "Background saving started");
        wait_for(&mut c, "rdb_last_bgsave_status", "err");
        let refused = c.cmd(&["SET", "b", "2"]);
        let read = c.cmd(&["GET", "a"]);
        let save = c.cmd(&["SAVE"]);
        // A usable directory again: saving works and writes are accepted.
        assert_eq!(text(&c.cmd(&["CONFIG", "SET", "dir", &dir_arg(server.dir())])), "OK");
        assert_eq!(text(&c.cmd(&["SAVE"])), "OK");
        let accepted = c.cmd(&["SET", "b", "2"]);
        replies.push([refused, read, save, accepted].map(|f| pretty_frame(&f)));
    }
    assert!(replies[0][0].contains("MISCONF"), "{:?}", replies[0]);
    assert_eq!(replies[0], replies[1]);
}

#[test]
fn crash_during_bgsave_leaves_a_loadable_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir_arg(dir.path());
    let mut tessera = Server::tessera(&["--dir", &d]);
    let mut t = tessera.conn();
    populate(&mut t);
    assert_eq!(text(&t.cmd(&["SAVE"])), "OK");
    let before = snapshot(&mut t).0;
    for i in 0..20_000 {
        t.send(&["SET", &format!("extra:{i}"), "value"]);
    }
    for _ in 0..20_000 {
        t.recv();
    }
    assert_eq!(text(&t.cmd(&["BGSAVE"])), "Background saving started");
    tessera.kill9();
    // The file holds the old snapshot or (if the orphaned child finished)
    // the new one, never a partial one.
    let restarted = Server::tessera(&["--dir", &d]);
    let mut t2 = restarted.conn();
    let Frame::Integer(n) = t2.cmd(&["DBSIZE"]) else {
        panic!("DBSIZE")
    };
    if n as usize == before.keys().filter(|k| k.starts_with("0:")).count() {
        assert_eq!(snapshot(&mut t2).0, before);
    } else {
        assert_eq!(text(&t2.cmd(&["GET", "extra:19999"])), "value");
    }
}

/// One background child at a time, as in Redis: BGSAVE during an AOF
/// rewrite is refused or scheduled, BGREWRITEAOF during a save is
/// scheduled, each starts when the other ends; FLUSHALL stops a running
/// save without counting it as failed. Replies compared with redis-server.
#[test]
fn bgsave_and_bgrewriteaof_exclude_each_other_like_redis() {
    // Every child sleeps 0.5 s per key: 10 keys keep it running ~5 s.
    let args = ["--rdb-key-save-delay", "500000"];
    let Some(redis) = Server::redis(&args) else {
        return;
    };
    let tessera = Server::tessera(&args);
    let mut conns = [redis.conn(), tessera.conn()];
    let both = |conns: &mut [Conn; 2], cmd: &[&str]| -> String {
        let [r, t] = conns;
        let (want, got) = (pretty_frame(&r.cmd(cmd)), pretty_frame(&t.cmd(cmd)));
        assert_eq!(want, got, "{cmd:?}");
        got
    };
    for i in 0..10 {
        both(&mut conns, &["SET", &format!("key:{i}"), "value"]);
    }
    assert!(both(&mut conns, &["BGREWRITEAOF"]).contains("rewriting started"));
    assert!(both(&mut conns, &["BGSAVE"]).contains("Another child process is active (AOF?)"));
    assert!(both(&mut conns, &["BGSAVE", "SCHEDULE"]).contains("Background saving scheduled"));
    assert!(both(&mut conns, &["BGREWRITEAOF"]).contains("rewriting already in progress"));
    // The scheduled save starts once the rewrite ends.
    for c in &mut conns {
        wait_for(c, "rdb_bgsave_in_progress", "1");
        assert_eq!(info_field(c, "aof_rewrite_in_progress"), "0");
    }
    assert!(both(&mut conns, &["BGSAVE"]).contains("Background save already in progress"));
    assert!(both(&mut conns, &["BGREWRITEAOF"]).contains("rewriting scheduled"));
    for c in &mut conns {
        assert_eq!(info_field(c, "aof_rewrite_scheduled"), "1");
    }
    // FLUSHALL stops the save; the scheduled rewrite then runs.
    both(&mut conns, &["FLUSHALL"]);
    for c in &mut conns {
        wait_for(c, "rdb_bgsave_in_progress", "0");
        assert_eq!(info_field(c, "rdb_last_bgsave_status"), "ok");
        wait_for(c, "aof_rewrite_scheduled", "0");
        wait_for(c, "aof_rewrite_in_progress", "0");
        assert_eq!(info_field(c, "aof_last_bgrewrite_status"), "ok");
    }
}

/// A server started on a data directory without waiting for it to answer
/// PING (it is loading); killed on drop.
struct Starting {
    child: std::process::Child,
    port: u16,
}

impl Starting {
    fn new(program: &str, dir: &Path, extra: &[&str]) -> Starting {
        let port = crate::support::free_port();
        let mut args = vec!["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        let (port_arg, dir_arg) = (port.to_string(), dir_arg(dir));
        args.extend(["--port", &port_arg, "--dir", &dir_arg]);
        args.extend(extra);
        let child = Command::new(program)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the server");
        Starting { child, port }
    }

    /// Connects as soon as the port accepts.
    fn conn(&mut self) -> Conn {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(c) = Conn::try_connect(self.port) {
                return c;
            }
            assert!(
                matches!(self.child.try_wait(), Ok(None)),
                "the server exited before accepting"
            );
            assert!(Instant::now() < deadline, "the server never accepted a connection");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client sees of a server started on an RDB of `keys` keys loaded
/// slowly: the replies of `probes` while loading, the loading fields of
/// INFO, then (once loaded) the data.
fn observe_loading(program: &str, dir: &Path, keys: usize, probes: &[&str]) -> Vec<String> {
    let mut server = Starting::new(
        program,
        dir,
        &[
            "--key-load-delay",
            "200",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    let mut conn = server.conn();
    let mut seen: Vec<String> = probes.iter().map(|p| show(&conn.cmd_str(p))).collect();
    let info = text(&conn.cmd(&["INFO", "persistence"]));
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("INFO has no {name} while loading:\n{info}"))
            .to_owned()
    };
    assert_eq!(field("loading"), "1");
    let size = std::fs::metadata(dir.join("dump.rdb")).expect("dump.rdb").len();
    assert_eq!(field("loading_total_bytes"), size.to_string());
    let loaded: u64 = field("loading_loaded_bytes").parse().expect("a number");
    assert!(loaded < size, "{loaded} of {size} bytes loaded");
    let perc: f64 = field("loading_loaded_perc").parse().expect("a number");
    assert!((0.0..100.0).contains(&perc), "{perc}");
    let start: i64 = field("loading_start_time").parse().expect("a number");
    assert!(start > 1_600_000_000, "{start}");
    field("loading_eta_seconds").parse::<i64>().expect("a number");
    seen.push(format!(
        "fields {}",
        info.lines()
            .filter(|l| l.starts_with("loading"))
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",")
    ));
    // The data once loaded.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match conn.cmd(&["GET", "key:7"]) {
            Frame::Error(e) if e.starts_with(b"LOADING") => {}
            reply => {
                assert_eq!(text(&reply), "value:7");
                break;
            }
        }
        assert!(Instant::now() < deadline, "the load never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(conn.cmd(&["DBSIZE"]), Frame::Integer(keys as i64));
    assert_eq!(info_field(&mut conn, "loading"), "0");
    let after = text(&conn.cmd(&["INFO", "persistence"]));
    assert!(!after.contains("loading_start_time"), "{after}");
    seen
}

#[test]
fn clients_get_loading_while_the_dataset_loads_like_redis() {
    const KEYS: usize = 20_000;
    let data = tempfile::tempdir().expect("tempdir");
    {
        let tessera = Server::tessera(&["--dir", &dir_arg(data.path())]);
        let mut conn = tessera.conn();
        for batch in 0..KEYS / 1000 {
            let mut args = vec!["MSET".to_owned()];
            for i in batch * 1000..(batch + 1) * 1000 {
                args.extend([format!("key:{i}"), format!("value:{i}")]);
            }
            assert_eq!(text(&conn.cmd(&args)), "OK");
        }
        assert_eq!(text(&conn.cmd(&["SAVE"])), "OK");
    }
    let probes = [
        "GET key:7",
        "SET key:7 other",
        "PING",
        "ECHO hi",
        "DBSIZE",
        "CONFIG GET key-load-delay",
        "SELECT 1",
        "MULTI",
        "INCR n",
        "EXEC",
        "SELECT 0",
    ];
    let ours = observe_loading(env!("CARGO_BIN_EXE_tessera-node"), data.path(), KEYS, &probes);
    assert!(
        ours[0].contains("LOADING Redis is loading the dataset in memory"),
        "{ours:?}"
    );
    if !crate::support::redis_installed() {
        return;
    }
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dump(data.path(), copy.path());
    let redis = observe_loading("redis-server", copy.path(), KEYS, &probes);
    assert_eq!(ours, redis);
}

#[test]
fn bgsave_and_bgrewriteaof_in_a_transaction_are_scheduled_like_redis() {
    let Some(redis) = Server::redis(&[]) else { return };
    let tessera = Server::tessera(&[]);
    let script = [
        "MULTI",
        "SET k v",
        "BGSAVE",
        "BGREWRITEAOF",
        "EXEC",
        "MULTI",
        "SAVE",
        "EXEC",
        "MULTI",
        "BGSAVE SCHEDULE",
        "BGSAVE NOW",
        "EXEC",
    ];
    let mut replies = Vec::new();
    for server in [&tessera, &redis] {
        let mut conn = server.conn();
        let mut seen: Vec<String> = script.iter().map(|c| show(&conn.cmd_str(c))).collect();
        // What was scheduled runs once the transaction is over.
        wait_for(&mut conn, "aof_rewrites", "1");
        let deadline = Instant::now() + Duration::from_secs(30);
        while info_field(&mut conn, "rdb_saves") == "0" {
            assert!(Instant::now() < deadline, "the scheduled BGSAVE never ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        seen.push(info_field(&mut conn, "rdb_last_bgsave_status"));
        seen.push(info_field(&mut conn, "aof_last_bgrewrite_status"));
        replies.push(seen);
    }
    assert_eq!(replies[0], replies[1]);
}

#[test]
fn shutdown_while_loading_does_not_save_the_partial_dataset() {
    let data = tempfile::tempdir().expect("tempdir");
    {
        let tessera = Server::tessera(&["--dir", &dir_arg(data.path())]);
        let mut conn = tessera.conn();
        for batch in 0..5 {
            let mut args = vec!["MSET".to_owned()];
            for i in batch * 1000..(batch + 1) * 1000 {
                args.extend([format!("key:{i}"), format!("value:{i}")]);
            }
            assert_eq!(text(&conn.cmd(&args)), "OK");
        }
        assert_eq!(text(&conn.cmd(&["SAVE"])), "OK");
    }
    let before = std::fs::read(data.path().join("dump.rdb")).expect("dump.rdb");
    let mut server = Starting::new(
        env!("CARGO_BIN_EXE_tessera-node"),
        data.path(),
        &[
            "--save",
            "3600 1",
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    let mut conn = server.conn();
    assert_eq!(info_field(&mut conn, "loading"), "1");
    conn.send(&["SHUTDOWN", "SAVE"]);
    assert!(conn.is_closed());
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let after = std::fs::read(data.path().join("dump.rdb")).expect("dump.rdb");
    assert!(before == after, "the snapshot changed");
}
