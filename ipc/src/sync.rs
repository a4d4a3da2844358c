//! Atomics shim: std atomics normally, loom's under `--cfg loom` so the cursor protocol can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64};
