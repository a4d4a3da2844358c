//! Fixed-point price and quantity: eight decimal places in an `i64`, so sums and candles never round.

use std::fmt;
use std::str::FromStr;

/// Number of decimal places kept by [`Price`] and [`Quantity`].
pub const SCALE_DIGITS: u32 = 8;
/// `10^SCALE_DIGITS`: the raw value of one whole unit.
pub const SCALE: i64 = 100_000_000;

/// Why a decimal text or float could not become a fixed-point value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixedParseError {
    #[error("empty number")]
    Empty,
    #[error("not a decimal number: {0:?}")]
    Invalid(String),
    #[error("more than {SCALE_DIGITS} decimal places: {0:?}")]
    TooPrecise(String),
    #[error("out of range for 8-decimal fixed point: {0}")]
    OutOfRange(String),
    #[error("not a finite number")]
    NotFinite,
}

macro_rules! fixed_point {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " in fixed point: the raw `i64` counts units of 1e-8.")]
        #[repr(transparent)]
        #[derive(
            Clone,
            Copy,
            Default,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            bytemuck::Pod,
            bytemuck::Zeroable,
        )]
        pub struct $name(pub i64);

        impl $name {
            pub const ZERO: Self = Self(0);

            /// The raw count of 1e-8 units.
            pub const fn raw(self) -> i64 {
                self.0
            }

            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// Whole units, for tests and literals: `from_units(5)` is 5.0.
            pub const fn from_units(units: i64) -> Self {
                Self(units * SCALE)
            }

            /// Parses a decimal text such as `"189.84"`, `"-0.5"` or `"1e3"` exactly.
            ///
            /// # Errors
            /// The text is not a number, has more than eight decimals, or is out of range.
            pub fn parse(text: &str) -> Result<Self, FixedParseError> {
                parse_decimal(text).map(Self)
            }

            /// Converts a float from a JSON feed, rounding to the nearest 1e-8.
            ///
            /// # Errors
            /// NaN, infinities and values beyond the `i64` range are refused.
            pub fn from_f64(value: f64) -> Result<Self, FixedParseError> {
                from_f64(value).map(Self)
            }

            /// For display and JSON only; arithmetic stays in fixed point.
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / SCALE as f64
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_decimal(f, self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = FixedParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

fixed_point!(Price, "price");
fixed_point!(Quantity, "traded quantity");

/// Formats a raw fixed-point value with trailing zeros removed (`1.5`, `100`, `-0.00000001`).
pub fn write_decimal(f: &mut impl fmt::Write, raw: i64) -> fmt::Result {
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    let whole = abs / SCALE as u64;
    let frac = abs % SCALE as u64;
    if frac == 0 {
        return write!(f, "{sign}{whole}");
    }
    let mut digits = format!("{frac:08}");
    while digits.ends_with('0') {
        digits.pop();
    }
    write!(f, "{sign}{whole}.{digits}")
}

fn from_f64(value: f64) -> Result<i64, FixedParseError> {
    if !value.is_finite() {
        return Err(FixedParseError::NotFinite);
    }
    let scaled = (value * SCALE as f64).round();
    if scaled >= i64::MAX as f64 || scaled <= i64::MIN as f64 {
        return Err(FixedParseError::OutOfRange(value.to_string()));
    }
    Ok(scaled as i64)
}

fn parse_decimal(text: &str) -> Result<i64, FixedParseError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FixedParseError::Empty);
    }
    let invalid = || FixedParseError::Invalid(text.to_string());
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().map_err(|_| invalid())?),
        None => (t, 0),
    };
    let (negative, digits) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid());
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // Trailing fraction zeros carry no value; dropping them keeps `1.50000000000` in range.
    let frac_part = frac_part.trim_end_matches('0');
    let out_of_range = || FixedParseError::OutOfRange(text.to_string());
    let mut value: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()).skip_while(|&b| b == b'0') {
        value = value * 10 + i128::from(b - b'0');
        // Bounded by the check: at most ~31 digits are ever accumulated, whatever the input length.
        if value > i128::from(i64::MAX) * 1_000_000_000_000 {
            return Err(out_of_range());
        }
    }
    if value == 0 {
        return Ok(0);
    }
    // value = digits * 10^shift in units of 1e-8; i64 arithmetic so no exponent can overflow it.
    let shift = i64::from(exponent) - frac_part.len() as i64 + i64::from(SCALE_DIGITS);
    // 10^38 already exceeds any i64 raw value; a bigger shift needs no loop to know the answer.
    const MAX_SHIFT: i64 = 38;
    if shift > 0 {
        let factor = 10i128.pow(shift.min(MAX_SHIFT) as u32);
        value =
            value.checked_mul(factor).filter(|_| shift <= MAX_SHIFT).ok_or_else(out_of_range)?;
    } else if shift < 0 {
        match 10i128.checked_pow(shift.unsigned_abs().min(MAX_SHIFT as u64 + 1) as u32) {
            Some(d) if value % d == 0 => value /= d,
            _ => return Err(FixedParseError::TooPrecise(text.to_string())),
        }
    }
    let signed = if negative { -value } else { value };
    i64::try_from(signed).map_err(|_| FixedParseError::OutOfRange(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_feed_numbers_exactly() {
        assert_eq!(Price::parse("189.84").unwrap().raw(), 18_984_000_000);
        assert_eq!(Price::parse("-0.00000001").unwrap().raw(), -1);
        assert_eq!(Price::parse("1e3").unwrap(), Price::from_units(1000));
        assert_eq!(Price::parse("1.5E-2").unwrap().raw(), 1_500_000);
        assert_eq!(Quantity::parse("100").unwrap(), Quantity::from_units(100));
        assert_eq!(Price::parse(".5").unwrap().raw(), 50_000_000);
    }

    #[test]
    fn refuses_what_is_not_a_price() {
        assert!(matches!(Price::parse(""), Err(FixedParseError::Empty)));
        assert!(matches!(Price::parse("NaN"), Err(FixedParseError::Invalid(_))));
        assert!(matches!(Price::parse("1.000000001"), Err(FixedParseError::TooPrecise(_))));
        assert!(matches!(Price::parse("1e20"), Err(FixedParseError::OutOfRange(_))));
        assert!(matches!(Price::from_f64(f64::INFINITY), Err(FixedParseError::NotFinite)));
        assert!(matches!(Price::parse("1.2.3"), Err(FixedParseError::Invalid(_))));
    }

    #[test]
    fn huge_exponents_are_refused_at_once() {
        let start = std::time::Instant::now();
        assert!(matches!(Price::parse("1e2147483647"), Err(FixedParseError::OutOfRange(_))));
        assert!(matches!(Price::parse("1e-2147483648"), Err(FixedParseError::TooPrecise(_))));
        assert!(matches!(Price::parse("5e39"), Err(FixedParseError::OutOfRange(_))));
        assert_eq!(Price::parse("0e2147483639"), Ok(Price::ZERO));
        assert_eq!(Price::parse("0e-2147483648"), Ok(Price::ZERO));
        assert!(start.elapsed() < std::time::Duration::from_millis(100), "{:?}", start.elapsed());
    }

    #[test]
    fn trailing_fraction_zeros_do_not_count() {
        assert_eq!(
            Price::parse("1.50000000000000000000000000000000000000").unwrap().raw(),
            150_000_000
        );
        assert_eq!(Price::parse("0.000000010e0").unwrap().raw(), 1);
        assert_eq!(Price::parse("92233720368.54775807").unwrap().raw(), i64::MAX);
        assert!(matches!(
            Price::parse("92233720368.54775808"),
            Err(FixedParseError::OutOfRange(_))
        ));
    }

    #[test]
    fn float_input_rounds_to_the_nearest_unit() {
        assert_eq!(Price::from_f64(0.1 + 0.2).unwrap().raw(), 30_000_000);
        assert_eq!(Price::from_f64(189.84).unwrap(), Price::parse("189.84").unwrap());
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(raw in -9_000_000_000_000_000_000i64..9_000_000_000_000_000_000i64) {
            let p = Price::from_raw(raw);
            prop_assert_eq!(Price::parse(&p.to_string()).unwrap(), p);
        }
    }
}
