//! Real clients against `tessera-node`: `redis-cli` (commands, `--pipe`
//! mass insert, commands read from stdin), `redis-benchmark`, and the
//! `redis` crate. Where the output is deterministic it is also compared with
//! the same client's output against `redis-server`.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use resp::Frame;

use crate::support::{Server, pretty_frame, tool_installed};

/// Runs a program with `stdin` fed to it, killing it after `timeout`.
fn run(program: &str, args: &[&str], stdin: &[u8], timeout: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = out_reader.join().unwrap_or_default();
            let err = err_reader.join().unwrap_or_default();
            panic!(
                "{program} {} did not finish within {timeout:?}\nstdout: {}\nstderr: {}",
                args.join(" "),
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Output { status, stdout, stderr }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// redis-cli with the command as arguments, against `server`.
fn cli(server: &Server, args: &[&str], stdin: &[u8]) -> Output {
    let port = server.port().to_string();
    let mut all = vec!["-h", "127.0.0.1", "-p", &port];
    all.extend_from_slice(args);
    run("redis-cli", &all, stdin, Duration::from_secs(60))
}

/// `redis-cli` and `redis-server` both installed (else print why).
fn redis_tools() -> bool {
    for tool in ["redis-server", "redis-cli", "redis-benchmark"] {
        if !tool_installed(tool) {
            eprintln!("skipping: {tool} not installed");
            return false;
        }
    }
    true
}

/// Runs the same redis-cli invocation against both servers; asserts the
/// same exit status and output, and returns tessera's stdout.
fn cli_both(tessera: &Server, redis: &Server, args: &[&str], stdin: &[u8]) -> String {
    let t = cli(tessera, args, stdin);
    let r = cli(redis, args, stdin);
    assert!(
        t.status.code() == r.status.code() && t.stdout == r.stdout,
        "redis-cli {} differs\n  tessera (exit {:?}): {:?} stderr {:?}\n  redis   (exit {:?}): {:?} stderr {:?}",
        args.join(" "),
        t.status.code(),
        text(&t.stdout),
        text(&t.stderr),
        r.status.code(),
        text(&r.stdout),
        text(&r.stderr),
    );
    text(&t.stdout)
}

#[test]
fn redis_cli_commands() {
    if !redis_tools() {
        return;
    }
    let tessera = Server::tessera(&[]);
    let redis = redis_or_skip!(&[]);
    assert_eq!(cli_both(&tessera, &redis, &["SET", "k", "v"], b""), "OK\n");
    assert_eq!(cli_both(&tessera, &redis, &["GET", "k"], b""), "v\n");
    assert_eq!(cli_both(&tessera, &redis, &["SET", "k", "two words"], b""), "OK\n");
    assert_eq!(cli_both(&tessera, &redis, &["GET", "k"], b""), "two words\n");
    assert_eq!(cli_both(&tessera, &redis, &["GET", "missing"], b""), "\n");
    assert_eq!(cli_both(&tessera, &redis, &["PING"], b""), "PONG\n");
    assert_eq!(cli_both(&tessera, &redis, &["ECHO", "hello"], b""), "hello\n");
    assert_eq!(cli_both(&tessera, &redis, &["DBSIZE"], b""), "1\n");
    assert_eq!(cli_both(&tessera, &redis, &["DEL", "k", "missing"], b""), "1\n");
    assert_eq!(cli_both(&tessera, &redis, &["-n", "3", "SET", "in3", "x"], b""), "OK\n");
    assert_eq!(cli_both(&tessera, &redis, &["-n", "3", "DBSIZE"], b""), "1\n");
    assert_eq!(cli_both(&tessera, &redis, &["DBSIZE"], b""), "0\n");
    cli_both(&tessera, &redis, &["GET"], b"");
    cli_both(&tessera, &redis, &["NOSUCHCOMMAND", "x"], b"");
}

#[test]
fn redis_cli_reads_commands_from_stdin() {
    if !redis_tools() {
        return;
    }
    let tessera = Server::tessera(&[]);
    let redis = redis_or_skip!(&[]);
    let out = cli_both(
        &tessera,
        &redis,
        &[],
        b"PING\nSET a 1\nGET a\nECHO \"x y\"\nGET nokey\nDEL a\n",
    );
    assert_eq!(out, "PONG\nOK\n1\nx y\n\n1\n");
}

#[test]
fn redis_cli_pipe_mass_insert() {
    if !redis_tools() {
        return;
    }
    let tessera = Server::tessera(&[]);
    let mut proto = Vec::new();
    for i in 0..10_000 {
        proto.extend_from_slice(&crate::support::multibulk(&[
            "SET".to_owned(),
            format!("key:{i}"),
            format!("value:{i}"),
        ]));
    }
    let file = tessera.dir().join("mass-insert.txt");
    std::fs::write(&file, &proto).expect("write mass-insert file");
    let input = std::fs::read(&file).expect("read mass-insert file");
    let out = cli(&tessera, &["--pipe"], &input);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("errors: 0, replies: 10000"),
        "redis-cli --pipe (exit {:?}):\n{stdout}\n{}",
        out.status.code(),
        text(&out.stderr)
    );
    let mut conn = tessera.conn();
    assert_eq!(conn.cmd_str("DBSIZE"), Frame::Integer(10_000));
    let v = conn.cmd(&["GET", "key:9999"]);
    assert!(
        matches!(&v, Frame::Bulk(b) if &b[..] == b"value:9999"),
        "GET key:9999 = {}",
        pretty_frame(&v)
    );
}

#[test]
fn redis_benchmark_set_get() {
    if !redis_tools() {
        return;
    }
    let tessera = Server::tessera(&[]);
    let port = tessera.port().to_string();
    let out = run(
        "redis-benchmark",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "set,get",
            "-n",
            "2000",
            "-c",
            "10",
            "-q",
        ],
        b"",
        Duration::from_secs(120),
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    if !stderr.trim().is_empty() {
        eprintln!("redis-benchmark stderr: {stderr}");
    }
    assert!(
        out.status.success(),
        "redis-benchmark exited {:?}\n{stdout}\n{stderr}",
        out.status.code()
    );
    for test in ["SET", "GET"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!("{test}: ")) && l.contains("requests per second")),
            "no {test} rate in redis-benchmark output:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("Error") && !stderr.contains("Error from server"),
        "errors:\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn redis_crate_set_get_del() {
    let tessera = Server::tessera(&[]);
    let client = redis::Client::open(tessera.url()).expect("client");
    let mut con = client.get_multiplexed_async_connection().await.expect("connect");
    let _: () = con.set("k", "v").await.expect("SET");
    let v: Option<String> = con.get("k").await.expect("GET");
    assert_eq!(v.as_deref(), Some("v"));
    let bin: Vec<u8> = vec![0, 1, 2, 255, b'\r', b'\n'];
    let _: () = con.set("bin", &bin).await.expect("SET binary");
    let got: Vec<u8> = con.get("bin").await.expect("GET binary");
    assert_eq!(got, bin);
    let n: i64 = con.del(&["k", "bin", "missing"]).await.expect("DEL");
    assert_eq!(n, 2);
    let v: Option<String> = con.get("k").await.expect("GET after DEL");
    assert_eq!(v, None);
    let pong: String = redis::cmd("PING").query_async(&mut con).await.expect("PING");
    assert_eq!(pong, "PONG");
    let echo: String = redis::cmd("ECHO")
        .arg("hi there")
        .query_async(&mut con)
        .await
        .expect("ECHO");
    assert_eq!(echo, "hi there");
    let err = redis::cmd("NOSUCHCOMMAND")
        .query_async::<()>(&mut con)
        .await
        .expect_err("unknown command");
    assert!(err.to_string().contains("unknown command"), "{err}");
}

