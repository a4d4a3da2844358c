//! Which exchange an instrument trades on, from what the feed tells us about it.
//!
//! Precedence, as specified: (1) the RDN_EXCHD2 exchange code when present and known, (2) the RIC itself
//! (its suffix such as `.O`, or a CME equity-index futures root such as `ESZ6`), (3) the override table.
//! The override table is consulted last, so it fills gaps (RICs with no code and no known suffix); it does not
//! overrule a code or suffix.

use crate::tick::Exchange;
use serde::Deserialize;
use std::collections::HashMap;

/// RIC -> exchange entries for instruments the code and suffix rules cannot place.
///
/// TOML form:
/// ```toml
/// [ric]
/// "VOD.XX" = "XLON"
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeOverrides {
    by_ric: HashMap<String, Exchange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    #[serde(default)]
    ric: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("exchange overrides: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("exchange overrides: {ric:?} maps to unknown MIC {mic:?}")]
    UnknownMic { ric: String, mic: String },
}

impl ExchangeOverrides {
    /// Parses the TOML form shown on the type.
    ///
    /// # Errors
    /// Invalid TOML, unknown keys, or a MIC tickring has no exchange for.
    pub fn from_toml(text: &str) -> Result<Self, OverrideError> {
        let file: OverridesFile = toml::from_str(text)?;
        let mut by_ric = HashMap::with_capacity(file.ric.len());
        for (ric, mic) in file.ric {
            let exchange = Exchange::from_mic(&mic)
                .ok_or_else(|| OverrideError::UnknownMic { ric: ric.clone(), mic })?;
            by_ric.insert(ric, exchange);
        }
        Ok(Self { by_ric })
    }

    pub fn insert(&mut self, ric: impl Into<String>, exchange: Exchange) {
        self.by_ric.insert(ric.into(), exchange);
    }

    pub fn get(&self, ric: &str) -> Option<Exchange> {
        self.by_ric.get(ric).copied()
    }
}

/// Resolves an instrument's exchange: RDN_EXCHD2 first, the RIC second, `overrides` third (see the module doc).
/// An unknown code falls through to the next rule rather than failing.
pub fn resolve_exchange(
    ric: &str,
    rdn_exchd2: Option<&str>,
    overrides: &ExchangeOverrides,
) -> Option<Exchange> {
    rdn_exchd2
        .and_then(exchange_from_exchd2)
        .or_else(|| exchange_from_ric(ric))
        .or_else(|| overrides.get(ric.trim()))
}

/// A MIC (`XNYS`) or, failing that, a RIC (`AAPL.O`, `ESZ6`): what the CLI accepts.
pub fn parse_exchange_or_ric(text: &str) -> Option<Exchange> {
    let text = text.trim();
    Exchange::from_mic(text).or_else(|| exchange_from_ric(text))
}

/// RDN_EXCHD2 as its string code (`NMQ`) or its enum value (`560`), as the feed may send either.
pub fn exchange_from_exchd2(code: &str) -> Option<Exchange> {
    let code = code.trim();
    let by_name = match code.to_ascii_uppercase().as_str() {
        "ASE" => Some(Exchange::Xase),
        "NYS" => Some(Exchange::Xnys),
        "PSE" => Some(Exchange::Arcx),
        "TOR" => Some(Exchange::Xtse),
        "CME" => Some(Exchange::Xcme),
        "NAS" | "NMQ" | "NSM" => Some(Exchange::Xnas),
        "LSE" => Some(Exchange::Xlon),
        "PAR" => Some(Exchange::Xpar),
        "HKG" => Some(Exchange::Xhkg),
        "TYO" => Some(Exchange::Xtks),
        "SHH" => Some(Exchange::Xshg),
        "KSC" | "KOE" => Some(Exchange::Xkrx),
        "ASX" => Some(Exchange::Xasx),
        "GER" => Some(Exchange::Xetr),
        "SHZ" => Some(Exchange::Xshe),
        _ => None,
    };
    by_name.or_else(|| match code.parse::<u32>().ok()? {
        1 => Some(Exchange::Xase),
        2 => Some(Exchange::Xnys),
        5 => Some(Exchange::Arcx),
        10 => Some(Exchange::Xtse),
        20 => Some(Exchange::Xcme),
        43 | 560 | 644 => Some(Exchange::Xnas),
        64 => Some(Exchange::Xlon),
        74 => Some(Exchange::Xpar),
        92 => Some(Exchange::Xhkg),
        106 => Some(Exchange::Xtks),
        144 => Some(Exchange::Xshg),
        156 | 380 => Some(Exchange::Xkrx),
        187 => Some(Exchange::Xasx),
        202 => Some(Exchange::Xetr),
        225 => Some(Exchange::Xshe),
        _ => None,
    })
}

/// The exchange a RIC names by its suffix, or by being a CME equity-index future. A bare symbol is unknown.
pub fn exchange_from_ric(ric: &str) -> Option<Exchange> {
    let ric = ric.trim();
    if let Some((_, suffix)) = ric.rsplit_once('.') {
        return exchange_from_suffix(suffix);
    }
    is_cme_equity_future(ric).then_some(Exchange::Xcme)
}

fn exchange_from_suffix(suffix: &str) -> Option<Exchange> {
    Some(match suffix.to_ascii_uppercase().as_str() {
        "N" => Exchange::Xnys,
        "O" | "OQ" => Exchange::Xnas,
        "A" => Exchange::Xase,
        "KS" | "KQ" => Exchange::Xkrx,
        "T" => Exchange::Xtks,
        "HK" => Exchange::Xhkg,
        "L" => Exchange::Xlon,
        "PA" => Exchange::Xpar,
        "DE" => Exchange::Xetr,
        "SS" => Exchange::Xshg,
        "SZ" => Exchange::Xshe,
        "TO" => Exchange::Xtse,
        "AX" => Exchange::Xasx,
        _ => return None,
    })
}

/// CME Globex equity-index roots: E-mini and Micro S&P 500, Nasdaq-100, Russell 2000, Dow.
const CME_EQUITY_ROOTS: [&str; 8] = ["MES", "MNQ", "M2K", "MYM", "RTY", "ES", "NQ", "YM"];

/// `ROOT` + month code + 1-2 year digits (`ESZ6`, `RTYM25`), or a continuation `ROOT` + `c` + 1-2 digits (`ESc1`).
fn is_cme_equity_future(ric: &str) -> bool {
    CME_EQUITY_ROOTS.iter().any(|root| {
        let Some(rest) = ric.strip_prefix(root) else { return false };
        let mut chars = rest.chars();
        let Some(first) = chars.next() else { return false };
        let digits = chars.as_str();
        let digits_ok =
            (1..=2).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        digits_ok && ("FGHJKMNQUVXZ".contains(first) || first == 'c')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> ExchangeOverrides {
        ExchangeOverrides::default()
    }

    #[test]
    fn exchd2_codes_by_name_and_number() {
        for (code, ex) in [
            ("NMQ", Exchange::Xnas),
            ("NYS", Exchange::Xnys),
            ("ASE", Exchange::Xase),
            ("PSE", Exchange::Arcx),
            ("TOR", Exchange::Xtse),
            ("CME", Exchange::Xcme),
            ("NAS", Exchange::Xnas),
            ("NSM", Exchange::Xnas),
            ("LSE", Exchange::Xlon),
            ("PAR", Exchange::Xpar),
            ("HKG", Exchange::Xhkg),
            ("TYO", Exchange::Xtks),
            ("SHH", Exchange::Xshg),
            ("KSC", Exchange::Xkrx),
            ("KOE", Exchange::Xkrx),
            ("ASX", Exchange::Xasx),
            ("GER", Exchange::Xetr),
            ("SHZ", Exchange::Xshe),
            ("560", Exchange::Xnas),
            ("2", Exchange::Xnys),
            ("1", Exchange::Xase),
            ("5", Exchange::Arcx),
            ("10", Exchange::Xtse),
            ("20", Exchange::Xcme),
            ("43", Exchange::Xnas),
            ("644", Exchange::Xnas),
            ("64", Exchange::Xlon),
            ("74", Exchange::Xpar),
            ("92", Exchange::Xhkg),
            ("106", Exchange::Xtks),
            ("144", Exchange::Xshg),
            ("156", Exchange::Xkrx),
            ("187", Exchange::Xasx),
            ("202", Exchange::Xetr),
            ("225", Exchange::Xshe),
            ("380", Exchange::Xkrx),
            (" nmq ", Exchange::Xnas),
        ] {
            assert_eq!(exchange_from_exchd2(code), Some(ex), "{code}");
        }
        assert_eq!(exchange_from_exchd2("XYZ"), None);
        assert_eq!(exchange_from_exchd2("999"), None);
        assert_eq!(exchange_from_exchd2(""), None);
    }

    #[test]
    fn ric_suffixes() {
        for (ric, ex) in [
            ("IBM.N", Exchange::Xnys),
            ("AAPL.O", Exchange::Xnas),
            ("AAPL.OQ", Exchange::Xnas),
            ("XYZ.A", Exchange::Xase),
            ("005930.KS", Exchange::Xkrx),
            ("035720.KQ", Exchange::Xkrx),
            ("7203.T", Exchange::Xtks),
            ("0005.HK", Exchange::Xhkg),
            ("VOD.L", Exchange::Xlon),
            ("TTEF.PA", Exchange::Xpar),
            ("SAPG.DE", Exchange::Xetr),
            ("600519.SS", Exchange::Xshg),
            ("000001.SZ", Exchange::Xshe),
            ("RY.TO", Exchange::Xtse),
            ("BHP.AX", Exchange::Xasx),
            ("BRKb.N", Exchange::Xnys),
        ] {
            assert_eq!(resolve_exchange(ric, None, &none()), Some(ex), "{ric}");
        }
        for ric in ["AAPL", "", "AAPL.", "AAPL.K", "X.ZZ"] {
            assert_eq!(resolve_exchange(ric, None, &none()), None, "{ric}");
        }
    }

    #[test]
    fn cme_equity_futures() {
        for ric in ["ESZ6", "NQH7", "RTYM5", "YMU4", "ESc1", "NQc2", "MESZ25", "M2KH6"] {
            assert_eq!(resolve_exchange(ric, None, &none()), Some(Exchange::Xcme), "{ric}");
        }
        for ric in ["ES", "ESZ", "ESA6", "ESZ666", "CLZ6", "ESZ6X", "AAPL", "ESc"] {
            assert_eq!(resolve_exchange(ric, None, &none()), None, "{ric}");
        }
    }

    #[test]
    fn precedence_is_code_then_ric_then_overrides() {
        let mut ov = none();
        ov.insert("AAPL.O", Exchange::Xlon);
        ov.insert("WEIRD", Exchange::Xpar);
        // The code wins over a contradicting suffix.
        assert_eq!(resolve_exchange("AAPL.O", Some("NYS"), &ov), Some(Exchange::Xnys));
        // An unknown code falls through to the suffix, and the suffix wins over the override.
        assert_eq!(resolve_exchange("AAPL.O", Some("???"), &ov), Some(Exchange::Xnas));
        // Only when neither places it does the override apply.
        assert_eq!(resolve_exchange("WEIRD", None, &ov), Some(Exchange::Xpar));
        assert_eq!(resolve_exchange("WEIRD", Some("ZZZ"), &ov), Some(Exchange::Xpar));
        assert_eq!(resolve_exchange("OTHER", None, &ov), None);
    }

    #[test]
    fn overrides_load_from_toml_and_refuse_bad_input() {
        let ov =
            ExchangeOverrides::from_toml("[ric]\n\"WEIRD\" = \"XPAR\"\n").expect("valid overrides");
        assert_eq!(ov.get("WEIRD"), Some(Exchange::Xpar));
        assert!(matches!(
            ExchangeOverrides::from_toml("[ric]\n\"W\" = \"XXXX\"\n"),
            Err(OverrideError::UnknownMic { .. })
        ));
        assert!(matches!(ExchangeOverrides::from_toml("[rics]\n"), Err(OverrideError::Toml(_))));
        assert_eq!(ExchangeOverrides::from_toml("").expect("empty is fine"), none());
    }

    #[test]
    fn cli_accepts_mic_or_ric() {
        assert_eq!(parse_exchange_or_ric("XNYS"), Some(Exchange::Xnys));
        assert_eq!(parse_exchange_or_ric("xkrx"), Some(Exchange::Xkrx));
        assert_eq!(parse_exchange_or_ric("AAPL.O"), Some(Exchange::Xnas));
        assert_eq!(parse_exchange_or_ric("ESZ6"), Some(Exchange::Xcme));
        assert_eq!(parse_exchange_or_ric("AAPL"), None);
    }
}
