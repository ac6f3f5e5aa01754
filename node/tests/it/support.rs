//! Shared test support: real server processes ([`Server`]), a raw RESP client
//! ([`Conn`]), redis-cli style argument splitting ([`split_args`]) and reply
//! pretty-printing ([`show`]).
//!
//! Servers run on a free 127.0.0.1 port in their own temporary directory and
//! are killed (and reaped) when the handle is dropped, so tests can run in
//! parallel and never leave processes behind.

// Helpers here are shared by every test module; not all of them use all.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use resp::{Frame, FrameDecoder};

/// How long a server may take to answer its first PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout of [`Conn`].
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts (each on a fresh port) before giving up starting a server.
const START_ATTEMPTS: usize = 5;

/// Which server a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// This crate's `tessera-node` binary.
    Tessera,
    /// The reference `redis-server`.
    Redis,
}

impl Kind {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tessera => "tessera",
            Kind::Redis => "redis",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Kind::Tessera => env!("CARGO_BIN_EXE_tessera-node"),
            Kind::Redis => "redis-server",
        }
    }
}

/// Whether `program --version` runs (used to skip tests when a Redis tool is
/// not installed).
pub fn tool_installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when `redis-server` is installed; otherwise prints
/// `skipping: redis-server not installed` so the caller can return early.
pub fn redis_installed() -> bool {
    let ok = tool_installed("redis-server");
    if !ok {
        eprintln!("skipping: redis-server not installed");
    }
    ok
}

/// Starts the reference `redis-server`, or returns early from the calling
/// test (printing why) when it is not installed.
macro_rules! redis_or_skip {
    ($args:expr) => {
        match $crate::support::Server::redis($args) {
            Some(s) => s,
            None => return,
        }
    };
}

/// A running server process, killed and reaped on drop.
pub struct Server {
    kind: Kind,
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@127.0.0.1:{}", self.kind.name(), self.port)
    }
}

impl Server {
    /// Starts `tessera-node` with `--bind 127.0.0.1 --port P --dir <tmp>
    /// --save ""` followed by `extra_args`.
    pub fn tessera(extra_args: &[&str]) -> Server {
        Server::start(Kind::Tessera, extra_args)
    }

    /// Starts `redis-server` with `--save "" --appendonly no --bind 127.0.0.1
    /// --port P --dir <tmp>` followed by `extra_args`; `None` (after printing
    /// `skipping: redis-server not installed`) when it is not installed.
    pub fn redis(extra_args: &[&str]) -> Option<Server> {
        redis_installed().then(|| Server::start(Kind::Redis, extra_args))
    }

    /// Starts a server of the given kind, retrying on a new port when it
    /// exits before answering PING (another process took the port).
    pub fn start(kind: Kind, extra_args: &[&str]) -> Server {
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match Server::try_start(kind, extra_args) {
                Ok(server) => return server,
                Err(why) => {
                    let _ = writeln!(failures, "--- attempt {attempt}: {why}");
                }
            }
        }
        panic!("{} failed to start {START_ATTEMPTS} times:\n{failures}", kind.name());
    }

    fn try_start(kind: Kind, extra_args: &[&str]) -> Result<Server, String> {
        let port = free_port();
        let dir = tempfile::Builder::new()
            .prefix(&format!("tessera-it-{}-", kind.name()))
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        let dir_arg = dir.path().to_str().ok_or("tempdir path is not UTF-8")?.to_owned();
        let port_arg = port.to_string();
        let mut args: Vec<&str> = match kind {
            Kind::Tessera => vec![
                "--bind",
                "127.0.0.1",
                "--port",
                &port_arg,
                "--dir",
                &dir_arg,
                "--save",
                "",
            ],
            Kind::Redis => vec![
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
                "--port",
                &port_arg,
                "--dir",
                &dir_arg,
            ],
        };
        args.extend_from_slice(extra_args);
        let stdout = std::fs::File::create(dir.path().join("stdout.log")).map_err(|e| e.to_string())?;
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).map_err(|e| e.to_string())?;
        let child = Command::new(kind.program())
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", kind.program()))?;
        // From here on Drop kills the process, whatever happens.
        let mut server = Server { kind, port, child, dir };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "{} {} exited with {status} before answering PING\n{}",
                    kind.program(),
                    args.join(" "),
                    server.log_tail(30)
                ));
            }
            // The answer must come from our process, not from whoever else
            // got the port: it must still be running once PING is answered.
            if server.answers_ping() && server.is_running() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                panic!(
                    "{} {} did not answer PING on 127.0.0.1:{port} within {READY_TIMEOUT:?}\n{}",
                    kind.program(),
                    args.join(" "),
                    server.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// One readiness probe: PING answered with `+PONG` (or `-NOAUTH` when a
    /// password is required, `-LOADING` excluded).
    fn answers_ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while !got.ends_with(b"\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got.starts_with(b"+PONG") || got.starts_with(b"-NOAUTH")
    }

    /// The server's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// `tessera` or `redis`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `redis://127.0.0.1:port/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new raw connection.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// Kills the process with SIGKILL (a crash) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit.
    pub fn sigterm(&mut self, timeout: Duration) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            // Reaped already: its pid may belong to another process now.
            return status;
        }
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits an i32"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{self:?} still runs {timeout:?} after SIGTERM\n{}",
                self.log_tail(30)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last `lines` lines of the process's stdout and stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for name in ["stdout.log", "stderr.log"] {
            let path: PathBuf = self.dir.path().join(name);
            let text = std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            let _ = writeln!(out, "--- {} {name} (last {} lines):", self.kind.name(), tail.len());
            for l in tail {
                let _ = writeln!(out, "{l}");
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port, drop
/// the listener.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A raw RESP client over a blocking `TcpStream` (read timeout 10 s).
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({:?})", self.stream.peer_addr().ok())
    }
}

