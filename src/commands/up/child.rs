//! One process `tickring up` supervises: started in a process group of its own (a terminal's Ctrl-C reaches
//! `up` alone, which orders the shutdown) and bound to die with `up`; restarted with backoff.

use super::config::UpConfig;
use crate::commands::sink_clickhouse::EXIT_PERMANENT;
use anyhow::{Context, Result};
use rustix::process::{kill_process, Pid, Signal};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One supervised child process.
pub(super) struct Supervised {
    pub name: &'static str,
    args: Vec<String>,
    pub child: Option<Child>,
    started: Instant,
    backoff: Duration,
    pub restart_at: Option<Instant>,
    restarts: u32,
    /// Set when the child exited with [`EXIT_PERMANENT`]: restarting cannot help.
    pub gave_up: Option<ExitStatus>,
}

impl Supervised {
    pub fn new(name: &'static str, args: &[&str]) -> Self {
        Self {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
            started: Instant::now(),
            backoff: Duration::ZERO,
            restart_at: None,
            restarts: 0,
            gave_up: None,
        }
    }

    /// Starts the child in a process group of its own; it asks for SIGTERM when `up` dies (see
    /// `supervisor.rs`). Call from `up`'s main thread: the death signal follows the spawning thread.
    pub fn start(&mut self, exe: &Path, tuning: &Path) -> Result<()> {
        let child = Command::new(exe)
            .arg("--tuning")
            .arg(tuning)
            .args(&self.args)
            .stdin(Stdio::null())
            // `up` prints the addresses once, in its banner; children log to stderr.
            .stdout(Stdio::null())
            .process_group(0)
            .env(crate::commands::supervisor::SUPERVISOR_ENV, std::process::id().to_string())
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        tracing::info!(process = self.name, pid = child.id(), "started");
        self.child = Some(child);
        self.started = Instant::now();
        self.restart_at = None;
        Ok(())
    }

    /// Notices an exit and schedules the restart, unless the child said restarting cannot help.
    pub fn check(&mut self, cfg: &UpConfig) {
        let Some(child) = self.child.as_mut() else { return };
        let Ok(Some(status)) = child.try_wait() else { return };
        self.child = None;
        if status.code() == Some(EXIT_PERMANENT) {
            eprintln!(
                "{} exited with code {EXIT_PERMANENT} (a permanent error, see its line above): not restarting it; stopping the others",
                self.name
            );
            self.gave_up = Some(status);
            return;
        }
        if self.started.elapsed() > Duration::from_secs(60) {
            self.backoff = Duration::ZERO;
        }
        self.backoff = (self.backoff * 2)
            .max(Duration::from_millis(cfg.restart_backoff_min_ms))
            .min(Duration::from_millis(cfg.restart_backoff_max_ms));
        self.restarts += 1;
        tracing::warn!(process = self.name, %status, restart_in_ms = self.backoff.as_millis() as u64, restarts = self.restarts, "exited; restarting");
        self.restart_at = Some(Instant::now() + self.backoff);
    }

    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.as_ref().and_then(|c| Pid::from_raw(c.id() as i32)) {
            let _ = kill_process(pid, signal);
        }
    }

    /// Waits up to `timeout` for the child to exit on its own; then terminates it.
    pub fn wait_or_stop(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.child.as_mut().map(Child::try_wait) {
                None => return,
                Some(Ok(Some(status))) => {
                    tracing::info!(process = self.name, %status, "stopped");
                    self.child = None;
                    return;
                }
                Some(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        tracing::warn!(process = self.name, "did not stop in time; terminating");
        self.signal(Signal::TERM);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// Whatever path leaves `supervise` (an error included), no child is left running behind.
impl Drop for Supervised {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.signal(Signal::TERM);
            self.wait_or_stop(Duration::from_secs(5));
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
