//! The host's capacity and load: cores, memory, CPU use and free disk,
//! read from `/proc` and `statvfs`.

use std::path::Path;

/// One sample of the host's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostStats {
    pub cores: u64,
    pub total_memory: u64,
    pub used_memory: u64,
    pub free_disk: u64,
    /// Busy share of all cores since the previous sample, 0–100.
    pub cpu_percent: f64,
}

/// Samples the host; CPU use is measured between consecutive samples.
#[derive(Debug, Default)]
pub struct Sampler {
    /// (busy, total) jiffies of the previous sample.
    prev_cpu: Option<(u64, u64)>,
}

impl Sampler {
    /// Takes a sample; figures that cannot be read are 0.
    pub fn sample(&mut self, data_dir: &Path) -> HostStats {
        let (total_memory, available) = std::fs::read_to_string("/proc/meminfo")
            .map(|t| meminfo(&t))
            .unwrap_or_default();
        let cpu_now = std::fs::read_to_string("/proc/stat").ok().and_then(|t| cpu_jiffies(&t));
        let cpu_percent = match (self.prev_cpu, cpu_now) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => 100.0 * b1.saturating_sub(b0) as f64 / (t1 - t0) as f64,
            _ => 0.0,
        };
        if cpu_now.is_some() {
            self.prev_cpu = cpu_now;
        }
        HostStats {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            total_memory,
            used_memory: total_memory.saturating_sub(available),
            free_disk: free_disk(data_dir),
            cpu_percent,
        }
    }
}

/// Bytes available to unprivileged users on the file system holding `path`.
fn free_disk(path: &Path) -> u64 {
    nix::sys::statvfs::statvfs(path).map_or(0, |s| {
        #[allow(clippy::useless_conversion)] // the field widths differ between platforms
        let (blocks, size) = (u64::from(s.blocks_available()), u64::from(s.fragment_size()));
        blocks.saturating_mul(size)
    })
}

/// `MemTotal` and `MemAvailable` of `/proc/meminfo`, in bytes.
fn meminfo(text: &str) -> (u64, u64) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("MemTotal"), field("MemAvailable"))
}

/// (busy, total) jiffies of the `cpu` line of `/proc/stat`; idle and iowait
/// count as not busy.
fn cpu_jiffies(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(
            meminfo("MemTotal:       16000 kB\nMemFree:  1 kB\nMemAvailable:    4000 kB\n"),
            (16000 * 1024, 4000 * 1024)
        );
        assert_eq!(
            cpu_jiffies("cpu  10 0 10 70 10 0 0 0 0 0\ncpu0 1 1 1 1\n"),
            Some((20, 100))
        );
    }

    #[test]
    fn samples_this_host() {
        let mut s = Sampler::default();
        let a = s.sample(Path::new("/"));
        assert!(a.total_memory > 0 && a.used_memory <= a.total_memory);
        assert!(a.cores >= 1 && a.free_disk > 0);
        let b = s.sample(Path::new("/"));
        assert!((0.0..=100.0).contains(&b.cpu_percent));
    }
}
