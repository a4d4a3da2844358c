//! Ctrl-C / SIGTERM as a flag the long-running loops check, so they can finish cleanly.

use anyhow::{Context, Result};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A flag raised by the first SIGINT or SIGTERM; a second one terminates at once.
pub fn on_interrupt() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&flag))
            .context("installing the signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .context("installing the signal handler")?;
    }
    Ok(flag)
}
