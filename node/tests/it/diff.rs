//! Differential tests: every command of a script runs on `tessera-node` and
//! on the reference `redis-server`, and the replies must be identical, byte
//! for byte (errors included).
//!
//! # Script format (`node/tests/scripts/*.txt`)
//!
//! One command per line, split like redis-cli does: arguments separated by
//! spaces, `"double quotes"` with `\n \r \t \b \a \" \\ \xHH` escapes,
//! `'single quotes'` with `\'`. Blank lines and lines starting with `#` are
//! ignored. A line may start with one directive:
//!
//! | line | meaning |
//! | --- | --- |
//! | `CMD arg...` | run on both servers, compare the replies exactly |
//! | `!unordered CMD arg...` | compare the reply's top-level elements as a multiset (KEYS, SMEMBERS, HKEYS, SINTER...) |
//! | `!unordered-pairs CMD arg...` | the reply is a flat array (or map) of field/value pairs; compare the pairs as a multiset (HGETALL, CONFIG GET...) |
//! | `!unordered-nested CMD arg...` | every aggregate at every depth as a multiset (a `SCAN 0 ... COUNT 1000` that returns the whole key space in one call) |
//! | `!noreply-compare CMD arg...` | compare only the reply's type (TIME, INFO, RANDOMKEY...) |
//! | `!sleep MS` | sleep MS milliseconds (sparingly: expiry tests) |
//! | `!conn N` | run the following commands on connection N (0 at the start); connections are opened lazily, one per index on each server |
//!
//! Before a script runs, both servers get FLUSHALL and the script starts on
//! a fresh connection 0. Each server is a fresh process started for the
//! script. A connection the server closed (QUIT, protocol error) shows up as
//! `(connection closed)` in the comparison and is reopened by the next
//! command that uses it.
//!
//! A failing script reports every mismatch as `file:line`, the command and
//! both replies pretty-printed (with their wire bytes), then fails.
//!
//! # Adding a script
//!
//! Create `node/tests/scripts/NAME.txt` (start it with a `#` comment saying
//! what it covers) and add one line `script_NAME => "NAME.txt",` to the
//! `scripts!` list below; `every_script_is_listed` fails when a script file
//! is missing from the list. Run one script with
//! `cargo test -p tessera-node --test it script_NAME`; check that a new
//! script is deterministic by running it redis against redis:
//! `TESSERA_IT_SELFCHECK=1 cargo test -p tessera-node --test it script_NAME`.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::Duration;

use resp::Frame;

use crate::support::{Conn, Kind, Server, frame_type, pretty_frame, show, split_args};

/// How two replies are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Byte for byte.
    Exact,
    /// Top-level elements of an array, set, push or map as a multiset.
    Unordered,
    /// A flat array of field/value pairs (or a map): the pairs as a multiset.
    UnorderedPairs,
    /// Every aggregate, at every depth, as a multiset (SCAN's `[cursor,
    /// [keys...]]` when one call returns the whole key space).
    UnorderedNested,
    /// Only the reply's type.
    TypeOnly,
}

