//! `tickring up`: the whole product on one machine. Starts a local ClickHouse server (unless the tuning
//! names another), the ingest process, and both sinks as separate processes; restarts a crashed one with
//! backoff (sinks resume from their cursors); Ctrl-C stops everything in order without losing a tick that
//! was published: ingest first (the ring closes), then the ClickHouse writer drains and exits, then the
//! websocket pusher, then the server.

use super::stop_flag::on_interrupt;
use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use rustix::process::{kill_process, Pid, Signal};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::RingStatus;

#[derive(Debug, clap::Args)]
pub struct UpArgs {}

/// The `[up]` table of `tuning.toml`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Start (and at the end stop) the local server with `clickhouse_script`.
    pub start_clickhouse: bool,
    pub clickhouse_script: PathBuf,
    /// Restart delay of a crashed process: doubles from min to max; reset after a minute of running.
    pub restart_backoff_min_ms: u64,
    pub restart_backoff_max_ms: u64,
    /// How long the ClickHouse writer may take to flush after the ring closed, before it is stopped.
    pub drain_timeout_ms: u64,
}

impl Default for UpConfig {
    fn default() -> Self {
        Self {
            start_clickhouse: true,
            clickhouse_script: PathBuf::from("scripts/clickhouse.sh"),
            restart_backoff_min_ms: 500,
            restart_backoff_max_ms: 30_000,
            drain_timeout_ms: 60_000,
        }
    }
}

/// One supervised child process.
struct Supervised {
    name: &'static str,
    args: Vec<String>,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    restart_at: Option<Instant>,
    restarts: u32,
}

impl Supervised {
    fn new(name: &'static str, args: &[&str]) -> Self {
        Self {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
            started: Instant::now(),
            backoff: Duration::ZERO,
            restart_at: None,
            restarts: 0,
        }
    }

    fn start(&mut self, exe: &Path, tuning: &Path) -> Result<()> {
        // Its own process group: a Ctrl-C at the terminal reaches `up` alone, which stops the children in
        // order (ingest first, then the sinks drain); and it dies with `up` (see `supervisor.rs`).
        let child = Command::new(exe)
            .arg("--tuning")
            .arg(tuning)
            .args(&self.args)
            .process_group(0)
            .env(super::supervisor::SUPERVISOR_ENV, std::process::id().to_string())
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        tracing::info!(process = self.name, pid = child.id(), "started");
        self.child = Some(child);
        self.started = Instant::now();
        self.restart_at = None;
        Ok(())
    }

    /// Notices an exit and schedules the restart.
    fn check(&mut self, cfg: &UpConfig) {
        let Some(child) = self.child.as_mut() else { return };
        let Ok(Some(status)) = child.try_wait() else { return };
        self.child = None;
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

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.as_ref().and_then(|c| Pid::from_raw(c.id() as i32)) {
            let _ = kill_process(pid, signal);
        }
    }

    /// Waits up to `timeout` for the child to exit on its own; then terminates it.
    fn wait_or_stop(&mut self, timeout: Duration) {
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

pub fn run(tuning_path: &Path, _args: UpArgs) -> Result<()> {
    let tuning = Tuning::load(tuning_path)?;
    let cfg = tuning.up.clone();
    let stop = on_interrupt()?;
    check_port_free(&tuning.websocket.listen, "websocket.listen")?;
    let exe = std::env::current_exe().context("finding the tickring executable")?;
    // Only a server this run started is stopped at the end: one already answering is someone else's.
    let clickhouse = if cfg.start_clickhouse { start_clickhouse(&cfg)? } else { None };
    let result = supervise(&exe, tuning_path, &tuning, &cfg, &stop);
    if let Some(script) = clickhouse {
        if let Err(e) = run_script(&script, "stop") {
            tracing::error!(error = %e, "stopping the ClickHouse server");
        }
    }
    result
}

fn supervise(
    exe: &Path,
    tuning_path: &Path,
    tuning: &Tuning,
    cfg: &UpConfig,
    stop: &AtomicBool,
) -> Result<()> {
    let mut ingest = Supervised::new("ingest", &["ingest", "--quiet", "--hold"]);
    let mut writer = Supervised::new("sink-clickhouse", &["sink", "clickhouse"]);
    let mut pusher = Supervised::new("sink-websocket", &["sink", "websocket"]);
    ingest.start(exe, tuning_path)?;
    wait_for_ring(tuning, &mut ingest)?;
    writer.start(exe, tuning_path)?;
    pusher.start(exe, tuning_path)?;
    print_banner(tuning);
    while !stop.load(Ordering::Relaxed) {
        for p in [&mut ingest, &mut writer, &mut pusher] {
            p.check(cfg);
            if p.restart_at.is_some_and(|t| Instant::now() >= t) {
                p.start(exe, tuning_path)?;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("stopping: ingest first, then the sinks drain what was published");
    ingest.signal(Signal::INT);
    ingest.wait_or_stop(Duration::from_secs(30));
    writer.wait_or_stop(Duration::from_millis(cfg.drain_timeout_ms));
    pusher.signal(Signal::TERM);
    pusher.wait_or_stop(Duration::from_secs(10));
    Ok(())
}

fn wait_for_ring(tuning: &Tuning, ingest: &mut Supervised) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = ingest.child.as_ref().map(Child::id);
    while Instant::now() < deadline {
        // The ring is ready once its segment names our ingest process as producer (an old segment may
        // still be there from an earlier run).
        if let Ok(status) = RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring) {
            if Some(status.producer_pid) == pid {
                return Ok(());
            }
        }
        if let Some(Ok(Some(status))) = ingest.child.as_mut().map(Child::try_wait) {
            bail!("ingest exited before creating the ring ({status}); see its error above");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("ingest did not create ring {} within 30 s", tuning.ring.segment_path().display())
}

fn check_port_free(addr: &str, key: &str) -> Result<()> {
    std::net::TcpListener::bind(addr).map(drop).with_context(|| {
        format!("{addr} is already taken: stop what listens there or change {key} in tuning.toml")
    })
}

/// Starts the local server unless one already answers; the script to stop it with if this run started it.
fn start_clickhouse(cfg: &UpConfig) -> Result<Option<PathBuf>> {
    let script = cfg.clickhouse_script.clone();
    if !script.exists() {
        bail!("{} is missing: run from the repository root, or set up.start_clickhouse = false and point clickhouse.url at a server", script.display());
    }
    if run_script_quiet(&script, "status") {
        tracing::info!("a ClickHouse server is already running; it is left running at the end");
        return Ok(None);
    }
    run_script(&script, "start")
        .context("starting the local ClickHouse server (up.start_clickhouse)")?;
    Ok(Some(script))
}

fn run_script_quiet(script: &Path, verb: &str) -> bool {
    Command::new("bash")
        .arg(script)
        .arg(verb)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_script(script: &Path, verb: &str) -> Result<()> {
    let status = Command::new("bash")
        .arg(script)
        .arg(verb)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} {verb} failed ({status})", script.display());
    }
    Ok(())
}

fn print_banner(tuning: &Tuning) {
    let ws = &tuning.websocket.listen;
    eprintln!(
        "\ntickring is up\n  chart page      http://{ws}/\n  websocket       ws://{ws}/ws\n  ring status     tickring status\n  ClickHouse      HTTP {} (native port 19000 for clickhouse-client)\n  example query   clickhouse-client --port 19000 --query 'SELECT symbol, price, ts FROM tickring.latest_price FINAL ORDER BY symbol'\n  Ctrl-C stops everything in order\n",
        tuning.clickhouse.url
    );
}
