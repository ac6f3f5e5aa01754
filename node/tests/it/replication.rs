//! Master–replica replication between real processes: redis-server as a
//! replica of tessera-node and the other way round (full sync, the live
//! stream of every data type, a killed link and the partial resync that
//! follows), chains and PSYNC2 promotions, WAIT and min-replicas-to-write,
//! a read-only replica, and a hostile master that sends a broken snapshot.
//!
//! Datasets are compared logically (type, content and whether a TTL is
//! set, for every key of the databases used), so an encoding difference
//! between the two servers does not matter.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use resp::Frame;

use crate::support::{Conn, Server, show};

/// Generous: the machine may be loaded.
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);
/// Databases the tests write to.
const DBS: [usize; 2] = [0, 3];

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Integer(n) => n.to_string(),
        other => show(other),
    }
}

/// One INFO field (any section).
fn info(conn: &mut Conn, field: &str) -> Option<String> {
    let body = text(&conn.cmd(&["INFO", "all"]));
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(str::to_owned)
}

fn info_i64(conn: &mut Conn, field: &str) -> i64 {
    info(conn, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO has no integer {field}"))
}

/// Polls `f` until it holds.
fn wait_until(what: &str, servers: &[&Server], mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + SYNC_TIMEOUT;
    while !f() {
        if Instant::now() > deadline {
            let logs: String = servers.iter().map(|s| s.log_tail(40)).collect();
            panic!("timed out waiting for {what}\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn replicaof(replica: &Server, master: &Server) {
    let port = master.port().to_string();
    let reply = replica.conn().cmd(&["REPLICAOF", "127.0.0.1", &port]);
    assert!(matches!(reply, Frame::Simple(_)), "{}", show(&reply));
}

/// Waits until `replica` is linked and has processed everything `master`
/// has written so far.
fn wait_synced(master: &Server, replica: &Server) {
    let mut m = master.conn();
    let mut r = replica.conn();
    wait_until(
        &format!("{replica:?} to catch up with {master:?}"),
        &[master, replica],
        || {
            info(&mut r, "master_link_status").as_deref() == Some("up")
                && info_i64(&mut r, "master_repl_offset") == info_i64(&mut m, "master_repl_offset")
        },
    );
}

/// The logical content of the databases in [`DBS`]: key → type, value,
/// whether it has a TTL.
fn dataset(server: &Server) -> BTreeMap<(usize, String), String> {
    let mut conn = server.conn();
    let mut all = BTreeMap::new();
    for db in DBS {
        conn.cmd(&["SELECT", &db.to_string()]);
        let mut cursor = "0".to_string();
        loop {
            let Frame::Array(parts) = conn.cmd(&["SCAN", &cursor, "COUNT", "100"]) else {
                panic!("SCAN reply")
            };
            cursor = text(&parts[0]);
            let Frame::Array(keys) = &parts[1] else {
                panic!("SCAN keys")
            };
            for k in keys {
                let key = text(k);
                let ty = text(&conn.cmd(&["TYPE", &key]));
                let mut value = match ty.as_str() {
                    "string" => vec![text(&conn.cmd(&["GET", &key]))],
                    "list" => flat(&conn.cmd(&["LRANGE", &key, "0", "-1"])),
                    "set" => sorted(flat(&conn.cmd(&["SMEMBERS", &key]))),
                    "hash" => sorted(flat(&conn.cmd(&["HGETALL", &key]))),
                    "zset" => flat(&conn.cmd(&["ZRANGE", &key, "0", "-1", "WITHSCORES"])),
                    other => vec![other.to_string()],
                };
                let ttl = text(&conn.cmd(&["PTTL", &key])) != "-1";
                value.insert(0, format!("{ty} ttl={ttl}"));
                all.insert((db, key), value.join(" "));
            }
            if cursor == "0" {
                break;
            }
        }
    }
    all
}

fn flat(f: &Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items.iter().map(text).collect(),
        other => vec![show(other)],
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn assert_same_data(a: &Server, b: &Server) {
    let (da, db) = (dataset(a), dataset(b));
    assert!(!da.is_empty(), "{a:?} has no data");
    if da != db {
        let only_a: Vec<_> = da.iter().filter(|(k, v)| db.get(*k) != Some(*v)).take(5).collect();
        let only_b: Vec<_> = db.iter().filter(|(k, v)| da.get(*k) != Some(*v)).take(5).collect();
        panic!(
            "datasets differ ({} vs {} keys)\n{a:?}: {only_a:?}\n{b:?}: {only_b:?}",
            da.len(),
            db.len()
        );
    }
}

/// Writes of every type, in two databases, with TTLs, a transaction and
/// deletions; `tag` makes the keys of each round distinct.
fn write_everything(master: &Server, tag: &str) {
    let mut c = master.conn();
    for db in DBS {
        c.cmd(&["SELECT", &db.to_string()]);
        let k = |name: &str| format!("{tag}:{name}");
        for i in 0..20 {
            c.cmd(&["SET", &k(&format!("s{i}")), &format!("v{i}")]);
        }
        c.cmd(&["SET", &k("ex"), "v", "EX", "1000"]);
        c.cmd(&["INCRBY", &k("n"), "5"]);
        c.cmd(&["APPEND", &k("s1"), "-more"]);
        c.cmd(&["RPUSH", &k("l"), "a", "b", "c", "d"]);
        c.cmd(&["LPOP", &k("l")]);
        c.cmd(&["HSET", &k("h"), "f1", "1", "f2", "2"]);
        c.cmd(&["HINCRBY", &k("h"), "f1", "10"]);
        c.cmd(&["SADD", &k("set"), "x", "y", "z"]);
        c.cmd(&["SREM", &k("set"), "y"]);
        c.cmd(&["ZADD", &k("z"), "1", "a", "2.5", "b", "3", "c"]);
        c.cmd(&["ZINCRBY", &k("z"), "10", "a"]);
        c.cmd(&["EXPIRE", &k("h"), "1000"]);
        c.cmd(&["DEL", &k("s2")]);
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", &k("tx1"), "1"]);
        c.cmd(&["LPUSH", &k("tx2"), "1"]);
        c.cmd(&["EXEC"]);
        // Expires on the master, reaches the replica as a DEL.
        c.cmd(&["SET", &k("short"), "v", "PX", "1"]);
    }
    // A big value, to make the stream longer than one read.
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["SET", &format!("{tag}:big"), &"x".repeat(100_000)]);
}

/// Waits until the master has expired the `short` keys of round `tag`
/// (so that the DELs are in its stream).
fn wait_expired(master: &Server, tag: &str) {
    let mut c = master.conn();
    wait_until("the short-lived keys to expire", &[master], || {
        DBS.iter().all(|db| {
            c.cmd(&["SELECT", &db.to_string()]);
            c.cmd(&["EXISTS", &format!("{tag}:short")]) == Frame::Integer(0)
        })
    });
}

#[test]
fn redis_server_replicates_tessera_full_then_stream_then_partial() {
    for diskless in ["yes", "no"] {
        redis_replicates_tessera(diskless);
    }
}

fn redis_replicates_tessera(diskless: &str) {
    let master = Server::tessera(&["--repl-diskless-sync", diskless]);
    let replica = redis_or_skip!(&[]);
    write_everything(&master, "before");
    replicaof(&replica, &master);
    wait_synced(&master, &replica);
    let target = if diskless == "yes" { "replicas sockets" } else { "disk" };
    let log = master.log_tail(50);
    assert!(
        log.contains(&format!("Starting BGSAVE for SYNC with target: {target}")),
        "{log}"
    );
    write_everything(&master, "live");
    wait_expired(&master, "live");
    wait_expired(&master, "before");
    wait_synced(&master, &replica);
    assert_same_data(&master, &replica);

    // A dropped link: the replica comes back with a partial resync.
    let mut m = master.conn();
    let partial_before = info_i64(&mut m, "sync_partial_ok");
    let full_before = info_i64(&mut m, "sync_full");
    let killed = m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, Frame::Integer(1));
    write_everything(&master, "after");
    wait_until("a partial resync", &[&master, &replica], || {
        info_i64(&mut m, "sync_partial_ok") == partial_before + 1
    });
    wait_expired(&master, "after");
    wait_synced(&master, &replica);
    assert_eq!(info_i64(&mut m, "sync_full"), full_before);
    assert_same_data(&master, &replica);
    let log = std::fs::read_to_string(replica.dir().join("stdout.log")).unwrap_or_default();
    assert!(
        log.contains("Successful partial resynchronization with master") || log.is_empty(),
        "{log}"
    );
}

#[test]
fn tessera_replicates_redis_server_disk_and_diskless() {
    for diskless in ["no", "yes"] {
        let master = redis_or_skip!(&["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"]);
        let replica = Server::tessera(&[]);
        write_everything(&master, "before");
        replicaof(&replica, &master);
        wait_synced(&master, &replica);
        write_everything(&master, "live");
        wait_expired(&master, "live");
        wait_expired(&master, "before");
        wait_synced(&master, &replica);
        assert_same_data(&master, &replica);

        let mut m = master.conn();
        let partial_before = info_i64(&mut m, "sync_partial_ok");
        m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
        write_everything(&master, "after");
        wait_until("a partial resync", &[&master, &replica], || {
            info_i64(&mut m, "sync_partial_ok") == partial_before + 1
        });
        wait_expired(&master, "after");
        wait_synced(&master, &replica);
        assert_same_data(&master, &replica);
        let mut r = replica.conn();
        assert_eq!(info(&mut r, "role").as_deref(), Some("slave"));
    }
}

#[test]
fn replica_is_read_only_never_expires_keys_and_reports_its_role() {
    let master = Server::tessera(&["--enable-debug-command", "yes"]);
    let replica = Server::tessera(&[]);
    let mut m = master.conn();
    m.cmd(&["SET", "k", "v"]);
    replicaof(&replica, &master);
    wait_synced(&master, &replica);
    let mut r = replica.conn();
    assert_eq!(
        r.cmd(&["SET", "x", "1"]),
        Frame::Error("READONLY You can't write against a read only replica.".into())
    );
    assert_eq!(r.cmd(&["GET", "k"]), Frame::Bulk("v".into()));
    // ROLE on both sides.
    let Frame::Array(role) = r.cmd(&["ROLE"]) else {
        panic!("ROLE")
    };
    assert_eq!(text(&role[0]), "slave");
    assert_eq!(role[2], Frame::Integer(i64::from(master.port())));
    assert_eq!(text(&role[3]), "connected");
    let Frame::Array(role) = m.cmd(&["ROLE"]) else {
        panic!("ROLE")
    };
    assert_eq!(text(&role[0]), "master");
    let Frame::Array(replicas) = &role[2] else {
        panic!("ROLE replicas")
    };
    assert_eq!(replicas.len(), 1);
    assert_eq!(info(&mut m, "connected_slaves").as_deref(), Some("1"));
    let line = info(&mut m, "slave0").expect("slave0");
    assert!(
        line.contains(&format!("port={}", replica.port())) && line.contains("state=online"),
        "{line}"
    );
    assert_eq!(
        info(&mut r, "master_replid"),
        info(&mut m, "master_replid"),
        "a replica takes its master's replication id"
    );

    // With active expiry stopped on the master, a key past its TTL is
    // hidden on the replica but kept until the master's DEL.
    m.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    m.cmd(&["SET", "t", "v", "PX", "50"]);
    wait_synced(&master, &replica);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r.cmd(&["GET", "t"]), Frame::Null);
    assert_eq!(r.cmd(&["DBSIZE"]), Frame::Integer(2));
    assert_eq!(m.cmd(&["GET", "t"]), Frame::Null);
    wait_synced(&master, &replica);
    assert_eq!(r.cmd(&["DBSIZE"]), Frame::Integer(1));

    // Promotion: writable, keeps the data, the old id becomes replid2.
    let old_id = info(&mut r, "master_replid").expect("replid");
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), Frame::Simple("OK".into()));
    assert_eq!(r.cmd(&["SET", "x", "1"]), Frame::Simple("OK".into()));
    assert_eq!(info(&mut r, "master_replid2"), Some(old_id));
    assert_eq!(info(&mut r, "role").as_deref(), Some("master"));
}

