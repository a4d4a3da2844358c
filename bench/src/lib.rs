//! tickring benchmarks: latency and throughput of tickring's transports and of peers measured in the same
//! run, reported as tables, JSON and HdrHistogram percentile-distribution (`.hgrm`) files.
//!
//! The `ring` scenario ([`ring_scenario`]) runs every [`Peer`] of [`ring_peers`] with one
//! [`RingBenchConfig`]: a paced phase for one-way hop latency (producer stamps `CLOCK_MONOTONIC` into a
//! 64-byte [`Message`], consumer subtracts it from its own read) and a flat-out phase for throughput.
//! Each peer yields a [`Measurement`]; [`run_ring`] turns them into a [`Report`] of [`BenchResult`] rows
//! with p99 ratios against [`BASELINE_PEER`], and [`write_outputs`] writes the JSON and one `.hgrm` per
//! row.
//!
//! Adding the shared-memory ring: implement [`Peer`] (name `tickring-shm`) in `peers/`, put it first in
//! [`ring_peers`]. A consumer in another process goes through [`Peer::run_child`] and
//! [`RingBenchConfig::child`], as `peers/iceoryx2.rs` does.
#![forbid(unsafe_code)]

pub mod affinity;
pub mod clock;
pub mod cpu;
pub mod e2e;
pub mod histogram;
pub mod ingest;
pub mod journal;
pub mod message;
pub mod peers;
pub mod plot;
pub mod report;
pub mod ring_scenario;

pub use histogram::LatencyHistogram;
pub use message::Message;
pub use peers::Peer;
pub use report::{BenchResult, Combined, Measurement, Report, Throughput};
pub use ring_scenario::{
    ring_peers, run_child, run_ring, write_outputs, ChildLauncher, RingBenchConfig, RingRun,
    BASELINE_PEER,
};
