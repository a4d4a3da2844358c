//! The record every peer carries: one 64-byte cache line, like the tick the real ring carries.

use bytemuck::{Pod, Zeroable};

/// A 64-byte `#[repr(C)]` plain-data message. Peers stamp [`Message::ts_publish_ns`] right before the hop
/// and the consumer subtracts it from its own clock read.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Message {
    /// `CLOCK_MONOTONIC` nanoseconds when the producer published this message (see [`crate::clock`]).
    pub ts_publish_ns: u64,
    /// 0-based sequence within one phase (warm-up messages included); consumers check it for loss and order.
    pub seq: u64,
    /// Filler up to 64 bytes, so every peer moves a full cache line as the tick ring does.
    pub payload: [u64; 6],
}

const _: () = assert!(std::mem::size_of::<Message>() == 64);
const _: () =
    assert!(std::mem::size_of::<Message>() == std::mem::size_of::<tickring_engine::Tick>());

impl Message {
    /// A message with `seq`, stamped `ts_publish_ns`.
    #[inline]
    pub fn new(seq: u64, ts_publish_ns: u64) -> Self {
        Self { ts_publish_ns, seq, payload: [seq; 6] }
    }

    /// As eight words, for transports that want a plain array payload.
    #[inline]
    pub fn to_words(self) -> [u64; 8] {
        bytemuck::cast(self)
    }

    /// From eight words written by [`Message::to_words`].
    #[inline]
    pub fn from_words(words: [u64; 8]) -> Self {
        bytemuck::cast(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let m = Message::new(7, 123);
        assert_eq!(Message::from_words(m.to_words()), m);
        assert_eq!(m.to_words()[0], 123);
        assert_eq!(m.to_words()[1], 7);
    }
}
