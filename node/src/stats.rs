//! Server statistics: the counters behind INFO's stats, commandstats and
//! errorstats sections, and the instantaneous rates the cron samples.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Per-command counters (INFO commandstats).
#[derive(Debug, Default, Clone)]
pub struct CommandStats {
    /// Calls.
    pub calls: u64,
    /// Total microseconds spent.
    pub usec: u64,
    /// Calls rejected before running (arity, auth, OOM…).
    pub rejected_calls: u64,
    /// Calls that ran and returned an error.
    pub failed_calls: u64,
}

/// A rate sampled over the last samples (Redis's `instantaneous_*`).
#[derive(Debug, Default)]
pub struct Rate {
    samples: VecDeque<f64>,
    last_value: u64,
    last_ms: i64,
}

impl Rate {
    const SAMPLES: usize = 16;

    /// Records the counter's `value` at `now_ms`.
    pub fn sample(&mut self, value: u64, now_ms: i64) {
        if self.last_ms > 0 && now_ms > self.last_ms {
            let per_sec = (value.saturating_sub(self.last_value)) as f64 * 1000.0 / (now_ms - self.last_ms) as f64;
            if self.samples.len() == Self::SAMPLES {
                self.samples.pop_front();
            }
            self.samples.push_back(per_sec);
        }
        self.last_value = value;
        self.last_ms = now_ms;
    }

    /// Mean of the samples, per second.
    pub fn per_sec(&self) -> f64 {
        if self.samples.is_empty() {
            0.0
        } else {
            self.samples.iter().sum::<f64>() / self.samples.len() as f64
        }
    }
}

/// All server counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: u64,
    /// Connections refused by `maxclients`.
    pub rejected_connections: u64,
    /// Commands run.
    pub total_commands_processed: u64,
    /// Bytes read from clients.
    pub net_input_bytes: u64,
    /// Bytes written to clients.
    pub net_output_bytes: u64,
    /// Keys removed because they expired.
    pub expired_keys: u64,
    /// Keys evicted by maxmemory.
    pub evicted_keys: u64,
    /// Lookups that found the key.
    pub keyspace_hits: u64,
    /// Lookups that did not.
    pub keyspace_misses: u64,
    /// Error replies, by error code (INFO errorstats).
    pub errors: BTreeMap<String, u64>,
    /// Total error replies.
    pub total_error_replies: u64,
    /// Per command.
    pub commands: BTreeMap<&'static str, CommandStats>,
    /// Commands per second.
    pub ops_rate: Rate,
    /// Input bytes per second.
    pub input_rate: Rate,
    /// Output bytes per second.
    pub output_rate: Rate,
}

impl Stats {
    /// Counts one executed command.
    pub fn record_call(&mut self, name: &'static str, took: Duration, failed: bool) {
        self.total_commands_processed += 1;
        let s = self.commands.entry(name).or_default();
        s.calls += 1;
        s.usec += took.as_micros() as u64;
        if failed {
            s.failed_calls += 1;
        }
    }

    /// Counts a command rejected before it ran.
    pub fn record_rejected(&mut self, name: &'static str) {
        self.commands.entry(name).or_default().rejected_calls += 1;
    }

    /// Counts an error reply by its code (the first word).
    pub fn record_error(&mut self, line: &str) {
        self.total_error_replies += 1;
        let code = line.split(' ').next().unwrap_or("ERR");
        // Bound the table as Redis does, against clients inventing codes.
        if self.errors.len() < 128 || self.errors.contains_key(code) {
            *self.errors.entry(code.to_string()).or_default() += 1;
        }
    }

    /// Resets what CONFIG RESETSTAT resets.
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}
