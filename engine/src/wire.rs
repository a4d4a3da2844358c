//! How ticks and instruments travel through the ring: their identities for the segment header, and the
//! fixed-size instrument directory entry that keeps symbols out of the 64-byte tick.

use crate::tick::{Exchange, Tick};
use bytemuck::{Pod, Zeroable};
use tickring_ipc::Record;

impl Record for Tick {
    const SCHEMA_ID: u64 = Tick::SCHEMA_ID;
}

/// Longest symbol the directory stores, in bytes.
pub const MAX_SYMBOL_LEN: usize = 40;

/// One instrument in the ring's directory; its index is `Tick::instrument_id`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct InstrumentEntry {
    symbol: [u8; MAX_SYMBOL_LEN],
    symbol_len: u8,
    reserved0: u8,
    /// [`Exchange`] code.
    pub exchange: u16,
    reserved: [u8; 84],
}

const _: () = assert!(std::mem::size_of::<InstrumentEntry>() == 128);

impl Record for InstrumentEntry {
    const SCHEMA_ID: u64 = 0x696e_7374_0001_0080; // "inst", v1, 128 bytes
}

impl InstrumentEntry {
    /// `None` when the symbol is empty or longer than [`MAX_SYMBOL_LEN`] bytes.
    pub fn new(symbol: &str, exchange: Exchange) -> Option<Self> {
        if symbol.is_empty() || symbol.len() > MAX_SYMBOL_LEN {
            return None;
        }
        let mut entry = Self::zeroed();
        entry.symbol[..symbol.len()].copy_from_slice(symbol.as_bytes());
        entry.symbol_len = symbol.len() as u8;
        entry.exchange = exchange as u16;
        Some(entry)
    }

    /// The symbol as published (lossy if the segment was damaged).
    pub fn symbol(&self) -> std::borrow::Cow<'_, str> {
        let len = usize::from(self.symbol_len).min(MAX_SYMBOL_LEN);
        String::from_utf8_lossy(&self.symbol[..len])
    }

    pub fn exchange(&self) -> Exchange {
        Exchange::from_code(self.exchange)
    }

    /// IANA timezone of the instrument's exchange.
    pub fn timezone(&self) -> &'static str {
        self.exchange().timezone()
    }
}

impl std::fmt::Debug for InstrumentEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentEntry")
            .field("symbol", &self.symbol())
            .field("exchange", &self.exchange())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trips_symbol_and_exchange() {
        let e = InstrumentEntry::new("ESZ6", Exchange::Xcme).expect("fits");
        assert_eq!(e.symbol(), "ESZ6");
        assert_eq!(e.exchange(), Exchange::Xcme);
        assert_eq!(e.timezone(), "America/Chicago");
        assert!(InstrumentEntry::new("", Exchange::Xnys).is_none());
        assert!(InstrumentEntry::new(&"X".repeat(41), Exchange::Xnys).is_none());
    }
}
