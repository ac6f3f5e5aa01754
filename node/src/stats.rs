//! Server statistics: the counters behind INFO's stats, commandstats and
//! errorstats sections, and the instantaneous rates the cron samples.

use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// Distribution of the calls' durations (LATENCY HISTOGRAM, INFO
    /// latencystats).
    pub latency: Histogram,
}

/// Number of [`Histogram`] buckets: up to about 2^39 µs (6 days).
const BUCKETS: usize = 40;

/// A latency histogram with power-of-two buckets: bucket k counts durations
/// of at most 1.024·2^k µs, the steps in which Redis reports its HDR
/// histograms (LATENCY HISTOGRAM); percentiles are bucket upper bounds.
#[derive(Debug, Clone)]
pub struct Histogram {
    buckets: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: [0; BUCKETS] }
    }
}

impl Histogram {
    /// Records one duration.
    pub fn record(&mut self, took: Duration) {
        let units = (took.as_nanos() as u64).div_ceil(1024).max(1);
        let k = (u64::BITS - (units - 1).leading_zeros()) as usize;
        self.buckets[k.min(BUCKETS - 1)] += 1;
    }

    /// Number of recorded durations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Upper bound of bucket `k`, microseconds.
    fn upper_usec(k: usize) -> f64 {
        (1024u64 << k) as f64 / 1000.0
    }

    /// The duration (µs) below which `p` percent of the calls fall.
    pub fn percentile(&self, p: f64) -> f64 {
        let target = ((p / 100.0) * self.count() as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (k, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::upper_usec(k);
            }
        }
        Self::upper_usec(BUCKETS - 1)
    }

    /// (bucket upper bound in whole µs, calls up to it) for each bucket that
    /// holds calls, as LATENCY HISTOGRAM lists them.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut seen = 0;
        let mut out = Vec::new();
        for (k, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if n > 0 {
                out.push(((1024u64 << k) / 1000, seen));
            }
        }
        out
    }
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
    /// Socket reads that returned data.
    pub reads_processed: u64,
    /// Socket writes.
    pub writes_processed: u64,
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
    /// Per command (by full name, `client|list`); [`Stats::commands_sorted`]
    /// for output.
    pub commands: HashMap<&'static str, CommandStats, foldhash::fast::RandomState>,
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
        s.latency.record(took);
        if failed {
            s.failed_calls += 1;
        }
    }

    /// The per-command statistics by name, for INFO and LATENCY HISTOGRAM.
    pub fn commands_sorted(&self) -> Vec<(&'static str, &CommandStats)> {
        let mut all: Vec<_> = self.commands.iter().map(|(n, s)| (*n, s)).collect();
        all.sort_unstable_by_key(|(n, _)| *n);
        all
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_and_percentiles() {
        let mut h = Histogram::default();
        for us in [1, 1, 3, 10, 1000] {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 5);
        // 1 µs fits the first bucket (<= 1.024 µs); 3 µs the third (<= 4.096).
        assert_eq!(h.cumulative(), vec![(1, 2), (4, 3), (16, 4), (1048, 5)]);
        assert_eq!(h.percentile(50.0), 4.096);
        assert_eq!(h.percentile(100.0), 1048.576);
    }
}
