//! AUTH, HELLO and RESP3 through the proxy.

use crate::support::*;
use resp::Frame;

#[test]
fn password_is_required_and_checked() {
    let cluster = Cluster::with("", "password = \"s3cret\"");
    let mut c = cluster.conn();
    assert_eq!(err_text(&c.cmd(&["GET", "k"])), "NOAUTH Authentication required.");
    assert_eq!(
        err_text(&c.cmd(&["AUTH", "wrong"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        err_text(&c.cmd(&["AUTH", "bob", "s3cret"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert!(err_text(&c.cmd(&["HELLO", "3"])).starts_with("NOAUTH HELLO must be called"));
    assert_eq!(c.cmd(&["AUTH", "s3cret"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    let mut d = cluster.conn();
    let Frame::Map(hello) = d.cmd(&["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app"]) else {
        panic!("HELLO 3 answers a map")
    };
    assert!(hello.contains(&(bulk("proto"), Frame::Integer(3))));
    assert_eq!(d.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(d.cmd(&["CLIENT", "GETNAME"]), bulk("app"));
    // Unauthenticated clients get Redis's small limits.
    let mut e = cluster.conn();
    let big = "x".repeat(20_000);
    assert_eq!(
        err_text(&e.cmd(&["AUTH", &big])),
        "ERR Protocol error: unauthenticated bulk length"
    );
    assert!(e.closed());
}

#[test]
fn argon2_password_hash_is_verified() {
    use argon2::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(b"pw")
        .expect("hash")
        .to_string();
    let cluster = Cluster::with("", &format!("password_hash = \"{hash}\""));
    let mut c = cluster.conn();
    assert_eq!(
        err_text(&c.cmd(&["AUTH", "nope"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(c.cmd(&["AUTH", "pw"]), simple("OK"));
    // A second connection is checked against the remembered password.
    let mut d = cluster.conn();
    assert_eq!(
        err_text(&d.cmd(&["AUTH", "px"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(d.cmd(&["AUTH", "default", "pw"]), simple("OK"));
}

#[test]
fn resp3_replies_come_in_resp3() {
    let cluster = Cluster::start();
    let mut c = cluster.conn();
    assert!(err_text(&c.cmd(&["HELLO", "4"])).starts_with("NOPROTO"));
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), Frame::Integer(1));
    assert_eq!(c.cmd(&["HGETALL", "h"]), Frame::Array(vec![bulk("f"), bulk("v")]));
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(c.cmd(&["HGETALL", "h"]), Frame::Map(vec![(bulk("f"), bulk("v"))]));
    assert_eq!(c.cmd(&["GET", "missing"]), Frame::Null);
    assert_eq!(
        c.cmd(&["MGET", &key_on(0, 2), &key_on(1, 2)]),
        Frame::Array(vec![Frame::Null, Frame::Null])
    );
    assert_eq!(c.cmd(&["ZADD", "z", "1.5", "m"]), Frame::Integer(1));
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), Frame::Double(1.5));
    assert!(matches!(c.cmd(&["HELLO", "2"]), Frame::Array(_)));
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), bulk("1.5"));
}

/// Sets `requirepass` on a running shard.
fn require_password(shard: &Process, password: &str) {
    assert_eq!(
        shard.conn().cmd(&["CONFIG", "SET", "requirepass", password]),
        simple("OK")
    );
    assert!(err_text(&shard.conn().cmd(&["GET", "k"])).starts_with("NOAUTH"));
}

#[test]
fn shards_with_a_password_are_authenticated_to() {
    let cluster = Cluster::with("", "password = \"front\"\nshard_password = \"back\"");
    // Links open on first use: the shards want the password from now on.
    for shard in &cluster.shards {
        require_password(shard, "back");
    }
    let mut c = cluster.conn();
    assert_eq!(err_text(&c.cmd(&["GET", "k"])), "NOAUTH Authentication required.");
    assert_eq!(c.cmd(&["AUTH", "front"]), simple("OK"));
    let keys: Vec<String> = (0..3).map(|shard| key_on(shard, 7)).collect();
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(c.cmd(&["SET", key, &format!("v{i}")]), simple("OK"));
    }
    let mut mget = vec!["MGET"];
    mget.extend(keys.iter().map(String::as_str));
    let values = Frame::Array(vec![bulk("v0"), bulk("v1"), bulk("v2")]);
    assert_eq!(c.cmd(&mget), values);
    // RESP3 links authenticate too.
    let mut d = cluster.conn();
    assert!(matches!(
        d.cmd(&["HELLO", "3", "AUTH", "default", "front"]),
        Frame::Map(_)
    ));
    assert_eq!(d.cmd(&mget), values);
    assert_eq!(d.cmd(&["GET", &keys[2]]), bulk("v2"));
}
