//! One module per subcommand; each turns arguments into calls on the library crates.

pub mod bench_websocket;
pub mod session;
pub mod sink_websocket;
pub mod status;
