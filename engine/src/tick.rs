//! The tick record: one trade, fixed-size, exactly one 64-byte cache line, written into the ring as is.

use crate::fixed::{Price, Quantity};
use bytemuck::{Pod, Zeroable};
use std::fmt;

/// One trade as it travels through the ring.
///
/// `#[repr(C)]`, no padding, every bit pattern valid (`Pod`), so consumers in other processes can read it in
/// place. Timestamps are nanoseconds since the Unix epoch, UTC.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Tick {
    /// When the exchange says the trade happened (from the feed's trade-time fields).
    pub ts_event_ns: u64,
    /// When the feed handler received the message carrying it.
    pub ts_recv_ns: u64,
    /// Set by the publisher right before the record enters the ring; the start of the ring hop.
    pub ts_publish_ns: u64,
    pub price: Price,
    pub size: Quantity,
    /// The feed's trade id when it has one (hashed if not numeric), else 0.
    pub trade_id: u64,
    /// Index into the ring's instrument directory (symbol, exchange, timezone).
    pub instrument_id: u32,
    /// Exchange trading day as days since 1970-01-01; [`Tick::NO_TRADING_DAY`] when closed. With
    /// [`Session::Unknown`] (outside the calendar's coverage) it is the exchange's local date, unverified.
    pub trading_day: u32,
    /// [`Exchange`] code.
    pub exchange: u16,
    /// [`Session`] code.
    pub session: u8,
    /// [`TickFlags`] bits.
    pub flags: u8,
    pub reserved: [u8; 4],
}

const _: () = assert!(std::mem::size_of::<Tick>() == 64);

impl Tick {
    /// `trading_day` value meaning "no trading day" (the market was closed).
    pub const NO_TRADING_DAY: u32 = 0;
    /// Identifies this layout in the ring header; bump when a field changes.
    pub const SCHEMA_ID: u64 = 0x7469_636b_0001_0040; // "tick", v1, 64 bytes

    pub fn session(&self) -> Session {
        Session::from_code(self.session)
    }

    pub fn exchange(&self) -> Exchange {
        Exchange::from_code(self.exchange)
    }

    pub fn flags(&self) -> TickFlags {
        TickFlags(self.flags)
    }
}

impl fmt::Debug for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tick")
            .field("instrument_id", &self.instrument_id)
            .field("ts_event_ns", &self.ts_event_ns)
            .field("price", &self.price)
            .field("size", &self.size)
            .field("exchange", &self.exchange())
            .field("session", &self.session())
            .field("trading_day", &self.trading_day)
            .field("flags", &self.flags())
            .field("trade_id", &self.trade_id)
            .field("ts_recv_ns", &self.ts_recv_ns)
            .field("ts_publish_ns", &self.ts_publish_ns)
            .finish()
    }
}

/// The trading session a tick fell in, by its exchange's local clock.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Session {
    Closed = 0,
    Pre = 1,
    Regular = 2,
    Break = 3,
    Post = 4,
    /// The calendar does not cover the instant (or the exchange has none): the session cannot be told.
    Unknown = 5,
}

impl Session {
    pub const ALL: [Session; 6] = [
        Session::Closed,
        Session::Pre,
        Session::Regular,
        Session::Break,
        Session::Post,
        Session::Unknown,
    ];

