//! A read-only look at a ring for `tickring status`: producer, cursors, lag, liveness of each consumer.

use crate::clock::monotonic_ns;
use crate::config::RingConfig;
use crate::error::RingError;
use crate::layout::{lifecycle, slot_state};
use crate::liveness::Identity;
use crate::record::Record;
use crate::segment::Segment;
use crate::table::{slot_name, slot_owner};
use serde::Serialize;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

#[derive(Clone, Debug, Serialize)]
pub struct RingStatus {
    pub name: String,
    pub epoch: u64,
    pub capacity: u64,
    pub producer_pid: u32,
    /// "running", "closed" or "superseded".
    pub producer_state: &'static str,
    pub producer_alive: bool,
    pub producer_heartbeat_age_ms: u64,
    pub published: u64,
    pub producer_stalls: u64,
    /// Total time the producer waited for gating consumers, in ns.
    pub producer_gated_ns: u64,
    pub evictions: u64,
    pub directory_len: u64,
    pub consumers: Vec<ConsumerStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConsumerStatus {
    pub name: String,
    pub gating: bool,
    /// "active", "evicted" or "detached".
    pub state: &'static str,
    pub pid: u32,
    pub alive: bool,
    pub cursor: u64,
    /// Records published but not yet committed by this consumer.
    pub lag: u64,
    pub heartbeat_age_ms: u64,
    pub missed: u64,
    pub overruns: u64,
    /// Where it reads: "ring", or "journal" while it catches up from behind the ring.
    pub reading: &'static str,
}

impl RingStatus {
    /// Reads the ring's state without attaching to it.
    ///
    /// # Errors
    /// Missing, foreign or mismatched segment.
    pub fn read<T: Record, E: Record>(cfg: &RingConfig) -> Result<Self, RingError> {
        let seg = Segment::open::<T, E>(&cfg.segment_path(), false)?;
        let now = monotonic_ns();
        // Processes of another pid namespace are judged by heartbeat age (see `liveness.rs`).
        let timeout = cfg.heartbeat_timeout_ns();
        let age = |t: u64| now.saturating_sub(t) / 1_000_000;
        let header = seg.header();
        let control = seg.control();
        let published = seg.cursors().available();
        let consumers = seg
            .slots()
            .iter()
            .filter_map(|s| {
                let state = match s.state.load(Acquire) {
                    slot_state::ACTIVE => "active",
                    slot_state::EVICTED => "evicted",
                    slot_state::DETACHED => "detached",
                    _ => return None,
                };
                let cursor = s.cursor.load(Acquire);
                let owner = slot_owner(s);
                let heartbeat_age_ns = now.saturating_sub(s.heartbeat_ns.load(Relaxed));
                Some(ConsumerStatus {
                    name: slot_name(s),
                    gating: s.gating.load(Relaxed) == 1,
                    state,
                    pid: owner.pid,
                    alive: owner.alive_or_recent(heartbeat_age_ns, timeout),
                    cursor,
                    lag: published.saturating_sub(cursor),
                    heartbeat_age_ms: age(s.heartbeat_ns.load(Relaxed)),
                    missed: s.missed.load(Relaxed),
                    reading: if s.reading_journal.load(Relaxed) == 1 { "journal" } else { "ring" },
                    overruns: s.overruns.load(Relaxed),
                })
            })
            .collect();
        Ok(Self {
            name: cfg.name.clone(),
            epoch: header.epoch,
            capacity: header.capacity,
            producer_pid: header.producer_pid,
            producer_state: match control.lifecycle.load(Acquire) {
                lifecycle::RUNNING => "running",
                lifecycle::CLOSED => "closed",
                _ => "superseded",
            },
            producer_alive: Identity {
                pid: header.producer_pid,
                start: header.producer_start,
                pid_ns: header.producer_pid_ns,
            }
            .alive_or_recent(
                now.saturating_sub(control.producer_heartbeat_ns.load(Relaxed)),
                timeout,
            ),
            producer_heartbeat_age_ms: age(control.producer_heartbeat_ns.load(Relaxed)),
            published,
            producer_stalls: control.producer_stalls.load(Relaxed),
            producer_gated_ns: control.producer_gated_ns.load(Relaxed),
            evictions: control.evictions.load(Relaxed),
            directory_len: control.directory_len.load(Relaxed),
            consumers,
        })
    }
}
