//! The mapping file as written: serde structs that mirror `mappings/lseg.toml` (its comments are the docs).

use super::names::{FlagName, TradeClass};
use super::time::DateSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingFile {
    pub version: Spanned<u32>,
    #[serde(default)]
    pub settings: Settings,
    pub assign: AssignConfig,
    pub class: Classes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// Default date source for classes that do not name one.
    #[serde(default)]
    pub date: DateSource,
    /// Furthest an event time may be from its receive time, in hours (1..=12).
    #[serde(default = "default_skew")]
    pub max_skew_hours: Spanned<u32>,
    /// Field whose last value is the item's exchange code.
    pub exchange_field: Option<Spanned<String>>,
    /// Field holding the trading date (used by `date = "trade_date"`).
    pub trade_date_field: Option<Spanned<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            date: DateSource::default(),
            max_skew_hours: default_skew(),
            exchange_field: None,
            trade_date_field: None,
        }
    }
}

fn default_skew() -> Spanned<u32> {
    Spanned::new(0..0, 12)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignConfig {
    /// Class of an item nothing else matches.
    pub default: Spanned<TradeClass>,
    pub futures_ric: Option<FuturesRicConfig>,
    #[serde(default)]
    pub by_field: Vec<ByFieldConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FuturesRicConfig {
    pub class: Spanned<TradeClass>,
    /// Longest root before the month code (`ES` in `ESZ6`).
    pub root_max: u8,
    /// Most digits of the year after the month code.
    pub year_digits_max: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ByFieldConfig {
    pub field: Spanned<String>,
    pub values: Vec<String>,
    pub class: Spanned<TradeClass>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Classes {
    pub equity: Option<Spanned<ClassConfig>>,
    pub extended_hours: Option<Spanned<ClassConfig>>,
    pub futures: Option<Spanned<ClassConfig>>,
    pub correction: Option<Spanned<ClassConfig>>,
}

impl Classes {
    pub fn iter(&self) -> impl Iterator<Item = (TradeClass, &Spanned<ClassConfig>)> {
        [
            (TradeClass::Correction, &self.correction),
            (TradeClass::Equity, &self.equity),
            (TradeClass::Futures, &self.futures),
            (TradeClass::ExtendedHours, &self.extended_hours),
        ]
        .into_iter()
        .filter_map(|(c, cfg)| cfg.as_ref().map(|cfg| (c, cfg)))
    }
}

/// When a class is tried for an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Before the item's own class (corrections).
    Override,
    /// The class an item is assigned to (equity, futures).
    Item,
    /// After the item's class found no price (extended hours via IRGPRC).
    Fallback,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassConfig {
    pub role: Role,
    pub update_types: Vec<Spanned<String>>,
    pub price: Vec<Spanned<String>>,
    pub size: Vec<Spanned<String>>,
    pub time: Vec<Spanned<String>>,
    pub date: Option<DateSource>,
    #[serde(default)]
    pub flags: Vec<FlagName>,
    pub condition: Option<ConditionConfig>,
    pub trade_id: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionConfig {
    pub field: Spanned<String>,
    /// Condition code (as text) -> flags it adds.
    pub codes: BTreeMap<String, Vec<FlagName>>,
}
