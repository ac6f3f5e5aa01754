//! The append-only file in Redis 7's multi-part layout: a directory
//! (`appenddirname`) holding a manifest (`<appendfilename>.manifest`) that
//! lists one base file (the dataset when it was written: an RDB,
//! `<name>.<seq>.base.rdb`, with `aof-use-rdb-preamble yes`, else commands,
//! `<name>.<seq>.base.aof`) and the incremental files (`<name>.<seq>.incr.aof`)
//! that the propagated writes are appended to since then.
//!
//! This module owns the files: the manifest format, writing the AOF feed
//! of [`crate::propagate`] before replies are sent and fsyncing it as
//! `appendfsync` says, loading the files at start-up through the command
//! path, and rewriting (BGREWRITEAOF): a new incremental file takes the
//! writes while a forked child writes a new base from its snapshot of the
//! dataset; then the manifest is swapped atomically and the old files go.

use std::cell::RefCell;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;

use super::{fork, rdb};
use crate::config::AppendFsync;
use crate::keyspace::{Db, Value};
use crate::propagate::encode;
use crate::server::Server;

/// The id of the client that runs the commands of the AOF being loaded
/// (the only one not refused while loading).
pub const CLIENT_ID: u64 = u64::MAX;

const LOADER_ADDR: std::net::SocketAddr =
    std::net::SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));

/// Items per command in a rewritten base (Redis's `AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

/// The kind of a file in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Base,
    History,
    Incr,
}

impl Kind {
    fn letter(self) -> &'static str {
        match self {
            Kind::Base => "b",
            Kind::History => "h",
            Kind::Incr => "i",
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    seq: u64,
    kind: Kind,
}

/// The manifest: which files make up the AOF, in load order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    base: Option<Entry>,
    incrs: Vec<Entry>,
    history: Vec<Entry>,
}

impl Manifest {
    /// Parses a manifest as Redis writes it: `file <name> seq <n> type <b|h|i>`
    /// lines (keys in any order, `#` comments).
    ///
    /// # Errors
    /// A message naming the line that is not valid.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("invalid AOF manifest line {}: '{line}'", i + 1);
            let words = resp::split_args(&Bytes::copy_from_slice(line.as_bytes())).ok_or_else(bad)?;
            if words.len() % 2 != 0 {
                return Err(bad());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                let value = String::from_utf8_lossy(&pair[1]).into_owned();
                match &pair[0][..] {
                    b"file" => name = Some(value),
                    b"seq" => seq = value.parse::<u64>().ok(),
                    b"type" => {
                        kind = match value.as_str() {
                            "b" => Some(Kind::Base),
                            "h" => Some(Kind::History),
                            "i" => Some(Kind::Incr),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(bad());
            };
            if name.contains('/') {
                return Err(bad());
            }
            let entry = Entry { name, seq, kind };
            match kind {
                Kind::Base if m.base.is_some() => return Err("found duplicate base file information".into()),
                Kind::Base => m.base = Some(entry),
                Kind::History => m.history.push(entry),
                Kind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= seq) {
                        return Err("found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(entry)
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text (base, history, then incremental files).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in self.base.iter().chain(&self.history).chain(&self.incrs) {
            let mut name = Vec::new();
            let plain = e
                .name
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
            if plain {
                name.extend_from_slice(e.name.as_bytes());
            } else {
                resp::repr(&mut name, e.name.as_bytes());
            }
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                String::from_utf8_lossy(&name),
                e.seq,
                e.kind.letter()
            ));
        }
        out
    }

    /// The files to load, in order.
    fn load_order(&self) -> impl Iterator<Item = &Entry> {
        self.base.iter().chain(&self.incrs)
    }

    fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |e| e.seq + 1)
    }

    fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |e| e.seq + 1)
    }
}

/// A rewrite in progress: the child writing the new base.
#[derive(Debug)]
struct Rewrite {
    pid: fork::Pid,
    started: Instant,
    temp: PathBuf,
    /// What the child writes.
    base: Base,
}

