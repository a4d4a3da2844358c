//! Shared helpers for the ring's integration tests.
#![allow(dead_code)]

use bytemuck::{Pod, Zeroable};
use std::sync::atomic::{AtomicU32, Ordering};
use tickring_ipc::{ConsumerOptions, ConsumerPolicy, Record, RingConfig, StartAt, WaitStrategy};

/// A test record whose second word is derived from the first, so a torn or misplaced record is detectable.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Rec {
    pub seq: u64,
    pub check: u64,
    pub pad: [u64; 6],
}

impl Record for Rec {
    const SCHEMA_ID: u64 = 0x7465_7374_0000_0001;
}

impl Rec {
    pub fn new(seq: u64) -> Self {
        let check = mix(seq);
        Self { seq, check, pad: [check; 6] }
    }

    pub fn is_intact(&self) -> bool {
        self.check == mix(self.seq) && self.pad.iter().all(|&p| p == self.check)
    }
}

pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A config with a ring name unique to this process and test.
pub fn config(capacity: u64) -> RingConfig {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let cfg = RingConfig {
        name: format!("test-{}-{n}", std::process::id()),
        capacity,
        max_consumers: 8,
        directory_capacity: 64,
        producer_wait: WaitStrategy::SpinThenYield { spins: 100 },
        consumer_wait: WaitStrategy::SpinThenYield { spins: 100 },
        heartbeat_interval_ms: 20,
        heartbeat_timeout_ms: 200,
        max_batch: (capacity as usize).min(256),
        ..RingConfig::default()
    };
    // A run that crashed earlier under a pid reused now may have left this name behind.
    cleanup(&cfg);
    cfg
}

pub fn opts(name: &str, policy: ConsumerPolicy) -> ConsumerOptions {
    ConsumerOptions { name: name.into(), policy, start: StartAt::Oldest }
}

/// Removes the segment and lock files of a test ring.
pub fn cleanup(cfg: &RingConfig) {
    let _ = std::fs::remove_file(cfg.segment_path());
    let _ = std::fs::remove_file(cfg.lock_path());
}
