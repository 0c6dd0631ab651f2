//! The process's own figures — resident memory, CPU time and load, threads — read from `/proc/self`, as Flink
//! reports its JVM's (`Status.JVM.CPU.Load`, `Status.JVM.Threads.Count`, …). Elsewhere than Linux they read 0.

use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::proc_kb;

/// The process's figures at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct ProcessStats {
    /// Resident memory, bytes (`Status.ProcessTree.Memory.RSS`).
    pub rss: u64,
    /// Virtual memory, bytes.
    pub virtual_memory: u64,
    /// CPU time used since the process started, ms (`Status.JVM.CPU.Time`, which Flink gives in ns).
    pub cpu_time_ms: u64,
    /// Share of the machine's CPUs used since the previous reading, 0 to 1 (`Status.JVM.CPU.Load`).
    pub cpu_load: f64,
    /// Threads (`Status.JVM.Threads.Count`).
    pub threads: u64,
}

/// The reader of this process, shared by whoever reports its figures (heartbeats, REST, Prometheus): the CPU load
/// is over the time since any of them last read.
pub fn this_process() -> &'static ProcessReader {
    static READER: std::sync::LazyLock<ProcessReader> = std::sync::LazyLock::new(ProcessReader::default);
    &READER
}

/// Reads the process's figures; the CPU load is measured between successive calls of one reader.
#[derive(Debug, Default)]
pub struct ProcessReader {
    /// When the CPU time was last read, and what it was (ms).
    last: Mutex<Option<(Instant, u64)>>,
}

impl ProcessReader {
    /// Reads the figures now.
    pub fn read(&self) -> ProcessStats {
        let cpu_time_ms = cpu_time_ms();
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let cpu_load = match *last {
            Some((at, before)) if now > at => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
                let wall_ms = now.duration_since(at).as_secs_f64() * 1000.0;
                (cpu_time_ms.saturating_sub(before) as f64 / wall_ms / cores).clamp(0.0, 1.0)
            }
            _ => 0.0,
        };
        *last = Some((now, cpu_time_ms));
        ProcessStats {
            rss: proc_kb("/proc/self/status", "VmRSS:"),
            virtual_memory: proc_kb("/proc/self/status", "VmSize:"),
            cpu_time_ms,
            cpu_load,
            threads: proc_count("Threads:"),
        }
    }
}

/// A plain count of `/proc/self/status`, e.g. `Threads:` (0 if missing).
fn proc_count(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with(key)).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// User and system CPU time of this process, ms (fields 14 and 15 of `/proc/self/stat`, in clock ticks).
fn cpu_time_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    // The command name (field 2) may hold spaces; the fields after it follow its closing parenthesis.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * 1000 / per_second
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On Linux the process has memory, threads and a load between 0 and 1.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_process_reads_its_own_figures() {
        let reader = ProcessReader::default();
        let first = reader.read();
        let mut spin = 0u64;
        for i in 0..5_000_000u64 {
            spin = spin.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(spin);
        let second = reader.read();
        assert!(first.rss > 0 && first.threads >= 1, "{first:?}");
        assert!(second.cpu_time_ms >= first.cpu_time_ms);
        assert!((0.0..=1.0).contains(&second.cpu_load), "{second:?}");
    }
}