/// The AOF's state.
#[derive(Debug)]
pub struct Aof {
    /// The incremental file being appended to (none while the AOF is off).
    file: Option<File>,
    manifest: Manifest,
    /// Whether the manifest on disk is the one in use: false after CONFIG
    /// SET appendonly yes until the first base is written.
    manifest_live: bool,
    rewrite: Option<Rewrite>,
    /// A rewrite asked for while a background save runs starts when it ends.
    pub rewrite_scheduled: bool,
    /// Size of the AOF (base and incremental files), for INFO and the
    /// automatic rewrite.
    pub current_size: u64,
    /// Size right after the last rewrite (or start-up).
    pub base_size: u64,
    /// Why the last write failed (`strerror`), none when it succeeded.
    last_write_error: Option<String>,
    /// Whether the last rewrite succeeded.
    pub last_rewrite_ok: bool,
    /// Duration of the last rewrite in seconds (-1: none yet).
    pub last_rewrite_secs: i64,
    /// Rewrites done since start.
    pub rewrites: u64,
    last_fsync: Instant,
    /// Written since the last fsync.
    unsynced: bool,
    /// Bytes written since start, and how many of them are fsynced
    /// (`appendfsync always`: replies wait until their writes are).
    written: u64,
    synced: u64,
    /// Length of the incremental file being appended to.
    incr_len: u64,
    fsync_running: Arc<AtomicBool>,
    /// The errno of the last background fsync (0: it succeeded).
    fsync_errno: Arc<AtomicI32>,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            file: None,
            manifest: Manifest::default(),
            manifest_live: false,
            rewrite: None,
            rewrite_scheduled: false,
            current_size: 0,
            base_size: 0,
            last_write_error: None,
            last_rewrite_ok: true,
            last_rewrite_secs: -1,
            rewrites: 0,
            last_fsync: Instant::now(),
            unsynced: false,
            written: 0,
            synced: 0,
            incr_len: 0,
            fsync_running: Arc::new(AtomicBool::new(false)),
            fsync_errno: Arc::new(AtomicI32::new(0)),
        }
    }
}

impl Aof {
    /// Why the last write or background fsync failed (`strerror`), if it
    /// did.
    pub fn write_error(&self) -> Option<String> {
        self.last_write_error
            .clone()
            .or_else(|| match self.fsync_errno.load(Ordering::Acquire) {
                0 => None,
                errno => Some(strerror(&io::Error::from_raw_os_error(errno))),
            })
    }

    /// Whether a rewrite child is running.
    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrite.is_some()
    }

    /// Seconds the running rewrite has taken (-1: none).
    pub fn current_rewrite_secs(&self) -> i64 {
        self.rewrite
            .as_ref()
            .map_or(-1, |r| r.started.elapsed().as_secs() as i64)
    }
}

fn dir(server: &Server) -> PathBuf {
    PathBuf::from(&server.config.appenddirname)
}

fn manifest_name(server: &Server) -> String {
    format!("{}.manifest", server.config.appendfilename)
}

/// Writes `manifest` atomically: a temporary file, fsync, rename, fsync of
/// the directory.
fn persist_manifest(dir: &Path, name: &str, manifest: &Manifest) -> io::Result<()> {
    let temp = dir.join(format!("temp-{name}"));
    let mut f = File::create(&temp)?;
    f.write_all(manifest.render().as_bytes())?;
    f.sync_all()?;
    fs::rename(&temp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

// ---------------------------------------------------------------------------
// Start-up.

/// Loads the dataset from the AOF when `appendonly` is on and a manifest
/// exists, serving clients meanwhile ([`super::loading`]). Returns whether
/// it did.
///
/// # Errors
/// A file that cannot be read, or is corrupt before its end, with what to
/// do about it.
pub async fn load_at_start(server: &Rc<RefCell<Server>>) -> anyhow::Result<bool> {
    let (dir, path) = {
        let s = server.borrow();
        if !s.config.appendonly {
            return Ok(false);
        }
        let dir = dir(&s);
        let path = dir.join(manifest_name(&s));
        (dir, path)
    };
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("can't read the AOF manifest {}", path.display())),
    };
    let manifest = Manifest::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let files: Vec<PathBuf> = manifest.load_order().map(|e| dir.join(&e.name)).collect();
    let total = files.iter().map(|f| fs::metadata(f).map_or(0, |m| m.len())).sum();
    super::loading::start(&mut server.borrow_mut(), total);
    let mut loaded = 0;
    for (i, file) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        loaded += load_file(server, file, last, loaded).await?;
    }
    let mut s = server.borrow_mut();
    s.aof.manifest = manifest;
    s.aof.manifest_live = true;
    s.aof.current_size = loaded;
    s.aof.base_size = loaded;
    Ok(true)
}

