//! Sorting ClickHouse failures into kinds an operator can act on, for log lines and counters.

use std::fmt;

/// Why an insert or query failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Connection refused or reset: the server is down or the URL is wrong.
    Unreachable,
    /// No answer within `request_timeout_ms`: the server is overloaded or stuck.
    Timeout,
    /// Unknown user or wrong password (codes 192, 193, 194, 516).
    Credentials,
    /// Out of memory or disk (codes 241, 243): the server is full.
    Full,
    /// Too many parts (code 252, "Too many parts"): inserts come faster than merges; back off.
    TooManyParts,
    /// One insert spans more partitions than the server accepts (code 252, "Too many partitions"):
    /// the same insert fails again however long the writer waits.
    TooManyPartitions,
    /// The table or its columns are not what the writer writes (codes 16, 44, 47, 53, 60, 81), or the
    /// server cannot parse what it sends (27, 62): a build or a schema to fix, not a moment to wait.
    Schema,
    /// Any other error the server answered with.
    Server,
}

impl FailureKind {
    pub fn of(error: &clickhouse::error::Error) -> Self {
        use clickhouse::error::Error;
        match error {
            Error::Network(_) => Self::Unreachable,
            Error::TimedOut => Self::Timeout,
            Error::BadResponse(text) => match server_code(text) {
                Some(192 | 193 | 194 | 516) => Self::Credentials,
                Some(241 | 243) => Self::Full,
                Some(252) if text.contains("partitions") => Self::TooManyPartitions,
                Some(252) => Self::TooManyParts,
                Some(16 | 27 | 44 | 47 | 53 | 60 | 62 | 81) => Self::Schema,
                _ => Self::Server,
            },
            _ => Self::Server,
        }
    }

    /// Retrying cannot help: the writer stops with this error (and a non-zero exit) instead of wedging.
    /// Unknown server errors count as retriable: stopping on them could strand data a retry would write.
    pub fn is_permanent(self) -> bool {
        matches!(self, Self::Credentials | Self::TooManyPartitions | Self::Schema)
    }

    pub fn hint(self) -> &'static str {
        match self {
            Self::Unreachable => "server unreachable: is it running (scripts/clickhouse.sh status), is clickhouse.url right?",
            Self::Timeout => "no answer within clickhouse.request_timeout_ms: server overloaded or stuck",
            Self::Credentials => "authentication failed: check clickhouse.user and the password",
            Self::Full => "server out of memory or disk",
            Self::TooManyParts => "too many parts: inserts outpace merges; raise max_rows or flush_interval_ms",
            Self::TooManyPartitions => "one insert spans too many partitions (ticks of many months in one batch): lower clickhouse.max_rows or raise the server's max_partitions_per_insert_block",
            Self::Schema => "the server's tables or SQL do not match this writer: check clickhouse.database and the table definitions (docs/clickhouse.md)",
            Self::Server => "server rejected the request",
        }
    }

    pub const ALL: [FailureKind; 8] = [
        Self::Unreachable,
        Self::Timeout,
        Self::Credentials,
        Self::Full,
        Self::TooManyParts,
        Self::TooManyPartitions,
        Self::Schema,
        Self::Server,
    ];

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::Credentials => "credentials",
            Self::Full => "full",
            Self::TooManyParts => "too_many_parts",
            Self::TooManyPartitions => "too_many_partitions",
            Self::Schema => "schema",
            Self::Server => "server_error",
        })
    }
}

/// The `Code: N` a ClickHouse error text starts with (any version).
fn server_code(text: &str) -> Option<u32> {
    let rest = &text[text.find("Code: ")? + "Code: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse::error::Error;

    #[test]
    fn reads_server_codes() {
        let bad = |t: &str| FailureKind::of(&Error::BadResponse(t.into()));
        assert_eq!(
            bad("Code: 193, e.displayText() = DB::Exception: Wrong password"),
            FailureKind::Credentials
        );
        assert_eq!(
            bad("Code: 516. DB::Exception: default: Authentication failed"),
            FailureKind::Credentials
        );
        assert_eq!(
            bad("Code: 252, e.displayText() = DB::Exception: Too many parts"),
            FailureKind::TooManyParts
        );
        assert_eq!(
            bad("Code: 252, e.displayText() = DB::Exception: Too many partitions for single INSERT block (more than 100)"),
            FailureKind::TooManyPartitions
        );
        assert_eq!(bad("Code: 60. Table doesn't exist"), FailureKind::Schema);
        assert_eq!(bad("Code: 999. Something new"), FailureKind::Server);
        assert!(FailureKind::TooManyPartitions.is_permanent());
        assert!(FailureKind::Credentials.is_permanent());
        assert!(!FailureKind::TooManyParts.is_permanent());
        assert!(!FailureKind::Unreachable.is_permanent());
        assert_eq!(bad("garbage"), FailureKind::Server);
        assert_eq!(FailureKind::of(&Error::TimedOut), FailureKind::Timeout);
    }
}