/// Sorts the top-level elements (or pairs) of an aggregate by their wire
/// bytes (all levels for [`Compare::UnorderedNested`]); other frames are
/// returned as they are.
fn normalize(compare: Compare, frame: &Frame) -> Frame {
    fn sorted(items: &[Frame]) -> Vec<Frame> {
        let mut v = items.to_vec();
        v.sort_by_key(Frame::to_bytes);
        v
    }
    fn nested(items: &[Frame]) -> Vec<Frame> {
        items.iter().map(|f| normalize(Compare::UnorderedNested, f)).collect()
    }
    fn sorted_pairs(pairs: &[(Frame, Frame)]) -> Vec<(Frame, Frame)> {
        let mut v = pairs.to_vec();
        v.sort_by_key(|(k, v)| (k.to_bytes(), v.to_bytes()));
        v
    }
    match (compare, frame) {
        (Compare::Unordered, Frame::Array(items)) => Frame::Array(sorted(items)),
        (Compare::Unordered | Compare::UnorderedPairs, Frame::Set(items)) => Frame::Set(sorted(items)),
        (Compare::Unordered, Frame::Push(items)) => Frame::Push(sorted(items)),
        (Compare::Unordered | Compare::UnorderedPairs, Frame::Map(pairs)) => Frame::Map(sorted_pairs(pairs)),
        (Compare::UnorderedNested, Frame::Array(items)) => Frame::Array(sorted(&nested(items))),
        (Compare::UnorderedNested, Frame::Set(items)) => Frame::Set(sorted(&nested(items))),
        (Compare::UnorderedNested, Frame::Push(items)) => Frame::Push(sorted(&nested(items))),
        (Compare::UnorderedNested, Frame::Map(pairs)) => {
            let pairs: Vec<(Frame, Frame)> = pairs
                .iter()
                .map(|(k, v)| (normalize(compare, k), normalize(compare, v)))
                .collect();
            Frame::Map(sorted_pairs(&pairs))
        }
        (Compare::UnorderedPairs, Frame::Array(items)) if items.len() % 2 == 0 => {
            let pairs: Vec<(Frame, Frame)> = items.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
            Frame::Array(sorted_pairs(&pairs).into_iter().flat_map(|(k, v)| [k, v]).collect())
        }
        _ => frame.clone(),
    }
}

/// Whether two replies are equal under `compare`.
pub fn frames_match(compare: Compare, a: &Frame, b: &Frame) -> bool {
    match compare {
        Compare::TypeOnly => frame_type(a) == frame_type(b),
        Compare::Exact => a.to_bytes() == b.to_bytes(),
        Compare::Unordered | Compare::UnorderedPairs | Compare::UnorderedNested => {
            normalize(compare, a).to_bytes() == normalize(compare, b).to_bytes()
        }
    }
}

/// What one server did with one command.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A reply.
    Reply(Frame),
    /// The server closed the connection instead of replying.
    Closed,
    /// No reply within the read timeout.
    Timeout,
    /// Anything else (malformed reply, I/O error).
    Failed(String),
}

impl Outcome {
    /// Classifies the result of reading a reply.
    pub fn from_io(r: std::io::Result<Frame>) -> Outcome {
        match r {
            Ok(f) => Outcome::Reply(f),
            Err(e) => match e.kind() {
                ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe => Outcome::Closed,
                ErrorKind::WouldBlock | ErrorKind::TimedOut => Outcome::Timeout,
                _ => Outcome::Failed(e.to_string()),
            },
        }
    }

    /// Whether two outcomes are equal under `compare`.
    pub fn matches(&self, other: &Outcome, compare: Compare) -> bool {
        match (self, other) {
            (Outcome::Reply(a), Outcome::Reply(b)) => frames_match(compare, a, b),
            (Outcome::Closed, Outcome::Closed) | (Outcome::Timeout, Outcome::Timeout) => true,
            _ => false,
        }
    }

    /// The outcome pretty-printed (replies with their wire bytes).
    pub fn show(&self) -> String {
        match self {
            Outcome::Reply(f) => show(f),
            Outcome::Closed => "(connection closed)".into(),
            Outcome::Timeout => "(no reply: read timed out)".into(),
            Outcome::Failed(e) => format!("(failed: {e})"),
        }
    }

    /// One-line summary, for histories.
    pub fn short(&self) -> String {
        match self {
            Outcome::Reply(f) => {
                let s = pretty_frame(f).replace('\n', " ");
                if s.chars().count() > 120 {
                    format!("{}...", s.chars().take(120).collect::<String>())
                } else {
                    s
                }
            }
            other => other.show(),
        }
    }
}

/// A `tessera-node` and a `redis-server` started with the same extra
/// arguments, and numbered connections to both.
///
/// With `TESSERA_IT_SELFCHECK=1` the "tessera" side is a second
/// `redis-server`: a script or generator that fails then is itself
/// nondeterministic.
pub struct Pair {
    /// The server under test.
    pub tessera: Server,
    /// The reference.
    pub redis: Server,
    conns: Vec<[Option<Conn>; 2]>,
}