#[test]
fn chains_and_promotions_resync_partially() {
    let a = Server::tessera(&[]);
    let b = Server::tessera(&[]);
    let c = redis_or_skip!(&[]);
    let d = Server::tessera(&[]);
    write_everything(&a, "one");
    replicaof(&b, &a);
    replicaof(&c, &b);
    replicaof(&d, &b);
    wait_synced(&a, &b);
    wait_synced(&b, &c);
    wait_synced(&b, &d);
    write_everything(&a, "two");
    wait_expired(&a, "two");
    wait_expired(&a, "one");
    wait_synced(&a, &b);
    wait_synced(&b, &c);
    wait_synced(&b, &d);
    assert_same_data(&a, &c);
    assert_same_data(&a, &d);

    // B is promoted; C and D keep following it; A joins it as a replica.
    // Every one of them continues with a partial resync (PSYNC2).
    let mut bc = b.conn();
    let full_before = info_i64(&mut bc, "sync_full");
    bc.cmd(&["REPLICAOF", "NO", "ONE"]);
    replicaof(&a, &b);
    write_everything(&b, "three");
    wait_expired(&b, "three");
    for r in [&a, &c, &d] {
        wait_synced(&b, r);
    }
    assert_eq!(
        info_i64(&mut bc, "sync_full"),
        full_before,
        "no full resync after the promotion"
    );
    assert_same_data(&b, &a);
    assert_same_data(&b, &c);
    assert_same_data(&b, &d);
}