impl Conn {
    /// Connects to 127.0.0.1:port; panics on failure.
    pub fn connect(port: u16) -> Conn {
        Conn::try_connect(port).unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"))
    }

    /// Connects to 127.0.0.1:port.
    pub fn try_connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            decoder: FrameDecoder::new(),
        })
    }

    /// Sets the read timeout (default 10 s).
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).expect("set_read_timeout");
    }

    /// Sends one command as a multibulk; panics on a write error.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.try_send(args).expect("write to server");
    }

    /// Sends one command as a multibulk.
    pub fn try_send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<()> {
        self.stream.write_all(&multibulk(args))
    }

    /// Sends bytes as they are; panics on a write error.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes).expect("write to server");
    }

    /// Sends bytes as they are.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one reply; panics on EOF, timeout or a malformed reply.
    pub fn recv(&mut self) -> Frame {
        self.try_recv().unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// Reads one reply. EOF is `UnexpectedEof`, a timeout `WouldBlock` or
    /// `TimedOut`, a malformed reply `InvalidData`.
    pub fn try_recv(&mut self) -> std::io::Result<Frame> {
        loop {
            match self.decoder.next_frame(&mut self.buf) {
                Ok(Some(frame)) => return Ok(frame),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(ErrorKind::InvalidData, format!("bad reply: {e}"))),
            }
            if self.fill()? == 0 {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "connection closed by server",
                ));
            }
        }
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Sends a command and reads its reply; panics on I/O errors.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send(args);
        self.recv()
    }

    /// Sends a command and reads its reply.
    pub fn try_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<Frame> {
        self.try_send(args)?;
        self.try_recv()
    }

    /// Splits `line` like redis-cli ([`split_args`]) and runs it.
    pub fn cmd_str(&mut self, line: &str) -> Frame {
        let args = split_args(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        self.cmd(&args)
    }

    /// Waits (up to the read timeout) for the server to close the
    /// connection: true on EOF or reset, false when data arrives or the
    /// timeout passes. Data that arrives is kept for [`recv`](Self::recv).
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        match self.fill() {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
            ),
        }
    }
}

/// Encodes a command as a RESP multibulk.
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Splits a command line the way redis-cli does (Redis's `sdssplitargs`):
/// arguments are separated by whitespace; `"double quotes"` understand
/// `\n \r \t \b \a \xHH` and `\<any>` escapes; `'single quotes'` only `\'`;
/// a closing quote must be followed by whitespace or the end of the line.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    resp::split_args(&bytes::Bytes::copy_from_slice(line.as_bytes()))
        .map(|args| args.into_iter().map(|a| a.to_vec()).collect())
        .ok_or_else(|| format!("unbalanced quotes in {line:?}"))
}

/// Bytes as a double-quoted string with redis-cli's escapes.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    resp::repr(&mut out, bytes);
    String::from_utf8_lossy(&out).into_owned()
}