/// Opens the AOF for appending at start-up (`appendonly yes`): the last
/// incremental file of the loaded manifest, or a new AOF whose base is the
/// dataset as it is now (empty, or what the RDB held).
///
/// # Errors
/// When the directory or a file cannot be created.
pub fn open_at_start(server: &mut Server) -> anyhow::Result<()> {
    if !server.config.appendonly {
        return Ok(());
    }
    let dir = dir(server);
    fs::create_dir_all(&dir).with_context(|| format!("can't create the AOF directory {}", dir.display()))?;
    if !server.aof.manifest_live {
        let seq = server.aof.manifest.next_base_seq();
        let base = Base::new(server);
        let name = base.file_name(&server.config.appendfilename, seq);
        let temp = dir.join(format!("temp-rewriteaof-{}.aof", std::process::id()));
        let size = base
            .write(&server.dbs, &temp)
            .and_then(|size| fs::rename(&temp, dir.join(&name)).map(|()| size))
            .inspect_err(|_| {
                let _ = fs::remove_file(&temp);
            })
            .with_context(|| format!("can't write {name}"))?;
        tracing::info!("Creating AOF base file {name} on server start");
        server.aof.manifest.base = Some(Entry {
            name,
            seq,
            kind: Kind::Base,
        });
        server.aof.current_size = size;
        server.aof.base_size = size;
    }
    match server.aof.manifest.incrs.last() {
        Some(last) => {
            let path = dir.join(&last.name);
            let f = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .with_context(|| format!("can't open the AOF file {}", path.display()))?;
            server.aof.incr_len = f.metadata().map(|m| m.len()).unwrap_or(0);
            server.aof.file = Some(f);
        }
        None => {
            open_new_incr(server).context("can't create the AOF incremental file")?;
            tracing::info!("Creating AOF incr file on server start");
        }
    }
    persist_manifest(&dir, &manifest_name(server), &server.aof.manifest).context("can't write the AOF manifest")?;
    server.aof.manifest_live = true;
    server.propagator.aof.enabled = true;
    server.propagator.aof.reset_db();
    Ok(())
}

/// Opens a new incremental file, adds it to the manifest (persisted only
/// when the manifest is live) and appends to it from now on.
fn open_new_incr(server: &mut Server) -> io::Result<()> {
    let dir = dir(server);
    let seq = server.aof.manifest.next_incr_seq();
    let name = format!("{}.{seq}.incr.aof", server.config.appendfilename);
    let f = OpenOptions::new().append(true).create(true).open(dir.join(&name))?;
    server.aof.manifest.incrs.push(Entry {
        name,
        seq,
        kind: Kind::Incr,
    });
    if server.aof.manifest_live {
        persist_manifest(&dir, &manifest_name(server), &server.aof.manifest)?;
    }
    server.aof.file = Some(f);
    server.aof.incr_len = 0;
    // A new file starts with a SELECT.
    server.propagator.aof.reset_db();
    Ok(())
}

// ---------------------------------------------------------------------------
// Loading.

/// One parsed command of an AOF file.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// A command, and the offset after it.
    Command(Vec<Bytes>, usize),
    /// The file ends inside a command.
    Truncated,
    /// Not a command at this offset.
    Bad(&'static str),
}

