//! Runs the crossbeam peer end to end with tiny counts: every message arrives, in order, and the numbers
//! are sane. No timing thresholds: shared machines are too noisy for them.

use std::time::Duration;
use tickring_bench::peers::crossbeam::CrossbeamPeer;
use tickring_bench::{BenchResult, Peer, RingBenchConfig};

fn tiny() -> RingBenchConfig {
    // Two cores are what the scenario needs; on a one-core machine the pair still makes progress, only
    // slowly, so fall back to core 0 for both and skip validation there.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    RingBenchConfig {
        producer_core: 0,
        consumer_core: usize::from(cores > 1),
        warmup_messages: 100,
        latency_messages: 1_000,
        gap_ns: 1_000,
        throughput_messages: 10_000,
        batch: 16,
        capacity: 64,
        timeout: Duration::from_secs(30),
        child: None,
        rounds: 1,
    }
}

#[test]
fn crossbeam_peer_delivers_every_message() {
    let cfg = tiny();
    let m = CrossbeamPeer.measure(&cfg).expect("the crossbeam peer runs");
    assert_eq!(m.name, "crossbeam-inproc");
    assert_eq!(m.latency.len(), cfg.latency_messages, "warm-up excluded, nothing lost");
    assert_eq!(m.throughput.messages, cfg.throughput_messages);
    assert!(m.throughput.elapsed_ns > 0);

    let r = BenchResult::from_measurement(&m);
    assert_eq!(r.samples, cfg.latency_messages);
    assert!(r.p50_ns > 0);
    assert!(r.p50_ns <= r.p90_ns && r.p90_ns <= r.p99_ns && r.p99_ns <= r.p999_ns);
    assert!(r.p999_ns <= r.p9999_ns && r.p9999_ns <= r.max_ns);
    assert!(r.throughput_per_s.is_finite() && r.throughput_per_s > 0.0);
}
