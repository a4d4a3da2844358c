//! Reading one field value from its raw JSON text: numbers kept as text so prices parse exactly.

use crate::fixed::{FixedParseError, Price, SCALE};
use std::borrow::Cow;

/// A field value as it appears on the wire, before it is given a meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawField<'a> {
    Null,
    /// A JSON number, as its exact text.
    Number(&'a str),
    /// A JSON string, unescaped (borrowed unless it held escapes).
    Text(Cow<'a, str>),
    /// An object, array or boolean: never a valid field value.
    Other,
}

impl<'a> RawField<'a> {
    /// Classifies the raw text of one JSON value (as cut out by serde_json's `RawValue`).
    pub fn from_json(raw: &'a str) -> Self {
        let raw = raw.trim();
        match raw.as_bytes().first() {
            Some(b'n') if raw == "null" => Self::Null,
            Some(b'-' | b'0'..=b'9') => Self::Number(raw),
            Some(b'"') if raw.len() >= 2 => {
                let inner = &raw[1..raw.len() - 1];
                if inner.contains('\\') {
                    serde_json::from_str::<String>(raw)
                        .map_or(Self::Other, |s| Self::Text(Cow::Owned(s)))
                } else {
                    Self::Text(Cow::Borrowed(inner))
                }
            }
            _ => Self::Other,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

/// Why a field value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("wrong JSON type")]
    WrongType,
    #[error("not a finite number")]
    NonFinite,
    #[error("not a decimal number")]
    Invalid,
    #[error("more than 8 decimals or out of range")]
    OutOfRange,
}

impl From<FixedParseError> for ValueError {
    fn from(e: FixedParseError) -> Self {
        match e {
            FixedParseError::NotFinite => Self::NonFinite,
            FixedParseError::Empty | FixedParseError::Invalid(_) => Self::Invalid,
            FixedParseError::TooPrecise(_) | FixedParseError::OutOfRange(_) => Self::OutOfRange,
        }
    }
}

/// Reads a Real field into raw 1e-8 units, exactly: JSON numbers, decimal strings, and the feed's
/// `"Inf"`/`"-Inf"`/`"NaN"` (refused as non-finite).
pub fn fixed(value: &RawField<'_>) -> Result<i64, ValueError> {
    match value {
        RawField::Number(text) => parse_fixed(text),
        RawField::Text(text) => match text.as_ref() {
            "NaN" | "Inf" | "-Inf" | "+Inf" | "Infinity" | "-Infinity" => {
                Err(ValueError::NonFinite)
            }
            t => parse_fixed(t),
        },
        RawField::Null | RawField::Other => Err(ValueError::WrongType),
    }
}

/// Exact decimal parse with a fast path for the plain `-?digits[.digits]` the feed sends; anything
/// else (exponents, signs) goes through [`Price::parse`], which allocates.
pub fn parse_fixed(text: &str) -> Result<i64, ValueError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut whole: i64 = 0;
    let mut i = 0;
    while i < rest.len() && rest[i].is_ascii_digit() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(i64::from(rest[i] - b'0')))
            .ok_or(ValueError::OutOfRange)?;
        i += 1;
    }
    let int_digits = i;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    if i < rest.len() && rest[i] == b'.' {
        i += 1;
        while i < rest.len() && rest[i].is_ascii_digit() {
            if frac_digits == 8 {
                // Trailing zeros beyond the scale are harmless; anything else is too precise.
                if rest[i] != b'0' {
                    return Err(ValueError::OutOfRange);
                }
            } else {
                frac = frac * 10 + i64::from(rest[i] - b'0');
                frac_digits += 1;
            }
            i += 1;
        }
    }
    if i != rest.len() {
        return Price::parse(text).map(Price::raw).map_err(ValueError::from);
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err(ValueError::Invalid);
    }
    let scaled_frac = frac * 10i64.pow(8 - frac_digits);
    let value = whole
        .checked_mul(SCALE)
        .and_then(|w| w.checked_add(scaled_frac))
        .ok_or(ValueError::OutOfRange)?;
    Ok(if negative { -value } else { value })
}

