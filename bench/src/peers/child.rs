//! The other process of a cross-process peer: started through the [`ChildLauncher`], driven line by line
//! over its standard input (`start`, then end of input = "everything arrived"), killed if the parent leaves
//! early (error or panic) so no producer spins forever.

use crate::ring_scenario::ChildLauncher;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Stdio};

#[derive(Debug)]
pub struct ChildProcess {
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
}

impl ChildProcess {
    /// Starts `tickring bench __child PEER SPEC`; with `report_ready` its standard output is read by
    /// [`ChildProcess::wait_ready`].
    ///
    /// # Errors
    /// The process could not be started.
    pub fn spawn(
        launcher: &ChildLauncher,
        peer: &str,
        spec: &str,
        report_ready: bool,
    ) -> Result<Self> {
        let mut command = launcher.command(peer, spec);
        command.stdin(Stdio::piped());
        if report_ready {
            command.stdout(Stdio::piped());
        }
        let mut child = command.spawn().with_context(|| {
            format!("starting the {peer} child process {}", launcher.program.display())
        })?;
        let stdout = child.stdout.take().map(BufReader::new);
        Ok(Self { child: Some(child), stdout })
    }

    /// Waits for the child's `ready` line.
    ///
    /// # Errors
    /// It said something else or exited.
    pub fn wait_ready(&mut self) -> Result<()> {
        let mut line = String::new();
        let out = self.stdout.as_mut().context("the child's output is not captured")?;
        out.read_line(&mut line).context("waiting for the child to be ready")?;
        if line.trim_end() != "ready" {
            bail!("the child process did not start (said {line:?})");
        }
        Ok(())
    }

    /// Tells the child to start sending (one line on its standard input).
    ///
    /// # Errors
    /// The pipe is gone.
    pub fn start(&mut self) -> Result<()> {
        let stdin =
            self.child.as_mut().and_then(|c| c.stdin.as_mut()).context("the child has no stdin")?;
        stdin.write_all(b"start\n").and_then(|()| stdin.flush()).context("starting the child")
    }

    /// Whether the child has exited (successfully).
    ///
    /// # Errors
    /// It exited with a failure.
    pub fn exited(&mut self) -> Result<bool> {
        let Some(child) = self.child.as_mut() else { return Ok(true) };
        match child.try_wait().context("polling the child")? {
            None => Ok(false),
            Some(status) if status.success() => Ok(true),
            Some(status) => bail!("the child process failed: {status}"),
        }
    }

    /// Tells the child everything arrived (closes its standard input) and waits for it to exit.
    ///
    /// # Errors
    /// It exited with a failure.
    pub fn wait(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        drop(child.stdin.take());
        let status = child.wait().context("waiting for the child process")?;
        if !status.success() {
            bail!("the child process failed: {status}");
        }
        Ok(())
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
