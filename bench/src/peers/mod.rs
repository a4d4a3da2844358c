//! The transports measured side by side in the ring scenario.
//!
//! Every peer measures the same two things with the same 64-byte [`Message`](crate::message::Message):
//! a paced phase (one message, then a spin gap, so each hop starts on an idle transport: latency, not
//! queueing) and a flat-out phase (batched publishing for throughput). Producer and consumer are pinned to
//! the configured cores; consumers busy-poll.
//!
//! # Adding a peer
//! Implement [`Peer`] and add it to [`crate::ring_scenario::ring_peers`]. A peer whose producer must run in
//! another process implements [`Peer::run_child`] and spawns that process through
//! [`RingBenchConfig::child`](crate::ring_scenario::RingBenchConfig::child) (see the iceoryx2 peer).

pub mod child;
pub mod crossbeam;
pub mod disruptor;
pub mod iceoryx2;
pub mod pair;
pub mod shm;

use crate::report::Measurement;
use crate::ring_scenario::RingBenchConfig;

/// One transport in the ring scenario.
pub trait Peer: std::fmt::Debug + Send + Sync {
    /// Row name in tables and JSON, e.g. `tickring-shm`; also how a child process finds its peer.
    fn name(&self) -> &'static str;

    /// Runs the paced latency phase and the flat-out throughput phase.
    ///
    /// # Errors
    /// Setup failures, lost or reordered messages, a failed child process, or running past
    /// [`RingBenchConfig::timeout`].
    fn measure(&self, cfg: &RingBenchConfig) -> anyhow::Result<Measurement>;

    /// The child-process side of a cross-process peer, entered by `tickring bench __child <name> <spec>`.
    /// `spec` is whatever the peer's [`Peer::measure`] handed to
    /// [`ChildLauncher::command`](crate::ring_scenario::ChildLauncher::command).
    ///
    /// # Errors
    /// The default: this peer has no child process.
    fn run_child(&self, spec: &str) -> anyhow::Result<()> {
        let _ = spec;
        anyhow::bail!("peer `{}` does not run a child process", self.name())
    }
}
