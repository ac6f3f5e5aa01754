//! `--manager URL --token T`: a small in-test HTTP server plays the
//! manager's topology endpoint (long-poll, bearer token, 304 when nothing
//! changed); databases appear, change and disappear while clients stay
//! connected.

use crate::support::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const TOKEN: &str = "cluster-token";

/// Current epoch, its body, and how many polls were refused.
type State = (u64, String, usize);

/// The topology endpoint: the current epoch and body.
#[derive(Clone)]
struct Manager {
    state: Arc<(Mutex<State>, Condvar)>,
    port: u16,
}

impl Manager {
    fn start() -> Manager {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let manager = Manager {
            state: Arc::new((Mutex::new((0, String::new(), 0)), Condvar::new())),
            port,
        };
        let m = manager.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let m = m.clone();
                std::thread::spawn(move || m.answer(stream));
            }
        });
        manager
    }

    fn set(&self, epoch: u64, databases: &str) {
        let (lock, cvar) = &*self.state;
        let mut s = lock.lock().expect("lock");
        s.0 = epoch;
        s.1 = format!("{{\"epoch\": {epoch}, \"databases\": [{databases}]}}");
        cvar.notify_all();
    }

    fn unauthorized(&self) -> usize {
        self.state.0.lock().expect("lock").2
    }

    fn answer(&self, mut stream: std::net::TcpStream) {
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&chunk[..n]),
            }
        }
        let text = String::from_utf8_lossy(&request).into_owned();
        let (lock, cvar) = &*self.state;
        if !text.contains(&format!("Authorization: Bearer {TOKEN}\r\n")) {
            lock.lock().expect("lock").2 += 1;
            let _ = stream.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        let after: u64 = text
            .split_once("after=")
            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let guard = lock.lock().expect("lock");
        let (guard, _) = cvar
            .wait_timeout_while(guard, Duration::from_secs(2), |s| s.0 <= after)
            .expect("wait");
        let response = if guard.0 > after {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                guard.1.len(),
                guard.1
            )
        } else {
            "HTTP/1.1 304 Not Modified\r\n\r\n".to_owned()
        };
        drop(guard);
        let _ = stream.write_all(response.as_bytes());
    }
}

fn database(name: &str, port: u16, master: u16) -> String {
    format!(
        r#"{{"uid": 1, "name": "{name}", "port": {port}, "tls_mode": "disabled", "tls": null, "password_hash": null,
            "read_policy": "master", "max_connections": 100,
            "shards": [{{"slots": [0, 16383], "master": "127.0.0.1:{master}", "replicas": []}}]}}"#
    )
}

/// `database` whose shards want `password`.
fn with_shard_password(database: &str, password: &str) -> String {
    database.replace(
        "\"password_hash\": null",
        &format!("\"password_hash\": null, \"shard_password\": \"{password}\""),
    )
}