impl Pair {
    /// Starts both servers; `None` (after printing why) when redis-server is
    /// not installed.
    pub fn start(extra_args: &[&str]) -> Option<Pair> {
        let redis = Server::redis(extra_args)?;
        let tessera = if std::env::var_os("TESSERA_IT_SELFCHECK").is_some_and(|v| v == "1") {
            Server::start(Kind::Redis, extra_args)
        } else {
            Server::tessera(extra_args)
        };
        Some(Pair {
            tessera,
            redis,
            conns: Vec::new(),
        })
    }

    fn server(&self, side: usize) -> &Server {
        if side == 0 { &self.tessera } else { &self.redis }
    }

    /// Drops every connection (the next command opens fresh ones).
    pub fn reset_conns(&mut self) {
        self.conns.clear();
    }

    /// Runs a command on connection `conn` of both servers (sent to both
    /// first, then both replies read) and returns `[tessera, redis]`.
    pub fn run<A: AsRef<[u8]>>(&mut self, conn: usize, args: &[A]) -> [Outcome; 2] {
        if self.conns.len() <= conn {
            self.conns.resize_with(conn + 1, || [None, None]);
        }
        // `None`: sent, reply pending; `Some`: already settled.
        let mut outcomes: [Option<Outcome>; 2] = [None, None];
        for (side, outcome) in outcomes.iter_mut().enumerate() {
            if self.conns[conn][side].is_none() {
                match Conn::try_connect(self.server(side).port()) {
                    Ok(c) => self.conns[conn][side] = Some(c),
                    Err(e) => *outcome = Some(Outcome::Failed(format!("cannot connect: {e}"))),
                }
            }
            if let Some(c) = self.conns[conn][side].as_mut()
                && c.try_send(args).is_err()
            {
                *outcome = Some(Outcome::Closed);
            }
        }
        let mut done = [Outcome::Closed, Outcome::Closed];
        for (side, outcome) in outcomes.into_iter().enumerate() {
            let slot = &mut self.conns[conn][side];
            done[side] = match (outcome, slot.as_mut()) {
                (Some(o), _) => o,
                (None, Some(c)) => Outcome::from_io(c.try_recv()),
                (None, None) => Outcome::Failed("no connection".into()),
            };
            if !matches!(done[side], Outcome::Reply(_)) {
                // Closed or out of sync: the next command reconnects.
                *slot = None;
            }
        }
        done
    }

    /// Runs a command on a fresh connection to each server, panicking unless
    /// both reply; used for setup (FLUSHALL, CONFIG SET...).
    pub fn both<A: AsRef<[u8]>>(&self, args: &[A]) -> [Frame; 2] {
        [self.tessera.conn().cmd(args), self.redis.conn().cmd(args)]
    }
}

/// What one script line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Run a command and compare the replies.
    Command {
        /// The arguments.
        args: Vec<Vec<u8>>,
        /// How the replies are compared.
        compare: Compare,
    },
    /// Sleep.
    Sleep(Duration),
    /// Switch connections.
    Conn(usize),
}

/// One meaningful script line.
#[derive(Clone, Debug)]
pub struct ScriptLine {
    /// 1-based line number.
    pub lineno: usize,
    /// The line as written.
    pub text: String,
    /// What it asks for.
    pub step: Step,
}

/// Parses a script (see the module documentation for the format).
pub fn parse_script(text: &str) -> Result<Vec<ScriptLine>, String> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |msg: String| format!("line {lineno}: {msg}: {line}");
        let (directive, rest) = match line.strip_prefix('!') {
            Some(d) => match d.split_once(char::is_whitespace) {
                Some((d, rest)) => (Some(d), rest.trim()),
                None => (Some(d), ""),
            },
            None => (None, line),
        };
        let command = |compare: Compare| -> Result<Step, String> {
            let args = split_args(rest).map_err(&err)?;
            if args.is_empty() {
                return Err(err("missing command".into()));
            }
            Ok(Step::Command { args, compare })
        };
        let step = match directive {
            None => command(Compare::Exact)?,
            Some("unordered") => command(Compare::Unordered)?,
            Some("unordered-pairs") => command(Compare::UnorderedPairs)?,
            Some("unordered-nested") => command(Compare::UnorderedNested)?,
            Some("noreply-compare") => command(Compare::TypeOnly)?,
            Some("sleep") => {
                let ms: u64 = rest.parse().map_err(|_| err("!sleep takes milliseconds".into()))?;
                Step::Sleep(Duration::from_millis(ms))
            }
            Some("conn") => Step::Conn(
                rest.parse()
                    .map_err(|_| err("!conn takes a connection number".into()))?,
            ),
            Some(other) => return Err(err(format!("unknown directive !{other}"))),
        };
        lines.push(ScriptLine {
            lineno,
            text: line.to_owned(),
            step,
        });
    }
    Ok(lines)
}

