//! The local ClickHouse server of `up.start_clickhouse`: started only when none answers, and stopped at the
//! end only if `up` started it (a server that was already running belongs to someone else).

use super::config::UpConfig;
use anyhow::{bail, Context, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A server `up` started; dropping it does nothing, [`Server::stop`] stops it.
#[derive(Debug)]
pub(super) struct Server {
    script: PathBuf,
}

/// The native-protocol port of the server `scripts/clickhouse.sh` starts (its CLICKHOUSE_TCP_PORT).
pub(super) fn native_port() -> u16 {
    std::env::var("CLICKHOUSE_TCP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(19000)
}

/// Starts the server unless one already answers; `None` when there is nothing of ours to stop later.
pub(super) fn start(cfg: &UpConfig) -> Result<Option<Server>> {
    if !cfg.start_clickhouse {
        return Ok(None);
    }
    let script = cfg.clickhouse_script.clone();
    if !script.exists() {
        bail!("{} is missing: run from the repository root, or set up.start_clickhouse = false and point clickhouse.url at a server", script.display());
    }
    if script_status(&script, "status", true).is_ok_and(|s| s.success()) {
        eprintln!(
            "a ClickHouse server already answers: using it, and leaving it running when up stops"
        );
        return Ok(None);
    }
    run_script(&script, "start")
        .context("starting the local ClickHouse server (up.start_clickhouse)")?;
    Ok(Some(Server { script }))
}

impl Server {
    pub fn stop(self) {
        if let Err(e) = run_script(&self.script, "stop") {
            tracing::error!(error = %e, "stopping the ClickHouse server");
        }
    }
}

fn run_script(script: &Path, verb: &str) -> Result<()> {
    let status = script_status(script, verb, false)?;
    if !status.success() {
        bail!("{} {verb} failed ({status})", script.display());
    }
    Ok(())
}

/// Runs the script in a process group of its own: the server it launches must not get a terminal's Ctrl-C
/// (`up` stops it last, after the writer drained).
fn script_status(script: &Path, verb: &str, quiet: bool) -> Result<std::process::ExitStatus> {
    let mut cmd = Command::new("bash");
    cmd.arg(script).arg(verb).stdin(Stdio::null()).process_group(0);
    if quiet {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    cmd.status().with_context(|| format!("running {}", script.display()))
}
