//! The append-only file against the real tools: the propagated stream
//! byte for byte against redis-server's AOF, our AOF directory through
//! `redis-check-aof` and into redis-server, redis-server's AOF into
//! tessera-node, BGREWRITEAOF, a kill -9 with `appendfsync always`, an
//! AOF cut at every offset, a full disk and the exit status of SIGTERM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resp::Frame;

use crate::support::{Conn, Kind, Server, show, split_args};

/// A reply as plain text: strings and numbers as they are, arrays joined.
fn text(f: &Frame) -> String {
    match f {
        Frame::Simple(b) | Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Integer(n) => n.to_string(),
        Frame::Null | Frame::NullArray => "(nil)".to_owned(),
        Frame::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => show(other),
    }
}

/// The dataset of db 0 as text per key: type, value (collections sorted
/// where their order is not kept) and whether it has a TTL.
fn dataset(conn: &mut Conn) -> BTreeMap<Vec<u8>, String> {
    let Frame::Array(keys) = conn.cmd(&["KEYS", "*"]) else {
        panic!("KEYS replies an array")
    };
    let mut out = BTreeMap::new();
    for key in keys {
        let Frame::Bulk(key) = key else { panic!("a key") };
        let k = &key[..];
        let ty = text(&conn.cmd(&[&b"TYPE"[..], k]));
        let value = match ty.as_str() {
            "string" => text(&conn.cmd(&[&b"GET"[..], k])),
            "list" => text(&conn.cmd(&[&b"LRANGE"[..], k, b"0", b"-1"])),
            "zset" => text(&conn.cmd(&[&b"ZRANGE"[..], k, b"0", b"-1", b"WITHSCORES"])),
            "set" => sorted(conn.cmd(&[&b"SMEMBERS"[..], k])),
            "hash" => sorted(conn.cmd(&[&b"HGETALL"[..], k])),
            other => panic!("unexpected type {other}"),
        };
        let ttl = match conn.cmd(&[&b"PTTL"[..], k]) {
            Frame::Integer(-1) => "no ttl",
            Frame::Integer(_) => "ttl",
            other => panic!("PTTL replied {}", text(&other)),
        };
        out.insert(key.to_vec(), format!("{ty} {value} {ttl}"));
    }
    out
}

fn sorted(f: Frame) -> String {
    let Frame::Array(items) = f else { panic!("an array") };
    let mut items: Vec<String> = items.iter().map(text).collect();
    items.sort();
    items.join(",")
}

/// Writes a dataset of every type and encoding, with TTLs.
fn write_dataset(conn: &mut Conn) {
    for line in [
        "SET s1 hello",
        "SET s2 12345",
        "SET s3 \"with space\\r\\n\" EXAT 4000000000",
        "RPUSH small a b c",
        "HSET h f1 v1 f2 v2",
        "SADD ints 1 2 3 -7",
        "SADD strs x y z",
        "ZADD z 1 a 2.5 b -3 c",
        "PEXPIREAT h 4000000000000",
    ] {
        let reply = conn.cmd_str(line);
        assert!(!matches!(reply, Frame::Error(_)), "{line}: {}", text(&reply));
    }
    let mut rpush = vec!["RPUSH".to_owned(), "big".to_owned()];
    let mut sadd = vec!["SADD".to_owned(), "bigset".to_owned()];
    let mut zadd = vec!["ZADD".to_owned(), "bigz".to_owned()];
    let mut hset = vec!["HSET".to_owned(), "bigh".to_owned()];
    for i in 0..300 {
        rpush.push(format!("item-{i}"));
        sadd.push(format!("member-{i}"));
        zadd.extend([format!("{}", i as f64 / 7.0), format!("m{i}")]);
        hset.extend([format!("field-{i}"), "x".repeat(i % 90)]);
    }
    for cmd in [rpush, sadd, zadd, hset] {
        assert!(!matches!(conn.cmd(&cmd), Frame::Error(_)));
    }
}