#[test]
fn wait_and_min_replicas_to_write() {
    let master = Server::tessera(&["--min-replicas-max-lag", "10"]);
    let mut r1 = Server::tessera(&[]);
    let r2 = redis_or_skip!(&[]);
    replicaof(&r1, &master);
    replicaof(&r2, &master);
    wait_synced(&master, &r1);
    wait_synced(&master, &r2);
    let mut m = master.conn();
    for i in 0..50 {
        m.cmd(&["SET", &format!("k{i}"), "v"]);
        assert_eq!(m.cmd(&["WAIT", "2", "0"]), Frame::Integer(2));
    }
    // More replicas than exist: the timeout ends the wait with the count.
    assert_eq!(m.cmd(&["WAIT", "3", "200"]), Frame::Integer(2));
    assert!(matches!(r1.conn().cmd(&["WAIT", "1", "0"]), Frame::Error(_)));

    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "2"]);
    assert_eq!(m.cmd(&["SET", "a", "1"]), Frame::Simple("OK".into()));
    r1.kill9();
    wait_until("the master to see one replica", &[&master], || {
        info(&mut m, "connected_slaves").as_deref() == Some("1")
    });
    assert_eq!(
        m.cmd(&["SET", "a", "2"]),
        Frame::Error("NOREPLICAS Not enough good replicas to write.".into())
    );
    assert_eq!(m.cmd(&["GET", "a"]), Frame::Bulk("1".into()));
    let r3 = Server::tessera(&[]);
    replicaof(&r3, &master);
    wait_until("a second good replica", &[&master, &r3], || {
        m.cmd(&["SET", "a", "3"]) == Frame::Simple("OK".into())
    });
    wait_synced(&master, &r3);
    assert_eq!(r3.conn().cmd(&["GET", "a"]), Frame::Bulk("3".into()));
}

