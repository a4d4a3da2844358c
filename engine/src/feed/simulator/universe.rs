//! The simulated instruments: built-in symbols per exchange with plausible prices, tick sizes and lots.

use crate::fixed::SCALE;
use crate::tick::Exchange;

/// What an exchange's simulated instruments look like.
pub(super) struct Profile {
    pub exchange: Exchange,
    /// The RDN_EXCHD2 code a real feed would send.
    pub code: &'static str,
    /// Built-in symbols and their starting prices.
    pub symbols: &'static [(&'static str, f64)],
    /// RIC suffix of synthetic symbols beyond the built-in ones.
    pub suffix: &'static str,
    /// Shares per board lot (sizes are multiples, US odd lots aside).
    pub lot: u64,
}

pub(super) const PROFILES: &[Profile] = &[
    Profile {
        exchange: Exchange::Xnys,
        code: "NYS",
        symbols: &[
            ("IBM.N", 250.0),
            ("JPM.N", 290.0),
            ("KO.N", 70.0),
            ("XOM.N", 115.0),
            ("GE.N", 280.0),
            ("BA.N", 215.0),
            ("DIS.N", 112.0),
            ("WMT.N", 98.0),
        ],
        suffix: ".N",
        lot: 100,
    },
    Profile {
        exchange: Exchange::Xnas,
        code: "NSM",
        symbols: &[
            ("AAPL.O", 230.0),
            ("MSFT.O", 505.0),
            ("NVDA.O", 180.0),
            ("AMZN.O", 225.0),
            ("GOOGL.O", 195.0),
            ("META.O", 760.0),
            ("TSLA.O", 330.0),
            ("INTC.O", 24.0),
        ],
        suffix: ".O",
        lot: 100,
    },
    Profile {
        exchange: Exchange::Xcme,
        code: "CME",
        symbols: &[
            ("ESZ6", 6450.0),
            ("NQZ6", 23500.0),
            ("YMZ6", 45000.0),
            ("RTYZ6", 2300.0),
            ("ESH7", 6500.0),
            ("NQH7", 23700.0),
            ("YMH7", 45300.0),
            ("RTYH7", 2320.0),
        ],
        suffix: "",
        lot: 1,
    },
    Profile {
        exchange: Exchange::Xkrx,
        code: "KSC",
        symbols: &[
            ("005930.KS", 71000.0),
            ("000660.KS", 265000.0),
            ("035420.KS", 215000.0),
            ("005380.KS", 230000.0),
            ("051910.KS", 320000.0),
            ("068270.KS", 180000.0),
        ],
        suffix: ".KS",
        lot: 1,
    },
    Profile {
        exchange: Exchange::Xtks,
        code: "TYO",
        symbols: &[
            ("7203.T", 2800.0),
            ("6758.T", 3500.0),
            ("9984.T", 15000.0),
            ("8306.T", 2100.0),
            ("6861.T", 60000.0),
            ("9432.T", 150.0),
        ],
        suffix: ".T",
        lot: 100,
    },
    Profile {
        exchange: Exchange::Xlon,
        code: "LSE",
        symbols: &[
            ("VOD.L", 72.0),
            ("HSBA.L", 950.0),
            ("BP.L", 420.0),
            ("AZN.L", 11500.0),
            ("SHEL.L", 2700.0),
            ("ULVR.L", 4700.0),
        ],
        suffix: ".L",
        lot: 1,
    },
    Profile {
        exchange: Exchange::Xhkg,
        code: "HKG",
        symbols: &[
            ("0700.HK", 600.0),
            ("0005.HK", 98.0),
            ("9988.HK", 120.0),
            ("1299.HK", 72.0),
            ("0941.HK", 85.0),
            ("3690.HK", 130.0),
        ],
        suffix: ".HK",
        lot: 100,
    },
];

pub(super) fn profile(exchange: Exchange) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.exchange == exchange)
}

