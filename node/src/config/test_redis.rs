//! Test support: a throwaway redis-server 7.0 on a free loopback port with a
//! tiny RESP2 client, used to cross-check behaviour against the real thing.
//! Tests skip (with a note) when `redis-server` is not installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server child on a free loopback port, killed on drop.
pub struct Redis {
    child: Child,
    port: u16,
    conn: BufReader<TcpStream>,
}

/// A decoded RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Redis {
    /// Starts `redis-server` (None when it is not installed or fails).
    pub fn start() -> Option<Redis> {
        Self::start_with(&[])
    }

    /// Starts `redis-server` with extra command-line options (after the
    /// defaults: a free port, 127.0.0.1, no persistence, the temp dir).
    pub fn start_with(extra: &[&str]) -> Option<Redis> {
        let dir = std::env::temp_dir().to_string_lossy().into_owned();
        Self::spawn(|port| {
            let mut args: Vec<String> = [
                "--port",
                port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            args.extend(["--dir".to_owned(), dir.clone()]);
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            args
        })
    }

    /// Starts `redis-server <conf> --port <free> --bind 127.0.0.1 <extra...>`.
    pub fn start_conf(conf: &std::path::Path, extra: &[&str]) -> Option<Redis> {
        let conf = conf.to_string_lossy().into_owned();
        Self::spawn(|port| {
            let mut args = vec![conf.clone(), "--port".to_owned(), port.to_owned()];
            args.extend(["--bind".to_owned(), "127.0.0.1".to_owned()]);
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            args
        })
    }

    fn spawn(args: impl Fn(&str) -> Vec<String>) -> Option<Redis> {
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut child = Command::new("redis-server")
            .args(args(&port.to_string()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
                return Some(Redis {
                    child,
                    port,
                    conn: BufReader::new(s),
                });
            }
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&out).expect("write to redis");
        self.read_reply()
    }

    fn read_line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.conn.read_until(b'\n', &mut line).expect("read from redis");
        line.truncate(line.len().saturating_sub(2));
        line
    }

    fn read_reply(&mut self) -> Reply {
        let line = self.read_line();
        let (kind, rest) = line.split_first().expect("empty reply line");
        let text = String::from_utf8_lossy(rest).into_owned();
        match kind {
            b'+' => Reply::Status(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(text.parse().expect("int reply")),
            b'$' => {
                let n: i64 = text.parse().expect("bulk len");
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut buf = vec![0; usize::try_from(n).expect("len") + 2];
                self.conn.read_exact(&mut buf).expect("bulk body");
                buf.truncate(buf.len() - 2);
                Reply::Bulk(Some(buf))
            }
            b'*' => {
                let n: i64 = text.parse().expect("array len");
                Reply::Array((0..n.max(0)).map(|_| self.read_reply()).collect())
            }
            _ => panic!("unexpected reply type {kind}"),
        }
    }

    /// The text redis-server prints when its configuration is refused:
    /// the FATAL CONFIG FILE ERROR block from stderr, or the "Fatal error,
    /// can't open config file" log line (without its log prefix). None when
    /// redis-server is not installed or did not refuse the configuration
    /// within a few seconds (it is then killed).
    pub fn fatal_output(args: &[String]) -> Option<String> {
        let mut child = Command::new("redis-server")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = child.wait_with_output().ok()?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if stderr.contains("FATAL CONFIG FILE ERROR") {
            return Some(stderr);
        }
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .lines()
            .find_map(|l| l.find("# Fatal error").map(|i| l[i + 2..].to_owned()))
    }

    /// FLUSHALL.
    pub fn flush(&mut self) {
        self.cmd(&[b"FLUSHALL"]);
    }

    /// SET key 1.
    pub fn set(&mut self, key: &[u8]) {
        self.cmd(&[b"SET", key, b"1"]);
    }

    /// KEYS pattern.
    pub fn keys(&mut self, pattern: &[u8]) -> Vec<Vec<u8>> {
        match self.cmd(&[b"KEYS", pattern]) {
            Reply::Array(items) => items
                .into_iter()
                .filter_map(|r| match r {
                    Reply::Bulk(b) => b,
                    _ => None,
                })
                .collect(),
            other => panic!("KEYS reply {other:?}"),
        }
    }

    /// CONFIG GET pattern as (name, value) pairs.
    pub fn config_get(&mut self, pattern: &str) -> Vec<(String, String)> {
        match self.cmd(&[b"CONFIG", b"GET", pattern.as_bytes()]) {
            Reply::Array(items) => items
                .chunks(2)
                .filter_map(|kv| match kv {
                    [Reply::Bulk(Some(k)), Reply::Bulk(Some(v))] => Some((
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )),
                    _ => None,
                })
                .collect(),
            other => panic!("CONFIG GET reply {other:?}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
