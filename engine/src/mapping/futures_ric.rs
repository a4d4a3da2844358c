//! Futures RICs: a root, a month code and the year's last digit(s), e.g. `ESZ6`, `CLF27`.

/// The CME month codes, January to December.
pub const MONTH_CODES: &[u8; 12] = b"FGHJKMNQUVXZ";

/// True when `ric` is an uppercase root of 1..=`root_max` letters, a month code and
/// 1..=`year_digits_max` digits, with nothing after (no exchange suffix, no continuation `c1`).
pub fn is_futures_ric(ric: &str, root_max: u8, year_digits_max: u8) -> bool {
    let b = ric.as_bytes();
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > usize::from(year_digits_max) || b.len() < digits + 2 {
        return false;
    }
    let letters = &b[..b.len() - digits];
    let (root, month) = letters.split_at(letters.len() - 1);
    MONTH_CODES.contains(&month[0])
        && (1..=usize::from(root_max)).contains(&root.len())
        && root.iter().all(u8::is_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_outright_contracts_only() {
        assert!(is_futures_ric("ESZ6", 3, 2));
        assert!(is_futures_ric("CLF27", 3, 2));
        assert!(is_futures_ric("NQH7", 3, 2));
        assert!(!is_futures_ric("ESc1", 3, 2));
        assert!(!is_futures_ric("AAPL.O", 3, 2));
        assert!(!is_futures_ric("IBM.N", 3, 2));
        assert!(!is_futures_ric("ESA6", 3, 2), "A is no month code");
        assert!(!is_futures_ric("Z6", 3, 2), "a root is needed");
        assert!(!is_futures_ric("ABCDZ6", 3, 2), "root too long");
        assert!(!is_futures_ric("ESZ2026", 3, 2));
        assert!(!is_futures_ric("", 3, 2));
    }
}