/// Parses the command at `at` of `data` as Redis's AOF loader: `*<argc>`,
/// then `$<len>` and the bytes of each argument; `#` lines (annotations)
/// are skipped by the caller.
fn parse_command(data: &[u8], at: usize) -> Parsed {
    fn line(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let rest = data.get(at..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        Some((&rest[..end], at + end + 2))
    }
    let Some((head, mut at)) = line(data, at) else {
        return Parsed::Truncated;
    };
    let Some(argc) = head.strip_prefix(b"*").and_then(resp::parse_i64) else {
        return Parsed::Bad("expected '*'");
    };
    if argc < 1 {
        return Parsed::Bad("invalid argument count");
    }
    let mut argv = Vec::with_capacity(argc.min(1024) as usize);
    for _ in 0..argc {
        let Some((head, next)) = line(data, at) else {
            return Parsed::Truncated;
        };
        let Some(len) = head.strip_prefix(b"$").and_then(resp::parse_i64) else {
            return Parsed::Bad("expected '$'");
        };
        let Ok(len) = usize::try_from(len) else {
            return Parsed::Bad("invalid bulk length");
        };
        let Some(end) = next.checked_add(len) else {
            return Parsed::Bad("invalid bulk length");
        };
        if data.len() < end + 2 {
            return Parsed::Truncated;
        }
        if &data[end..end + 2] != b"\r\n" {
            return Parsed::Bad("expected CRLF after a bulk string");
        }
        argv.push(Bytes::copy_from_slice(&data[next..end]));
        at = end + 2;
    }
    Parsed::Command(argv, at)
}

/// Loads one AOF file: an RDB (the base of an AOF written with
/// `aof-use-rdb-preamble`) if it starts with one, then commands, run
/// through the command path; returns its size. `offset` is where the file
/// starts among the bytes of the load. A truncated end of the `last` file
/// is cut off when `aof-load-truncated` allows it (so that appending goes
/// on from a complete command).
async fn load_file(server: &Rc<RefCell<Server>>, path: &Path, last: bool, offset: u64) -> anyhow::Result<u64> {
    let data = fs::read(path).with_context(|| format!("can't open the append-only file {}", path.display()))?;
    let mut at = 0;
    if data.starts_with(b"REDIS") {
        let loader = super::loading::rdb(server, &data, offset).await.with_context(|| {
            format!(
                "Error reading the RDB base file {}, AOF loading aborted",
                path.display()
            )
        })?;
        at = loader.pos();
    }
    let mut client = crate::client::Client::new(CLIENT_ID, LOADER_ADDR, LOADER_ADDR, true);
    // Where the open MULTI (if any) started: the valid end without it.
    let mut multi_start = None;
    let fix = |what: &str, at: usize| {
        anyhow::anyhow!(
            "Bad file format reading the append only file {} at offset {at}: {what}. \
             Make a backup of the file, then run `redis-check-aof --fix` on the manifest of {} to repair it",
            path.display(),
            path.parent().map_or_else(String::new, |p| p.display().to_string()),
        )
    };
    super::loading::in_slices(server, |s| {
        for _ in 0..1024 {
            if at >= data.len() {
                return Ok(Some(()));
            }
            if data[at] == b'#' {
                match data[at..].iter().position(|&b| b == b'\n') {
                    Some(n) => {
                        at += n + 1;
                        continue;
                    }
                    None => return Ok(Some(())),
                }
            }
            match parse_command(&data, at) {
                Parsed::Command(argv, next) => {
                    if crate::cmd::lookup(&argv[0]).is_none() {
                        return Err(fix(
                            &format!("unknown command '{}'", String::from_utf8_lossy(&argv[0])),
                            at,
                        ));
                    }
                    if argv[0].eq_ignore_ascii_case(b"multi") {
                        multi_start = Some(at);
                    } else if argv[0].eq_ignore_ascii_case(b"exec") {
                        multi_start = None;
                    }
                    s.execute(&mut client, &argv);
                    client.out.clear();
                    at = next;
                }
                Parsed::Truncated => return Ok(Some(())),
                Parsed::Bad(what) => return Err(fix(what, at)),
            }
        }
        super::loading::advance(s, offset + at as u64);
        Ok(None)
    })
    .await?;
    let valid = multi_start.unwrap_or(at);
    if valid < data.len() {
        let mut s = server.borrow_mut();
        if !last || !s.config.aof_load_truncated {
            anyhow::bail!(
                "Unexpected end of file reading the append only file {} (valid up to offset {valid} of {}). \
                 Make a backup of the file, then run `redis-check-aof --fix` on its manifest, or set \
                 'aof-load-truncated' to yes and restart the server",
                path.display(),
                data.len()
            );
        }
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because \
             aof-load-truncated is enabled; truncating it from {} to {valid} bytes",
            path.display(),
            data.len()
        );
        if multi_start.is_some() {
            // The open transaction never ran: leave MULTI state.
            s.execute(&mut client, &[Bytes::from_static(b"DISCARD")]);
        }
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(valid as u64)?;
        f.sync_all()?;
        return Ok(valid as u64);
    }
    Ok(data.len() as u64)
}

// ---------------------------------------------------------------------------
// Writing.

/// Writes the AOF feed to the incremental file. Runs before the replies of
/// the commands it holds are sent (and from the cron); with `appendfsync
/// always` those replies also wait for [`sync_up_to`].
pub fn flush(server: &mut Server) {
    if server.propagator.aof.buf.is_empty() {
        return;
    }
    let Some(file) = server.aof.file.as_mut() else {
        server.propagator.aof.buf.clear();
        return;
    };
    let buf = &server.propagator.aof.buf;
    match file.write_all(buf) {
        Ok(()) => {
            server.aof.current_size += buf.len() as u64;
            server.aof.written += buf.len() as u64;
            server.aof.incr_len += buf.len() as u64;
            server.propagator.aof.buf.clear();
            if server.aof.last_write_error.take().is_some() {
                tracing::warn!("AOF write error looks solved, Redis can write again.");
            }
            server.aof.unsynced = true;
        }
        Err(e) => {
            // Take back what may have been written in part; the feed keeps
            // the commands and the next flush tries again. Meanwhile writes
            // are refused (MISCONF, see [`write_error`]).
            let _ = file.set_len(server.aof.incr_len);
            if server.config.appendfsync == AppendFsync::Always {
                // The replies of the commands in the feed must not go out
                // unwritten, and what they did cannot be undone.
                tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                std::process::exit(1);
            }
            if server.aof.last_write_error.is_none() {
                tracing::warn!("Error writing to the AOF file: {e}");
            }
            server.aof.last_write_error = Some(strerror(&e));
        }
    }
}

