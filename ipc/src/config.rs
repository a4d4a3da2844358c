//! Ring settings, read from the `[ring]` table of `tuning.toml` and validated once at start-up.

use crate::error::RingError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// How a thread waits when it cannot go on (producer blocked by a gating consumer, consumer with nothing new).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WaitStrategy {
    /// Spin on the cursor with a CPU pause hint: lowest latency, burns its whole core. Pin the thread.
    BusySpin,
    /// Spin `spins` times, then yield the core to the scheduler between checks (1000 times), then sleep
    /// 50 us between checks: near busy-spin latency while busy, costs no CPU once idle.
    SpinThenYield { spins: u32 },
    /// Sleep `micros` between checks: cheapest on CPU, adds up to that much latency.
    Sleep { micros: u64 },
    /// Spin `spins` times, then sleep in the kernel (a futex in the segment) until the producer publishes:
    /// no CPU while idle, a wake-up of some microseconds after a quiet spell. The producer makes a system
    /// call only while a consumer sleeps. Consumers only; the default for sinks.
    Block { spins: u32 },
}

/// What a consumer may do to the producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerPolicy {
    /// Lossless: the producer never overwrites a record this consumer has not committed; a slow gating
    /// consumer slows the producer (until it dies or its heartbeat goes stale, then it stops gating).
    Gating,
    /// Never slows the producer; when lapped it skips ahead, counts what it missed and never sees a torn record.
    NonGating,
}

/// The shared-memory ring: where it lives, how big it is, how its users wait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RingConfig {
    /// Segment name: the file is `{dir}/tickring-{name}`.
    pub name: String,
    /// Folder of the segment; `/dev/shm` keeps it in memory.
    pub dir: PathBuf,
    /// Records the ring holds; a power of two.
    pub capacity: u64,
    /// Slots in the consumer table.
    pub max_consumers: u32,
    /// Entries in the instrument directory beside the ring.
    pub directory_capacity: u32,
    pub producer_wait: WaitStrategy,
    pub consumer_wait: WaitStrategy,
    /// How often each consumer proves it is alive.
    pub heartbeat_interval_ms: u64,
    /// A gating consumer whose heartbeat is older than this (or whose process is gone) stops gating.
    pub heartbeat_timeout_ms: u64,
    /// Most records a consumer takes in one batch.
    pub max_batch: usize,
}

impl Default for RingConfig {
    fn default() -> Self {
        Self {
            name: "ticks".into(),
            dir: PathBuf::from("/dev/shm"),
            capacity: 1 << 20,
            max_consumers: 16,
            directory_capacity: 65_536,
            producer_wait: WaitStrategy::SpinThenYield { spins: 10_000 },
            consumer_wait: WaitStrategy::Block { spins: 1000 },
            heartbeat_interval_ms: 100,
            heartbeat_timeout_ms: 2_000,
            max_batch: 1_024,
        }
    }
}

impl RingConfig {
    /// Checks every value once, so a bad `tuning.toml` fails at start with a message that says what to do.
    ///
    /// # Errors
    /// [`RingError::Config`] naming the key and the accepted range.
    pub fn validate(&self) -> Result<(), RingError> {
        let bad = |msg: String| Err(RingError::Config(msg));
        validate_name(&self.name)?;
        if !self.capacity.is_power_of_two() || !(16..=1 << 30).contains(&self.capacity) {
            return bad(format!(
                "ring.capacity = {} must be a power of two between 16 and 2^30 (e.g. 1048576)",
                self.capacity
            ));
        }
        if !(1..=1024).contains(&self.max_consumers) {
            return bad(format!("ring.max_consumers = {} must be 1..=1024", self.max_consumers));
        }
        if self.max_batch == 0 || self.max_batch as u64 > self.capacity {
            return bad(format!(
                "ring.max_batch = {} must be at least 1 and at most ring.capacity ({})",
                self.max_batch, self.capacity
            ));
        }
        // 0 is a ring without a directory (benches); ingest, which needs one, refuses 0 itself.
        if self.directory_capacity > 1 << 24 {
            return bad(format!(
                "ring.directory_capacity = {} must be 0..=16777216",
                self.directory_capacity
            ));
        }
        // Ranges first: the producer works in ns, so a huge value once overflowed `ms * 1e6`.
        if !(1..=60_000).contains(&self.heartbeat_interval_ms) {
            return bad(format!(
                "ring.heartbeat_interval_ms = {} must be 1..=60000",
                self.heartbeat_interval_ms
            ));
        }
        if !(2 * self.heartbeat_interval_ms..=3_600_000).contains(&self.heartbeat_timeout_ms) {
            return bad(format!(
                "ring.heartbeat_timeout_ms = {} must be at least twice ring.heartbeat_interval_ms = {} and at most 3600000",
                self.heartbeat_timeout_ms, self.heartbeat_interval_ms
            ));
        }
        for (key, w) in
            [("producer_wait", self.producer_wait), ("consumer_wait", self.consumer_wait)]
        {
            if let WaitStrategy::Sleep { micros: 0 } = w {
                return bad(format!("ring.{key}: sleep needs micros >= 1 (or use busy_spin)"));
            }
        }
        if let WaitStrategy::Block { .. } = self.producer_wait {
            // Nobody wakes a producer: consumers commit cursors without a system call.
            return bad(
                "ring.producer_wait: block is for consumers; use spin_then_yield or sleep".into()
            );
        }
        Ok(())
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_millis(self.heartbeat_interval_ms)
    }

