//! What stops the writer, each with what to do about it. Transient ClickHouse failures never get here: they
//! are retried (see `backoff.rs`).

use crate::config::ConfigError;
use tickring_ipc::RingError;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("ring: {0}")]
    Ring(#[from] RingError),
    #[error("table {table} exists with an incompatible schema ({differences}); drop or rename it, or point clickhouse.database elsewhere")]
    IncompatibleTable { table: String, differences: String },
    #[error("ClickHouse {what}: {source}")]
    Clickhouse {
        what: &'static str,
        #[source]
        source: clickhouse::error::Error,
    },
    #[error("stopped by a signal while ClickHouse was failing ({last_error}); nothing unacknowledged counts as stored, so a restart writes the pending rows from the journal")]
    StoppedDuringOutage { last_error: String },
    #[error("ClickHouse refused {what} for good ({kind}: {hint}): {message}")]
    Permanent { what: String, kind: crate::FailureKind, hint: &'static str, message: String },
    #[error(transparent)]
    Stream(#[from] tickring_sink_core::StreamError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}
