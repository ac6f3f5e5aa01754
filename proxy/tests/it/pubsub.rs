//! Pub/sub across proxy connections and shards.

use crate::support::*;
use resp::Frame;

fn push(kind: &str, channel: &str, payload: &str) -> Frame {
    Frame::Array(vec![bulk(kind), bulk(channel), bulk(payload)])
}

#[test]
fn publish_reaches_subscribers_on_other_connections() {
    let cluster = Cluster::start();
    let mut sub = cluster.conn();
    let mut psub = cluster.conn();
    let mut publisher = cluster.conn();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "news", "sport"]),
        Frame::Array(vec![bulk("subscribe"), bulk("news"), Frame::Integer(1)])
    );
    assert_eq!(
        sub.recv(),
        Frame::Array(vec![bulk("subscribe"), bulk("sport"), Frame::Integer(2)])
    );
    assert_eq!(
        psub.cmd(&["PSUBSCRIBE", "n*"]),
        Frame::Array(vec![bulk("psubscribe"), bulk("n*"), Frame::Integer(1)])
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "hello"]), Frame::Integer(2));
    assert_eq!(sub.recv(), push("message", "news", "hello"));
    assert_eq!(
        psub.recv(),
        Frame::Array(vec![bulk("pmessage"), bulk("n*"), bulk("news"), bulk("hello")])
    );
    // Subscribed RESP2 clients are limited as in Redis; PING has its pub/sub form.
    assert!(err_text(&sub.cmd(&["GET", "x"])).starts_with("ERR Can't execute 'get'"));
    assert_eq!(sub.cmd(&["PING"]), Frame::Array(vec![bulk("pong"), bulk("")]));
    assert_eq!(
        sub.cmd(&["UNSUBSCRIBE", "news"]),
        Frame::Array(vec![bulk("unsubscribe"), bulk("news"), Frame::Integer(1)])
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "sport", "goal"]), Frame::Integer(1));
    assert_eq!(sub.recv(), push("message", "sport", "goal"));
    assert_eq!(
        publisher.cmd(&["PUBSUB", "NUMSUB", "sport"]),
        Frame::Array(vec![bulk("sport"), Frame::Integer(1)])
    );
}

#[test]
fn sharded_pubsub_follows_the_channel_slot() {
    let cluster = Cluster::start();
    let channels: Vec<String> = (0..3).map(|s| key_on(s, 9)).collect();
    let mut subs: Vec<Conn> = channels
        .iter()
        .map(|ch| {
            let mut c = cluster.conn();
            assert_eq!(
                c.cmd(&["SSUBSCRIBE", ch]),
                Frame::Array(vec![bulk("ssubscribe"), bulk(ch), Frame::Integer(1)])
            );
            c
        })
        .collect();
    let mut publisher = cluster.conn();
    for (i, ch) in channels.iter().enumerate() {
        assert_eq!(publisher.cmd(&["SPUBLISH", ch, &format!("m{i}")]), Frame::Integer(1));
        // It went to the shard that owns the channel's slot.
        let Frame::Array(numsub) = cluster.shards[i].conn().cmd(&["PUBSUB", "SHARDNUMSUB", ch]) else {
            panic!()
        };
        assert_eq!(numsub[1], Frame::Integer(1));
    }
    for (i, (sub, ch)) in subs.iter_mut().zip(&channels).enumerate() {
        assert_eq!(sub.recv(), push("smessage", ch, &format!("m{i}")));
    }
    let mut c = cluster.conn();
    assert_eq!(
        err_text(&c.cmd(&["SSUBSCRIBE", &channels[0], &channels[1]])),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
}

#[test]
fn resp3_client_gets_pushes_and_keeps_running_commands() {
    let cluster = Cluster::start();
    let mut sub = cluster.conn();
    let mut publisher = cluster.conn();
    assert!(matches!(sub.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "ch"]),
        Frame::Push(vec![bulk("subscribe"), bulk("ch"), Frame::Integer(1)])
    );
    assert_eq!(sub.cmd(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(publisher.cmd(&["PUBLISH", "ch", "x"]), Frame::Integer(1));
    assert_eq!(sub.recv(), Frame::Push(vec![bulk("message"), bulk("ch"), bulk("x")]));
    assert_eq!(sub.cmd(&["GET", "k"]), bulk("v"));
}

/// Sends `requests` in one write and reads `replies` replies.
fn pipeline(c: &mut Conn, requests: &[&[&str]], replies: usize) -> Vec<Frame> {
    let bytes: Vec<u8> = requests.iter().flat_map(|r| multibulk(r)).collect();
    c.send_raw(&bytes).expect("send");
    (0..replies).map(|_| c.recv()).collect()
}

#[test]
fn subscribed_mode_ends_with_the_last_unsubscribe_as_on_a_node() {
    let cluster = Cluster::start();
    let run = |c: &mut Conn| {
        let mut replies = pipeline(c, &[&["SUBSCRIBE", "a", "b"], &["GET", "k"]], 3);
        // Pipelined right after the last UNSUBSCRIBE: served, in order.
        replies.extend(pipeline(
            c,
            &[
                &["UNSUBSCRIBE", "a"],
                &["GET", "k"],
                &["UNSUBSCRIBE"],
                &["SET", "k", "v"],
                &["GET", "k"],
            ],
            5,
        ));
        replies.extend(pipeline(
            c,
            &[&["PSUBSCRIBE", "p*"], &["PUNSUBSCRIBE", "p*"], &["DEL", "k"]],
            3,
        ));
        replies
    };
    let on_proxy = run(&mut cluster.conn());
    let on_node = run(&mut node().conn());
    assert_eq!(on_proxy, on_node);
    assert_eq!(on_proxy[6], simple("OK"), "{on_proxy:?}");
    assert_eq!(on_proxy[7], bulk("v"));
    assert!(err_text(&on_proxy[2]).starts_with("ERR Can't execute 'get'"));
}