/// Polls INFO persistence until no rewrite runs and `aof_rewrites` reaches `n`.
fn wait_rewrite(conn: &mut Conn, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let info = text(&conn.cmd(&["INFO", "persistence"]));
        let done = info.contains("aof_rewrite_in_progress:0")
            && (info.contains(&format!("aof_rewrites:{n}")) || !info.contains("aof_rewrites:"));
        if done {
            assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rewrite did not finish: {info}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

fn check_aof(manifest: &Path) -> (bool, String) {
    let out = Command::new("redis-check-aof")
        .arg(manifest)
        .output()
        .expect("run redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn dir_arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn propagated_stream_equals_redis_aof_byte_for_byte() {
    // appendfsync always: with everysec, redis-server postpones writing
    // its AOF while a background fsync is slow, and the file is read at once.
    let common = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        "no",
        "--enable-debug-command",
        "yes",
    ];
    let redis = redis_or_skip!(&common);
    let tessera = Server::tessera(&common);
    // Commands whose propagation is deterministic (absolute times, no
    // random choices); with active expiry off, expired keys go lazily.
    let script = [
        "DEBUG SET-ACTIVE-EXPIRE 0",
        "SET a 1",
        "SET b 2 EXAT 4000000000 NX GET",
        "SET b 3 PX 100000 XX",
        "SET gone 1 PXAT 1",
        "SET gone 2 NX",
        "GET gone",
        "DEL nosuch",
        "SADD s x",
        "SADD s x",
        "MULTI",
        "SET c 4",
        "SET d 5",
        "EXEC",
        "MULTI",
        "INCR n",
        "GET a",
        "EXEC",
        "SELECT 2",
        "SET x 1",
        "EXPIREAT x 4000000000",
        "PEXPIREAT x 4000000000001",
        "PERSIST x",
        "EXPIREAT x 1",
        "INCRBYFLOAT f 1.5",
        "INCRBYFLOAT f 2",
        "HSET h f 1",
        "HINCRBYFLOAT h f 1.5",
        "SADD one only",
        "SPOP one",
        "SADD two p q",
        "SPOP two 5",
        "PUBLISH ch m",
        "FLUSHDB",
        "SELECT 0",
        "RPUSH l 1 2 3 4 5",
        "BLPOP l 0",
        "BRPOP l 0",
        "LMPOP 1 l LEFT COUNT 2",
        "RPUSH l a b",
        "BLMOVE l l2 LEFT RIGHT 0",
        "BRPOPLPUSH l l2 0",
        "ZADD z 1 a 2 b 3 c 4 d",
        "BZPOPMIN z 0",
        "BZPOPMAX z 0",
        "ZMPOP 1 z MIN COUNT 5",
        "SET g 1",
        "GETEX g EXAT 4000000000",
        "GETEX g PERSIST",
        "GETEX g PXAT 1",
        "SET gd v",
        "GETDEL gd",
        "GETDEL gd",
        "SETEX se 100 v",
        "SET se2 v",
        "RENAME se2 se3",
        "FLUSHALL",
    ];
    for server in [&redis, &tessera] {
        let mut conn = server.conn();
        for line in script {
            let args = split_args(line).expect("valid line");
            conn.send(&args);
            let _ = conn.recv();
        }
    }
    let incr =
        |s: &Server| std::fs::read(s.dir().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("the incr file");
    // SETEX and PX are relative: their PXAT times differ; mask them.
    let mask = |bytes: Vec<u8>| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut out = Vec::new();
        let mut after_pxat = false;
        for line in text.split("\r\n") {
            let masked = after_pxat && line.len() == 13 && line.bytes().all(|b| b.is_ascii_digit());
            out.push(if masked { "<ms>" } else { line });
            after_pxat = line == "PXAT" || (line.starts_with('$') && after_pxat && !masked);
        }
        out.join("\r\n")
    };
    let (ours, theirs) = (mask(incr(&tessera)), mask(incr(&redis)));
    assert_eq!(ours, theirs, "ours:\n{ours}\nredis:\n{theirs}");
    // The rewrites are there (not an empty or trivial stream).
    for expected in [
        "PEXPIREAT\r\n$1\r\nx\r\n$13\r\n4000000000000",
        "MULTI",
        "ZPOPMIN",
        "SREM",
        "KEEPTTL",
        "LMOVE",
    ] {
        assert!(ours.contains(expected), "{expected} missing from:\n{ours}");
    }
}

/// Our AOF directory, its base written with `aof-use-rdb-preamble
/// <preamble>`, through `redis-check-aof`, into redis-server and back.
fn our_aof_passes_redis_check_aof_and_loads_into_redis_and_back(preamble: &str) {
    if !crate::support::redis_installed() {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let args = [
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        preamble,
        "--dir",
        dir_arg(data.path()),
    ];
    let tessera = Server::tessera(&args);
    let mut conn = tessera.conn();
    write_dataset(&mut conn);
    // A rewrite makes a new base from the dataset; writes go on meanwhile.
    assert_eq!(
        text(&conn.cmd(&["BGREWRITEAOF"])),
        "Background append only file rewriting started"
    );
    conn.cmd_str("SET during rewrite");
    wait_rewrite(&mut conn, 1);
    conn.cmd_str("RPUSH small d");
    conn.cmd_str("DEL s2");
    let expected = dataset(&mut conn);
    assert!(expected.len() > 10);
    let aof_dir = data.path().join("appendonlydir");
    let manifest = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).expect("manifest");
    let ext = if preamble == "yes" { "rdb" } else { "aof" };
    assert_eq!(
        manifest,
        format!("file appendonly.aof.2.base.{ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
    );
    let base = std::fs::read(aof_dir.join(format!("appendonly.aof.2.base.{ext}"))).expect("base");
    assert_eq!(base.starts_with(b"REDIS"), preamble == "yes");
    assert!(
        !aof_dir.join("appendonly.aof.1.incr.aof").exists(),
        "old files are deleted"
    );
    let (ok, report) = check_aof(&aof_dir.join("appendonly.aof.manifest"));
    assert!(
        ok && report.contains("All AOF files and manifest are valid"),
        "{report}"
    );

    // A real redis-server loads a copy of it.
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(&aof_dir, &copy.path().join("appendonlydir"));
    let redis = redis_or_skip!(&["--appendonly", "yes", "--dir", dir_arg(copy.path())]);
    assert_eq!(dataset(&mut redis.conn()), expected);

    // And tessera-node itself, restarted on it.
    drop(conn);
    drop(tessera);
    let again = Server::tessera(&args);
    let mut conn = again.conn();
    assert_eq!(dataset(&mut conn), expected);
    // Appending goes on where it stopped.
    conn.cmd_str("SET after restart");
    let (ok, report) = check_aof(&aof_dir.join("appendonly.aof.manifest"));
    assert!(ok, "{report}");
}

#[test]
fn our_aof_with_an_rdb_base_passes_redis_check_aof_and_loads_into_redis_and_back() {
    our_aof_passes_redis_check_aof_and_loads_into_redis_and_back("yes");
}

#[test]
fn our_aof_with_a_command_base_passes_redis_check_aof_and_loads_into_redis_and_back() {
    our_aof_passes_redis_check_aof_and_loads_into_redis_and_back("no");
}

/// redis-server's AOF directory, its base written with
/// `aof-use-rdb-preamble <preamble>`, into tessera-node.
fn redis_aof_loads_into_tessera(preamble: &str) {
    let data = tempfile::tempdir().expect("tempdir");
    // appendfsync always: with everysec, redis-server postpones writing
    // its AOF while a background fsync is slow, and it is killed at once.
    let redis = redis_or_skip!(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        preamble,
        "--dir",
        dir_arg(data.path())
    ]);
    let mut conn = redis.conn();
    write_dataset(&mut conn);
    conn.cmd_str("BGREWRITEAOF");
    wait_rewrite(&mut conn, 1);
    conn.cmd_str("SET after rewrite");
    conn.cmd_str("MULTI");
    conn.cmd_str("LPUSH small first");
    conn.cmd_str("SREM ints 2");
    conn.cmd_str("EXEC");
    conn.cmd_str("SELECT 3");
    conn.cmd_str("SET other db");
    conn.cmd_str("SELECT 0");
    let expected = dataset(&mut conn);
    drop(conn);
    drop(redis);
    let tessera = Server::tessera(&["--appendonly", "yes", "--dir", dir_arg(data.path())]);
    let mut conn = tessera.conn();
    assert_eq!(dataset(&mut conn), expected);
    conn.cmd_str("SELECT 3");
    assert_eq!(text(&conn.cmd_str("GET other")), "db");
}

#[test]
fn redis_aof_with_an_rdb_base_loads_into_tessera() {
    redis_aof_loads_into_tessera("yes");
}

#[test]
fn redis_aof_with_a_command_base_loads_into_tessera() {
    redis_aof_loads_into_tessera("no");
}

#[test]
fn config_set_appendonly_writes_a_base_then_appends() {
    let data = tempfile::tempdir().expect("tempdir");
    let tessera = Server::tessera(&["--dir", dir_arg(data.path())]);
    let mut conn = tessera.conn();
    write_dataset(&mut conn);
    assert_eq!(text(&conn.cmd_str("CONFIG SET appendonly yes")), "OK");
    conn.cmd_str("SET while starting 1");
    wait_rewrite(&mut conn, 1);
    conn.cmd_str("SET later 2");
    let expected = dataset(&mut conn);
    let manifest = data.path().join("appendonlydir/appendonly.aof.manifest");
    let (ok, report) = check_aof(&manifest);
    assert!(ok, "{report}");
    assert_eq!(text(&conn.cmd_str("CONFIG SET appendonly no")), "OK");
    drop(conn);
    drop(tessera);
    let again = Server::tessera(&["--appendonly", "yes", "--dir", dir_arg(data.path())]);
    assert_eq!(dataset(&mut again.conn()), expected);
}

/// A writer records every acknowledged SET while the server is killed
/// with SIGKILL; restarted on its AOF, the server has every acknowledged
/// write (each is written to the file before its reply is sent, whatever
/// `appendfsync` says: only a crash of the machine loses what was not
/// fsynced) and at most the one write in flight besides.
fn acknowledged_writes_survive_kill_9(appendfsync: &str) {
    let data = tempfile::tempdir().expect("tempdir");
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        appendfsync,
        "--dir",
        dir_arg(data.path()),
    ];
    let tessera = Server::tessera(&args);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let acked = acked.clone();
        let mut conn = tessera.conn();
        std::thread::spawn(move || {
            for i in 0.. {
                match conn.try_cmd(&["SET", &format!("key:{i}"), &i.to_string()]) {
                    Ok(Frame::Simple(_)) => acked.lock().expect("lock").push(i),
                    _ => return,
                }
            }
        })
    };
    while acked.lock().expect("lock").len() < 300 {
        std::thread::yield_now();
    }
    // Drop kills with SIGKILL while the writer is writing.
    drop(tessera);
    writer.join().expect("writer");
    let acked = acked.lock().expect("lock").clone();
    if crate::support::tool_installed("redis-check-aof") {
        let (ok, report) = check_aof(&data.path().join("appendonlydir/appendonly.aof.manifest"));
        assert!(ok, "{report}");
    }
    let again = Server::tessera(&args);
    let mut conn = again.conn();
    for i in &acked {
        assert_eq!(
            text(&conn.cmd(&["GET", &format!("key:{i}")])),
            i.to_string(),
            "acknowledged write {i} of {} is missing",
            acked.len()
        );
    }
    let keys: usize = text(&conn.cmd(&["DBSIZE"])).parse().expect("a count");
    assert!(
        keys <= acked.len() + 1,
        "{keys} keys for {} acknowledged writes",
        acked.len()
    );
}

