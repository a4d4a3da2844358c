//! The one retry loop of the writer: every ClickHouse request goes through [`Retry::run`], which tells
//! permanent failures (stop with one clear error) from retriable ones (back off and try again, as long as
//! no stop is requested).

use crate::backoff::Backoff;
use crate::error::SinkError;
use crate::failure::FailureKind;
use crate::stats::WriterStats;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Retry {
    backoff: Backoff,
    shutdown: Arc<AtomicBool>,
}

/// What a failed attempt leads to.
#[derive(Debug)]
pub enum Next {
    /// Waited the backoff: try again.
    Again,
    /// A stop was requested while failing.
    Stopped,
}

impl Retry {
    pub fn new(min: Duration, max: Duration, shutdown: Arc<AtomicBool>) -> Self {
        Self { backoff: Backoff::new(min, max), shutdown }
    }

    pub fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// After a success: the next failure starts from the shortest delay again.
    pub fn succeeded(&mut self) {
        if self.backoff.failures() > 0 {
            tracing::info!(failures = self.backoff.failures(), "ClickHouse answers again");
        }
        self.backoff.reset();
    }

    /// Counts and logs a failure of `what`, then waits the backoff.
    ///
    /// # Errors
    /// [`SinkError::Permanent`] when retrying cannot help.
    pub fn failed(
        &mut self,
        what: &str,
        error: &clickhouse::error::Error,
        stats: &mut WriterStats,
    ) -> Result<Next, SinkError> {
        let kind = FailureKind::of(error);
        stats.failed(kind);
        if kind.is_permanent() {
            return Err(SinkError::Permanent {
                what: what.to_string(),
                kind,
                hint: kind.hint(),
                message: error.to_string(),
            });
        }
        let delay = self.backoff.next_delay();
        tracing::warn!(
            failure = %kind, attempt = self.backoff.failures(), retry_in_ms = delay.as_millis() as u64,
            "ClickHouse failed {what}: {} ({error}); retrying (the journal holds what is not stored yet)",
            kind.hint()
        );
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if self.stopping() {
                return Ok(Next::Stopped);
            }
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
        stats.retries += 1;
        Ok(Next::Again)
    }

    /// Runs `attempt` until it succeeds, a permanent error stops it, or a stop is requested (`Ok(None)`).
    ///
    /// # Errors
    /// [`SinkError::Permanent`].
    pub fn run<T>(
        &mut self,
        what: &str,
        stats: &mut WriterStats,
        mut attempt: impl FnMut() -> clickhouse::error::Result<T>,
    ) -> Result<Option<T>, SinkError> {
        loop {
            match attempt() {
                Ok(v) => {
                    self.succeeded();
                    return Ok(Some(v));
                }
                Err(e) => match self.failed(what, &e, stats)? {
                    Next::Again => {}
                    Next::Stopped => return Ok(None),
                },
            }
        }
    }
}
