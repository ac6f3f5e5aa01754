//! FAILOVER: a coordinated switch of roles between this master and one of
//! its replicas, as Redis 7.0 does it. Writes are paused; once the target
//! replica has acknowledged our whole stream (or at the timeout, with
//! FORCE) we become its replica and send `PSYNC <replid> <offset> FAILOVER`,
//! which makes it promote itself and continue our history; when it answers,
//! writes resume (they now fail with `-READONLY`, and go to the new master).

use std::time::{Duration, Instant};

use super::ReplicaState;
use crate::server::{PauseMode, Server};

/// Where a failover is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for the target to acknowledge our offset.
    WaitingForSync,
    /// We are connecting to the target as its replica.
    InProgress,
}

/// A failover in progress.
#[derive(Debug, Clone)]
pub struct Failover {
    /// The stage.
    pub stage: Stage,
    /// The target replica (`None`: the first one to catch up).
    pub target: Option<(String, u16)>,
    /// When it gives up (or, with FORCE, proceeds anyway).
    pub deadline: Option<Instant>,
    /// FORCE.
    pub force: bool,
}

/// INFO `master_failover_state`.
pub fn state_name(server: &Server) -> &'static str {
    match server.repl.failover.as_ref().map(|f| f.stage) {
        None => "no-failover",
        Some(Stage::WaitingForSync) => "waiting-for-sync",
        Some(Stage::InProgress) => "failover-in-progress",
    }
}

/// Starts a failover (arguments checked as Redis's `failoverCommand`).
///
/// # Errors
/// The error line for the client.
pub fn start(
    server: &mut Server,
    target: Option<(String, u16)>,
    timeout_ms: Option<u64>,
    force: bool,
) -> Result<(), String> {
    if server.repl.is_replica() {
        return Err("ERR FAILOVER is not valid when server is a replica.".into());
    }
    if server.repl.replicas.is_empty() {
        return Err("ERR FAILOVER requires connected replicas.".into());
    }
    if server.repl.failover.is_some() {
        return Err("ERR FAILOVER already in progress.".into());
    }
    if force && (timeout_ms.is_none() || target.is_none()) {
        return Err("ERR FAILOVER with force option requires both a timeout and target HOST and PORT.".into());
    }
    if let Some((host, port)) = &target {
        let replica = server
            .repl
            .replicas
            .values()
            .find(|r| r.port == *port && r.ip.to_string().eq_ignore_ascii_case(host));
        match replica {
            None => return Err("ERR FAILOVER target HOST and PORT is not a replica.".into()),
            Some(r) if r.state != ReplicaState::Online => {
                return Err("ERR FAILOVER target replica is not online.".into());
            }
            Some(_) => {}
        }
    }
    let deadline = timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    tracing::info!("FAILOVER requested to {target:?}.");
    server.repl.failover = Some(Failover {
        stage: Stage::WaitingForSync,
        target,
        deadline,
        force,
    });
    // Writes stop, so that the target can catch up with all of them.
    let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
    server.pause_clients(PauseMode::Write, until);
    super::master::request_acks(server);
    Ok(())
}

/// FAILOVER ABORT.
///
/// # Errors
/// When no failover is in progress.
pub fn abort(server: &mut Server, why: &str) -> Result<(), String> {
    let Some(f) = server.repl.failover.take() else {
        return Err("ERR No failover in progress.".into());
    };
    tracing::info!("FAILOVER aborted: {why}");
    if f.stage == Stage::InProgress {
        super::set_no_master(server);
    }
    server.unpause_clients();
    Ok(())
}

/// Moves a failover on (called by the replication cron and on ACKs).
pub fn progress(server: &mut Server) {
    let Some(f) = server.repl.failover.clone() else {
        return;
    };
    let timed_out = f.deadline.is_some_and(|d| Instant::now() >= d);
    match f.stage {
        Stage::WaitingForSync => {
            let offset = server.repl.offset;
            let caught_up = server.repl.replicas.values().find(|r| {
                r.state == ReplicaState::Online
                    && r.ack_offset >= offset
                    && f.target
                        .as_ref()
                        .is_none_or(|(h, p)| r.port == *p && r.ip.to_string().eq_ignore_ascii_case(h))
            });
            let target = match (caught_up, &f.target) {
                (Some(r), _) => Some((r.ip.to_string(), r.port)),
                (None, Some(t)) if timed_out && f.force => Some(t.clone()),
                _ => None,
            };
            match target {
                Some((host, port)) => {
                    tracing::info!("Failover target {host}:{port} is synced, failing over.");
                    server.repl.failover = Some(Failover {
                        stage: Stage::InProgress,
                        target: Some((host.clone(), port)),
                        ..f
                    });
                    super::set_master(server, host, port);
                }
                None if timed_out => {
                    let _ = abort(server, "Replica never caught up before timeout");
                }
                None => {}
            }
        }
        Stage::InProgress if timed_out => {
            let _ = abort(server, "Failover target never answered PSYNC before timeout");
        }
        Stage::InProgress => {}
    }
}

/// Our PSYNC to the target was answered: the failover is complete.
pub fn done(server: &mut Server) {
    if server.repl.failover.take().is_some() {
        tracing::info!("Failover target accepted the PSYNC request, failover complete.");
        server.unpause_clients();
    }
}

/// Whether the PSYNC we send now carries FAILOVER.
pub fn in_progress(server: &Server) -> bool {
    server
        .repl
        .failover
        .as_ref()
        .is_some_and(|f| f.stage == Stage::InProgress)
}