/// A master that answers the handshake and then sends `snapshot` after
/// `+FULLRESYNC`, once per connection, until `connections` were served.
fn fake_master(snapshots: Vec<Vec<u8>>) -> (u16, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let mut served = 0;
        for snapshot in snapshots {
            let Ok((stream, _)) = listener.accept() else { break };
            stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer = stream;
            // PING, REPLCONF ×2, PSYNC: each a RESP array; answer each.
            for reply in ["+PONG\r\n", "+OK\r\n", "+OK\r\n"] {
                read_command(&mut reader);
                writer.write_all(reply.as_bytes()).expect("write");
            }
            read_command(&mut reader);
            writer
                .write_all(format!("+FULLRESYNC {} 100\r\n", "a".repeat(40)).as_bytes())
                .expect("write");
            writer.write_all(&snapshot).expect("write");
            served += 1;
            // End of the transfer; the replica drops the link.
            let _ = writer.shutdown(std::net::Shutdown::Write);
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
        }
        served
    });
    (port, handle)
}

fn read_command(reader: &mut impl BufRead) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read");
    let n: usize = line.trim_start_matches('*').trim().parse().expect("array header");
    for _ in 0..2 * n {
        line.clear();
        reader.read_line(&mut line).expect("read");
    }
}

#[test]
fn a_hostile_master_cannot_leave_a_half_dataset() {
    let replica = Server::tessera(&[]);
    let mut r = replica.conn();
    r.cmd(&["SET", "mine", "kept"]);
    // A valid snapshot of this server, to cut short.
    r.cmd(&["SAVE"]);
    let rdb = std::fs::read(replica.dir().join("dump.rdb")).expect("dump.rdb");
    let mut truncated = format!("${}\r\n", rdb.len() + 1000).into_bytes();
    truncated.extend_from_slice(&rdb[..rdb.len() - 4]);
    let mut garbage = b"$24\r\nREDIS0011this is not an rdb".to_vec();
    garbage.truncate(5 + 24);
    let eof_garbage = format!("$EOF:{m}\r\nREDIS0011\x7fgarbage{m}", m = "b".repeat(40)).into_bytes();
    let (port, master) = fake_master(vec![garbage, truncated, eof_garbage]);
    r.cmd(&["REPLICAOF", "127.0.0.1", &port.to_string()]);
    wait_until("three attempts", &[&replica], || master.is_finished());
    assert_eq!(master.join().expect("fake master"), 3);
    let log = replica.log_tail(200);
    assert!(
        log.contains("Failed trying to load the MASTER synchronization DB"),
        "{log}"
    );
    assert!(log.contains("MASTER closed the connection"), "{log}");
    // The old dataset, whole; the server still answers and keeps retrying.
    assert_eq!(r.cmd(&["GET", "mine"]), Frame::Bulk("kept".into()));
    assert_eq!(r.cmd(&["DBSIZE"]), Frame::Integer(1));
    assert_eq!(info(&mut r, "master_link_status").as_deref(), Some("down"));
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), Frame::Simple("OK".into()));
}