    pub(crate) fn heartbeat_timeout_ns(&self) -> u64 {
        self.heartbeat_timeout_ms.saturating_mul(1_000_000)
    }

    pub fn heartbeat_timeout(&self) -> Duration {
        Duration::from_millis(self.heartbeat_timeout_ms)
    }

    /// Path of the segment file.
    pub fn segment_path(&self) -> PathBuf {
        self.dir.join(format!("tickring-{}", self.name))
    }

    /// Path of the producer lock file (held for the producer's lifetime; the kernel drops it on any exit).
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("tickring-{}.lock", self.name))
    }
}

/// Ring and consumer names: 1 to 48 bytes of `[A-Za-z0-9_.-]`, so they are safe as file names.
///
/// # Errors
/// [`RingError::InvalidName`].
pub fn validate_name(name: &str) -> Result<(), RingError> {
    let ok = !name.is_empty()
        && name.len() <= crate::layout::MAX_NAME_LEN
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RingError::InvalidName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        RingConfig::default().validate().expect("default config validates");
    }

    #[test]
    fn bad_values_name_the_key() {
        type Mutation = fn(&mut RingConfig);
        let cases: [(Mutation, &str); 10] = [
            (|c| c.capacity = 1000, "ring.capacity"),
            (|c| c.directory_capacity = u32::MAX, "ring.directory_capacity"),
            (|c| c.heartbeat_timeout_ms = u64::MAX, "ring.heartbeat_timeout_ms"),
            (|c| c.heartbeat_interval_ms = u64::MAX, "ring.heartbeat_interval_ms"),
            (|c| c.heartbeat_interval_ms = 0, "ring.heartbeat_interval_ms"),
            (|c| c.max_consumers = 0, "ring.max_consumers"),
            (|c| c.max_batch = 0, "ring.max_batch"),
            (|c| c.heartbeat_timeout_ms = 10, "ring.heartbeat_timeout_ms"),
            (|c| c.consumer_wait = WaitStrategy::Sleep { micros: 0 }, "ring.consumer_wait"),
            (|c| c.producer_wait = WaitStrategy::Block { spins: 10 }, "ring.producer_wait"),
        ];
        for (mutate, key) in cases {
            let mut c = RingConfig::default();
            mutate(&mut c);
            let err = c.validate().expect_err(key).to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn names_must_be_file_safe() {
        assert!(validate_name("ticks").is_ok());
        assert!(validate_name("sink.clickhouse-1").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "with space", &"x".repeat(49)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wait_strategy_reads_from_toml() {
        #[derive(Deserialize)]
        struct W {
            w: WaitStrategy,
        }
        let w: W =
            toml::from_str("w = { kind = \"spin_then_yield\", spins = 100 }").expect("parses");
        assert_eq!(w.w, WaitStrategy::SpinThenYield { spins: 100 });
        let w: W = toml::from_str("w = { kind = \"block\", spins = 5 }").expect("parses");
        assert_eq!(w.w, WaitStrategy::Block { spins: 5 });
        assert!(toml::from_str::<W>("w = { kind = \"spin\" }").is_err());
    }
}
