//! One module per subcommand; each turns arguments into calls on the library crates.

pub mod bench_clickhouse;
pub mod session;
pub mod sink_clickhouse;
pub mod status;
