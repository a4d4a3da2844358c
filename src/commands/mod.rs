//! One module per subcommand; each turns arguments into calls on the library crates.

pub mod bench;
pub mod bench_clickhouse;
mod bench_find_max;
pub mod bench_journal;
pub mod bench_websocket;
pub mod calendar;
pub mod candles;
pub mod feeds;
pub mod ingest;
pub mod journal;
pub mod record;
pub mod session;
pub mod sink_clickhouse;
pub mod sink_websocket;
pub mod status;
pub mod stop_flag;
pub mod supervisor;
pub mod up;
