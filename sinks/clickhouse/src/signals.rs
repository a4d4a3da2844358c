//! SIGINT and SIGTERM set the writer's stop flag: it flushes what it read and returns.

use crate::error::SinkError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Spawns, on `rt`, a task that sets `flag` on the first SIGINT or SIGTERM.
///
/// # Errors
/// The handlers cannot be installed.
pub fn stop_on_signals(
    rt: &tokio::runtime::Runtime,
    flag: Arc<AtomicBool>,
) -> Result<(), SinkError> {
    use tokio::signal::unix::{signal, SignalKind};
    let _guard = rt.enter();
    let mut term = signal(SignalKind::terminate()).map_err(SinkError::Runtime)?;
    let mut int = signal(SignalKind::interrupt()).map_err(SinkError::Runtime)?;
    rt.spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: flushing and stopping"),
            _ = int.recv() => tracing::info!("SIGINT: flushing and stopping"),
        }
        flag.store(true, Ordering::Relaxed);
    });
    Ok(())
}