fn start_proxy(manager: &Manager, token: &str) -> Process {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera-proxy"))
        .args([
            "--manager",
            &format!("http://127.0.0.1:{}", manager.port),
            "--token",
            token,
            "--bind",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("proxy");
    Process::from_child(child, 0)
}

#[test]
fn databases_follow_the_topology_live() {
    let manager = Manager::start();
    let (a, b) = (node(), node());
    let (p1, p2) = (free_port(), free_port());
    manager.set(1, &database("one", p1, a.port));
    let _proxy = start_proxy(&manager, TOKEN);
    eventually("database one", || {
        Conn::try_connect(p1).is_ok_and(|mut c| c.try_cmd(&["PING"]).is_ok())
    });
    let mut client = Conn::connect(p1);
    assert_eq!(client.cmd(&["SET", "k", "on-a"]), simple("OK"));
    assert_eq!(a.conn().cmd(&["GET", "k"]), bulk("on-a"));
    // The shard's master moves to b: the same client connection goes on.
    manager.set(2, &database("one", p1, b.port));
    let mut b_conn = b.conn();
    let mut i = 0;
    eventually("writes reaching the new master", || {
        i += 1;
        assert_eq!(client.cmd(&["SET", &format!("w{i}"), "x"]), simple("OK"));
        b_conn.cmd(&["GET", &format!("w{i}")]) == bulk("x")
    });
    // A second database appears, the first disappears.
    manager.set(
        3,
        &format!("{}, {}", database("one", p1, b.port), database("two", p2, a.port)),
    );
    eventually("database two", || {
        Conn::try_connect(p2).is_ok_and(|mut c| c.try_cmd(&["GET", "k"]).ok() == Some(bulk("on-a")))
    });
    manager.set(4, &database("two", p2, a.port));
    assert!(client.closed(), "clients of a removed database are closed");
    eventually("port one closed", || Conn::try_connect(p1).is_err());
}

#[test]
fn a_wrong_token_is_refused_and_serves_nothing() {
    let manager = Manager::start();
    let a = node();
    let p1 = free_port();
    manager.set(1, &database("one", p1, a.port));
    let _proxy = start_proxy(&manager, "wrong");
    eventually("a refused poll", || manager.unauthorized() > 0);
    assert!(Conn::try_connect(p1).is_err());
}

#[test]
fn links_authenticate_again_when_the_shard_password_changes() {
    let manager = Manager::start();
    let a = node();
    assert_eq!(a.conn().cmd(&["CONFIG", "SET", "requirepass", "p1"]), simple("OK"));
    let p1 = free_port();
    let db = database("one", p1, a.port);
    manager.set(1, &with_shard_password(&db, "p1"));
    let _proxy = start_proxy(&manager, TOKEN);
    eventually("database one", || {
        Conn::try_connect(p1).is_ok_and(|mut c| c.try_cmd(&["PING"]).is_ok())
    });
    let mut client = Conn::connect(p1);
    assert_eq!(client.cmd(&["SET", "k", "v"]), simple("OK"));
    // A wrong password: the links reconnect with it and the shard refuses.
    manager.set(2, &with_shard_password(&db, "wrong"));
    eventually(
        "the links using the new password",
        || matches!(client.cmd(&["GET", "k"]), resp::Frame::Error(e) if e.starts_with(b"ERR shard unavailable")),
    );
    // The right one again: the same client goes on.
    manager.set(3, &with_shard_password(&db, "p1"));
    eventually("the links using the right password", || {
        client.cmd(&["GET", "k"]) == bulk("v")
    });
    // Without a password the shard answers NOAUTH, passed on as it is.
    manager.set(4, &db);
    eventually(
        "the links without a password",
        || matches!(client.cmd(&["GET", "k"]), resp::Frame::Error(e) if e.starts_with(b"NOAUTH")),
    );
}

#[test]
fn a_master_switch_under_continuous_writes_loses_no_acknowledged_write() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let manager = Manager::start();
    let (a, b) = (node(), node());
    let mut b_conn = b.conn();
    assert_eq!(
        b_conn.cmd(&["REPLICAOF", "127.0.0.1", &a.port.to_string()]),
        simple("OK")
    );
    let p1 = free_port();
    manager.set(1, &database("one", p1, a.port));
    let _proxy = start_proxy(&manager, TOKEN);
    eventually("database one", || {
        Conn::try_connect(p1).is_ok_and(|mut c| c.try_cmd(&["PING"]).is_ok())
    });
    // One client writes w:i = i without pause and keeps what was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let writer = {
        let (stop, acked, refused) = (stop.clone(), acked.clone(), refused.clone());
        std::thread::spawn(move || {
            let mut c = Conn::connect(p1);
            let mut ok = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = i.to_string();
                match c.cmd(&["SET", &format!("w:{i}"), &i]) {
                    resp::Frame::Simple(s) if &s[..] == b"OK" => {
                        ok.push(i);
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    resp::Frame::Error(e) if e.starts_with(b"READONLY") => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    // Not acknowledged (e.g. the connection to a moving master lost).
                    _ => {}
                }
            }
            ok
        })
    };
    eventually("writes to the first master", || acked.load(Ordering::Relaxed) >= 200);
    // The master moves to b, still a replica: writes reaching it are refused
    // (READONLY), so none is acknowledged there.
    manager.set(2, &database("one", p1, b.port));
    eventually("writes reaching b", || refused.load(Ordering::Relaxed) > 0);
    let mut a_conn = a.conn();
    eventually("b to hold what a holds", || {
        a_conn.cmd(&["DBSIZE"]) == b_conn.cmd(&["DBSIZE"])
    });
    // Promoted, b acknowledges the writes from now on.
    assert_eq!(b_conn.cmd(&["REPLICAOF", "NO", "ONE"]), simple("OK"));
    let before = acked.load(Ordering::Relaxed);
    eventually("writes acknowledged by b", || {
        acked.load(Ordering::Relaxed) >= before + 200
    });
    stop.store(true, Ordering::Relaxed);
    let ok = writer.join().expect("writer");
    for i in &ok {
        assert_eq!(
            b_conn.cmd(&["GET", &format!("w:{i}")]),
            bulk(i),
            "acknowledged write w:{i} lost"
        );
    }
}
