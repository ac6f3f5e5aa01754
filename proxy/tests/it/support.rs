//! Test support: real `tessera-node` shards and a real `tessera-proxy` on
//! free 127.0.0.1 ports, each killed on drop, and a raw RESP client.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use resp::{Frame, FrameDecoder};

const READY: Duration = Duration::from_secs(20);

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The `tessera-node` binary, built once if missing.
fn node_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let bin = target.join("debug").join("tessera-node");
        if !bin.exists() {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-p", "tessera-node", "--bin", "tessera-node"])
                .current_dir(&root)
                .status()
                .expect("run cargo build for tessera-node");
            assert!(status.success(), "building tessera-node failed");
        }
        bin
    })
    .clone()
}

/// A child process killed (and reaped) on drop.
pub struct Process {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Wraps a started child answering on `port` (dropped: killed).
    pub fn from_child(child: Child, port: u16) -> Process {
        Process {
            child,
            port,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The process's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Resident memory in kB (`VmRSS`).
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A raw connection to it.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// Its working directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

fn spawn(program: &std::path::Path, args: &[String], dir: tempfile::TempDir, port: u16) -> Process {
    let stdout = std::fs::File::create(dir.path().join("stdout.log")).expect("log file");
    let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("log file");
    let child = Command::new(program)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    Process { child, port, dir }
}

/// Polls until `port` answers PING with `+PONG` or `-NOAUTH`.
pub fn wait_ready(p: &mut Process) {
    let deadline = Instant::now() + READY;
    loop {
        assert!(p.running(), "process exited before answering PING\n{}", p.log());
        if let Ok(mut c) = Conn::try_connect(p.port) {
            c.set_read_timeout(Duration::from_secs(1));
            if let Ok(f) = c.try_cmd(&["PING"]) {
                match f {
                    Frame::Simple(s) if &s[..] == b"PONG" => return,
                    Frame::Error(e) if e.starts_with(b"NOAUTH") => return,
                    _ => {}
                }
            }
        }
        assert!(Instant::now() < deadline, "no PING answer on {}\n{}", p.port, p.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a `tessera-node` shard.
pub fn node() -> Process {
    node_on(free_port())
}

/// Starts a `tessera-node` shard on `port`.
pub fn node_on(port: u16) -> Process {
    let dir = tempfile::Builder::new()
        .prefix("tessera-proxy-it-node-")
        .tempdir()
        .expect("tempdir");
    let d = dir.path().to_str().expect("utf8").to_owned();
    let args: Vec<String> = [
        "--bind",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--dir",
        &d,
        "--save",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut p = spawn(&node_binary(), &args, dir, port);
    wait_ready(&mut p);
    p
}

/// Three shards and the proxy in front of them.
pub struct Cluster {
    pub shards: Vec<Process>,
    pub proxy: Process,
    pub metrics_port: u16,
}

/// The `[[databases.shards]]` tables for `ports` (equal slot ranges).
pub fn shards_toml(ports: &[u16]) -> String {
    let n = ports.len() as u32;
    let mut out = String::new();
    for (i, port) in ports.iter().enumerate() {
        let i = i as u32;
        out.push_str(&format!(
            "[[databases.shards]]\nslots = [{}, {}]\nmaster = \"127.0.0.1:{port}\"\n",
            i * 16384 / n,
            (i + 1) * 16384 / n - 1
        ));
    }
    out
}

/// Writes `config` and starts the proxy on it; `port` is the database port
/// it will answer on (for readiness), `metrics` its metrics port.
pub fn proxy(config: &str, port: u16, metrics: u16, extra: &[&str]) -> Process {
    let dir = tempfile::Builder::new()
        .prefix("tessera-proxy-it-")
        .tempdir()
        .expect("tempdir");
    let path = dir.path().join("proxy.toml");
    std::fs::write(&path, config).expect("write config");
    let mut args = vec![
        "--config".to_owned(),
        path.to_str().expect("utf8").to_owned(),
        "--metrics".to_owned(),
        format!("127.0.0.1:{metrics}"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut p = spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_tessera-proxy")),
        &args,
        dir,
        port,
    );
    wait_ready(&mut p);
    p
}

impl Cluster {
    /// Three shards, one database `db` with `extra` settings (TOML lines
    /// inside its `[[databases]]` table) and `global` settings.
    pub fn with(global: &str, extra: &str) -> Cluster {
        Cluster::build(global, extra, &[])
    }

    /// Three shards and a plain database behind a proxy started with `args`.
    pub fn with_proxy_args(args: &[&str]) -> Cluster {
        Cluster::build("", "", args)
    }

    fn build(global: &str, extra: &str, args: &[&str]) -> Cluster {
        let shards: Vec<Process> = (0..3).map(|_| node()).collect();
        let ports: Vec<u16> = shards.iter().map(|s| s.port).collect();
        let port = free_port();
        let metrics_port = free_port();
        let config = format!(
            "bind = \"127.0.0.1\"\n{global}\n[[databases]]\nname = \"db\"\nport = {port}\n{extra}\n{}",
            shards_toml(&ports)
        );
        let proxy = proxy(&config, port, metrics_port, args);
        Cluster {
            shards,
            proxy,
            metrics_port,
        }
    }

    /// Three shards and a plain database.
    pub fn start() -> Cluster {
        Cluster::with("", "")
    }

    /// A connection to the proxy.
    pub fn conn(&self) -> Conn {
        self.proxy.conn()
    }

    /// The shard index holding `key` (equal ranges of 3).
    pub fn shard_of(key: &[u8]) -> usize {
        let slot = u32::from(resp::key_slot(key));
        (0..3u32)
            .find(|i| slot >= i * 16384 / 3 && slot < (i + 1) * 16384 / 3)
            .expect("a shard") as usize
    }
}

/// A raw RESP client with a 10 s read timeout.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
}

impl Conn {
    /// Connects; panics on failure.
    pub fn connect(port: u16) -> Conn {
        Conn::try_connect(port).unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"))
    }

    /// Connects.
    pub fn try_connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::new(),
            decoder: FrameDecoder::new(),
        })
    }

    /// Sets the read timeout.
    pub fn set_read_timeout(&mut self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).expect("timeout");
    }

    /// Sends a command without reading.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.stream.write_all(&multibulk(args)).expect("write");
    }

    /// Sends a command.
    pub fn try_send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<()> {
        self.stream.write_all(&multibulk(args))
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one reply.
    pub fn try_recv(&mut self) -> std::io::Result<Frame> {
        loop {
            if let Some(f) = self
                .decoder
                .next_frame(&mut self.buf)
                .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?
            {
                return Ok(f);
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads one reply; panics on failure.
    pub fn recv(&mut self) -> Frame {
        self.try_recv().unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// Sends and reads.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send(args);
        self.recv()
    }

    /// Sends and reads.
    pub fn try_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<Frame> {
        self.try_send(args)?;
        self.try_recv()
    }

    /// Sends a space-separated command and reads its reply.
    pub fn cmd_str(&mut self, line: &str) -> Frame {
        let args: Vec<&str> = line.split(' ').collect();
        self.cmd(&args)
    }

    /// True when the peer closed (EOF or reset) before sending anything.
    pub fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => true,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e) => matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
            ),
        }
    }
}

/// A command as a RESP multibulk.
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `+text`.
pub fn simple(s: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

/// `$text`.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// The text of an error reply, or a panic.
pub fn err_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Polls `check` for up to 10 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A key that hashes to shard `shard` of 3, distinct per `n`.
pub fn key_on(shard: usize, n: usize) -> String {
    (0..)
        .map(|i| format!("k{n}:{i}"))
        .find(|k| Cluster::shard_of(k.as_bytes()) == shard)
        .expect("some key")
}

/// The HTTP response of `GET /metrics` on `port`.
pub fn metrics_response(port: u16) -> String {
    let mut http = TcpStream::connect(("127.0.0.1", port)).expect("metrics");
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut body = String::new();
    http.read_to_string(&mut body).expect("read");
    body
}

/// The value of `series` (name and labels as exposed) on `/metrics`, 0 when absent.
pub fn metric(port: u16, series: &str) -> f64 {
    metrics_response(port)
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}
