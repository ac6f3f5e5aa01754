//! MULTI/EXEC/WATCH through the proxy.

use crate::support::*;
use resp::Frame;

#[test]
fn multi_on_one_slot_runs_atomically_on_its_shard() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "{user:1}name", "ann"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["INCR", "{user:1}visits"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["MGET", "{user:1}name", "{user:1}visits"]), simple("QUEUED"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Frame::Array(vec![
            simple("OK"),
            Frame::Integer(1),
            Frame::Array(vec![bulk("ann"), bulk("1")])
        ])
    );
    let shard = Cluster::shard_of(b"user:1");
    assert_eq!(cluster.shards[shard].conn().cmd(&["GET", "{user:1}name"]), bulk("ann"));
    assert_eq!(err_text(&c.cmd(&["EXEC"])), "ERR EXEC without MULTI");
    assert_eq!(err_text(&c.cmd(&["DISCARD"])), "ERR DISCARD without MULTI");
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(err_text(&c.cmd(&["MULTI"])), "ERR MULTI calls can not be nested");
    assert_eq!(c.cmd(&["SET", "{user:1}name", "bob"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["DISCARD"]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "{user:1}name"]), bulk("ann"));
}

#[test]
fn multi_across_slots_is_crossslot_and_aborts() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    let (a, b) = (key_on(0, 7), key_on(2, 7));
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", &a, "1"]), simple("QUEUED"));
    assert_eq!(
        err_text(&c.cmd(&["SET", &b, "2"])),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    assert_eq!(
        err_text(&c.cmd(&["EXEC"])),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(c.cmd(&["MGET", &a, &b]), Frame::Array(vec![Frame::Null, Frame::Null]));
    assert_eq!(
        err_text(&c.cmd(&["WATCH", &a, &b])),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
}

#[test]
fn watch_aborts_exec_when_another_client_writes() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    let mut other = cluster.conn();
    assert_eq!(c.cmd(&["SET", "{w}k", "1"]), simple("OK"));
    assert_eq!(c.cmd(&["WATCH", "{w}k"]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "{w}k"]), bulk("1"));
    assert_eq!(other.cmd(&["SET", "{w}k", "2"]), simple("OK"));
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "{w}k", "from-tx"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), Frame::NullArray);
    assert_eq!(c.cmd(&["GET", "{w}k"]), bulk("2"));
    // Without interference the watched transaction commits.
    assert_eq!(c.cmd(&["WATCH", "{w}k"]), simple("OK"));
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "{w}k", "from-tx"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), Frame::Array(vec![simple("OK")]));
    assert_eq!(other.cmd(&["GET", "{w}k"]), bulk("from-tx"));
}

#[test]
fn wrong_arity_inside_multi_is_refused_when_queued_as_on_a_node() {
    let cluster = Cluster::start();
    let run = |c: &mut Conn| -> Vec<Frame> {
        let mut replies = Vec::new();
        for cmd in [
            &["MULTI"][..],
            &["SET", "{t}a", "1"],
            &["GET"],
            &["SET", "{t}a"],
            &["OBJECT", "ENCODING"],
            &["EXEC"],
            &["GET", "{t}a"],
            &["MULTI"],
            &["INCR", "{t}n", "extra"],
            &["DISCARD"],
        ] {
            replies.push(c.cmd(cmd));
        }
        replies
    };
    let on_proxy = run(&mut cluster.conn());
    let on_node = run(&mut node().conn());
    assert_eq!(on_proxy, on_node);
    assert_eq!(
        err_text(&on_proxy[2]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err_text(&on_proxy[5]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(on_proxy[6], Frame::Null);
}