/// The scripts directory.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("scripts")
}

/// Runs one script file on a fresh pair of servers; panics with every
/// mismatch.
pub fn run_script_file(file: &str) {
    let path = scripts_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let script = parse_script(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let Some(mut pair) = Pair::start(&[]) else { return };
    let mismatches = run_script(&mut pair, file, &script);
    if !mismatches.is_empty() {
        let mut report = format!("{} mismatch(es) in {file} (tessera vs redis):\n\n", mismatches.len());
        for m in &mismatches {
            report.push_str(m);
            report.push('\n');
        }
        if !pair.tessera.is_running() {
            report.push_str("tessera-node is no longer running (crashed?)\n");
        }
        report.push_str(&pair.tessera.log_tail(15));
        panic!("{report}");
    }
}

/// Runs a parsed script on `pair`, returning a report per mismatch.
pub fn run_script(pair: &mut Pair, file: &str, script: &[ScriptLine]) -> Vec<String> {
    for (side, reply) in pair.both(&["FLUSHALL"]).iter().enumerate() {
        if !matches!(reply, Frame::Simple(s) if &s[..] == b"OK") {
            let name = if side == 0 {
                Kind::Tessera.name()
            } else {
                Kind::Redis.name()
            };
            eprintln!("{file}: warning: FLUSHALL on {name} replied {}", pretty_frame(reply));
        }
    }
    pair.reset_conns();
    let mut conn = 0;
    let mut mismatches = Vec::new();
    for line in script {
        match &line.step {
            Step::Sleep(d) => std::thread::sleep(*d),
            Step::Conn(n) => conn = *n,
            Step::Command { args, compare } => {
                let [t, r] = pair.run(conn, args);
                if !t.matches(&r, *compare) {
                    let mut m = String::new();
                    let how = match compare {
                        Compare::Exact => "",
                        Compare::Unordered => " (compared unordered)",
                        Compare::UnorderedPairs => " (compared as unordered pairs)",
                        Compare::UnorderedNested => " (compared unordered at every level)",
                        Compare::TypeOnly => " (compared by type)",
                    };
                    let _ = writeln!(m, "{file}:{}: [conn {conn}] {}{how}", line.lineno, line.text);
                    let _ = writeln!(m, "  tessera: {}", t.show().replace('\n', "\n           "));
                    let _ = writeln!(m, "  redis:   {}", r.show().replace('\n', "\n           "));
                    mismatches.push(m);
                }
            }
        }
    }
    mismatches
}

/// One test per script file.
macro_rules! scripts {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_script_file($file);
            }
        )*
        /// Every script file with a test.
        const LISTED_SCRIPTS: &[&str] = &[$($file),*];
    };
}