#[tokio::test]
async fn redis_crate_pipeline_and_select() {
    let tessera = Server::tessera(&[]);
    let client = redis::Client::open(tessera.url()).expect("client");
    let mut con = client.get_multiplexed_async_connection().await.expect("connect");
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.set(format!("p:{i}"), i).ignore();
    }
    pipe.get("p:42").get("p:99").get("p:missing").cmd("DBSIZE");
    let (a, b, c, n): (i64, i64, Option<i64>, i64) = pipe.query_async(&mut con).await.expect("pipeline");
    assert_eq!((a, b, c, n), (42, 99, None, 100));

    // A URL with a database number makes the client SELECT it.
    let client3 = redis::Client::open(format!("{}3", tessera.url())).expect("client db 3");
    let mut con3 = client3.get_multiplexed_async_connection().await.expect("connect db 3");
    let n3: i64 = redis::cmd("DBSIZE").query_async(&mut con3).await.expect("DBSIZE db 3");
    assert_eq!(n3, 0);
    let _: () = con3.set("only-in-3", "x").await.expect("SET db 3");
    let v: Option<String> = con.get("only-in-3").await.expect("GET db 0");
    assert_eq!(v, None);
    let v: Option<String> = con3.get("only-in-3").await.expect("GET db 3");
    assert_eq!(v.as_deref(), Some("x"));

    // Several tasks sharing one multiplexed connection.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let mut con = con.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let key = format!("t{t}:{i}");
                let _: () = con.set(&key, i).await.expect("SET");
                let v: i64 = con.get(&key).await.expect("GET");
                assert_eq!(v, i);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut con).await.expect("DBSIZE");
    assert_eq!(n, 100 + 8 * 50);
}

#[tokio::test]
async fn redis_crate_mget() {
    let tessera = Server::tessera(&[]);
    let client = redis::Client::open(tessera.url()).expect("client");
    let mut con = client.get_multiplexed_async_connection().await.expect("connect");
    let _: () = con.set("a", "1").await.expect("SET");
    let _: () = con.set("c", "3").await.expect("SET");
    let v: Vec<Option<String>> = con.mget(&["a", "b", "c"]).await.expect("MGET");
    assert_eq!(v, vec![Some("1".to_owned()), None, Some("3".to_owned())]);
}
