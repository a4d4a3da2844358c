//! LSEG (Refinitiv) Real-Time WebSocket API, `tr_json2`: decoding frames into trades, building requests.

mod event;
mod extract;
mod frame;
mod message;
pub mod requests;
mod session;
mod stream;

pub use event::{DataState, FeedEvent, StreamState, StreamStatus};
pub use session::{IdHasher, LsegSession};
