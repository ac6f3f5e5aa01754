//! The latency monitor (LATENCY LATEST/HISTORY/RESET/DOCTOR/GRAPH): for each
//! event ("command", "fast-command"), the samples at or above
//! `latency-monitor-threshold` milliseconds, one per second (the worst of
//! that second), the last 160 of them, and the all-time maximum, as Redis's
//! latency.c keeps them.

use std::collections::BTreeMap;

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
const HISTORY_LEN: usize = 160;

/// One sample: the worst latency seen during one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Unix time, seconds.
    pub time: i64,
    /// Milliseconds.
    pub latency: u64,
}

/// The samples of one event.
#[derive(Debug, Default)]
pub struct Series {
    samples: std::collections::VecDeque<Sample>,
    /// All-time maximum, milliseconds.
    pub max: u64,
}

impl Series {
    /// Samples, oldest first.
    pub fn samples(&self) -> impl ExactSizeIterator<Item = &Sample> {
        self.samples.iter()
    }

    /// The newest sample.
    pub fn latest(&self) -> Option<&Sample> {
        self.samples.back()
    }
}

/// Every event's samples.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    events: BTreeMap<&'static str, Series>,
}

impl LatencyMonitor {
    /// Records the latency of a command when the monitor is on
    /// (`threshold_ms > 0`) and it reached the threshold.
    pub fn record_command(&mut self, fast: bool, latency_ms: u64, threshold_ms: u64) {
        if threshold_ms > 0 && latency_ms >= threshold_ms {
            let event = if fast { "fast-command" } else { "command" };
            self.add(event, latency_ms, crate::server::unix_ms() / 1000);
        }
    }

    /// Adds a sample at `now` (Unix seconds): within the same second only the
    /// worst one is kept.
    pub fn add(&mut self, event: &'static str, latency: u64, now: i64) {
        let series = self.events.entry(event).or_default();
        series.max = series.max.max(latency);
        if let Some(last) = series.samples.back_mut()
            && last.time == now
        {
            last.latency = last.latency.max(latency);
            return;
        }
        if series.samples.len() == HISTORY_LEN {
            series.samples.pop_front();
        }
        series.samples.push_back(Sample { time: now, latency });
    }

    /// Every event with samples.
    pub fn events(&self) -> impl ExactSizeIterator<Item = (&'static str, &Series)> {
        self.events.iter().map(|(k, v)| (*k, v))
    }

    /// One event's samples.
    pub fn event(&self, name: &[u8]) -> Option<&Series> {
        self.events.iter().find(|(k, _)| k.as_bytes() == name).map(|(_, v)| v)
    }

    /// Forgets the named events (all when `names` is empty); returns how
    /// many had samples.
    pub fn reset(&mut self, names: &[&[u8]]) -> usize {
        if names.is_empty() {
            let n = self.events.len();
            self.events.clear();
            return n;
        }
        let before = self.events.len();
        self.events.retain(|k, _| !names.contains(&k.as_bytes()));
        before - self.events.len()
    }

    /// The LATENCY DOCTOR report. Redis's wording for the disabled and the
    /// quiet cases; with samples, a per-event summary (Redis adds advice
    /// derived from its internals, which does not apply here).
    pub fn doctor(&self, threshold_ms: u64) -> String {
        if self.events.is_empty() && threshold_ms == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
        }
        if self.events.is_empty() {
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n".into();
        }
        let mut report = String::from(
            "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
        );
        for (i, (name, s)) in self.events.iter().enumerate() {
            let n = s.samples.len().max(1) as u64;
            let avg = s.samples.iter().map(|x| x.latency).sum::<u64>() / n;
            let first = s.samples.front().map_or(0, |x| x.time);
            let period = (crate::server::unix_ms() / 1000 - first).max(1);
            report.push_str(&format!(
                "{}. {name}: {} latency spikes (average {avg}ms, mean deviation 0ms, period {} sec). Worst all time event {}ms.\n",
                i + 1,
                s.samples.len(),
                period / n as i64,
                s.max
            ));
        }
        report.push_str("\nI have a few advices for you:\n\n- Check your system for slow commands with SLOWLOG GET, and consider CONFIG SET latency-monitor-threshold to a higher value if the spikes are expected.\n");
        report
    }
}

/// The LATENCY GRAPH text for one event: a header and one column per
/// sample, scaled between the lowest and highest sample (a simpler
/// drawing than Redis's sparkline, with the same header).
pub fn graph(name: &str, series: &Series, now: i64) -> String {
    let high = series.samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let low = series.samples.iter().map(|s| s.latency).min().unwrap_or(0);
    let mut out = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        series.max,
        "-".repeat(80)
    );
    const ROWS: u64 = 4;
    for row in (0..ROWS).rev() {
        for s in &series.samples {
            let level = if high == low {
                ROWS - 1
            } else {
                (s.latency - low) * (ROWS - 1) / (high - low)
            };
            out.push(if level == row {
                '#'
            } else if level > row {
                '|'
            } else {
                ' '
            });
        }
        out.push('\n');
    }
    for s in &series.samples {
        let age = (now - s.time).max(0);
        let label = if age < 60 {
            "s"
        } else if age < 3600 {
            "m"
        } else {
            "h"
        };
        out.push_str(label);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_worst_kept() {
        let mut m = LatencyMonitor::default();
        m.add("command", 5, 100);
        m.add("command", 9, 100);
        m.add("command", 3, 100);
        m.add("command", 2, 101);
        let s = m.event(b"command").expect("event exists");
        let samples: Vec<Sample> = s.samples().copied().collect();
        assert_eq!(
            samples,
            vec![Sample { time: 100, latency: 9 }, Sample { time: 101, latency: 2 }]
        );
        assert_eq!(s.max, 9);
        assert_eq!(s.latest().map(|x| x.latency), Some(2));
    }

    #[test]
    fn history_is_bounded_and_reset_counts() {
        let mut m = LatencyMonitor::default();
        for t in 0..200 {
            m.add("command", 1, t);
        }
        m.add("fast-command", 1, 0);
        assert_eq!(m.event(b"command").map(|s| s.samples().len()), Some(HISTORY_LEN));
        assert_eq!(m.reset(&[b"command", b"nosuch"]), 1);
        assert_eq!(m.reset(&[]), 1);
        assert_eq!(m.events().len(), 0);
    }

    #[test]
    fn threshold_gates_commands() {
        let mut m = LatencyMonitor::default();
        m.record_command(false, 100, 0);
        m.record_command(false, 5, 10);
        assert_eq!(m.events().len(), 0);
        m.record_command(true, 10, 10);
        assert!(m.event(b"fast-command").is_some());
    }
}
