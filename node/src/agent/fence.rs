//! The fencing lease: a master shard whose agent has not reached the manager
//! for its spec's `fence_after_ms` refuses writes unless a replica keeps up
//! with it (`CONFIG SET min-replicas-to-write 1`, `min-replicas-max-lag`
//! [`MAX_LAG_SECS`]). A master cut off from both the manager and its
//! replicas, which the manager has likely replaced, so stops taking writes
//! within `fence_after_ms` + [`MAX_LAG_SECS`]; a master that only lost the
//! manager keeps serving through its replica. Lifted once heartbeats have
//! gone through [`UNFENCE_AFTER`] times in a row and the manager's answer
//! lists the shard among this node's masters: a master it replaced stays
//! fenced until it is demoted.
//!
//! A restarted agent does not know what the one before it did: the shards
//! it adopts may be fenced, or their lease may have run out while no agent
//! watched. Until the manager is first reached, an adopted master counts as
//! out of contact (fenced at once), and every adopted shard's fence is
//! lifted by the same rule as one set here.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Agent;
use super::probe;
use super::spec::Role;

/// How often the lease is checked.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// `min-replicas-max-lag` while fenced, in seconds.
pub const MAX_LAG_SECS: u64 = 2;
/// Successful heartbeats in a row before a fence is lifted.
pub const UNFENCE_AFTER: u32 = 2;
/// The longest silence since the last accepted heartbeat (one a second)
/// that still counts as steady contact.
const STEADY_GAP: Duration = Duration::from_secs(3);

/// Contact with the manager, as the heartbeat loop records it.
#[derive(Debug, Clone)]
pub struct Contact {
    /// The last heartbeat the manager accepted (or the agent's start).
    pub last_ok: Instant,
    /// Accepted heartbeats since the last failure.
    pub streak: u32,
    /// The first heartbeat of the streak.
    pub streak_start: Instant,
    /// The shards the manager counted as masters on this node at the last
    /// accepted heartbeat.
    pub masters: Vec<u64>,
    /// Whether any heartbeat went through since the agent started.
    pub reached: bool,
}

impl Contact {
    /// A lease that starts now.
    pub fn new() -> Contact {
        Contact {
            last_ok: Instant::now(),
            streak: 0,
            streak_start: Instant::now(),
            masters: Vec::new(),
            reached: false,
        }
    }

    /// Records a heartbeat's outcome: the masters the manager answered
    /// with, or `None` when it was not reached.
    pub fn record(&mut self, masters: Option<Vec<u64>>) {
        if let Some(masters) = masters {
            self.masters = masters;
            self.reached = true;
            self.last_ok = Instant::now();
            if self.streak == 0 {
                self.streak_start = self.last_ok;
            }
            self.streak = self.streak.saturating_add(1);
        } else {
            self.streak = 0;
        }
    }

    /// How long heartbeats have gone through without a failure or a
    /// silence: zero while the manager is out of reach.
    pub fn steady_for(&self) -> Duration {
        if self.streak == 0 || self.last_ok.elapsed() > STEADY_GAP {
            Duration::ZERO
        } else {
            self.streak_start.elapsed()
        }
    }
}

impl Default for Contact {
    fn default() -> Contact {
        Contact::new()
    }
}

/// Applies and lifts fences until aborted.
pub async fn run(agent: Arc<Agent>) {
    // The shards resumed before this task starts are the adopted ones:
    // whether a previous agent fenced them is unknown until lifted.
    let mut unknown: HashSet<u64> = agent.shard_specs().iter().map(|s| s.uid).collect();
    let mut fenced: HashSet<u64> = HashSet::new();
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let contact = agent.contact();
        let specs = agent.shard_specs();
        fenced.retain(|uid| specs.iter().any(|s| s.uid == *uid));
        unknown.retain(|uid| specs.iter().any(|s| s.uid == *uid));
        for spec in specs {
            let addr = SocketAddr::new(agent.bind, spec.port);
            let set = |to_write: &str, lag: String| {
                vec![
                    vec!["CONFIG".into(), "SET".into(), "min-replicas-max-lag".into(), lag],
                    vec![
                        "CONFIG".into(),
                        "SET".into(),
                        "min-replicas-to-write".into(),
                        to_write.into(),
                    ],
                ]
            };
            let master = spec.role == Role::Master && spec.fence_after_ms > 0;
            let lease_over = contact.last_ok.elapsed() >= Duration::from_millis(spec.fence_after_ms)
                || (!contact.reached && unknown.contains(&spec.uid));
            if master && lease_over {
                // Every tick: a restarted shard comes back unfenced.
                let result = probe::call(addr, spec.password.as_deref(), &set("1", MAX_LAG_SECS.to_string())).await;
                match result {
                    Ok(_) if fenced.insert(spec.uid) => {
                        tracing::warn!(
                            shard = spec.uid,
                            "no contact with the manager: writes need a replica now"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(shard = spec.uid, "cannot fence: {e}"),
                }
            } else if (fenced.contains(&spec.uid) || unknown.contains(&spec.uid))
                // Demoted (or no longer fenced at all): lift it so that a
                // later promotion starts unfenced.
                && (!master || (contact.streak >= UNFENCE_AFTER && contact.masters.contains(&spec.uid)))
            {
                match probe::call(addr, spec.password.as_deref(), &set("0", "10".into())).await {
                    Ok(_) => {
                        unknown.remove(&spec.uid);
                        if fenced.remove(&spec.uid) {
                            tracing::info!(shard = spec.uid, "manager reachable again: fence lifted");
                        }
                    }
                    Err(e) => tracing::debug!(shard = spec.uid, "cannot lift the fence: {e}"),
                }
            }
        }
    }
}
