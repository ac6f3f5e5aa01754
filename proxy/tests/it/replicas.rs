//! `read_policy = "replica"`: reads go to a replica of the owning shard,
//! writes to its master.

use crate::support::*;
use resp::Frame;

fn database(name: &str, port: u16, policy: &str, master: u16, replicas: &[u16]) -> String {
    let replicas: Vec<String> = replicas.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    format!(
        "[[databases]]\nname = \"{name}\"\nport = {port}\nread_policy = \"{policy}\"\n\
         [[databases.shards]]\nslots = [0, 16383]\nmaster = \"127.0.0.1:{master}\"\nreplicas = [{}]\n",
        replicas.join(", ")
    )
}

#[test]
fn reads_go_to_the_replica_and_writes_to_the_master() {
    let master = node();
    let replica = node();
    let mut r = replica.conn();
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        simple("OK")
    );
    let (on_replica, on_master, no_replica) = (free_port(), free_port(), free_port());
    let config = format!(
        "bind = \"127.0.0.1\"\n{}{}{}",
        database("replica", on_replica, "replica", master.port, &[replica.port]),
        database("master", on_master, "master", master.port, &[replica.port]),
        database("none", no_replica, "replica", master.port, &[]),
    );
    let proxy = proxy(&config, on_replica, free_port(), &[]);
    let mut c = proxy.conn();
    assert_eq!(c.cmd(&["SET", "k", "v1"]), simple("OK"));
    eventually("the replica to have k", || r.cmd(&["GET", "k"]) == bulk("v1"));
    // Cut replication, then change k on the master alone: the two now differ.
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), simple("OK"));
    assert_eq!(master.conn().cmd(&["SET", "k", "v2"]), simple("OK"));
    // Reads (single-key, split, fanned out) answer from the replica.
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v1"));
    assert_eq!(
        c.cmd(&["MGET", "k", "missing"]),
        Frame::Array(vec![bulk("v1"), Frame::Null])
    );
    // Writes go to the master.
    assert_eq!(c.cmd(&["SET", "k", "v3"]), simple("OK"));
    assert_eq!(master.conn().cmd(&["GET", "k"]), bulk("v3"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v1"));
    assert_eq!(c.cmd(&["APPEND", "k", "!"]), Frame::Integer(3));
    // Policy master, or no replica known: reads go to the master.
    assert_eq!(Conn::connect(on_master).cmd(&["GET", "k"]), bulk("v3!"));
    assert_eq!(Conn::connect(no_replica).cmd(&["GET", "k"]), bulk("v3!"));
}

#[test]
fn reads_take_the_replicas_in_turn_and_fall_back_to_the_master() {
    let master = node();
    let (first, second) = (node(), node());
    // Each node holds its own value of k: the value read tells who answered.
    for (node, value) in [(&master, "m"), (&first, "r1"), (&second, "r2")] {
        assert_eq!(node.conn().cmd(&["SET", "k", value]), simple("OK"));
    }
    let port = free_port();
    let config = format!(
        "bind = \"127.0.0.1\"\n{}",
        database("spread", port, "replica", master.port, &[first.port, second.port])
    );
    let proxy = proxy(&config, port, free_port(), &[]);
    let mut c = proxy.conn();
    let mut reads = |n: usize| -> Vec<Frame> { (0..n).map(|_| c.cmd(&["GET", "k"])).collect() };
    // In turn: any two reads in a row come from the two replicas.
    let turns = reads(10);
    for pair in turns.chunks(2) {
        assert!(pair.contains(&bulk("r1")) && pair.contains(&bulk("r2")), "{turns:?}");
    }
    // One replica down: the other takes every read.
    drop(first);
    eventually("reads from the second replica only", || {
        reads(6).iter().all(|f| *f == bulk("r2"))
    });
    // No replica up: the master answers.
    drop(second);
    eventually("reads from the master", || reads(6).iter().all(|f| *f == bulk("m")));
    assert_eq!(reads(4), vec![bulk("m"); 4]);
}

#[test]
fn durability_sync_answers_writes_once_a_replica_has_them() {
    let master = node();
    let replica = node();
    let mut r = replica.conn();
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        simple("OK")
    );
    eventually("the replica to be in sync", || {
        master.conn().cmd(&["WAIT", "1", "100"]) == Frame::Integer(1)
    });
    let port = free_port();
    let config = format!(
        "bind = \"127.0.0.1\"\n[[databases]]\nname = \"db\"\nport = {port}\ndurability = \"sync\"\n\
         [[databases.shards]]\nslots = [0, 16383]\nmaster = \"127.0.0.1:{}\"\n",
        master.port
    );
    let proxy = proxy(&config, port, free_port(), &[]);
    let mut c = proxy.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // An error was not applied: it is not held for a replica.
    let Frame::Error(e) = c.cmd(&["LPUSH", "k", "x"]) else {
        panic!("LPUSH on a string must fail")
    };
    assert!(e.starts_with(b"WRONGTYPE"));
    // Without a replica, the write is applied but not acknowledged.
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), simple("OK"));
    let Frame::Error(e) = c.cmd(&["SET", "k", "v2"]) else {
        panic!("a write no replica has must fail")
    };
    assert!(e.starts_with(b"NOREPLICAS"), "{}", String::from_utf8_lossy(&e));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v2"));
}