/// A command as one line, each argument shown plainly when it can be,
/// quoted otherwise (and abbreviated past 200 bytes).
pub fn show_cmd<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter()
        .map(|a| {
            let a = a.as_ref();
            let (a, more) = if a.len() > 200 {
                (&a[..200], format!("...({} bytes)", a.len()))
            } else {
                (a, String::new())
            };
            let plain = !a.is_empty()
                && a.iter()
                    .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
            if plain {
                format!("{}{more}", String::from_utf8_lossy(a))
            } else {
                format!("{}{more}", quote(a))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply, pretty-printed like redis-cli (types explicit: `(status)`,
/// `(error)`, `(integer)`, quoted bulks, `(nil)` vs `(nil array)`), followed
/// by its exact wire bytes when they are short.
pub fn show(frame: &Frame) -> String {
    let mut out = String::new();
    pretty(frame, 0, &mut out);
    let wire = frame.to_bytes();
    if wire.len() <= 300 {
        let _ = write!(out, "\n    wire: {}", quote(&wire));
    }
    out
}

/// [`show`] without the wire bytes, on one or more lines.
pub fn pretty_frame(frame: &Frame) -> String {
    let mut out = String::new();
    pretty(frame, 0, &mut out);
    out
}

fn pretty(frame: &Frame, indent: usize, out: &mut String) {
    let elems = |items: &[Frame], marker: &str, empty: &str, out: &mut String| {
        if items.is_empty() {
            out.push_str(empty);
        }
        let width = items.len().to_string().len();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            }
            let prefix = format!("{:>width$}{marker} ", i + 1);
            out.push_str(&prefix);
            pretty(item, indent + prefix.len(), out);
        }
    };
    match frame {
        Frame::Simple(s) => {
            let _ = write!(out, "(status) {}", String::from_utf8_lossy(s));
        }
        Frame::Error(s) => {
            let _ = write!(out, "(error) {}", String::from_utf8_lossy(s));
        }
        Frame::Integer(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Frame::Bulk(b) => out.push_str(&quote(b)),
        Frame::Null => out.push_str("(nil)"),
        Frame::NullArray => out.push_str("(nil array)"),
        Frame::Array(items) => elems(items, ")", "(empty array)", out),
        Frame::Set(items) => elems(items, "~", "(empty set)", out),
        Frame::Push(items) => elems(items, ">", "(empty push)", out),
        Frame::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty map)");
            }
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                let prefix = format!("{}# ", i + 1);
                out.push_str(&prefix);
                pretty(k, indent + prefix.len(), out);
                out.push_str(" => ");
                pretty(v, indent + prefix.len() + 4, out);
            }
        }
        Frame::Double(d) => {
            let _ = write!(out, "(double) {d}");
        }
        Frame::Boolean(b) => {
            let _ = write!(out, "({b})");
        }
        Frame::BigNumber(n) => {
            let _ = write!(out, "(big number) {}", String::from_utf8_lossy(n));
        }
        Frame::Verbatim { format, text } => {
            let _ = write!(out, "(verbatim {}) {}", String::from_utf8_lossy(format), quote(text));
        }
        Frame::BlobError(s) => {
            let _ = write!(out, "(blob error) {}", String::from_utf8_lossy(s));
        }
        Frame::Attribute { attrs, data } => {
            out.push_str("(attributes) ");
            pretty(&Frame::Map(attrs.clone()), indent + 13, out);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            pretty(data, indent, out);
        }
    }
}

/// The frame's type name, for type-only comparisons.
pub fn frame_type(frame: &Frame) -> &'static str {
    match frame {
        Frame::Simple(_) => "simple",
        Frame::Error(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::Bulk(_) => "bulk",
        Frame::Null => "null",
        Frame::NullArray => "null array",
        Frame::Array(_) => "array",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Double(_) => "double",
        Frame::Boolean(_) => "boolean",
        Frame::BigNumber(_) => "big number",
        Frame::Verbatim { .. } => "verbatim",
        Frame::Push(_) => "push",
        Frame::BlobError(_) => "blob error",
        Frame::Attribute { .. } => "attribute",
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &str) -> Vec<Vec<u8>> {
        split_args(s).expect("split")
    }

    #[test]
    fn split_args_like_redis_cli() {
        assert_eq!(split("SET a b"), vec![b"SET".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(
            split("  SET   a\tb  "),
            vec![b"SET".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(
            split(r#"SET "a b" 'c d'"#),
            vec![b"SET".to_vec(), b"a b".to_vec(), b"c d".to_vec()]
        );
        assert_eq!(
            split(r#"X "\x41\n\r\t\"\\\q""#),
            vec![b"X".to_vec(), b"A\n\r\t\"\\q".to_vec()]
        );
        assert_eq!(
            split(r"X 'it\'s' '\n'"),
            vec![b"X".to_vec(), b"it's".to_vec(), b"\\n".to_vec()]
        );
        assert_eq!(split(r#"X "" ''"#), vec![b"X".to_vec(), b"".to_vec(), b"".to_vec()]);
        assert_eq!(split(r#"X a"b c""#), vec![b"X".to_vec(), b"ab c".to_vec()]);
        assert_eq!(split(r#"X "\xzz""#), vec![b"X".to_vec(), b"xzz".to_vec()]);
        assert_eq!(split(""), Vec::<Vec<u8>>::new());
        assert!(split_args(r#"SET "a b"#).is_err());
        assert!(split_args("SET 'a").is_err());
        assert!(split_args(r#"SET "a"b"#).is_err());
    }
}
