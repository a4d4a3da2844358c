//! Threads pinned to a configured core.

/// Pins the calling thread to `core` (an id from `tuning.toml`, not from `core_affinity::get_core_ids`,
/// which only lists the caller's current mask).
///
/// # Errors
/// The core does not exist or the OS refused.
pub fn pin_current_thread(core: usize) -> Result<(), String> {
    // core_affinity aborts the process on ids beyond its CPU set size.
    if core >= 1024 {
        return Err(format!("core {core} is out of range"));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if core >= cores {
        return Err(format!(
            "core {core} does not exist here ({cores} cores): fix ingest.publisher_core"
        ));
    }
    if core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        Ok(())
    } else {
        Err(format!("the OS refused to pin this thread to core {core}"))
    }
}