fn role_of(server: &Server) -> String {
    let Frame::Array(role) = server.conn().cmd(&["ROLE"]) else {
        panic!("ROLE")
    };
    text(&role[0])
}

#[test]
fn failover_switches_roles_with_redis_server_either_side() {
    let a = Server::tessera(&[]);
    let b = redis_or_skip!(&[]);
    let c = Server::tessera(&[]);
    let mut ac = a.conn();
    assert_eq!(
        ac.cmd(&["FAILOVER"]),
        Frame::Error("ERR FAILOVER requires connected replicas.".into())
    );
    write_everything(&a, "one");
    replicaof(&b, &a);
    replicaof(&c, &a);
    wait_synced(&a, &b);
    wait_synced(&a, &c);
    assert_eq!(
        ac.cmd(&["FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "100"]),
        Frame::Error("ERR FAILOVER target HOST and PORT is not a replica.".into())
    );
    assert_eq!(
        ac.cmd(&["FAILOVER", "ABORT"]),
        Frame::Error("ERR No failover in progress.".into())
    );

    // tessera → redis-server.
    let b_port = b.port().to_string();
    assert_eq!(
        ac.cmd(&["FAILOVER", "TO", "127.0.0.1", &b_port, "TIMEOUT", "30000"]),
        Frame::Simple("OK".into())
    );
    wait_until("redis-server to take over", &[&a, &b], || {
        role_of(&b) == "master" && role_of(&a) == "slave"
    });
    wait_until("the failover to end", &[&a], || {
        info(&mut ac, "master_failover_state").as_deref() == Some("no-failover")
    });
    write_everything(&b, "two");
    wait_expired(&b, "two");
    wait_synced(&b, &a);
    wait_synced(&a, &c);
    assert_same_data(&b, &a);
    assert_same_data(&b, &c);
    assert_eq!(
        ac.cmd(&["SET", "x", "1"]),
        Frame::Error("READONLY You can't write against a read only replica.".into())
    );

    // redis-server → tessera.
    let mut bc = b.conn();
    let a_port = a.port().to_string();
    let full_before = info_i64(&mut bc, "sync_full");
    let a_full_before = info_i64(&mut ac, "sync_full");
    assert_eq!(
        bc.cmd(&["FAILOVER", "TO", "127.0.0.1", &a_port, "TIMEOUT", "30000"]),
        Frame::Simple("OK".into())
    );
    wait_until("tessera to take over again", &[&a, &b], || {
        role_of(&a) == "master" && role_of(&b) == "slave"
    });
    write_everything(&a, "three");
    wait_expired(&a, "three");
    wait_synced(&a, &b);
    wait_synced(&a, &c);
    assert_same_data(&a, &b);
    assert_same_data(&a, &c);
    assert_eq!(
        info_i64(&mut ac, "sync_full"),
        a_full_before,
        "replicas resynced partially"
    );
    assert_eq!(
        info_i64(&mut bc, "sync_full"),
        full_before,
        "the old master resynced partially"
    );
}

#[test]
fn restarted_replica_and_master_continue_from_their_rdb() {
    let mut master = Server::tessera(&[]);
    let mut replica = Server::tessera(&[]);
    write_everything(&master, "one");
    replicaof(&replica, &master);
    wait_synced(&master, &replica);
    let mut m = master.conn();
    let full_before = info_i64(&mut m, "sync_full");

    // The replica saves (its RDB holds repl-id and repl-offset), dies,
    // and a new process on the same directory asks for a partial resync.
    assert_eq!(replica.conn().cmd(&["SAVE"]), Frame::Simple("OK".into()));
    replica.kill9();
    write_everything(&master, "two");
    let dir = replica.dir().to_str().expect("utf-8 path").to_owned();
    let port = master.port().to_string();
    let restarted = Server::tessera(&["--dir", &dir, "--replicaof", "127.0.0.1", &port]);
    wait_expired(&master, "two");
    wait_synced(&master, &restarted);
    assert_eq!(
        info_i64(&mut m, "sync_full"),
        full_before,
        "the restarted replica resynced partially"
    );
    assert_same_data(&master, &restarted);

    // The master saves and dies; restarted, it keeps its old history as the
    // secondary id, so its replica continues partially.
    assert_eq!(m.cmd(&["SAVE"]), Frame::Simple("OK".into()));
    master.kill9();
    let dir = master.dir().to_str().expect("utf-8 path").to_owned();
    let new_master = Server::tessera(&["--dir", &dir]);
    replicaof(&restarted, &new_master);
    wait_synced(&new_master, &restarted);
    let mut nm = new_master.conn();
    assert_eq!(info_i64(&mut nm, "sync_full"), 0);
    assert_eq!(info_i64(&mut nm, "sync_partial_ok"), 1);
    write_everything(&new_master, "three");
    wait_expired(&new_master, "three");
    wait_synced(&new_master, &restarted);
    assert_same_data(&new_master, &restarted);
}

/// PSYNC2 under churn (as Redis's psync2 test): five instances (one of them
/// redis-server), a new master and a new random tree of replicas every
/// cycle, links killed while writes go on. After the initial syncs, every
/// resync must be partial; at the end all hold the same data and no
/// acknowledged increment is lost.
#[test]
fn psync2_random_reparenting_converges_without_full_resyncs() {
    use rand::{Rng, SeedableRng, seq::SliceRandom};
    let redis = redis_or_skip!(&[]);
    let mut nodes = vec![redis];
    for _ in 0..4 {
        nodes.push(Server::tessera(&[]));
    }
    let seed = rand::random::<u64>();
    eprintln!("psync2 seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let all: Vec<&Server> = nodes.iter().collect();
    let wait_all_synced = |master: usize| {
        let mut conns: Vec<Conn> = nodes.iter().map(Server::conn).collect();
        wait_until("every instance to reach the master's offset", &all, || {
            let offset = info_i64(&mut conns[master], "master_repl_offset");
            (0..nodes.len()).filter(|&i| i != master).all(|i| {
                info(&mut conns[i], "master_link_status").as_deref() == Some("up")
                    && info_i64(&mut conns[i], "master_repl_offset") == offset
            })
        });
    };
    let full_syncs = || -> i64 { nodes.iter().map(|n| info_i64(&mut n.conn(), "sync_full")).sum() };
    let reparent = |rng: &mut rand::rngs::StdRng, master: usize| {
        // A random tree: each instance follows one placed before it.
        let mut order: Vec<usize> = (0..nodes.len()).filter(|&i| i != master).collect();
        order.shuffle(rng);
        let mut placed = vec![master];
        for i in order {
            let parent = placed[rng.random_range(0..placed.len())];
            replicaof(&nodes[i], &nodes[parent]);
            placed.push(i);
        }
    };
    let mut master = 0;
    let mut expected = 0;
    reparent(&mut rng, master);
    wait_all_synced(master);
    let full_at_start = full_syncs();
    for cycle in 0..12 {
        let mut m = nodes[master].conn();
        for i in 0..100 {
            assert_eq!(m.cmd(&["INCR", "counter"]), Frame::Integer(expected + 1));
            expected += 1;
            m.cmd(&[
                "SET",
                &format!("k{}", rng.random_range(0..500)),
                &format!("{cycle}:{i}"),
            ]);
            if i == 50 {
                // Kill a random replica's link while writes go on.
                let victim = (master + rng.random_range(1..nodes.len())) % nodes.len();
                nodes[victim].conn().cmd(&["CLIENT", "KILL", "TYPE", "master"]);
            }
        }
        wait_all_synced(master);
        // A new master (any instance), then a new tree.
        master = rng.random_range(0..nodes.len());
        assert_eq!(
            nodes[master].conn().cmd(&["REPLICAOF", "NO", "ONE"]),
            Frame::Simple("OK".into())
        );
        reparent(&mut rng, master);
        wait_all_synced(master);
    }
    assert_eq!(
        full_syncs(),
        full_at_start,
        "a re-parenting needed a full resync (seed {seed})"
    );
    for n in &nodes {
        assert_eq!(
            n.conn().cmd(&["GET", "counter"]),
            Frame::Bulk(expected.to_string().into())
        );
        assert_same_data(&nodes[master], n);
    }
}

/// 20 000 keys: a snapshot that takes a while to make and send.
fn write_many(conn: &mut Conn) {
    for batch in 0..20 {
        let mut args = vec!["MSET".to_string()];
        for i in 0..1000 {
            args.push(format!("k{batch}:{i}"));
            args.push("x".repeat(64));
        }
        assert_eq!(conn.cmd(&args), Frame::Simple("OK".into()));
    }
}

/// A diskless full resync while the master takes writes: the stream must not
/// be glued to the snapshot's end mark (the replica finds the end of the RDB
/// by the mark), so it starts only after the replica's first ACK.
#[test]
fn diskless_full_resync_under_write_load_completes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let master = Server::tessera(&["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
    let replica = Server::tessera(&[]);
    let mut m = master.conn();
    write_many(&mut m);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        let mut c = master.conn();
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..20 {
                    i += 1;
                    c.send(&["SET", &format!("load:{}", i % 1000), &i.to_string()]);
                }
                for _ in 0..20 {
                    c.recv();
                }
            }
        })
    };
    for round in 0..3 {
        replicaof(&replica, &master);
        let mut r = replica.conn();
        wait_until(
            &format!("the full resync of round {round}"),
            &[&master, &replica],
            || {
                info(&mut r, "master_link_status").as_deref() == Some("up")
                    && info(&mut r, "master_sync_in_progress").as_deref() == Some("0")
            },
        );
        assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), Frame::Simple("OK".into()));
        // A new history: the next REPLICAOF resyncs fully again.
        r.cmd(&["SET", "diverged", &round.to_string()]);
    }
    replicaof(&replica, &master);
    stop.store(true, Ordering::Relaxed);
    load.join().expect("the load thread");
    wait_synced(&master, &replica);
    assert!(info_i64(&mut master.conn(), "sync_full") >= 3, "full resyncs were made");
    let mut r = replica.conn();
    assert_eq!(r.cmd(&["DBSIZE"]), m.cmd(&["DBSIZE"]));
}

