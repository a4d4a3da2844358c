//! Server-wide counters: connections, refusals, errors by kind, slow-client actions, ring overruns.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

macro_rules! counters {
    ($($name:ident: $doc:literal,)*) => {
        /// Live counters (relaxed atomics; read with [`Stats::snapshot`]).
        #[derive(Debug, Default)]
        pub struct Stats {
            $(#[doc = $doc] pub $name: AtomicU64,)*
        }

        /// A copy of the counters at one moment (served at `/stats`).
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
        pub struct StatsSnapshot {
            $(#[doc = $doc] pub $name: u64,)*
        }

        impl Stats {
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Relaxed),)* }
            }

            /// The counters in Prometheus text format (served at `/metrics`).
            pub fn prometheus(&self) -> String {
                use std::fmt::Write as _;
                let mut out = String::new();
                $(
                    let kind = if stringify!($name) == "connections_open" { "gauge" } else { "counter" };
                    let _ = writeln!(
                        out,
                        "# HELP tickring_websocket_{0} {1}\n# TYPE tickring_websocket_{0} {2}\ntickring_websocket_{0} {3}",
                        stringify!($name),
                        $doc,
                        kind,
                        self.$name.load(Relaxed)
                    );
                )*
                out
            }
        }
    };
}

counters! {
    connections_open: "Websocket connections open now.",
    connections_total: "Websocket connections accepted since start.",
    http_requests: "Plain HTTP requests served (page, assets, stats).",
    refused_connections: "Upgrades refused: over max_connections.",
    refused_auth: "Upgrades refused: missing or wrong token.",
    refused_origin: "Upgrades refused: origin not allowed.",
    bad_handshakes: "Connections that sent no valid HTTP request in time (half-open, garbage, too big).",
    evicted_handshakes: "Connections closed in their handshake to make room (max_handshakes, max_handshakes_per_addr).",
    refused_http: "HTTP requests answered 503: over max_http_connections.",
    http_write_timeouts: "HTTP answers abandoned: not taken within http_write_timeout_ms.",
    errors_bad_json: "Inbound text frames that were not JSON.",
    errors_bad_request: "Inbound JSON that was not a valid request (missing fields, unknown op).",
    errors_unknown_channel: "Channels refused in subscribe/unsubscribe.",
    errors_subscription_limit: "Subscribes refused: over max_subscriptions.",
    errors_rate_limited: "Inbound messages refused: over max_messages_per_sec.",
    errors_snapshot_limit: "Subscribes refused: over snapshot_events_per_sec.",
    subscriptions_unknown_symbol: "Channels subscribed to a symbol no tick has carried yet (named in the ack's unknown_symbols).",
    errors_binary: "Binary frames received (not supported).",
    closed_frame_too_large: "Connections closed for a frame over max_frame_bytes.",
    closed_rate_limit: "Connections closed for flooding past the rate limit.",
    closed_slow: "Connections closed for staying behind (slow consumer).",
    closed_ping_timeout: "Connections closed for not answering pings.",
    closed_control_overflow: "Connections closed for not reading replies.",
    closed_memory_budget: "Connections shed (largest first) for holding the most when client queues were over queue_memory_budget_bytes.",
    messages_in: "Inbound text frames handled.",
    messages_out: "Messages sent to clients.",
    frames_out: "Frames sent to clients (each a JSON array of messages).",
    trades_dropped: "Trades and updates dropped for slow clients.",
    updates_conflated: "Price/candle updates replaced by a newer one before they were sent.",
    ticks_in: "Ticks read from the ring.",
    ring_overruns: "Times the ring reader was lapped by the producer.",
    ring_missed: "Ticks skipped because the ring reader was lapped.",
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}

#[cfg(test)]
mod prometheus_tests {
    use super::*;

    #[test]
    fn every_counter_is_exposed_with_help_and_type() {
        let stats = Stats::default();
        Stats::add(&stats.ticks_in, 7);
        let text = stats.prometheus();
        assert!(text.contains("# TYPE tickring_websocket_connections_open gauge"));
        assert!(text
            .contains("# TYPE tickring_websocket_ticks_in counter\ntickring_websocket_ticks_in 7"));
        assert_eq!(text.lines().filter(|l| l.starts_with("# HELP")).count(), 32);
    }
}
