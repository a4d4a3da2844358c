//! Timestamps in replay files: RFC 3339 text or integer nanoseconds since the epoch, UTC.

use crate::mapping::value::RawField;

/// Reads `"2026-07-15T13:30:00.123456789Z"` (any offset) or an integer ns count.
pub(crate) fn parse_ts(value: &RawField<'_>) -> Option<u64> {
    match value {
        RawField::Number(n) => n.parse::<u64>().ok(),
        RawField::Text(t) => rfc3339_ns(t),
        RawField::Null | RawField::Other => None,
    }
}

pub(crate) fn rfc3339_ns(text: &str) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    u64::try_from(t.timestamp_nanos_opt()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(rfc3339_ns("1970-01-01T01:00:01+01:00"), Some(1_000_000_000));
        assert_eq!(parse_ts(&RawField::Number("42")), Some(42));
        assert_eq!(parse_ts(&RawField::Number("-42")), None);
        assert_eq!(rfc3339_ns("1969-12-31T23:59:59Z"), None);
        assert_eq!(rfc3339_ns("yesterday"), None);
    }
}
