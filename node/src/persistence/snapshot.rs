//! RDB snapshots on disk and the server's save state: SAVE, BGSAVE in a
//! forked child, `save <seconds> <changes>` points, the load at start-up,
//! and the `stop-writes-on-bgsave-error` guard.
//!
//! A file is always written to `temp-<pid>.rdb` next to the target, synced,
//! renamed over `dbfilename` and the directory synced, so a crash or a full
//! disk at any point leaves the previous file whole.

use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use anyhow::Context;

use super::fork::{self, Exit};
use super::rdb::{self, Encodings, SaveOptions};
use crate::keyspace::Db;
use crate::server::{Server, unix_ms};

/// Seconds to wait after a failed background save before a save point may
/// try again (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: i64 = 5;

/// The error that refuses writes after a failed save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// A background save in progress.
#[derive(Debug)]
struct Child {
    pid: i32,
    started: Instant,
    /// `dirty` when the child forked: what the snapshot covers.
    dirty_at_start: u64,
}

/// The save and load state INFO reports.
#[derive(Debug)]
pub struct State {
    child: Option<Child>,
    /// BGSAVE SCHEDULE waits for the AOF rewrite child to end.
    pub scheduled: bool,
    /// Whether the last save (foreground or background) succeeded.
    pub last_bgsave_ok: bool,
    /// Duration of the last background save, or -1.
    pub last_bgsave_secs: i64,
    /// Successful saves since start.
    pub saves: u64,
    /// Unix seconds of the last background save attempt.
    last_try: i64,
    /// Keys loaded and expired keys skipped by the last load.
    pub last_load: (u64, u64),
}

impl Default for State {
    fn default() -> Self {
        State {
            child: None,
            scheduled: false,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            saves: 0,
            last_try: 0,
            last_load: (0, 0),
        }
    }
}

impl State {
    /// Whether a background save runs.
    pub fn in_progress(&self) -> bool {
        self.child.is_some()
    }

    /// Seconds the running background save has taken, or -1.
    pub fn current_secs(&self) -> i64 {
        self.child.as_ref().map_or(-1, |c| c.started.elapsed().as_secs() as i64)
    }
}

/// The snapshot file: `dbfilename` in `dir` (which CONFIG SET may change).
pub fn path(server: &Server) -> PathBuf {
    server.config.dir.join(&server.config.dbfilename)
}

/// How snapshots are written: the configuration and the header's aux fields.
pub fn options(server: &Server) -> SaveOptions {
    let mut opts = SaveOptions {
        compress: server.config.rdbcompression,
        checksum: server.config.rdbchecksum,
        aux: vec![
            ("redis-ver", crate::REDIS_VERSION.to_string()),
            ("redis-bits", (usize::BITS).to_string()),
            ("ctime", (unix_ms() / 1000).to_string()),
            ("used-mem", crate::alloc::allocated().to_string()),
            ("aof-base", "0".to_string()),
        ],
        key_save_delay: server.config.rdb_key_save_delay,
    };
    // The replication history, so that a restarted server can continue it.
    opts.aux.extend(crate::replication::rdb_aux(server));
    opts
}

/// Writes `dbs` to `path` atomically: a temporary file in the same
/// directory, fsync, rename, fsync of the directory. Returns the size.
///
/// # Errors
/// Any I/O error; the temporary file is removed and `path` is untouched.
pub fn write_file(path: &Path, dbs: &[Db], opts: &SaveOptions) -> io::Result<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = temp_path(&dir, std::process::id());
    let write = || -> io::Result<u64> {
        let mut w = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        let n = rdb::write_rdb(&mut w, dbs, opts)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()?;
        Ok(n)
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

fn temp_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("temp-{pid}.rdb"))
}

fn saved(server: &mut Server, dirty_covered: u64) {
    server.dirty = server.dirty.saturating_sub(dirty_covered);
    server.lastsave = unix_ms() / 1000;
    server.persistence.last_bgsave_ok = true;
    server.persistence.saves += 1;
}

/// SAVE: writes the snapshot in the foreground.
///
/// # Errors
/// The I/O error (also logged and recorded as the last save status).
pub fn save(server: &mut Server) -> io::Result<()> {
    let started = Instant::now();
    let path = path(server);
    match write_file(&path, &server.dbs, &options(server)) {
        Ok(_) => {
            tracing::info!("DB saved on disk in {:.3}s", started.elapsed().as_secs_f64());
            let dirty = server.dirty;
            saved(server, dirty);
            Ok(())
        }
        Err(e) => {
            tracing::warn!("Failed saving the DB to '{}': {e}", path.display());
            server.persistence.last_bgsave_ok = false;
            Err(e)
        }
    }
}

