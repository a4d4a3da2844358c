//! One module per subcommand; each turns arguments into calls on the library crates.

pub mod bench;
pub mod record;
pub mod session;
pub mod status;
