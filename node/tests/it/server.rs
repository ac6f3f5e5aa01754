//! Server behaviour that differential scripts cannot show: INFO's fields,
//! limits applied live by CONFIG SET (maxclients, timeout, output buffer
//! limits), authentication, CLIENT KILL/PAUSE/REPLY across connections,
//! MONITOR, SLOWLOG, SHUTDOWN, and real clients (redis-cli interactive,
//! redis-benchmark).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resp::Frame;

use crate::support::{Conn, Server, free_port, pretty_frame, tool_installed};

fn ok(f: &Frame) -> bool {
    matches!(f, Frame::Simple(s) if &s[..] == b"OK")
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        other => panic!("not a string reply: {}", pretty_frame(other)),
    }
}

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(n) => *n,
        other => panic!("not an integer reply: {}", pretty_frame(other)),
    }
}

fn expect_ok(conn: &mut Conn, line: &str) {
    let reply = conn.cmd_str(line);
    assert!(ok(&reply), "{line}: {}", pretty_frame(&reply));
}

/// INFO as `section -> field -> value`.
fn info(conn: &mut Conn, section: &str) -> HashMap<String, HashMap<String, String>> {
    let body = text(&conn.cmd(&["INFO", section]));
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current = String::new();
    for line in body.split("\r\n") {
        if let Some(name) = line.strip_prefix("# ") {
            current = name.to_lowercase();
            sections.entry(current.clone()).or_default();
        } else if let Some((k, v)) = line.split_once(':') {
            sections
                .entry(current.clone())
                .or_default()
                .insert(k.to_owned(), v.to_owned());
        } else {
            assert!(line.is_empty(), "malformed INFO line {line:?}");
        }
    }
    sections
}