#[test]
fn acknowledged_writes_survive_kill_9_with_appendfsync_always() {
    acknowledged_writes_survive_kill_9("always");
}

#[test]
fn acknowledged_writes_survive_kill_9_with_appendfsync_everysec() {
    acknowledged_writes_survive_kill_9("everysec");
}

/// An AOF directory whose incremental file is `incr`.
fn aof_dir_with(incr: &[u8]) -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().join("appendonlydir");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(
        dir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    std::fs::write(
        dir.join("appendonly.aof.1.base.aof"),
        "*3\r\n$3\r\nSET\r\n$4\r\nbase\r\n$1\r\n0\r\n",
    )
    .expect("base");
    std::fs::write(dir.join("appendonly.aof.1.incr.aof"), incr).expect("incr");
    data
}

#[test]
fn an_aof_cut_at_every_offset_loads_its_complete_prefix() {
    let commands: Vec<Vec<&str>> = vec![
        vec!["SET", "a", "1"],
        vec!["MULTI"],
        vec!["INCR", "a"],
        vec!["SET", "b", "x"],
        vec!["EXEC"],
        vec!["RPUSH", "l", "p", "q"],
    ];
    let mut incr = Vec::new();
    // Offsets where each command ends, and the state a prefix up to it gives.
    let mut ends = Vec::new();
    for c in &commands {
        incr.extend_from_slice(&crate::support::multibulk(c));
        ends.push(incr.len());
    }
    let state = |complete: usize| -> (usize, &'static str) {
        // (valid length, the dataset) after `complete` whole commands; an
        // open MULTI counts as not there.
        match complete {
            0 => (0, "base"),
            1..=4 => (ends[0], "a=1 base"),
            5 => (ends[4], "a=2 b=x base"),
            _ => (ends[5], "a=2 b=x base l=pq"),
        }
    };
    for cut in 0..=incr.len() {
        let data = aof_dir_with(&incr[..cut]);
        let tessera = Server::tessera(&["--appendonly", "yes", "--dir", dir_arg(data.path())]);
        let mut conn = tessera.conn();
        let mut got = Vec::new();
        for key in ["a", "b", "base", "l"] {
            match conn.cmd(&["TYPE", key]) {
                Frame::Simple(t) if &t[..] == b"string" => got.push(match key {
                    "base" => "base".to_owned(),
                    _ => format!("{key}={}", text(&conn.cmd(&["GET", key]))),
                }),
                Frame::Simple(t) if &t[..] == b"list" => {
                    let Frame::Array(items) = conn.cmd(&["LRANGE", key, "0", "-1"]) else {
                        panic!()
                    };
                    got.push(format!("{key}={}", items.iter().map(text).collect::<String>()));
                }
                _ => {}
            }
        }
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        let (valid, expected) = state(complete);
        assert_eq!(got.join(" "), expected, "cut at {cut}");
        let path: PathBuf = data.path().join("appendonlydir/appendonly.aof.1.incr.aof");
        // The partial tail was cut off, so appending continues cleanly.
        drop(conn);
        drop(tessera);
        let len = std::fs::metadata(&path).expect("incr").len() as usize;
        assert_eq!(len, valid, "cut at {cut}: file truncated to the last complete command");
    }
}

