//! tickring benchmarks: latency and throughput of tickring's transports and of peers measured in the same
//! run, reported as tables, JSON and HdrHistogram percentile-distribution (`.hgrm`) files.
#![forbid(unsafe_code)]

pub mod affinity;
pub mod clock;
pub mod histogram;
pub mod message;
pub mod peers;
pub mod report;
pub mod ring_scenario;

pub use histogram::LatencyHistogram;
pub use message::Message;
pub use peers::Peer;
pub use report::{BenchResult, Measurement, Report, Throughput};
pub use ring_scenario::{
    ring_peers, run_child, run_ring, write_outputs, ChildLauncher, RingBenchConfig, RingRun, BASELINE_PEER,
};
