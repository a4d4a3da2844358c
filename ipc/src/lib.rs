//! A single-producer, multi-consumer ring of fixed-size records in named shared memory.
//!
//! One producer process creates `/dev/shm/tickring-NAME` and publishes records; any number of consumer
//! processes attach by name, each with its own cursor in a table inside the segment, and read batches in
//! place. Consumers are *gating* (lossless: the producer waits for them) or *non-gating* (never slow the
//! producer; lapped ones skip ahead and count what they missed, never seeing a torn record).
//!
//! The cursor protocol is in `protocol.rs` (model-checked with loom, `RUSTFLAGS="--cfg loom"`); the
//! segment layout in `layout.rs`; every unsafe block of the product lives in this crate.
#![deny(unsafe_op_in_unsafe_fn)]

// Under loom only the model tests use the protocol.
#[cfg_attr(loom, allow(dead_code))]
mod protocol;
mod sync;
#[cfg_attr(loom, allow(dead_code))]
mod wake;

#[cfg(loom)]
pub mod loom_model;

#[cfg(not(loom))]
mod cleanup;
#[cfg(not(loom))]
pub mod clock;
#[cfg(not(loom))]
pub mod config;
#[cfg(not(loom))]
pub mod consumer;
#[cfg(not(loom))]
pub mod error;
#[cfg(not(loom))]
mod heartbeat;
#[cfg(not(loom))]
pub mod layout;
#[cfg(not(loom))]
pub mod liveness;
#[cfg(not(loom))]
pub mod producer;
#[cfg(not(loom))]
pub mod record;
#[cfg(not(loom))]
mod segment;
#[cfg(not(loom))]
mod segment_file;
#[cfg(not(loom))]
pub mod status;
#[cfg(not(loom))]
mod table;
#[cfg(not(loom))]
pub mod wait;

#[cfg(not(loom))]
pub use {
    config::{ConsumerPolicy, RingConfig, WaitStrategy},
    consumer::{Batch, Consumer, ConsumerOptions, Gap, GapCause, Overwritten, Read, StartAt},
    error::RingError,
    producer::{Full, Producer},
    record::Record,
    status::{ConsumerStatus, RingStatus},
};