scripts! {
    script_pubsub => "pubsub.txt",
    script_pubsub_resp3 => "pubsub-resp3.txt",
    script_connection => "connection.txt",
    script_connection_cmds => "connection-cmds.txt",
    script_hello_resp3 => "hello-resp3.txt",
    script_command => "command.txt",
    script_client => "client.txt",
    script_config => "config.txt",
    script_server => "server.txt",
    script_strings_basic => "strings-basic.txt",
    script_keys => "keys.txt",
    script_keys_types => "keys-types.txt",
    script_expire => "expire.txt",
    script_scan => "scan.txt",
    script_object_policy => "object-policy.txt",
    script_keys_resp3 => "keys-resp3.txt",
    script_sets => "sets.txt",
    script_sets_resp3 => "sets-resp3.txt",
    script_strings => "strings.txt",
    script_strings_encoding => "strings-encoding.txt",
    script_incrbyfloat => "incrbyfloat.txt",
    script_bitmaps => "bitmaps.txt",
    script_strings_resp3 => "strings-resp3.txt",
    script_strings_limits => "strings-limits.txt",
    script_zsets => "zsets.txt",
    script_zsets_ranges => "zsets-ranges.txt",
    script_zsets_algebra => "zsets-algebra.txt",
    script_zsets_resp3 => "zsets-resp3.txt",
    script_hashes => "hashes.txt",
    script_hashes_resp3 => "hashes-resp3.txt",
    script_lists => "lists.txt",
    script_lists_resp3 => "lists-resp3.txt",
    script_multi => "multi.txt",
    script_multi_resp3 => "multi-resp3.txt",
    script_watch => "watch.txt",
}

#[test]
fn every_script_is_listed() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(scripts_dir()).expect("read scripts dir") {
        let name = entry.expect("dir entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") && !LISTED_SCRIPTS.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "scripts without a test: add them to `scripts!` in diff.rs: {missing:?}"
    );
}

#[test]
fn every_script_parses() {
    for file in LISTED_SCRIPTS {
        let text = std::fs::read_to_string(scripts_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        parse_script(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn parse_script_directives() {
    let script = parse_script(
        "# comment\n\nSET a \"b c\"\n!unordered KEYS *\n!unordered-pairs HGETALL h\n!noreply-compare TIME\n!sleep 5\n!conn 2\n",
    )
    .expect("parses");
    let steps: Vec<Step> = script.iter().map(|l| l.step.clone()).collect();
    let cmd = |args: &[&str], compare| Step::Command {
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        compare,
    };
    assert_eq!(
        steps,
        vec![
            cmd(&["SET", "a", "b c"], Compare::Exact),
            cmd(&["KEYS", "*"], Compare::Unordered),
            cmd(&["HGETALL", "h"], Compare::UnorderedPairs),
            cmd(&["TIME"], Compare::TypeOnly),
            Step::Sleep(Duration::from_millis(5)),
            Step::Conn(2),
        ]
    );
    assert_eq!(script[0].lineno, 3);
    assert!(parse_script("!bogus X").is_err());
    assert!(parse_script("SET \"a").is_err());
    assert!(parse_script("!sleep x").is_err());
}

#[test]
fn unordered_comparisons() {
    let bulk = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
    let a = Frame::Array(vec![bulk("x"), bulk("1"), bulk("y"), bulk("2")]);
    let b = Frame::Array(vec![bulk("y"), bulk("2"), bulk("x"), bulk("1")]);
    let c = Frame::Array(vec![bulk("y"), bulk("1"), bulk("x"), bulk("2")]);
    assert!(!frames_match(Compare::Exact, &a, &b));
    assert!(frames_match(Compare::Unordered, &a, &b));
    assert!(frames_match(Compare::UnorderedPairs, &a, &b));
    assert!(frames_match(Compare::Unordered, &a, &c));
    assert!(!frames_match(Compare::UnorderedPairs, &a, &c));
    assert!(frames_match(Compare::TypeOnly, &bulk("a"), &bulk("b")));
    assert!(!frames_match(Compare::TypeOnly, &bulk("a"), &Frame::Null));
    assert!(!frames_match(Compare::Exact, &Frame::Null, &Frame::NullArray));
    let scan = |keys: Vec<Frame>| Frame::Array(vec![bulk("0"), Frame::Array(keys)]);
    let s1 = scan(vec![bulk("a"), bulk("b")]);
    let s2 = scan(vec![bulk("b"), bulk("a")]);
    assert!(!frames_match(Compare::Unordered, &s1, &s2));
    assert!(frames_match(Compare::UnorderedNested, &s1, &s2));
    assert!(!frames_match(
        Compare::UnorderedNested,
        &s1,
        &scan(vec![bulk("a"), bulk("c")])
    ));
}
