//! A decoded trade: what a feed produced, before it is classified into a [`crate::Tick`].

use crate::fixed::{Price, Quantity};
use crate::mapping::TradeClass;
use crate::tick::TickFlags;
use std::sync::Arc;

/// An interned text (RIC, exchange code): cloning it is a reference-count bump, not an allocation.
pub type Symbol = Arc<str>;

/// One trade as a feed decoded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trade {
    /// The instrument as the feed names it (an LSEG RIC such as `AAPL.O`).
    pub symbol: Symbol,
    /// The item's exchange code as last seen (LSEG RDN_EXCHD2, as text), if any.
    pub exchange_code: Option<Symbol>,
    /// When the trade happened, ns since the Unix epoch, UTC.
    pub ts_event_ns: u64,
    /// When the message carrying it was received, ns since the Unix epoch, UTC.
    pub ts_recv_ns: u64,
    pub price: Price,
    pub size: Quantity,
    /// [`TickFlags`] bits.
    pub flags: u8,
    /// The feed's trade id, hashed when not numeric; 0 when the feed gave none.
    pub trade_id: u64,
    /// Which mapping class produced it.
    pub class: TradeClass,
}

impl Trade {
    pub fn flags(&self) -> TickFlags {
        TickFlags(self.flags)
    }
}