#[test]
fn a_corrupt_aof_stops_start_up_with_the_file_offset_and_the_fix() {
    let mut incr = crate::support::multibulk(&["SET", "a", "1"]);
    let bad_at = incr.len();
    incr.extend_from_slice(b"GARBAGE\r\n");
    incr.extend_from_slice(&crate::support::multibulk(&["SET", "b", "2"]));
    let data = aof_dir_with(&incr);
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-node"))
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "yes",
            "--dir",
            dir_arg(data.path()),
        ])
        .output()
        .expect("run tessera-node");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("appendonly.aof.1.incr.aof"), "{err}");
    assert!(err.contains(&format!("offset {bad_at}")), "{err}");
    assert!(err.contains("redis-check-aof --fix"), "{err}");
    // The file is left as it was.
    let kept = std::fs::read(data.path().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr");
    assert_eq!(kept, incr);
}

#[test]
fn expired_and_evicted_keys_reach_the_aof_as_del() {
    let data = tempfile::tempdir().expect("tempdir");
    let args = ["--appendonly", "yes", "--dir", dir_arg(data.path())];
    let tessera = Server::tessera(&args);
    let mut conn = tessera.conn();
    conn.cmd_str("SET short v PX 20");
    // Active expiry deletes it; poll until it did.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text(&conn.cmd(&["INFO", "stats"])).contains("expired_keys:1") {
        assert!(std::time::Instant::now() < deadline, "the key never expired");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let incr = data.path().join("appendonlydir/appendonly.aof.1.incr.aof");
    let written = std::fs::read(&incr).expect("incr");
    assert!(
        written.ends_with(b"*2\r\n$3\r\nDEL\r\n$5\r\nshort\r\n"),
        "{}",
        String::from_utf8_lossy(&written)
    );
    // Evictions: the AOF replayed gives the dataset that survived them.
    let Frame::Bulk(info) = conn.cmd(&["INFO", "memory"]) else {
        panic!("INFO")
    };
    let used: u64 = String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory");
    conn.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    conn.cmd(&["CONFIG", "SET", "maxmemory", &(used + 200_000).to_string()]);
    let value = "v".repeat(1000);
    for i in 0..1000 {
        conn.cmd(&["SET", &format!("k{i}"), &value]);
    }
    // No more evictions while the dataset is read.
    conn.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    let Frame::Integer(kept) = conn.cmd(&["DBSIZE"]) else {
        panic!("DBSIZE")
    };
    assert!(kept < 1000, "nothing was evicted");
    let expected = dataset(&mut conn);
    drop(conn);
    drop(tessera);
    let again = Server::tessera(&args);
    let mut conn = again.conn();
    assert_eq!(dataset(&mut conn), expected);
}

