//! Link-level counters of the live client, shared between its thread and whoever reads them.

use crate::feed::Counters;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

macro_rules! stats {
    ($($name:ident: $doc:literal,)*) => {
        /// A snapshot of the client's counters.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct ClientStats {
            $(#[doc = $doc] pub $name: u64,)*
        }

        /// The live counters (relaxed atomics: each is a plain tally read for reporting).
        #[derive(Debug, Default)]
        pub(crate) struct Shared {
            $(pub $name: AtomicU64,)*
            /// The decoder's counters as of its last frame.
            pub decoder: Mutex<Counters>,
        }

        impl Shared {
            pub fn snapshot(&self) -> ClientStats {
                ClientStats { $($name: self.$name.load(Relaxed),)* }
            }
        }
    };
}

stats! {
    connect_attempts: "TCP + websocket connects tried.",
    connect_failures: "Connects that failed (refused, timed out, handshake or subprotocol refused).",
    logins: "Login Refreshes accepted.",
    disconnects: "Connections that ended after the handshake, for any reason.",
    silence_timeouts: "Connections given up because nothing arrived within PingTimeout + slack.",
    pongs_sent: "Pongs answered to server Pings.",
    frames: "Text frames received.",
    bytes: "Bytes of text frames received.",
    trades: "Trades handed on.",
    rejects: "Messages refused by the decoder (each also handed on).",
    closed_streams: "Item streams the server closed (Status or Refresh with a closed stream state).",
    suspect_streams: "Stream states reported with data Suspect.",
    server_errors: "Error messages from the server.",
    channel_full: "Times the ingest side was a full channel behind and the client had to wait.",
}

impl Shared {
    pub fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}
