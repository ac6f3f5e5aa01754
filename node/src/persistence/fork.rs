//! Child processes for background saves: `fork`, a non-blocking `waitpid`
//! and `kill`. The only `unsafe` of persistence lives here.
//!
//! The server runs its commands on one thread, so the forked child (which
//! has only the calling thread) sees the keyspace in a consistent state and
//! the kernel's copy-on-write keeps that view while the parent goes on
//! serving. The child runs a closure with plain blocking I/O and leaves
//! with `_exit`, never returning into the runtime.
#![allow(unsafe_code)]

use std::io;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// Forks; the child runs `child` and exits with the code it returns (1 if
/// it panics). Returns the child's pid in the parent.
///
/// # Errors
/// When `fork` fails (out of memory or processes).
pub fn spawn(child: impl FnOnce() -> i32) -> io::Result<i32> {
    // SAFETY: fork is called from the executor thread that owns all server
    // state. The child only runs `child`, which writes a file with blocking
    // I/O (no tokio, no locks held by other threads are needed: the
    // allocator is thread-caching and the child never logs), then `_exit`s
    // without running destructors or atexit handlers, so nothing the
    // parent owns (sockets, runtime) is touched twice.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(1);
            // SAFETY: ends the child at once, as above.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(pid),
    }
}

/// Reaps `pid` if it has ended, without blocking.
///
/// # Errors
/// When `pid` is not a child of this process.
pub fn try_wait(pid: i32) -> io::Result<Option<Exit>> {
    let mut status = 0;
    // SAFETY: waitpid only writes the status integer we own.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ if libc::WIFEXITED(status) => Ok(Some(Exit::Code(libc::WEXITSTATUS(status)))),
        _ => Ok(Some(Exit::Signal(libc::WTERMSIG(status)))),
    }
}

/// Sends SIGUSR1 to a child (Redis's signal for "abort the save").
pub fn kill(pid: i32) {
    // SAFETY: kill only sends a signal to a pid we forked.
    unsafe {
        libc::kill(pid, libc::SIGUSR1);
    }
}