/// CLIENT PAUSE holds clients' writes, never replication: a replica makes
/// its full resync while the master is paused; a pause's timeout frees the
/// held writes with no further command, and they reach the replica.
#[test]
fn replicas_sync_while_writes_are_paused_and_a_pause_ends_on_its_timeout() {
    let master = Server::tessera(&[]);
    let replica = Server::tessera(&[]);
    write_everything(&master, "one");
    let mut m = master.conn();
    write_many(&mut m);
    assert_eq!(
        m.cmd(&["CLIENT", "PAUSE", "600000", "WRITE"]),
        Frame::Simple("OK".into())
    );
    let mut writer = master.conn();
    writer.send(&["SET", "held", "1"]);
    replicaof(&replica, &master);
    let mut r = replica.conn();
    wait_until("the full resync while paused", &[&master, &replica], || {
        // As a planned failover does: WAIT puts REPLCONF GETACK in the stream.
        m.cmd(&["WAIT", "1", "20"]);
        info(&mut r, "master_link_status").as_deref() == Some("up")
            && info(&mut r, "master_sync_in_progress").as_deref() == Some("0")
    });
    let slave0 = info(&mut m, "slave0").unwrap_or_default();
    assert!(slave0.contains("state=online"), "{slave0}");
    assert_eq!(r.cmd(&["EXISTS", "held"]), Frame::Integer(0));
    assert_eq!(m.cmd(&["CLIENT", "UNPAUSE"]), Frame::Simple("OK".into()));
    assert_eq!(writer.recv(), Frame::Simple("OK".into()));
    wait_synced(&master, &replica);
    assert_same_data(&master, &replica);

    // A short pause ends by itself: nobody sends anything after it.
    assert_eq!(m.cmd(&["CLIENT", "PAUSE", "300", "WRITE"]), Frame::Simple("OK".into()));
    writer.send(&["SET", "held", "2"]);
    writer.set_read_timeout(SYNC_TIMEOUT);
    assert_eq!(writer.recv(), Frame::Simple("OK".into()));
    wait_synced(&master, &replica);
    assert_eq!(r.cmd(&["GET", "held"]), Frame::Bulk("2".into()));
}