#[test]
fn info_has_the_fields_tools_read() {
    let server = Server::tessera(&[]);
    let mut c = server.conn();
    expect_ok(&mut c, "SET k v");
    expect_ok(&mut c, "SET t v EX 100");
    c.cmd_str("GET k");
    c.cmd_str("GET nokey");
    c.cmd_str("NOSUCHCOMMAND");
    let all = info(&mut c, "everything");
    let expected: &[(&str, &[&str])] = &[
        (
            "server",
            &[
                "redis_version",
                "tessera_version",
                "redis_mode",
                "os",
                "arch_bits",
                "process_id",
                "run_id",
                "tcp_port",
                "uptime_in_seconds",
                "uptime_in_days",
                "hz",
                "configured_hz",
                "lru_clock",
                "executable",
                "config_file",
            ],
        ),
        ("clients", &["connected_clients", "blocked_clients", "maxclients"]),
        (
            "memory",
            &[
                "used_memory",
                "used_memory_human",
                "used_memory_rss",
                "used_memory_peak",
                "maxmemory",
                "maxmemory_policy",
                "mem_fragmentation_ratio",
            ],
        ),
        (
            "persistence",
            &[
                "loading",
                "rdb_changes_since_last_save",
                "rdb_bgsave_in_progress",
                "rdb_last_save_time",
                "rdb_last_bgsave_status",
                "aof_enabled",
            ],
        ),
        (
            "stats",
            &[
                "total_connections_received",
                "total_commands_processed",
                "instantaneous_ops_per_sec",
                "total_net_input_bytes",
                "total_net_output_bytes",
                "expired_keys",
                "evicted_keys",
                "keyspace_hits",
                "keyspace_misses",
                "total_error_replies",
            ],
        ),
        (
            "replication",
            &["role", "connected_slaves", "master_replid", "master_repl_offset"],
        ),
        ("cpu", &["used_cpu_sys", "used_cpu_user"]),
        ("cluster", &["cluster_enabled"]),
        ("keyspace", &["db0"]),
        ("commandstats", &["cmdstat_set", "cmdstat_get"]),
        ("errorstats", &["errorstat_ERR"]),
    ];
    for (section, fields) in expected {
        let s = all.get(*section).unwrap_or_else(|| panic!("no # {section} section"));
        for f in *fields {
            assert!(s.contains_key(*f), "INFO {section} lacks {f}");
        }
    }
    for section in ["modules", "latencystats"] {
        assert!(all.contains_key(section), "no # {section} section");
    }
    let server_s = &all["server"];
    assert_eq!(server_s["redis_version"], tessera_node::REDIS_VERSION);
    assert_eq!(server_s["redis_mode"], "standalone");
    assert_eq!(server_s["tcp_port"], server.port().to_string());
    assert_eq!(server_s["run_id"].len(), 40);
    assert!(server_s["run_id"].bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(server_s["process_id"].parse::<u32>().is_ok());
    let repl = &all["replication"];
    assert_eq!(repl["role"], "master");
    assert_eq!(repl["master_replid"].len(), 40);
    assert!(all["memory"]["used_memory"].parse::<u64>().expect("used_memory") > 0);
    assert!(
        all["memory"]["used_memory_rss"]
            .parse::<u64>()
            .expect("used_memory_rss")
            > 0
    );
    assert_eq!(all["keyspace"]["db0"], "keys=2,expires=1,avg_ttl=0");
    assert_eq!(all["stats"]["keyspace_hits"], "1");
    assert_eq!(all["stats"]["keyspace_misses"], "1");
    assert_eq!(all["errorstats"]["errorstat_ERR"], "count=1");
    assert_eq!(all["persistence"]["rdb_changes_since_last_save"], "2");
    assert!(
        all["commandstats"]["cmdstat_set"].starts_with("calls=2,usec="),
        "{}",
        all["commandstats"]["cmdstat_set"]
    );
    assert!(all["cpu"]["used_cpu_user"].parse::<f64>().is_ok());
    // The default sections leave out commandstats and latencystats.
    let default = info(&mut c, "default");
    assert!(default.contains_key("keyspace") && !default.contains_key("commandstats"));
    // CONFIG RESETSTAT clears the counters.
    expect_ok(&mut c, "CONFIG RESETSTAT");
    let stats = info(&mut c, "stats");
    assert_eq!(stats["stats"]["keyspace_hits"], "0");
    assert_eq!(stats["stats"]["total_error_replies"], "0");
}

#[test]
fn maxclients_applies_at_once() {
    let server = Server::tessera(&[]);
    let mut admin = server.conn();
    let mut others: Vec<Conn> = (0..2).map(|_| server.conn()).collect();
    for c in &mut others {
        assert_eq!(c.cmd_str("PING"), Frame::Simple("PONG".into()));
    }
    // Exactly the clients connected now (probe connections may linger).
    let connected = info(&mut admin, "clients")["clients"]["connected_clients"].clone();
    expect_ok(&mut admin, &format!("CONFIG SET maxclients {connected}"));
    let mut refused = server.conn();
    let reply = refused.try_recv().expect("the server explains the refusal");
    assert_eq!(text(&reply), "ERR max number of clients reached");
    assert!(refused.is_closed());
    // Room again once a client leaves.
    drop(others.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = server.conn();
        c.set_read_timeout(Duration::from_secs(2));
        match c.try_cmd(&["PING"]) {
            Ok(Frame::Simple(s)) if &s[..] == b"PONG" => break,
            _ => assert!(Instant::now() < deadline, "a freed slot was never reused"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn timeout_closes_idle_clients() {
    let server = Server::tessera(&[]);
    let mut admin = server.conn();
    let mut idle = server.conn();
    assert_eq!(idle.cmd_str("PING"), Frame::Simple("PONG".into()));
    expect_ok(&mut admin, "CONFIG SET timeout 1");
    let start = Instant::now();
    idle.set_read_timeout(Duration::from_secs(5));
    assert!(idle.is_closed(), "the idle client was not closed");
    assert!(start.elapsed() >= Duration::from_millis(500));
    // Back to no timeout: idle clients stay.
    let mut admin = server.conn();
    expect_ok(&mut admin, "CONFIG SET timeout 0");
    let mut idle = server.conn();
    idle.set_read_timeout(Duration::from_millis(1500));
    assert!(!idle.is_closed());
}

#[test]
fn requirepass_auth_and_noauth() {
    let server = Server::tessera(&["--requirepass", "s3cret"]);
    let mut c = server.conn();
    let e = text(&c.cmd_str("GET k"));
    assert_eq!(e, "NOAUTH Authentication required.");
    assert_eq!(
        text(&c.cmd_str("AUTH wrong")),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    expect_ok(&mut c, "AUTH s3cret");
    assert_eq!(c.cmd_str("GET k"), Frame::Null);
    // A new connection starts unauthenticated; AUTH default works too.
    let mut d = server.conn();
    assert!(text(&d.cmd_str("SET k v")).starts_with("NOAUTH"));
    expect_ok(&mut d, "AUTH default s3cret");
    expect_ok(&mut d, "SET k v");
    // Removing the password opens the server to every connection.
    expect_ok(&mut d, "CONFIG SET requirepass \"\"");
    let mut e = server.conn();
    assert_eq!(e.cmd_str("GET k"), Frame::Bulk("v".into()));
}

#[test]
fn client_kill_closes_the_other_connection() {
    let server = Server::tessera(&[]);
    let mut victim = server.conn();
    let id = int(&victim.cmd_str("CLIENT ID"));
    victim.cmd_str("CLIENT SETNAME victim");
    let mut killer = server.conn();
    let list = text(&killer.cmd_str("CLIENT LIST"));
    assert!(
        list.contains(&format!("id={id} ")) && list.contains("name=victim"),
        "{list}"
    );
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
        Frame::Integer(1)
    );
    assert!(victim.is_closed(), "the killed client is still connected");
    let list = text(&killer.cmd_str("CLIENT LIST"));
    assert!(!list.contains("name=victim"), "{list}");
    // The old form by address, which may name the caller itself.
    let mut other = server.conn();
    let addr = text(&other.cmd_str("CLIENT INFO"))
        .split(' ')
        .find_map(|f| f.strip_prefix("addr=").map(str::to_owned))
        .expect("addr field");
    expect_ok(&mut killer, &format!("CLIENT KILL {addr}"));
    assert!(other.is_closed());
}

#[test]
fn client_pause_write_holds_writes_not_reads() {
    let server = Server::tessera(&[]);
    let mut admin = server.conn();
    let mut writer = server.conn();
    let mut reader = server.conn();
    expect_ok(&mut admin, "CLIENT PAUSE 20000 WRITE");
    writer.send(&["SET", "k", "v"]);
    writer.set_read_timeout(Duration::from_millis(300));
    assert!(writer.try_recv().is_err(), "SET ran during CLIENT PAUSE WRITE");
    // Reads go on, and do not see the held write.
    assert_eq!(reader.cmd_str("GET k"), Frame::Null);
    let clients = info(&mut reader, "clients");
    assert_eq!(clients["clients"]["blocked_clients"], "1");
    expect_ok(&mut admin, "CLIENT UNPAUSE");
    writer.set_read_timeout(Duration::from_secs(5));
    assert!(ok(&writer.recv()), "the held SET did not complete after UNPAUSE");
    assert_eq!(reader.cmd_str("GET k"), Frame::Bulk("v".into()));
    // ALL holds reads too, until the timeout ends it.
    expect_ok(&mut admin, "CLIENT PAUSE 300 ALL");
    let start = Instant::now();
    assert_eq!(reader.cmd_str("GET k"), Frame::Bulk("v".into()));
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "GET was not held by CLIENT PAUSE ALL"
    );
}

#[test]
fn client_reply_off_and_skip() {
    let server = Server::tessera(&[]);
    let mut c = server.conn();
    c.send(&["CLIENT", "REPLY", "OFF"]);
    c.send(&["SET", "a", "1"]);
    c.send(&["CLIENT", "REPLY", "ON"]);
    assert!(ok(&c.recv()), "CLIENT REPLY ON replies OK");
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["GET", "a"]);
    c.send(&["ECHO", "after"]);
    assert_eq!(c.recv(), Frame::Bulk("after".into()));
}

#[test]
fn monitor_shows_other_clients_commands() {
    let server = Server::tessera(&[]);
    let mut monitor = server.conn();
    expect_ok(&mut monitor, "MONITOR");
    let mut c = server.conn();
    c.cmd_str("SELECT 2");
    c.cmd(&["SET", "a b", "x\"y\n\u{1}"]);
    c.cmd_str("CONFIG GET maxmemory");
    c.cmd_str("AUTH default pw");
    c.cmd_str("PING");
    let lines: Vec<String> = (0..4).map(|_| text(&monitor.recv())).collect();
    let port = |l: &str| {
        l.split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .map(str::to_owned)
    };
    for l in &lines {
        let (stamp, _) = l.split_once(' ').expect("a timestamp");
        let (secs, micros) = stamp.split_once('.').expect("seconds.micros");
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{l}");
        assert_eq!(port(l), port(&lines[0]), "{l}");
    }
    assert!(lines[0].ends_with("] \"SELECT\" \"2\""), "{}", lines[0]);
    assert!(lines[0].contains(" [2 127.0.0.1:"), "the db after SELECT: {}", lines[0]);
    assert!(
        lines[1].ends_with("] \"SET\" \"a b\" \"x\\\"y\\n\\x01\""),
        "{}",
        lines[1]
    );
    // CONFIG (admin) is not shown; AUTH is, redacted.
    assert!(
        lines[2].ends_with("] \"AUTH\" \"(redacted)\" \"(redacted)\""),
        "{}",
        lines[2]
    );
    assert!(lines[3].ends_with("] \"PING\""), "{}", lines[3]);
}

#[test]
fn slowlog_records_everything_below_threshold_zero() {
    let server = Server::tessera(&[]);
    let mut c = server.conn();
    c.cmd_str("CLIENT SETNAME logger");
    expect_ok(&mut c, "CONFIG SET slowlog-log-slower-than 0");
    expect_ok(&mut c, "SLOWLOG RESET");
    expect_ok(&mut c, "SET k v");
    let long = "x".repeat(200);
    c.cmd(&["ECHO", &long]);
    let mut args = vec!["DEL".to_owned()];
    args.extend((0..40).map(|i| format!("k{i}")));
    c.cmd(&args);
    let Frame::Array(entries) = c.cmd_str("SLOWLOG GET 3") else {
        panic!("SLOWLOG GET is an array")
    };
    assert_eq!(entries.len(), 3);
    let fields = |e: &Frame| match e {
        Frame::Array(f) if f.len() == 6 => f.clone(),
        other => panic!("bad entry {}", pretty_frame(other)),
    };
    let del = fields(&entries[0]);
    let echo = fields(&entries[1]);
    let set = fields(&entries[2]);
    assert!(int(&set[0]) < int(&echo[0]) && int(&echo[0]) < int(&del[0]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((int(&set[1]) - now).abs() < 10);
    assert!(int(&set[2]) >= 0);
    assert_eq!(
        set[3],
        Frame::Array(vec![
            Frame::Bulk("SET".into()),
            Frame::Bulk("k".into()),
            Frame::Bulk("v".into())
        ])
    );
    assert!(text(&set[4]).starts_with("127.0.0.1:"));
    assert_eq!(text(&set[5]), "logger");
    let Frame::Array(echo_args) = &echo[3] else {
        panic!("args")
    };
    assert_eq!(text(&echo_args[1]), format!("{}... (72 more bytes)", &long[..128]));
    let Frame::Array(del_args) = &del[3] else {
        panic!("args")
    };
    assert_eq!(del_args.len(), 32);
    assert_eq!(text(&del_args[31]), "... (10 more arguments)");
    assert_eq!(int(&c.cmd_str("SLOWLOG LEN")), 5);
}

#[test]
fn output_buffer_limit_disconnects_a_client_that_does_not_read() {
    let server = Server::tessera(&[]);
    let mut admin = server.conn();
    expect_ok(&mut admin, "CONFIG SET client-output-buffer-limit \"normal 1mb 0 0\"");
    admin.cmd(&["SET", "big", &"x".repeat(100_000)]);
    let mut greedy = server.conn();
    // 100 replies of 100 KB: 10 MB the client never reads.
    let mut batch = Vec::new();
    for _ in 0..100 {
        batch.extend_from_slice(&crate::support::multibulk(&["GET", "big"]));
    }
    greedy.send_raw(&batch);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = text(&admin.cmd_str("CLIENT LIST"));
        if list.lines().count() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the client over its output limit is still connected:\n{list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn shutdown_exits_with_status_zero() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera-node"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tessera-node");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        if let Ok(c) = Conn::try_connect(port) {
            break c;
        }
        assert!(Instant::now() < deadline, "tessera-node did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(text(&conn.cmd_str("SHUTDOWN FOO")).contains("syntax error"));
    conn.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(conn.is_closed(), "SHUTDOWN replied instead of closing");
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tessera-node still running after SHUTDOWN");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn redis_cli_interactive_mode() {
    // Interactive mode needs a terminal: `script` provides one.
    if !tool_installed("redis-cli") || Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: redis-cli or script not installed");
        return;
    }
    let server = Server::tessera(&[]);
    let shell = format!("stty cols 200 rows 50; redis-cli -p {}", server.port());
    let mut child = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run script");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        // Wait for the prompt (redis-cli fetches COMMAND DOCS first), then
        // type each line with Enter (CR in raw mode).
        std::thread::sleep(Duration::from_millis(1000));
        for line in ["PING", "SET a 1", "GET a", "exit"] {
            let _ = stdin.write_all(format!("{line}\r").as_bytes());
            let _ = stdin.flush();
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let mut out = Vec::new();
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = feeder.join();
    let out = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    for want in ["\r\nPONG\r\n", "\r\nOK\r\n", "\r\n\"1\"\r\n"] {
        assert!(
            out.contains(want),
            "redis-cli interactive output lacks {want:?}:\n{out:?}"
        );
    }
}

#[test]
fn redis_benchmark_reads_the_server_config() {
    if !tool_installed("redis-benchmark") {
        eprintln!("skipping: redis-benchmark not installed");
        return;
    }
    let server = Server::tessera(&[]);
    let out = Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port().to_string(),
            "-t",
            "ping",
            "-n",
            "200",
            "-q",
        ])
        .output()
        .expect("run redis-benchmark");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("Could not fetch server CONFIG"), "{all}");
}

#[test]
fn memory_usage_is_of_redis_magnitude() {
    let tessera = Server::tessera(&[]);
    let redis = redis_or_skip!(&[]);
    for (key, value) in [
        ("small", "v".to_owned()),
        ("int", "12345".to_owned()),
        ("big", "x".repeat(100_000)),
    ] {
        let mut sizes = Vec::new();
        for server in [&tessera, &redis] {
            let mut c = server.conn();
            c.cmd(&["SET", key, &value]);
            sizes.push(int(&c.cmd(&["MEMORY", "USAGE", key])) as f64);
        }
        let ratio = sizes[0] / sizes[1];
        assert!(
            (0.5..=2.0).contains(&ratio),
            "MEMORY USAGE {key}: tessera {} vs redis {}",
            sizes[0],
            sizes[1]
        );
    }
}

#[test]
fn debug_commands_when_enabled() {
    let server = Server::tessera(&["--enable-debug-command", "yes", "--latency-monitor-threshold", "1"]);
    let mut c = server.conn();
    expect_ok(&mut c, "SET k v");
    let object = text(&c.cmd_str("DEBUG OBJECT k"));
    assert!(
        object.starts_with("Value at:") && object.contains(" encoding:embstr "),
        "{object}"
    );
    assert!(text(&c.cmd_str("DEBUG OBJECT nokey")).starts_with("ERR no such key"));
    // DEBUG SLEEP blocks the whole server.
    let mut other = server.conn();
    c.send(&["DEBUG", "SLEEP", "0.3"]);
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    assert_eq!(other.cmd_str("PING"), Frame::Simple("PONG".into()));
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "PING ran during DEBUG SLEEP"
    );
    assert!(ok(&c.recv()));
    // The latency monitor saw the slow command.
    let Frame::Array(events) = c.cmd_str("LATENCY LATEST") else {
        panic!("LATENCY LATEST is an array")
    };
    let Some(Frame::Array(command)) = events.first() else {
        panic!("no latency event: {events:?}")
    };
    assert_eq!(text(&command[0]), "command");
    assert!(int(&command[2]) >= 250, "latency {}", pretty_frame(&command[2]));
    let Frame::Array(history) = c.cmd_str("LATENCY HISTORY command") else {
        panic!("array")
    };
    assert_eq!(history.len(), 1);
    assert!(text(&c.cmd_str("LATENCY DOCTOR")).contains("command"));
    assert_eq!(c.cmd_str("LATENCY RESET"), Frame::Integer(1));
    // SET-ACTIVE-EXPIRE 0 leaves expired keys in place until accessed.
    expect_ok(&mut c, "DEBUG SET-ACTIVE-EXPIRE 0");
    expect_ok(&mut c, "SET t v PX 1");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.cmd_str("DBSIZE"), Frame::Integer(2));
    assert_eq!(c.cmd_str("GET t"), Frame::Null);
    assert_eq!(c.cmd_str("DBSIZE"), Frame::Integer(1));
    expect_ok(&mut c, "DEBUG SET-ACTIVE-EXPIRE 1");
}