    /// Codes this reader does not know read as `Unknown` (a record from a newer writer must not crash an
    /// older reader, nor be taken for a closed market).
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Pre,
            2 => Self::Regular,
            3 => Self::Break,
            0 => Self::Closed,
            4 => Self::Post,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Pre => "pre",
            Self::Regular => "regular",
            Self::Break => "break",
            Self::Post => "post",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Trade condition bits carried in [`Tick::flags`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TickFlags(pub u8);

impl TickFlags {
    /// An eligible last-sale trade (LSEG TRDPRC_1).
    pub const REGULAR: u8 = 1 << 0;
    /// Pre/after-hours or otherwise irregular trade (LSEG IRGPRC, Form T).
    pub const EXTENDED_HOURS: u8 = 1 << 1;
    /// Amends an earlier trade (LSEG Correction update / INSPRC).
    pub const CORRECTION: u8 = 1 << 2;
    /// Cancels an earlier trade.
    pub const CANCEL: u8 = 1 << 3;
    /// Arrived with an event time older than one already published for the instrument.
    pub const OUT_OF_ORDER: u8 = 1 << 4;
    /// Produced by the simulator, never by a real market.
    pub const SIMULATED: u8 = 1 << 5;

    const NAMES: [(u8, &'static str); 6] = [
        (Self::REGULAR, "regular"),
        (Self::EXTENDED_HOURS, "extended_hours"),
        (Self::CORRECTION, "correction"),
        (Self::CANCEL, "cancel"),
        (Self::OUT_OF_ORDER, "out_of_order"),
        (Self::SIMULATED, "simulated"),
    ];

    pub fn contains(self, bit: u8) -> bool {
        self.0 & bit == bit
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES.into_iter().filter(move |(bit, _)| self.contains(*bit)).map(|(_, n)| n)
    }
}

impl fmt::Debug for TickFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

macro_rules! exchanges {
    ($($variant:ident = $code:literal, $mic:literal, $tz:literal, $name:literal;)*) => {
        /// Exchanges tickring knows the calendar of, by ISO 10383 MIC.
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Exchange {
            Unknown = 0,
            $($variant = $code,)*
        }

        impl Exchange {
            pub const ALL: &'static [Exchange] = &[$(Exchange::$variant,)*];

            pub fn from_code(code: u16) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    _ => Self::Unknown,
                }
            }

            pub fn mic(self) -> &'static str {
                match self {
                    Self::Unknown => "XXXX",
                    $(Self::$variant => $mic,)*
                }
            }

            /// IANA timezone the exchange trades in.
            pub fn timezone(self) -> &'static str {
                match self {
                    Self::Unknown => "UTC",
                    $(Self::$variant => $tz,)*
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    Self::Unknown => "unknown",
                    $(Self::$variant => $name,)*
                }
            }

            /// Looks an exchange up by MIC, case-insensitively.
            pub fn from_mic(mic: &str) -> Option<Self> {
                $(if mic.eq_ignore_ascii_case($mic) { return Some(Self::$variant); })*
                None
            }
        }
    };
}

exchanges! {
    Xnys = 1, "XNYS", "America/New_York", "New York Stock Exchange";
    Xnas = 2, "XNAS", "America/New_York", "Nasdaq";
    Xase = 3, "XASE", "America/New_York", "NYSE American";
    Arcx = 4, "ARCX", "America/New_York", "NYSE Arca";
    Xcme = 5, "XCME", "America/Chicago", "CME Globex";
    Xkrx = 6, "XKRX", "Asia/Seoul", "Korea Exchange";
    Xtks = 7, "XTKS", "Asia/Tokyo", "Tokyo Stock Exchange";
    Xhkg = 8, "XHKG", "Asia/Hong_Kong", "Hong Kong Exchanges";
    Xlon = 9, "XLON", "Europe/London", "London Stock Exchange";
    Xpar = 10, "XPAR", "Europe/Paris", "Euronext Paris";
    Xetr = 11, "XETR", "Europe/Berlin", "Xetra";
    Xshg = 12, "XSHG", "Asia/Shanghai", "Shanghai Stock Exchange";
    Xshe = 13, "XSHE", "Asia/Shanghai", "Shenzhen Stock Exchange";
    Xtse = 14, "XTSE", "America/Toronto", "Toronto Stock Exchange";
    Xasx = 15, "XASX", "Australia/Sydney", "ASX";
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mic())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_one_cache_line_without_padding() {
        assert_eq!(std::mem::size_of::<Tick>(), 64);
        assert_eq!(std::mem::align_of::<Tick>(), 8);
    }

    #[test]
    fn codes_round_trip() {
        for &ex in Exchange::ALL {
            assert_eq!(Exchange::from_code(ex as u16), ex);
            assert_eq!(Exchange::from_mic(ex.mic()), Some(ex));
            assert!(ex.timezone().parse::<chrono_tz::Tz>().is_ok(), "{ex}");
        }
        for s in Session::ALL {
            assert_eq!(Session::from_code(s as u8), s);
        }
        assert_eq!(Session::from_code(200), Session::Unknown);
    }

    #[test]
    fn flags_name_their_bits() {
        let f = TickFlags(TickFlags::EXTENDED_HOURS | TickFlags::CORRECTION);
        assert_eq!(f.names().collect::<Vec<_>>(), ["extended_hours", "correction"]);
    }
}