fn units(u: f64) -> i64 {
    (u * SCALE as f64).round() as i64
}

/// The minimum price step at `price` (raw fixed-point), per the exchange's tick table (simplified where
/// the real one depends on liquidity bands).
pub(super) fn tick_size(exchange: Exchange, symbol: &str, price: i64) -> i64 {
    let p = price as f64 / SCALE as f64;
    let band = |table: &[(f64, f64)], last: f64| {
        table.iter().find(|(below, _)| p < *below).map_or(last, |(_, t)| *t)
    };
    units(match exchange {
        Exchange::Xcme => match symbol.trim_end_matches(|c: char| c.is_ascii_digit()) {
            r if r.starts_with("YM") => 1.0,
            r if r.starts_with("RTY") => 0.1,
            _ => 0.25,
        },
        Exchange::Xkrx => band(
            &[
                (2000.0, 1.0),
                (5000.0, 5.0),
                (20000.0, 10.0),
                (50000.0, 50.0),
                (200000.0, 100.0),
                (500000.0, 500.0),
            ],
            1000.0,
        ),
        Exchange::Xtks => {
            band(&[(3000.0, 1.0), (5000.0, 5.0), (30000.0, 10.0), (50000.0, 50.0)], 100.0)
        }
        Exchange::Xlon => {
            band(&[(50.0, 0.01), (100.0, 0.02), (500.0, 0.1), (1000.0, 0.2), (5000.0, 1.0)], 2.0)
        }
        Exchange::Xhkg => band(
            &[
                (0.25, 0.001),
                (0.5, 0.005),
                (10.0, 0.01),
                (20.0, 0.02),
                (100.0, 0.05),
                (200.0, 0.1),
                (500.0, 0.2),
                (1000.0, 0.5),
                (2000.0, 1.0),
            ],
            2.0,
        ),
        _ => band(&[(1.0, 0.0001)], 0.01),
    })
}

/// A symbol's starting price: the built-in one, else a deterministic pick from its name.
pub(super) fn start_price(profile: Option<&Profile>, symbol: &str) -> i64 {
    let known =
        profile.and_then(|p| p.symbols.iter().find(|(s, _)| *s == symbol)).map(|(_, px)| *px);
    units(
        known.unwrap_or_else(|| {
            10.0 + (crate::mapping::value::fnv1a(symbol.as_bytes()) % 490) as f64
        }),
    )
}

/// The `n`-th symbol of an exchange: a built-in one, then synthetic names with the exchange's suffix.
pub(super) fn nth_symbol(profile: &Profile, n: usize) -> String {
    match profile.symbols.get(n) {
        Some((s, _)) => (*s).to_string(),
        None if profile.exchange == Exchange::Xcme => {
            let roots = ["ES", "NQ", "YM", "RTY"];
            let month = b"HMUZ"[(n / roots.len()) % 4] as char;
            format!("{}{}{}", roots[n % roots.len()], month, 7 + n / 16)
        }
        None => format!("SIM{n:03}{}", profile.suffix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_tables_follow_price_bands() {
        assert_eq!(tick_size(Exchange::Xnas, "AAPL.O", units(230.0)), units(0.01));
        assert_eq!(tick_size(Exchange::Xnas, "X.O", units(0.5)), units(0.0001));
        assert_eq!(tick_size(Exchange::Xcme, "ESZ6", units(6450.0)), units(0.25));
        assert_eq!(tick_size(Exchange::Xcme, "YMZ6", units(45000.0)), units(1.0));
        assert_eq!(tick_size(Exchange::Xkrx, "005930.KS", units(71000.0)), units(100.0));
        assert_eq!(tick_size(Exchange::Xhkg, "0700.HK", units(600.0)), units(0.5));
        assert_eq!(nth_symbol(profile(Exchange::Xnys).unwrap(), 9), "SIM009.N");
        assert_eq!(nth_symbol(profile(Exchange::Xcme).unwrap(), 8), "ESU7");
    }
}
