//! Differential checks against a real `redis-server` (7.0), when one is on
//! `PATH`; skipped (with a note on stderr) otherwise.
//!
//! For each input, the bytes Redis sends back before closing the connection
//! must equal what Tessera would send: one `+PONG` per command decoded before
//! the protocol error, then the error reply. `CLUSTER KEYSLOT` answers must
//! equal [`resp::key_slot`].

#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use resp::{Limits, RequestDecoder};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Option<Server> {
    let dir = tempfile::tempdir().ok()?;
    let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--cluster-enabled", "yes", "--cluster-config-file"])
        .arg(dir.path().join("nodes.conf"))
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server { child, port, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if exchange(server.port, b"PING\r\n", 7).is_ok_and(|reply| reply == b"+PONG\r\n") {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Sends `input` and reads until EOF, or until `expect_len` bytes arrived.
fn exchange(port: u16, input: &[u8], expect_len: usize) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(input)?;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while out.len() < expect_len {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
}

/// What Tessera replies to `input`: `+PONG` per command (all inputs only
/// hold PINGs before the bad part), then the protocol error.
fn expected_reply(input: &[u8], authenticated: bool) -> Vec<u8> {
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut buf = BytesMut::from(input);
    let mut out = BytesMut::new();
    loop {
        match decoder.decode(&mut buf, authenticated) {
            Ok(Some(args)) => {
                assert!(args[0].eq_ignore_ascii_case(b"PING"), "test inputs only hold PINGs");
                out.extend_from_slice(b"+PONG\r\n");
            }
            Ok(None) => panic!(
                "input {:?} does not end in a protocol error",
                String::from_utf8_lossy(input)
            ),
            Err(e) => {
                e.write_reply(&mut out);
                return out.to_vec();
            }
        }
    }
}

fn error_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = [
        &b"*2147483648\r\n"[..],
        b"*-0\r\n",
        b"*01\r\n",
        b"*+1\r\n",
        b"* 1\r\n",
        b"*\r\n",
        b"*1\n$4\r\nPING\r\n",
        b"*1\r\nX4\r\nPING\r\n",
        b"*1\r\n\r\r\n",
        b"*1\r\n\n\r\n",
        b"*1\r\n\xff\r\n",
        b"*1\r\n$-1\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$04\r\n",
        b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n*4\r\n",
        b"PING\r\nECHO \"a\"b\r\n",
        b"ECHO 'abc\r\n",
        b"ECHO \"a\\\r\n",
        b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n*x\r\n",
        b"*0\r\n*-1\r\n\r\n*1\r\n$4\r\nping\r\n*12345678901234567890\r\n",
    ]
    .iter()
    .map(|i| i.to_vec())
    .collect();
    let mut long = vec![b'a'; 70_000];
    inputs.push(long.clone());
    long[0] = b'*';
    inputs.push(long.clone());
    let mut bulk = b"*1\r\n$4\r\nPING\r\n*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', 70_000));
    inputs.push(bulk);
    inputs
}

#[test]
fn protocol_errors_and_key_slots_match_redis_server() {
    let available = Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("v=7.0"))
        .unwrap_or(false);
    if !available {
        eprintln!("skipped: redis-server 7.0 not on PATH");
        return;
    }
    let Some(server) = start_server() else {
        panic!("redis-server did not start");
    };

    for input in error_inputs() {
        let expected = expected_reply(&input, true);
        let got = exchange(server.port, &input, usize::MAX).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "input {:?}",
            String::from_utf8_lossy(&input[..input.len().min(60)])
        );
        assert_eq!(got, expected);
    }

    // CLUSTER KEYSLOT for tricky and pseudo-random binary keys, pipelined.
    let mut keys: Vec<Vec<u8>> = [
        &b""[..],
        b"{}",
        b"{}{a}",
        b"a{b}c",
        b"{a",
        b"}{a}",
        b"{{a}}",
        b"a{}b{c}",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..300 {
        let mut key = Vec::new();
        for _ in 0..(state % 12) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            key.push(b"ab{}\0\xff"[(state % 6) as usize]);
        }
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        keys.push(key);
    }
    let mut request = BytesMut::new();
    let mut expected = Vec::new();
    for key in &keys {
        resp::encode::array_len(&mut request, 3);
        resp::encode::bulk(&mut request, b"CLUSTER");
        resp::encode::bulk(&mut request, b"KEYSLOT");
        resp::encode::bulk(&mut request, key);
        expected.extend_from_slice(format!(":{}\r\n", resp::key_slot(key)).as_bytes());
    }
    let got = exchange(server.port, &request, expected.len()).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected));

    // Unauthenticated limits, once a password is required.
    let reply = exchange(server.port, b"CONFIG SET requirepass secret\r\n", 5).unwrap();
    assert_eq!(reply, b"+OK\r\n");
    for input in [&b"*11\r\n"[..], b"*10\r\n$16385\r\n", b"*1\r\n$x\r\n", b"*x\r\n"] {
        let expected = expected_reply(input, false);
        let got = exchange(server.port, input, usize::MAX).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected));
    }
}
