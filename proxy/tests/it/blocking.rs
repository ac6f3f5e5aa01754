//! Blocking commands on dedicated backend connections.

use crate::support::*;
use resp::Frame;
use std::time::Duration;

#[test]
fn blpop_is_woken_by_another_clients_push_without_stalling_others() {
    let cluster = Cluster::start();
    let mut waiter = cluster.conn();
    let mut pusher = cluster.conn();
    let list = key_on(1, 3);
    waiter.send(&["BLPOP", &list, "0"]);
    // While it waits, other clients (and other shards) are served.
    for i in 0..50 {
        let k = format!("other:{i}");
        assert_eq!(pusher.cmd(&["SET", &k, "v"]), simple("OK"));
        assert_eq!(pusher.cmd(&["GET", &k]), bulk("v"));
    }
    // The pop is registered on the shard before the push is sent.
    let mut shard = cluster.shards[1].conn();
    eventually("the blocked client on the shard", || {
        let Frame::Bulk(info) = shard.cmd(&["INFO", "clients"]) else {
            return false;
        };
        String::from_utf8_lossy(&info).contains("blocked_clients:1")
    });
    assert_eq!(pusher.cmd(&["RPUSH", &list, "job"]), Frame::Integer(1));
    assert_eq!(waiter.recv(), Frame::Array(vec![bulk(&list), bulk("job")]));
    // The same connection goes on with ordinary commands, in order.
    assert_eq!(waiter.cmd(&["LLEN", &list]), Frame::Integer(0));
    assert_eq!(waiter.cmd(&["BRPOP", &list, "0.05"]), Frame::NullArray);
}

#[test]
fn blmove_and_bzpopmin_work_and_time_out() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    let mut other = cluster.conn();
    c.send(&["BLMOVE", "{q}src", "{q}dst", "LEFT", "RIGHT", "0"]);
    let mut shard = cluster.shards[Cluster::shard_of(b"q")].conn();
    eventually("the blocked client", || {
        let Frame::Bulk(info) = shard.cmd(&["INFO", "clients"]) else {
            return false;
        };
        String::from_utf8_lossy(&info).contains("blocked_clients:1")
    });
    assert_eq!(other.cmd(&["LPUSH", "{q}src", "x"]), Frame::Integer(1));
    assert_eq!(c.recv(), bulk("x"));
    assert_eq!(c.cmd(&["LRANGE", "{q}dst", "0", "-1"]), Frame::Array(vec![bulk("x")]));
    assert_eq!(
        err_text(&c.cmd(&["BLPOP", &key_on(0, 1), &key_on(1, 1), "0"])),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    c.set_read_timeout(Duration::from_secs(10));
    assert_eq!(c.cmd(&["BZPOPMIN", "{z}a", "0.05"]), Frame::NullArray);
    assert_eq!(other.cmd(&["ZADD", "{z}a", "1", "m"]), Frame::Integer(1));
    assert_eq!(
        c.cmd(&["BZPOPMIN", "{z}a", "0"]),
        Frame::Array(vec![bulk("{z}a"), bulk("m"), bulk("1")])
    );
}

#[test]
fn a_client_leaving_during_a_blocking_pop_is_forgotten() {
    let cluster = Cluster::start();
    let list = key_on(2, 4);
    let mut shard = cluster.shards[2].conn();
    let blocked = |shard: &mut Conn, n: usize| {
        let Frame::Bulk(info) = shard.cmd(&["INFO", "clients"]) else {
            return false;
        };
        String::from_utf8_lossy(&info).contains(&format!("blocked_clients:{n}\r"))
    };
    let mut waiter = cluster.conn();
    waiter.send(&["BLPOP", &list, "0"]);
    eventually("the blocked client", || blocked(&mut shard, 1));
    drop(waiter);
    eventually("the shard to forget it", || blocked(&mut shard, 0));
    // A push now stays in the list: nobody took it.
    let mut c = cluster.conn();
    assert_eq!(c.cmd(&["RPUSH", &list, "x"]), Frame::Integer(1));
    assert_eq!(c.cmd(&["LLEN", &list]), Frame::Integer(1));
}

#[test]
fn idle_timeout_spares_blocked_and_subscribed_clients() {
    let cluster = Cluster::with("idle_timeout_secs = 1", "");
    let list = key_on(0, 5);
    let mut waiter = cluster.conn();
    waiter.send(&["BLPOP", &list, "0"]);
    let mut subscriber = cluster.conn();
    assert_eq!(
        subscriber.cmd(&["SUBSCRIBE", "ch"]),
        Frame::Array(vec![bulk("subscribe"), bulk("ch"), Frame::Integer(1)])
    );
    // An idle client is closed: the timeout is in force.
    let mut idle = cluster.conn();
    assert_eq!(idle.cmd(&["PING"]), simple("PONG"));
    assert!(idle.closed());
    // Well past the timeout, the blocked and subscribed clients are still served.
    std::thread::sleep(Duration::from_secs(3));
    let mut pusher = cluster.conn();
    assert_eq!(pusher.cmd(&["RPUSH", &list, "job"]), Frame::Integer(1));
    assert_eq!(waiter.recv(), Frame::Array(vec![bulk(&list), bulk("job")]));
    assert_eq!(pusher.cmd(&["PUBLISH", "ch", "hi"]), Frame::Integer(1));
    assert_eq!(
        subscriber.recv(),
        Frame::Array(vec![bulk("message"), bulk("ch"), bulk("hi")])
    );
}