/// A tmpfs mounted on a directory, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` on `dir`; `None` (after saying why) when
    /// this process may not mount.
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipping: cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with a file, leaving about `free` bytes.
fn fill(dir: &Path, free: u64) -> PathBuf {
    use std::io::Write;
    let path = dir.join("ballast");
    let mut f = std::fs::File::create(&path).expect("create ballast");
    let chunk = vec![b'x'; 4096];
    while f.write_all(&chunk).is_ok() {}
    let len = f.metadata().expect("metadata").len();
    f.set_len(len.saturating_sub(free)).expect("truncate ballast");
    path
}

/// On a full disk: the `-MISCONF` reply once the AOF cannot be written,
/// `aof_last_write_status`, and (once there is room again) every
/// acknowledged write there after a kill -9 and a restart.
fn full_disk_refuses_writes(kind: Kind) -> Option<Vec<String>> {
    // The whole directory: Redis renames its files from it into the AOF
    // directory.
    let data = tempfile::tempdir().expect("tempdir");
    let _tmpfs = Tmpfs::mount(data.path(), "1m")?;
    let args = ["--appendonly", "yes", "--dir", dir_arg(data.path())];
    let server = Server::start(kind, &args);
    let mut conn = server.conn();
    let ballast = fill(data.path(), 64 * 1024);
    let value = "v".repeat(4096);
    let mut acked = Vec::new();
    let refusal = loop {
        assert!(acked.len() < 10_000, "the AOF never failed to grow");
        let i = acked.len();
        match conn.cmd(&["SET", &format!("key:{i}"), &value]) {
            Frame::Simple(_) => acked.push(i),
            Frame::Error(e) => break String::from_utf8_lossy(&e).into_owned(),
            other => panic!("unexpected reply {}", show(&other)),
        }
    };
    let mut seen = vec![refusal, text(&conn.cmd(&["PING"]))];
    let info = text(&conn.cmd(&["INFO", "persistence"]));
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    // Reads go on.
    assert_eq!(text(&conn.cmd(&["STRLEN", "key:0"])), "4096");
    std::fs::remove_file(ballast).expect("remove ballast");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while let Frame::Error(_) = conn.cmd(&["SET", "after", "room"]) {
        assert!(std::time::Instant::now() < deadline, "writes never resumed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let info = text(&conn.cmd(&["INFO", "persistence"]));
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
    seen.push(text(&conn.cmd(&["PING"])));
    if kind == Kind::Redis {
        // redis-server (everysec) may postpone writing its AOF while a
        // background fsync is slow: SHUTDOWN writes it. We write before
        // replying, so a SIGKILL loses nothing.
        conn.send(&["SHUTDOWN"]);
        assert!(conn.is_closed());
    }
    drop(conn);
    drop(server); // SIGKILL
    let again = Server::start(kind, &args);
    let mut conn = again.conn();
    for i in &acked {
        let got = text(&conn.cmd(&["STRLEN", &format!("key:{i}")]));
        assert_eq!(got, "4096", "acknowledged write {i} of {} is missing", acked.len());
    }
    assert_eq!(text(&conn.cmd(&["GET", "after"])), "room");
    Some(seen)
}

#[test]
fn a_full_disk_refuses_writes_with_misconf_like_redis_and_loses_nothing() {
    let Some(ours) = full_disk_refuses_writes(Kind::Tessera) else {
        return;
    };
    assert!(
        ours[0].starts_with("MISCONF Errors writing to the AOF file: "),
        "{ours:?}"
    );
    if !crate::support::redis_installed() {
        return;
    }
    let theirs = full_disk_refuses_writes(Kind::Redis).expect("mounted once already");
    assert_eq!(ours, theirs);
}

/// What SIGTERM tells a supervisor with `appendonly yes`: exit status 0
/// once every acknowledged write is in the AOF.
#[test]
fn sigterm_exits_zero_with_every_acknowledged_write_in_the_aof() {
    let data = tempfile::tempdir().expect("tempdir");
    let args = ["--appendonly", "yes", "--dir", dir_arg(data.path())];
    let mut server = Server::tessera(&args);
    let mut conn = server.conn();
    for i in 0..100 {
        assert_eq!(text(&conn.cmd(&["SET", &format!("key:{i}"), "v"])), "OK");
    }
    let status = server.sigterm(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", server.log_tail(30));
    let again = Server::tessera(&args);
    assert_eq!(again.conn().cmd(&["DBSIZE"]), Frame::Integer(100));
}

/// With `appendfsync everysec` a write is acknowledged before a failed AOF
/// write is known; when the final flush at SIGTERM still cannot write it,
/// the exit status and the log say so.
#[test]
fn sigterm_exits_non_zero_when_acknowledged_writes_cannot_reach_the_aof() {
    let data = tempfile::tempdir().expect("tempdir");
    let Some(_tmpfs) = Tmpfs::mount(data.path(), "1m") else {
        return;
    };
    let mut server = Server::tessera(&["--appendonly", "yes", "--dir", dir_arg(data.path())]);
    let mut conn = server.conn();
    fill(data.path(), 64 * 1024);
    let value = "v".repeat(4096);
    let mut acked = 0;
    loop {
        assert!(acked < 10_000, "the AOF never failed to grow");
        match conn.cmd(&["SET", &format!("key:{acked}"), &value]) {
            Frame::Simple(_) => acked += 1,
            Frame::Error(e) => {
                assert!(e.starts_with(b"MISCONF"), "{}", String::from_utf8_lossy(&e));
                break;
            }
            other => panic!("unexpected reply {}", show(&other)),
        }
    }
    assert!(acked > 0, "no write was acknowledged");
    let status = server.sigterm(Duration::from_secs(30));
    let log = server.log_tail(50);
    assert!(!status.success(), "{status}\n{log}");
    assert!(
        log.contains("Error writing the AOF before exiting: Error writing to the AOF file: No space left on device"),
        "{log}"
    );
}
