//! Channel names: `trade.SYMBOL`, `price.SYMBOL`, `candle.SERIES.SYMBOL`, with `*` for every symbol.

use std::fmt;
use std::sync::Arc;
use tickring_engine::candles::Series;
use tickring_engine::wire::MAX_SYMBOL_LEN;

/// What a channel carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Every trade, in order; dropped (with a gap notice) when the client falls behind.
    Trade,
    /// The latest trade price; conflated when the client falls behind.
    Price,
    /// Live and closed candles of one series; live updates conflated per candle.
    Candle(Series),
}

/// Which symbols a channel covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolPattern {
    Exact(Arc<str>),
    /// `*`: every symbol, including ones that appear later.
    Any,
}

/// A parsed channel name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    pub kind: Kind,
    pub symbol: SymbolPattern,
}

/// Why a channel name was refused; the text goes to the client as is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error(
        "unknown channel {0:?}: expected trade.SYMBOL, price.SYMBOL or candle.INTERVAL.SYMBOL"
    )]
    Shape(String),
    #[error("unknown channel kind {0:?}: expected trade, price or candle")]
    Kind(String),
    #[error("unknown candle interval {interval:?} in {channel:?}: this server offers {offered}")]
    Series { channel: String, interval: String, offered: String },
    #[error("invalid symbol in {0:?}: 1 to 40 printable ASCII characters, no spaces, quotes or '*' (or exactly '*')")]
    Symbol(String),
}

impl Channel {
    /// Parses a channel name against the candle series this server builds.
    ///
    /// # Errors
    /// A [`ChannelError`] whose text tells the client what is accepted.
    pub fn parse(name: &str, series: &[Series]) -> Result<Self, ChannelError> {
        let (kind, rest) = name.split_once('.').ok_or_else(|| ChannelError::Shape(clip(name)))?;
        let (kind, symbol) = match kind {
            "trade" => (Kind::Trade, rest),
            "price" => (Kind::Price, rest),
            "candle" => {
                let (interval, symbol) =
                    rest.split_once('.').ok_or_else(|| ChannelError::Shape(clip(name)))?;
                let offered =
                    || series.iter().map(Series::to_string).collect::<Vec<_>>().join(", ");
                let s = interval
                    .parse::<Series>()
                    .ok()
                    .filter(|s| series.contains(s) && s.to_string() == interval)
                    .ok_or_else(|| ChannelError::Series {
                        channel: clip(name),
                        interval: clip(interval),
                        offered: offered(),
                    })?;
                (Kind::Candle(s), symbol)
            }
            other => return Err(ChannelError::Kind(clip(other))),
        };
        let symbol = if symbol == "*" {
            SymbolPattern::Any
        } else if valid_symbol(symbol) {
            SymbolPattern::Exact(Arc::from(symbol))
        } else {
            return Err(ChannelError::Symbol(clip(name)));
        };
        Ok(Self { kind, symbol })
    }

    /// The concrete channel name of an event for `symbol`.
    pub fn name_for(kind: Kind, symbol: &str) -> String {
        Self { kind, symbol: SymbolPattern::Exact(Arc::from(symbol)) }.to_string()
    }
}

fn valid_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SYMBOL_LEN
        && s.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'*' | b'"' | b'\\'))
}

/// Echoes at most 64 characters of client input back in messages.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trade => f.write_str("trade"),
            Self::Price => f.write_str("price"),
            Self::Candle(s) => write!(f, "candle.{s}"),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.symbol {
            SymbolPattern::Exact(s) => write!(f, "{}.{s}", self.kind),
            SymbolPattern::Any => write!(f, "{}.*", self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Channel, ChannelError> {
        Channel::parse(s, &Series::DEFAULT)
    }

    #[test]
    fn parses_every_kind_and_round_trips() {
        for name in [
            "trade.AAPL.O",
            "price.ESZ6",
            "candle.1m.VOD.L",
            "candle.1d-regular.7203.T",
            "trade.*",
            "candle.1s.*",
        ] {
            let c = parse(name).expect(name);
            assert_eq!(c.to_string(), name);
        }
        assert_eq!(parse("trade.*").expect("wildcard").symbol, SymbolPattern::Any);
        assert_eq!(parse("candle.1h.X").expect("candle").kind, Kind::Candle(Series::H1));
    }

    #[test]
    fn refuses_unknown_kinds_intervals_and_symbols() {
        assert!(matches!(parse("trades.AAPL"), Err(ChannelError::Kind(_))));
        assert!(matches!(parse("AAPL"), Err(ChannelError::Shape(_))));
        assert!(matches!(parse("candle.5m.AAPL"), Err(ChannelError::Series { .. })));
        assert!(matches!(parse("candle.1M.AAPL"), Err(ChannelError::Series { .. })));
        assert!(matches!(parse("candle.1m"), Err(ChannelError::Shape(_))));
        assert!(matches!(parse("trade."), Err(ChannelError::Symbol(_))));
        assert!(matches!(parse("trade.A B"), Err(ChannelError::Symbol(_))));
        assert!(matches!(parse("trade.AB*"), Err(ChannelError::Symbol(_))));
        assert!(matches!(
            parse(&format!("trade.{}", "X".repeat(41))),
            Err(ChannelError::Symbol(_))
        ));
        let only_1m = Channel::parse("candle.1h.X", &[Series::M1]).expect_err("not offered");
        assert!(only_1m.to_string().contains("offers 1m"), "{only_1m}");
    }
}
