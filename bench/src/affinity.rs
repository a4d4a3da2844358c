//! Pinning the calling thread to a core named in the configuration.
//!
//! Cores come from the configuration, never from `core_affinity::get_core_ids()`: that returns the calling
//! thread's own mask, so a process started by a pinned parent would see a single core.

use anyhow::{bail, Result};
use core_affinity::CoreId;

/// Core ids must be below this: the size of the kernel's default CPU set (`CPU_SETSIZE`). Larger ids are
/// refused here, before the affinity call (whose CPU-set macro aborts the process on them).
pub const CPU_SET_SIZE: usize = 1024;

/// Pins the calling thread to `core`.
///
/// # Errors
/// When `core` is not below [`CPU_SET_SIZE`] or the operating system refuses (no such core, or not in the
/// process's allowed set).
pub fn pin_current_thread(core: usize) -> Result<()> {
    if core >= CPU_SET_SIZE {
        bail!("core {core} is out of range: core ids must be below {CPU_SET_SIZE}");
    }
    if core_affinity::set_for_current(CoreId { id: core }) {
        Ok(())
    } else {
        bail!("could not pin this thread to core {core} (does the core exist and is it allowed?)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_cores_that_do_not_exist() {
        assert!(pin_current_thread(CPU_SET_SIZE).is_err());
        assert!(pin_current_thread(usize::MAX).is_err());
        assert!(
            pin_current_thread(CPU_SET_SIZE - 1).is_err(),
            "this machine has fewer than 1024 cores"
        );
    }
}
