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
