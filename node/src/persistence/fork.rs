//! Child processes for background persistence: `fork` gives the child a
//! copy-on-write snapshot of the dataset at that instant, as Redis does for
//! BGSAVE and BGREWRITEAOF, so the parent keeps serving while it writes.
//!
//! The only `unsafe` of persistence is here. The child runs one closure and
//! exits with `_exit` (no destructors, no atexit handlers, no flushing of
//! buffers it shares with the parent); the closure must not log or take
//! locks another thread may have held at the time of the fork.
#![allow(unsafe_code)]

use std::io;

/// A child's process id.
pub type Pid = i32;

/// Forks a child that runs `f` and exits with its return value (1 if it
/// panics); returns the child's pid in the parent.
///
/// # Errors
/// When `fork` fails (out of memory, process limit).
pub fn fork_child(f: impl FnOnce() -> i32) -> io::Result<Pid> {
    // SAFETY: fork has no memory-safety preconditions. In the child only
    // this thread exists; it runs `f`, which only reads memory it was given
    // (the copy-on-write snapshot) and writes files, then leaves with
    // `_exit`, which runs no Rust or libc cleanup.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(1);
            // SAFETY: `_exit` ends the process at once; nothing runs after it.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(pid),
    }
}

/// How a child ended: its exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    /// Whether the child succeeded (exit code 0).
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

/// Reaps `pid` if it has ended, without waiting.
///
/// # Errors
/// When `pid` is not a child of this process.
pub fn try_reap(pid: Pid) -> io::Result<Option<Exit>> {
    let mut status = 0;
    // SAFETY: waitpid writes only to `status`, a valid local.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ if libc::WIFSIGNALED(status) => Ok(Some(Exit::Signal(libc::WTERMSIG(status)))),
        _ => Ok(Some(Exit::Code(libc::WEXITSTATUS(status)))),
    }
}

/// Kills `pid` (SIGUSR1, as Redis kills its children) and reaps it.
pub fn kill(pid: Pid) {
    // SAFETY: kill and waitpid take plain integers and a valid local.
    unsafe {
        libc::kill(pid, libc::SIGUSR1);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_runs_and_is_reaped_with_its_exit_code() {
        let pid = fork_child(|| 7).expect("fork");
        let exit = loop {
            if let Some(e) = try_reap(pid).expect("our child") {
                break e;
            }
            std::thread::yield_now();
        };
        assert_eq!(exit, Exit::Code(7));
        assert!(!exit.success());
    }
}
