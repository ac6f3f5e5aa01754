//! Worker threads. Each runs a single-threaded runtime of its own that
//! serves the client connections handed to it, over shared links of its own
//! to every shard ([`crate::server::Routes`] keeps one pool per worker). A
//! request, its backend write, the shard's reply and the client's reply are
//! all handled on one thread: no task wakes another thread, and no work is
//! stolen across threads, which is what a request costs least on. Accepting
//! connections, following the topology and `/metrics` run elsewhere (the
//! main thread's runtime).

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// The worker threads' runtimes.
#[derive(Debug)]
pub struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `n` (at least 1) worker threads, each running its runtime
    /// until the process ends.
    ///
    /// # Errors
    /// A runtime or thread that cannot be created.
    pub fn start(n: usize) -> std::io::Result<Workers> {
        let mut handles = Vec::with_capacity(n);
        for index in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            handles.push(runtime.handle().clone());
            std::thread::Builder::new()
                .name(format!("proxy-worker-{index}"))
                .spawn(move || {
                    CURRENT.set(index);
                    runtime.block_on(std::future::pending::<()>());
                })?;
        }
        Ok(Workers {
            handles,
            next: AtomicUsize::new(0),
        })
    }

    /// How many workers there are (one at least).
    pub(crate) fn len(&self) -> usize {
        self.handles.len()
    }

    /// The worker that takes the next client connection (in turn).
    pub fn next(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len()
    }

    /// Runs `task` on worker `index`.
    pub fn spawn<F>(&self, index: usize, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.handles[index].spawn(task);
    }

    /// The runtime of worker `index`.
    pub fn handle(&self, index: usize) -> &Handle {
        &self.handles[index]
    }
}

/// The index of the worker running the caller (0 off the worker threads).
pub fn current() -> usize {
    CURRENT.get()
}