/// `strerror`'s text of an I/O error (without Rust's " (os error N)").
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The error that refuses writes while the AOF cannot be written or
/// fsynced (Redis's `-MISCONF`), if it cannot.
pub fn write_error(server: &Server) -> Option<String> {
    server.aof.file.as_ref()?;
    let why = server.aof.write_error()?;
    Some(format!("MISCONF Errors writing to the AOF file: {why}"))
}

/// With `appendfsync always`, the position in the AOF that replies sent now
/// must wait for (none when everything written is fsynced).
pub fn pending_sync(server: &Server) -> Option<u64> {
    let aof = &server.aof;
    (server.config.appendfsync == AppendFsync::Always && aof.file.is_some() && aof.synced < aof.written)
        .then_some(aof.written)
}

/// Fsyncs the AOF unless `pos` is already fsynced: one fsync covers the
/// writes of every connection so far (Redis's fsync in `beforeSleep`).
pub fn sync_up_to(server: &mut Server, pos: u64) {
    let aof = &mut server.aof;
    if aof.synced >= pos {
        return;
    }
    let Some(file) = aof.file.as_ref() else { return };
    if let Err(e) = file.sync_data() {
        tracing::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
        std::process::exit(1);
    }
    aof.synced = aof.written;
    aof.unsynced = false;
    aof.last_fsync = Instant::now();
}

