//! Turnover (sum of price * size) kept exact, and the VWAP derived from it.

use crate::fixed::{Price, Quantity, SCALE_DIGITS};
use std::fmt;

/// Decimal places of a [`Turnover`]: the product of two 8-decimal values.
pub const TURNOVER_DIGITS: u32 = 2 * SCALE_DIGITS;

/// Sum of `price * size`, exact: the raw `i128` counts units of 1e-16 (price raw times size raw).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Turnover(pub i128);

impl Turnover {
    pub const ZERO: Self = Self(0);

    /// The value of one trade. Two `i64` factors cannot overflow an `i128`.
    pub fn of_trade(price: Price, size: Quantity) -> Self {
        Self(i128::from(price.raw()) * i128::from(size.raw()))
    }

    pub const fn raw(self) -> i128 {
        self.0
    }

    /// `None` on `i128` overflow (beyond about 1.7e22 currency units).
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// Volume-weighted average price `turnover / volume`, rounded half-to-even to 1e-8.
    ///
    /// `None` when `volume` is not positive or the quotient does not fit a [`Price`].
    pub fn vwap(self, volume: Quantity) -> Option<Price> {
        let v = i128::from(volume.raw());
        if v <= 0 {
            return None;
        }
        // Raw units: (1e-16) / (1e-8) = 1e-8, so the integer quotient is already a raw price.
        let (q, r) = (self.0.div_euclid(v), self.0.rem_euclid(v));
        // `r` is in [0, v); round up past the half, and at exactly half only when `q` is odd.
        let twice = 2 * r;
        let rounded = if twice > v || (twice == v && q.rem_euclid(2) == 1) { q + 1 } else { q };
        i64::try_from(rounded).ok().map(Price::from_raw)
    }
}

/// Writes a raw 16-decimal value with trailing zeros removed (`12.5`, `-0.0000000000000001`).
pub fn write_turnover(f: &mut impl fmt::Write, raw: i128) -> fmt::Result {
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    let scale = 10u128.pow(TURNOVER_DIGITS);
    let (whole, frac) = (abs / scale, abs % scale);
    if frac == 0 {
        return write!(f, "{sign}{whole}");
    }
    let mut digits = [0u8; TURNOVER_DIGITS as usize];
    let mut rest = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    write!(f, "{sign}{whole}.")?;
    digits[..len].iter().try_for_each(|&d| f.write_char(char::from(d)))
}

impl fmt::Display for Turnover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_turnover(f, self.0)
    }
}

impl fmt::Debug for Turnover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Turnover({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Price {
        s.parse().expect("test value")
    }
    fn q(s: &str) -> Quantity {
        s.parse().expect("test value")
    }

    #[test]
    fn trade_value_is_exact() {
        let t = Turnover::of_trade(p("189.84"), q("0.00000003"));
        assert_eq!(t.to_string(), "0.0000056952");
        assert_eq!(Turnover::of_trade(p("-1.5"), q("2")).to_string(), "-3");
        assert_eq!(Turnover::ZERO.to_string(), "0");
        assert_eq!(Turnover(1).to_string(), "0.0000000000000001");
        assert_eq!(Turnover(-1).to_string(), "-0.0000000000000001");
    }

    #[test]
    fn vwap_rounds_half_to_even() {
        // 1e-8 * 1 + 0 * 1 over 2 units: exactly half of 1e-8 -> rounds to even 0.
        let t = Turnover::of_trade(Price::from_raw(1), q("1"));
        assert_eq!(t.vwap(q("2")), Some(Price::from_raw(0)));
        // 3e-8 over 2 units = 1.5e-8 -> 2e-8 (even).
        let t = Turnover::of_trade(Price::from_raw(3), q("1"));
        assert_eq!(t.vwap(q("2")), Some(Price::from_raw(2)));
        // -1.5e-8 -> -2e-8 (even); -0.5e-8 -> 0.
        assert_eq!(
            Turnover::of_trade(Price::from_raw(-3), q("1")).vwap(q("2")),
            Some(Price::from_raw(-2))
        );
        assert_eq!(
            Turnover::of_trade(Price::from_raw(-1), q("1")).vwap(q("2")),
            Some(Price::from_raw(0))
        );
        // 1e-8 over 3 units -> 0.33e-8 -> 0; 2e-8 over 3 -> 0.67e-8 -> 1e-8.
        assert_eq!(
            Turnover::of_trade(Price::from_raw(2), q("1")).vwap(q("3")),
            Some(Price::from_raw(1))
        );
        assert_eq!(Turnover::of_trade(p("10"), q("1")).vwap(Quantity::ZERO), None);
    }

    #[test]
    fn vwap_of_two_trades() {
        let t = Turnover::of_trade(p("100"), q("1"))
            .checked_add(Turnover::of_trade(p("101"), q("3")))
            .expect("test value");
        assert_eq!(t.vwap(q("4")), Some(p("100.75")));
    }

    proptest! {
        #[test]
        fn vwap_matches_exact_rational_rounding(turn in -(1i128 << 100)..(1i128 << 100), vol in 1i64..i64::MAX) {
            let got = Turnover(turn).vwap(Quantity::from_raw(vol));
            // Reference: compare |turn - k*vol| for the two nearest k, ties to even.
            let v = i128::from(vol);
            let lo = turn.div_euclid(v);
            let (dlo, dhi) = (turn - lo * v, (lo + 1) * v - turn);
            let want = match dlo.cmp(&dhi) {
                std::cmp::Ordering::Less => lo,
                std::cmp::Ordering::Greater => lo + 1,
                std::cmp::Ordering::Equal => if lo % 2 == 0 { lo } else { lo + 1 },
            };
            prop_assert_eq!(got, i64::try_from(want).ok().map(Price::from_raw));
        }
    }
}
