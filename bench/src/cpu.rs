//! CPU time per tick of each process a bench runs: the neighbours of a shared machine disturb it far
//! less than they disturb latency.

use serde::{Deserialize, Serialize};
use tickring_ipc::liveness::cpu_time_ns;

/// One process's CPU over a measured window, per tick that went through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessCpu {
    pub process: String,
    pub pid: u32,
    /// User + system CPU over the window, ns.
    pub cpu_ns: u64,
    pub cpu_ns_per_tick: f64,
}

/// The CPU clocks of some processes at the start of a window.
#[derive(Debug)]
pub struct CpuMeter {
    start: Vec<(String, u32, u64)>,
}

impl CpuMeter {
    /// Starts the window for `processes` (name, pid); a pid that runs no process is left out.
    pub fn start(processes: &[(&str, u32)]) -> Self {
        let start = processes
            .iter()
            .filter_map(|(name, pid)| Some(((*name).to_owned(), *pid, cpu_time_ns(*pid)?)))
            .collect();
        Self { start }
    }

    /// Ends the window: each process's CPU since [`CpuMeter::start`], over `ticks`. A process gone since
    /// is left out (its time can no longer be read).
    pub fn per_tick(&self, ticks: u64) -> Vec<ProcessCpu> {
        self.start
            .iter()
            .filter_map(|(name, pid, before)| {
                let cpu_ns = cpu_time_ns(*pid)?.saturating_sub(*before);
                Some(ProcessCpu {
                    process: name.clone(),
                    pid: *pid,
                    cpu_ns,
                    cpu_ns_per_tick: cpu_ns as f64 / ticks.max(1) as f64,
                })
            })
            .collect()
    }
}

/// The table lines of [`CpuMeter::per_tick`]'s result.
pub fn cpu_table(rows: &[ProcessCpu]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let width = rows.iter().map(|r| r.process.len()).max().unwrap_or(7).max(7);
    let _ =
        writeln!(s, "{:<width$} {:>8} {:>12} {:>16}", "process", "pid", "cpu ms", "cpu ns / tick");
    for r in rows {
        let _ = writeln!(
            s,
            "{:<width$} {:>8} {:>12.1} {:>16.0}",
            r.process,
            r.pid,
            r.cpu_ns as f64 / 1e6,
            r.cpu_ns_per_tick
        );
    }
    let total: f64 = rows.iter().map(|r| r.cpu_ns_per_tick).sum();
    let _ = writeln!(s, "{:<width$} {:>8} {:>12} {:>16.0}", "all", "", "", total);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_process_shows_its_cpu_per_tick() {
        let meter = CpuMeter::start(&[("me", std::process::id()), ("nobody", 0)]);
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while t0.elapsed() < std::time::Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let rows = meter.per_tick(1_000);
        assert_eq!(rows.len(), 1, "a pid with no process is left out");
        assert_eq!(rows[0].process, "me");
        assert!(rows[0].cpu_ns > 0, "{rows:?}");
        assert!((rows[0].cpu_ns_per_tick - rows[0].cpu_ns as f64 / 1e3).abs() < 1e-6);
        assert!(cpu_table(&rows).contains("cpu ns / tick"));
    }
}