/// The AOF's share of the cron: flush, the once-a-second fsync of
/// `everysec` (on a background thread), the end of a rewrite, and the
/// automatic rewrite.
pub fn cron(server: &mut Server) {
    flush(server);
    if let Some(pos) = pending_sync(server) {
        sync_up_to(server, pos);
    }
    // A failed background fsync is tried again (it refuses writes until one
    // succeeds, so no new write would ask for it).
    let retry = server.aof.fsync_errno.load(Ordering::Acquire) != 0;
    if server.config.appendfsync == AppendFsync::EverySec
        && (server.aof.unsynced || retry)
        && server.aof.last_fsync.elapsed().as_millis() >= 1000
        && !server.aof.fsync_running.load(Ordering::Acquire)
        && let Some(file) = server.aof.file.as_ref().and_then(|f| f.try_clone().ok())
    {
        server.aof.unsynced = false;
        server.aof.last_fsync = Instant::now();
        let running = server.aof.fsync_running.clone();
        let errno = server.aof.fsync_errno.clone();
        running.store(true, Ordering::Release);
        tokio::task::spawn_blocking(move || {
            match file.sync_data() {
                Ok(()) => errno.store(0, Ordering::Release),
                Err(e) => {
                    tracing::warn!("Can't fsync the AOF file in the background: {e}");
                    errno.store(e.raw_os_error().unwrap_or(libc::EIO), Ordering::Release);
                }
            }
            running.store(false, Ordering::Release);
        });
    }
    if let Some(rw) = &server.aof.rewrite {
        match fork::try_reap(rw.pid) {
            Ok(None) => {}
            Ok(Some(exit)) => rewrite_done(server, exit.success()),
            Err(e) => {
                tracing::warn!("can't wait for the AOF rewrite child: {e}");
                rewrite_done(server, false);
            }
        }
    }
    // One child at a time: a scheduled or automatic rewrite waits for a
    // background save to end.
    if server.aof.rewrite.is_none() && !server.persistence.in_progress() {
        let c = &server.config;
        let base = server.aof.base_size.max(1);
        let growth = server.aof.current_size.saturating_sub(base) * 100 / base;
        let auto = server.aof.file.is_some()
            && c.auto_aof_rewrite_percentage > 0
            && server.aof.current_size > c.auto_aof_rewrite_min_size
            && growth >= u64::from(c.auto_aof_rewrite_percentage);
        if server.aof.rewrite_scheduled || auto {
            if auto {
                tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            }
            server.aof.rewrite_scheduled = false;
            if let Err(e) = start_rewrite(server) {
                tracing::warn!("Can't rewrite the append only file in background: {e}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Rewriting.

/// Starts a rewrite (BGREWRITEAOF): flushes and fsyncs the current
/// incremental file, opens a new one for the writes from now on, and forks
/// a child that writes the dataset as it is now into a new base.
///
/// # Errors
/// When a file cannot be created or the fork fails.
pub fn start_rewrite(server: &mut Server) -> io::Result<()> {
    if server.aof.rewrite.is_some() {
        return Err(io::Error::other("a rewrite is already in progress"));
    }
    let dir = dir(server);
    fs::create_dir_all(&dir)?;
    flush(server);
    if let Some(f) = &server.aof.file {
        f.sync_data()?;
    }
    open_new_incr(server)?;
    let temp = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let base = Base::new(server);
    let dbs = &server.dbs;
    let pid = fork::fork_child(|| match base.write(dbs, &temp) {
        Ok(_) => 0,
        Err(_) => 1,
    })?;
    tracing::info!("Background append only file rewriting started by pid {pid}");
    server.aof.rewrite = Some(Rewrite {
        pid,
        started: Instant::now(),
        temp,
        base,
    });
    Ok(())
}

/// How a base file is written: as an RDB (`aof-use-rdb-preamble yes`, a
/// `.base.rdb` file) or as commands (a `.base.aof` file).
#[derive(Debug)]
struct Base {
    /// The RDB options, or `None` for commands.
    rdb: Option<rdb::SaveOptions>,
    now_ms: i64,
    key_save_delay: i32,
}

impl Base {
    /// The base the configuration asks for, of the dataset as it is now.
    fn new(server: &Server) -> Base {
        let rdb = server.config.aof_use_rdb_preamble.then(|| {
            let mut opts = super::snapshot::options(server);
            for (k, v) in &mut opts.aux {
                if *k == "aof-base" {
                    *v = "1".into();
                }
            }
            opts
        });
        Base {
            rdb,
            now_ms: crate::server::unix_ms(),
            key_save_delay: server.config.rdb_key_save_delay,
        }
    }

    /// `<appendfilename>.<seq>.base.rdb` or `.base.aof`.
    fn file_name(&self, appendfilename: &str, seq: u64) -> String {
        let ext = if self.rdb.is_some() { "rdb" } else { "aof" };
        format!("{appendfilename}.{seq}.base.{ext}")
    }

    /// Writes `dbs` into `path`, fsynced; returns the size.
    fn write(&self, dbs: &[Db], path: &Path) -> io::Result<u64> {
        let mut f = io::BufWriter::new(File::create(path)?);
        let size = match &self.rdb {
            Some(opts) => rdb::write_rdb(&mut f, dbs, opts)?,
            None => {
                let mut size = 0;
                let mut buf = Vec::with_capacity(64 * 1024);
                let mut spill = |chunk: &mut Vec<u8>| {
                    size += chunk.len() as u64;
                    let r = f.write_all(chunk);
                    chunk.clear();
                    r
                };
                for (i, db) in dbs.iter().enumerate() {
                    write_db(i, db, self.now_ms, self.key_save_delay, &mut buf, &mut spill)?;
                }
                spill(&mut buf)?;
                size
            }
        };
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(size)
    }
}

/// One database as commands (SELECT, then per key the commands that build
/// its value, in batches of [`ITEMS_PER_CMD`], and its PEXPIREAT), as
/// Redis's `rewriteAppendOnlyFileRio`; keys already expired are skipped.
/// `spill` is called when `buf` grows past 64 KiB; `key_save_delay` as in
/// [`rdb::key_delay`].
fn write_db(
    index: usize,
    db: &Db,
    now_ms: i64,
    key_save_delay: i32,
    buf: &mut Vec<u8>,
    spill: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    if db.is_empty() {
        return Ok(());
    }
    encode(buf, &[&b"SELECT"[..], itoa::Buffer::new().format(index).as_bytes()]);
    let mut num = itoa::Buffer::new();
    for (key, obj) in db.keys().iter() {
        let expire = db.expire_at(key);
        if expire.is_some_and(|at| at < now_ms) {
            continue;
        }
        rdb::key_delay(key_save_delay);
        match &obj.value {
            Value::Str(s) => encode(buf, &[&b"SET"[..], key, &s.to_bytes()]),
            Value::List(l) => batches(buf, b"RPUSH", key, l.len(), l.iter().map(|e| vec![e.to_vec()])),
            Value::Set(s) => batches(
                buf,
                b"SADD",
                key,
                s.len(),
                s.iter().map(|m| vec![m.to_bytes().into_owned()]),
            ),
            Value::ZSet(z) => batches(
                buf,
                b"ZADD",
                key,
                z.len(),
                z.iter()
                    .map(|(m, score)| vec![format!("{score}").into_bytes(), m.to_vec()]),
            ),
            Value::Hash(h) => batches(
                buf,
                b"HMSET",
                key,
                h.len(),
                h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()]),
            ),
        }
        if let Some(at) = expire {
            encode(buf, &[&b"PEXPIREAT"[..], key, num.format(at).as_bytes()]);
        }
        if buf.len() > 64 * 1024 {
            spill(buf)?;
        }
    }
    Ok(())
}

/// `cmd key items…` in commands of at most [`ITEMS_PER_CMD`] items.
fn batches(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], len: usize, items: impl Iterator<Item = Vec<Vec<u8>>>) {
    let mut items = items.peekable();
    let mut left = len;
    while items.peek().is_some() {
        let n = left.min(ITEMS_PER_CMD);
        let mut argv: Vec<Vec<u8>> = vec![cmd.to_vec(), key.to_vec()];
        for item in items.by_ref().take(n) {
            argv.extend(item);
        }
        encode(buf, &argv);
        left -= n;
    }
}

/// The end of a rewrite: on success the child's file becomes the new base,
/// the old base and the incremental files before the rewrite become
/// history in a manifest swapped atomically, then are deleted.
fn rewrite_done(server: &mut Server, ok: bool) {
    let Some(rw) = server.aof.rewrite.take() else { return };
    server.aof.last_rewrite_secs = rw.started.elapsed().as_secs() as i64;
    let result = if ok {
        install_base(server, &rw)
    } else {
        Err(io::Error::other("the child failed"))
    };
    match result {
        Ok(()) => {
            server.aof.last_rewrite_ok = true;
            server.aof.rewrites += 1;
            tracing::info!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            let _ = fs::remove_file(&rw.temp);
            server.aof.last_rewrite_ok = false;
            tracing::warn!("Background AOF rewrite failed: {e}");
        }
    }
}

fn install_base(server: &mut Server, rw: &Rewrite) -> io::Result<()> {
    let dir = dir(server);
    let seq = server.aof.manifest.next_base_seq();
    let name = rw.base.file_name(&server.config.appendfilename, seq);
    fs::rename(&rw.temp, dir.join(&name))?;
    let mut m = server.aof.manifest.clone();
    let current = m.incrs.pop().expect("a rewrite opened an incremental file");
    let mut gone: Vec<Entry> = m.base.take().into_iter().chain(m.incrs.drain(..)).collect();
    for e in &mut gone {
        e.kind = Kind::History;
    }
    m.history.extend(gone);
    m.base = Some(Entry {
        name: name.clone(),
        seq,
        kind: Kind::Base,
    });
    m.incrs.push(current.clone());
    persist_manifest(&dir, &manifest_name(server), &m)?;
    // The old files are no longer part of the AOF.
    for e in m.history.drain(..) {
        let _ = fs::remove_file(dir.join(&e.name));
    }
    persist_manifest(&dir, &manifest_name(server), &m)?;
    server.aof.manifest = m;
    server.aof.manifest_live = true;
    let size = |n: &str| fs::metadata(dir.join(n)).map(|m| m.len()).unwrap_or(0);
    server.aof.base_size = size(&name) + size(&current.name);
    server.aof.current_size = server.aof.base_size;
    Ok(())
}

// ---------------------------------------------------------------------------
// Commands and configuration.

/// BGREWRITEAOF: starts a rewrite now, or schedules it while a background
/// save runs or when run by EXEC (`in_exec`).
///
/// # Errors
/// The reply error when the rewrite cannot start.
pub fn bgrewriteaof(server: &mut Server, in_exec: bool) -> Result<&'static str, String> {
    if server.aof.rewrite.is_some() {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    if server.persistence.in_progress() || in_exec {
        server.aof.rewrite_scheduled = true;
        return Ok("Background append only file rewriting scheduled");
    }
    start_rewrite(server).map_err(|e| {
        server.aof.last_rewrite_ok = false;
        format!(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information. ({e})"
        )
    })?;
    Ok("Background append only file rewriting started")
}

/// CONFIG SET appendonly: `yes` starts appending (to a new incremental
/// file whose base is written by a rewrite), `no` stops.
///
/// # Errors
/// When the AOF cannot be started.
pub fn set_enabled(server: &mut Server, on: bool) -> io::Result<()> {
    if on && server.aof.file.is_none() {
        let dir = dir(server);
        fs::create_dir_all(&dir)?;
        // Continue the numbering of files left by an earlier run; the
        // manifest on disk changes only once the new base is written.
        if let Ok(text) = fs::read_to_string(dir.join(manifest_name(server)))
            && let Ok(m) = Manifest::parse(&text)
        {
            server.aof.manifest = m;
        }
        server.aof.manifest_live = false;
        server.propagator.aof.enabled = true;
        server.aof.current_size = 0;
        if let Err(e) = start_rewrite(server) {
            // A failure to close is logged by `stop`; the error to report
            // is why the AOF did not start.
            let _ = stop(server);
            return Err(e);
        }
    } else if !on {
        // Logged by `stop`; as Redis's stopAppendOnly, the AOF is turned
        // off all the same (the dataset is still in memory).
        let _ = stop(server);
    }
    Ok(())
}

/// Writes the feed, fsyncs and closes the AOF, and stops a running rewrite
/// (whatever else fails).
///
/// # Errors
/// When part of the feed could not be written or the AOF not fsynced
/// (logged here): writes already acknowledged are then not on disk.
fn stop(server: &mut Server) -> io::Result<()> {
    flush(server);
    let unwritten = server.propagator.aof.buf.len();
    let closed = match server.aof.file.take() {
        Some(f) => close(&server.aof, f, unwritten),
        None => Ok(()),
    };
    if let Some(rw) = server.aof.rewrite.take() {
        fork::kill(rw.pid);
        let _ = fs::remove_file(&rw.temp);
    }
    server.propagator.aof.enabled = false;
    server.propagator.aof.buf.clear();
    closed
}

/// Fsyncs `file` after the last flush, which left `unwritten` bytes of the
/// feed out of it.
fn close(aof: &Aof, file: File, unwritten: usize) -> io::Result<()> {
    // Linux reports a writeback error to one fsync of an open file, and the
    // background fsync shares ours: let it end, and count its failure (none
    // succeeded since) as the final fsync's.
    while aof.fsync_running.load(Ordering::Acquire) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let synced = file
        .sync_all()
        .and_then(|()| match aof.fsync_errno.load(Ordering::Acquire) {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(errno)),
        });
    let failure = if unwritten > 0 {
        let why = aof.last_write_error.as_deref().unwrap_or("unknown error");
        format!("Error writing to the AOF file: {why} ({unwritten} bytes of acknowledged writes are not in the AOF)")
    } else {
        match synced {
            Ok(()) => return Ok(()),
            Err(e) => format!(
                "Fail to fsync the AOF file: {} (writes since the last successful fsync may not be on disk)",
                strerror(&e)
            ),
        }
    };
    tracing::warn!("{failure}.");
    Err(io::Error::other(failure))
}

/// At shutdown: the feed written and fsynced, a running rewrite stopped
/// (whatever else fails).
///
/// # Errors
/// When part of the feed could not be written or the AOF not fsynced:
/// writes already acknowledged are not on disk, and the exit status must
/// say so.
pub fn shutdown(server: &mut Server) -> io::Result<()> {
    if server.aof.file.is_none() {
        return Ok(());
    }
    tracing::info!("Calling fsync() on the AOF file.");
    stop(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_render_as_redis_writes_them() {
        let text = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.render(), text);
        assert_eq!(m.next_incr_seq(), 2);
        assert_eq!(m.next_base_seq(), 2);
        // Keys in any order, comments, quoted names.
        let m = Manifest::parse("# c\ntype i seq 3 file \"a b.aof\"\n").expect("valid");
        assert_eq!(m.incrs[0].name, "a b.aof");
        assert_eq!(m.render(), "file \"a b.aof\" seq 3 type i\n");
        for bad in [
            "",
            "file x seq 1\n",
            "file x seq one type i\n",
            "file ../x seq 1 type i\n",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{bad:?}");
        }
        let dup = "file a seq 1 type b\nfile b seq 2 type b\n";
        assert!(Manifest::parse(dup).is_err());
    }

    #[test]
    fn commands_parse_and_truncation_is_told_from_corruption() {
        let data = b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
        let Parsed::Command(argv, next) = parse_command(data, 0) else {
            panic!("a command")
        };
        assert_eq!(argv, vec![Bytes::from_static(b"DEL"), Bytes::from_static(b"k")]);
        assert_eq!(next, data.len());
        for cut in 0..data.len() {
            assert_eq!(parse_command(&data[..cut], 0), Parsed::Truncated, "cut at {cut}");
        }
        assert!(matches!(parse_command(b"SET a b\r\n", 0), Parsed::Bad(_)));
        assert!(matches!(parse_command(b"*1\r\n$3\r\nDELxx", 0), Parsed::Bad(_)));
        assert!(matches!(parse_command(b"*1\r\n#3\r\nDEL\r\n", 0), Parsed::Bad(_)));
    }
}
