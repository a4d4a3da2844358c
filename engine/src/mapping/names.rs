//! The closed vocabularies a mapping file speaks: trade classes, LSEG update types and flag names.

use crate::tick::TickFlags;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which mapping class produced a trade (or `canonical` for trades replayed from canonical files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeClass {
    Equity,
    ExtendedHours,
    Futures,
    Correction,
    Canonical,
}

impl TradeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equity => "equity",
            Self::ExtendedHours => "extended_hours",
            Self::Futures => "futures",
            Self::Correction => "correction",
            Self::Canonical => "canonical",
        }
    }
}

impl fmt::Display for TradeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// LSEG `UpdateType` values; anything else reads as [`UpdateType::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateType {
    Unspecified,
    Quote,
    Trade,
    NewsAlert,
    VolumeAlert,
    OrderIndication,
    ClosingRun,
    Correction,
    MarketDigest,
    QuotesTrade,
    Multiple,
    Verify,
    Other,
}

impl UpdateType {
    const NAMES: [(&'static str, UpdateType); 12] = [
        ("Unspecified", Self::Unspecified),
        ("Quote", Self::Quote),
        ("Trade", Self::Trade),
        ("NewsAlert", Self::NewsAlert),
        ("VolumeAlert", Self::VolumeAlert),
        ("OrderIndication", Self::OrderIndication),
        ("ClosingRun", Self::ClosingRun),
        ("Correction", Self::Correction),
        ("MarketDigest", Self::MarketDigest),
        ("QuotesTrade", Self::QuotesTrade),
        ("Multiple", Self::Multiple),
        ("Verify", Self::Verify),
    ];

    /// Reads the wire name; unknown names are `Other` (the server may add types).
    pub fn from_wire(name: &str) -> Self {
        Self::NAMES.iter().find(|(n, _)| *n == name).map_or(Self::Other, |(_, t)| *t)
    }

    /// Strict form for the mapping file, where an unknown name is a typo.
    pub fn from_config(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

/// A [`TickFlags`] bit by name, as written in a mapping file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagName {
    Regular,
    ExtendedHours,
    Correction,
    Cancel,
}

impl FlagName {
    pub fn bit(self) -> u8 {
        match self {
            Self::Regular => TickFlags::REGULAR,
            Self::ExtendedHours => TickFlags::EXTENDED_HOURS,
            Self::Correction => TickFlags::CORRECTION,
            Self::Cancel => TickFlags::CANCEL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_types_read_wire_names() {
        assert_eq!(UpdateType::from_wire("Trade"), UpdateType::Trade);
        assert_eq!(UpdateType::from_wire("ClosingRun"), UpdateType::ClosingRun);
        assert_eq!(UpdateType::from_wire("Brand New"), UpdateType::Other);
        assert_eq!(UpdateType::from_config("trade"), None);
    }
}