/// Reads an enum-like field (exchange code, condition) as text: strings as they are, integers as digits.
pub fn text<'a>(value: &'a RawField<'a>) -> Result<&'a str, ValueError> {
    match value {
        RawField::Text(t) => Ok(t.as_ref()),
        RawField::Number(n) if n.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ValueError::WrongType),
    }
}

/// Reads a trade id: numeric ids as they are, anything else hashed (FNV-1a 64, stable across runs).
pub fn trade_id(value: &RawField<'_>) -> Result<u64, ValueError> {
    let text = match value {
        RawField::Number(n) => *n,
        RawField::Text(t) => t.as_ref(),
        RawField::Null | RawField::Other => return Err(ValueError::WrongType),
    };
    Ok(text.parse::<u64>().unwrap_or_else(|_| fnv1a(text.as_bytes())))
}

/// FNV-1a 64-bit: simple, stable across builds and platforms, good enough to tell trade ids apart.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classifies_raw_json() {
        assert_eq!(RawField::from_json("null"), RawField::Null);
        assert_eq!(RawField::from_json("189.84"), RawField::Number("189.84"));
        assert_eq!(RawField::from_json("\"NMQ\""), RawField::Text(Cow::Borrowed("NMQ")));
        assert_eq!(RawField::from_json(r#""A\u0042""#), RawField::Text(Cow::Owned("AB".into())));
        assert_eq!(RawField::from_json("true"), RawField::Other);
        assert_eq!(RawField::from_json("[1]"), RawField::Other);
    }

    #[test]
    fn reads_prices_exactly_and_refuses_non_finite() {
        assert_eq!(fixed(&RawField::Number("189.84")), Ok(18_984_000_000));
        assert_eq!(fixed(&RawField::Number("-0.5")), Ok(-50_000_000));
        assert_eq!(fixed(&RawField::Number("1.5e2")), Ok(15_000_000_000));
        assert_eq!(fixed(&RawField::Number("1.123456780")), Ok(112_345_678));
        assert_eq!(fixed(&RawField::Number("1.000000001")), Err(ValueError::OutOfRange));
        assert_eq!(fixed(&RawField::Text("NaN".into())), Err(ValueError::NonFinite));
        assert_eq!(fixed(&RawField::Text("-Inf".into())), Err(ValueError::NonFinite));
        assert_eq!(fixed(&RawField::Text("12.5".into())), Ok(1_250_000_000));
        assert_eq!(fixed(&RawField::Text("abc".into())), Err(ValueError::Invalid));
        assert_eq!(fixed(&RawField::Number("99999999999999999999")), Err(ValueError::OutOfRange));
        assert_eq!(fixed(&RawField::Other), Err(ValueError::WrongType));
    }

    #[test]
    fn reads_enums_and_ids() {
        assert_eq!(text(&RawField::Number("132")), Ok("132"));
        assert_eq!(text(&RawField::Text("NMQ".into())), Ok("NMQ"));
        assert_eq!(text(&RawField::Number("1.5")), Err(ValueError::WrongType));
        assert_eq!(trade_id(&RawField::Number("12345")), Ok(12345));
        assert_eq!(trade_id(&RawField::Text("A1B2".into())), Ok(fnv1a(b"A1B2")));
        // Pinned: the hash must never change between versions.
        assert_eq!(fnv1a(b"A1B2"), 0x2aba_198c_8c22_3e97);
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_price_parse(whole in 0i64..10_000_000_000, frac in 0u32..100_000_000, digits in 0usize..9, neg: bool) {
            let frac_text = format!("{frac:08}");
            let text = if digits == 0 {
                format!("{}{whole}", if neg { "-" } else { "" })
            } else {
                format!("{}{whole}.{}", if neg { "-" } else { "" }, &frac_text[..digits])
            };
            let expected = Price::parse(&text).map(Price::raw).map_err(ValueError::from);
            prop_assert_eq!(parse_fixed(&text), expected);
        }
    }
}
