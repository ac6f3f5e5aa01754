//! The start-up load. As in Redis, the server accepts connections while
//! it reads the AOF or the RDB: the load runs in slices on the server's
//! thread and clients are served between them, their commands refused with
//! `-LOADING` unless the command is allowed while loading (the `loading`
//! flag: INFO, CONFIG, SHUTDOWN…). INFO persistence shows the progress.
//!
//! A slice ends each time the input crosses a multiple of
//! `loading-process-events-interval-bytes` (RDB) or after 1024 commands
//! (AOF), as Redis's `processEventsWhileBlocked` calls; `key-load-delay`
//! slows the RDB load down for tests.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use super::rdb::{self, Encodings, Loader};
use crate::server::{Server, unix_ms};

/// The reply to commands refused while loading.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";

/// A load in progress, as INFO reports it.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Unix seconds when the load started.
    pub start_time: i64,
    /// Bytes to read (all the files).
    pub total_bytes: u64,
    /// Bytes read so far.
    pub loaded_bytes: u64,
    /// The `used-mem` aux field of the RDB being read.
    pub rdb_used_mem: u64,
}

impl Progress {
    /// Percent of the bytes read.
    pub fn percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        self.loaded_bytes as f64 / self.total_bytes as f64 * 100.0
    }

    /// Seconds left at the rate so far (1 in the first second), as Redis
    /// estimates it.
    pub fn eta_secs(&self) -> i64 {
        let elapsed = unix_ms() / 1000 - self.start_time;
        if elapsed <= 0 {
            return 1;
        }
        let remaining = if self.total_bytes == 0 {
            1
        } else {
            self.total_bytes.saturating_sub(self.loaded_bytes)
        };
        (elapsed as u128 * u128::from(remaining) / (u128::from(self.loaded_bytes) + 1)) as i64
    }
}

/// Enters the loading state: `total_bytes` are to be read.
pub fn start(server: &mut Server, total_bytes: u64) {
    server.loading = Some(Progress {
        start_time: unix_ms() / 1000,
        total_bytes,
        loaded_bytes: 0,
        rdb_used_mem: 0,
    });
}

/// Records that `loaded_bytes` of the total have been read.
pub fn advance(server: &mut Server, loaded_bytes: u64) {
    if let Some(p) = &mut server.loading {
        p.loaded_bytes = loaded_bytes;
    }
}

/// Loads the dataset at start-up: the AOF when it is enabled and exists (it
/// wins over the RDB, as in Redis), else the RDB; then leaves the loading
/// state.
///
/// # Errors
/// A file that cannot be read or is corrupt: the server must not start
/// with part of its data.
pub async fn load_at_start(server: &Rc<RefCell<Server>>) -> anyhow::Result<()> {
    let started = Instant::now();
    let loaded = if super::aof::load_at_start(server).await? {
        Some("append only file")
    } else if super::snapshot::load_at_start(server).await? {
        Some("disk")
    } else {
        None
    };
    server.borrow_mut().loading = None;
    if let Some(from) = loaded {
        tracing::info!("DB loaded from {from}: {:.3} seconds", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Runs `step` until it returns a result, serving clients between calls;
/// each call is one slice of the load, run with the server borrowed.
///
/// # Errors
/// The first error of `step`.
pub async fn in_slices<T, E>(
    server: &Rc<RefCell<Server>>,
    mut step: impl FnMut(&mut Server) -> Result<Option<T>, E>,
) -> Result<T, E> {
    loop {
        if let Some(done) = step(&mut server.borrow_mut())? {
            return Ok(done);
        }
        tokio::task::yield_now().await;
    }
}

/// Loads the RDB at the start of `data` into the (empty) databases, in
/// slices; `offset` is where `data` starts among the bytes of the load.
/// Returns the finished loader: its statistics and where the RDB ended.
///
/// # Errors
/// The decoding error.
pub async fn rdb<'a>(server: &Rc<RefCell<Server>>, data: &'a [u8], offset: u64) -> rdb::Result<Loader<'a>> {
    let mut loader = Loader::new(data)?;
    let (enc, interval) = {
        let s = server.borrow();
        (
            Encodings::from_config(&s.config),
            s.config.loading_process_events_interval_bytes.max(1024) as usize,
        )
    };
    in_slices(server, |s| {
        let until = (loader.pos() / interval + 1) * interval;
        let access = s.clock();
        let (verify, delay) = (s.config.rdbchecksum, s.config.key_load_delay);
        let done = loader.step(&mut s.dbs, &enc, &access, verify, until, delay)?;
        advance(s, offset + loader.pos() as u64);
        if let Some(p) = &mut s.loading
            && p.rdb_used_mem == 0
            && let Some((_, mem)) = loader.stats.aux.iter().find(|(k, _)| k == "used-mem")
        {
            p.rdb_used_mem = mem.parse().unwrap_or(0);
        }
        Ok(done.then_some(()))
    })
    .await?;
    let (keys, expired) = (loader.stats.keys, loader.stats.expired);
    server.borrow_mut().persistence.last_load = (keys, expired);
    tracing::info!("Done loading RDB, keys loaded: {keys}, keys expired: {expired}.");
    Ok(loader)
}