/// BGSAVE: forks a child that writes the snapshot while the server goes on.
///
/// # Errors
/// When a save already runs (`AlreadyExists`) or fork fails.
pub fn bgsave(server: &mut Server) -> io::Result<()> {
    if server.persistence.in_progress() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "Background save already in progress",
        ));
    }
    let path = path(server);
    let opts = options(server);
    server.persistence.last_try = unix_ms() / 1000;
    let dbs = &server.dbs;
    let pid = fork::fork_child(|| match write_file(&path, dbs, &opts) {
        Ok(_) => 0,
        Err(_) => 1,
    });
    match pid {
        Ok(pid) => {
            tracing::info!("Background saving started by pid {pid}");
            server.persistence.child = Some(Child {
                pid,
                started: Instant::now(),
                dirty_at_start: server.dirty,
            });
            Ok(())
        }
        Err(e) => {
            tracing::warn!("Can't save in background: fork: {e}");
            server.persistence.last_bgsave_ok = false;
            Err(e)
        }
    }
}

/// Stops a running background save (SHUTDOWN, FLUSHALL) and removes its
/// temporary file.
pub fn kill_child(server: &mut Server) {
    if let Some(child) = server.persistence.child.take() {
        fork::kill(child.pid);
        let _ = fs::remove_file(temp_path(&server.config.dir, child.pid as u32));
    }
}

/// Whether writes are refused because the last save failed
/// (`stop-writes-on-bgsave-error` with save points configured).
pub fn denies_writes(server: &Server) -> bool {
    server.config.stop_writes_on_bgsave_error && !server.config.save.is_empty() && !server.persistence.last_bgsave_ok
}

/// Run by the server cron: reaps a finished child and triggers the save
/// points.
pub fn cron(server: &mut Server) {
    if let Some(child) = &server.persistence.child {
        let (pid, dirty_at_start, took) = (child.pid, child.dirty_at_start, child.started.elapsed());
        let exit = match fork::try_reap(pid) {
            Ok(None) => return,
            Ok(Some(exit)) => exit,
            Err(e) => {
                tracing::warn!("waitpid for the background save {pid}: {e}");
                Exit::Code(1)
            }
        };
        server.persistence.child = None;
        server.persistence.last_bgsave_secs = took.as_secs() as i64;
        match exit {
            Exit::Code(0) => {
                tracing::info!("Background saving terminated with success");
                saved(server, dirty_at_start);
            }
            Exit::Code(_) => {
                tracing::warn!("Background saving error");
                server.persistence.last_bgsave_ok = false;
            }
            Exit::Signal(sig) => {
                tracing::warn!("Background saving terminated by signal {sig}");
                let _ = fs::remove_file(temp_path(&server.config.dir, pid as u32));
                // Killed on purpose (SIGUSR1) is not an error.
                if sig != libc::SIGUSR1 {
                    server.persistence.last_bgsave_ok = false;
                }
            }
        }
        return;
    }
    // One child at a time: save points and scheduled saves wait for an AOF
    // rewrite to end.
    if server.aof.rewrite_in_progress() {
        return;
    }
    let now = unix_ms() / 1000;
    let retry_ok = server.persistence.last_bgsave_ok || now - server.persistence.last_try > RETRY_DELAY_SECS;
    if server.persistence.scheduled && retry_ok {
        if bgsave(server).is_ok() {
            server.persistence.scheduled = false;
        }
        return;
    }
    let point = server
        .config
        .save
        .iter()
        .find(|p| server.dirty >= p.changes && now - server.lastsave > p.seconds as i64 && retry_ok);
    if let Some(p) = point {
        tracing::info!("{} changes in {} seconds. Saving...", p.changes, p.seconds);
    }
    if point.is_some() {
        let _ = bgsave(server);
    }
}

/// Loads `dbfilename` into the (empty) databases at start-up, if it
/// exists, serving clients meanwhile ([`super::loading`]). Returns whether
/// it did.
///
/// # Errors
/// When the file exists but cannot be read or is not a valid RDB file: the
/// server must not start with part of its data.
pub async fn load_at_start(server: &Rc<RefCell<Server>>) -> anyhow::Result<bool> {
    let path = path(&server.borrow());
    let data = match fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("can't read the RDB file '{}'", path.display())),
    };
    super::loading::start(&mut server.borrow_mut(), data.len() as u64);
    let stats = super::loading::rdb(server, &data, 0)
        .await
        .and_then(rdb::Loader::finish)
        .with_context(|| {
            format!(
                "Fatal error loading the DB '{}' (check it with redis-check-rdb, or move it away to start empty)",
                path.display()
            )
        })?;
    crate::replication::restore_from_aux(&mut server.borrow_mut(), &stats.aux);
    Ok(true)
}

/// Replaces the dataset with the RDB `data` (start-up, DEBUG RELOAD). On
/// error the databases are left empty.
///
/// # Errors
/// The decoding error.
pub fn load_into(server: &mut Server, data: &[u8]) -> rdb::Result<rdb::LoadStats> {
    for db in &mut server.dbs {
        db.clear();
    }
    let enc = Encodings::from_config(&server.config);
    let access = server.clock();
    let result = rdb::load(data, &mut server.dbs, &enc, &access, server.config.rdbchecksum);
    match &result {
        Ok(stats) => server.persistence.last_load = (stats.keys, stats.expired),
        Err(_) => {
            for db in &mut server.dbs {
                db.clear();
            }
        }
    }
    result
}