/// Reads from `stream` into `buf` until `buf` holds `needle`; the offset
/// just past it.
fn read_past(stream: &mut std::net::TcpStream, buf: &mut Vec<u8>, needle: &[u8]) -> usize {
    loop {
        if let Some(i) = buf.windows(needle.len()).position(|w| w == needle) {
            return i + needle.len();
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).expect("read from the master");
        assert!(n > 0, "the master closed the link");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// After a diskless snapshot nothing follows its end mark until the
/// replica's first REPLCONF ACK (the replica finds the end of the RDB by
/// the mark ending its input); INFO shows the replica online meanwhile.
/// As redis-server does.
#[test]
fn diskless_snapshot_end_mark_is_last_until_the_first_ack() {
    let args = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"];
    end_mark_is_last_until_the_first_ack(&Server::tessera(&args));
    end_mark_is_last_until_the_first_ack(&redis_or_skip!(&args));
}

fn end_mark_is_last_until_the_first_ack(master: &Server) {
    let mut m = master.conn();
    m.cmd(&["SET", "before", "1"]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", master.port())).expect("connect");
    raw.set_read_timeout(Some(SYNC_TIMEOUT)).expect("timeout");
    let mut buf = Vec::new();
    let send = |raw: &mut std::net::TcpStream, args: &[&str]| {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        raw.write_all(out.as_bytes()).expect("write");
    };
    send(&mut raw, &["REPLCONF", "capa", "eof", "capa", "psync2"]);
    let at = read_past(&mut raw, &mut buf, b"+OK\r\n");
    buf.drain(..at);
    send(&mut raw, &["PSYNC", "?", "-1"]);
    let at = read_past(&mut raw, &mut buf, b"$EOF:");
    buf.drain(..at);
    let at = read_past(&mut raw, &mut buf, b"\r\n");
    let mark = buf[..at - 2].to_vec();
    assert_eq!(mark.len(), 40);
    buf.drain(..at);
    let end = read_past(&mut raw, &mut buf, &mark);
    wait_until("the replica to be online", &[master], || {
        info(&mut m, "slave0").is_some_and(|s| s.contains("state=online"))
    });
    // Writes and a WAIT put bytes in the stream; none may come yet.
    m.cmd(&["SET", "after", "1"]);
    m.cmd(&["WAIT", "1", "100"]);
    raw.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
    let mut chunk = [0u8; 4096];
    match raw.read(&mut chunk) {
        Ok(n) => buf.extend_from_slice(&chunk[..n]),
        Err(e) => assert!(
            matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "{e}"
        ),
    }
    assert_eq!(buf.len(), end, "bytes followed the end mark before the first ACK");
    raw.set_read_timeout(Some(SYNC_TIMEOUT)).expect("timeout");
    send(&mut raw, &["REPLCONF", "ACK", "0"]);
    read_past(&mut raw, &mut buf, b"after");
}
