//! The websocket clients: N real connections (tokio-tungstenite) on a one-thread runtime of their own, each
//! subscribed to `trade.SYMBOL` for its symbols, recording per trade past the warm-up receipt minus
//! `ts_publish` (tick -> client) and receipt minus `ts_event` (= the receive stamp of the synthetic
//! trade: end to end).

use crate::histogram::LatencyHistogram;
use anyhow::{anyhow, Result};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use tickring_ipc::clock::realtime_ns;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Default)]
struct Recorded {
    publish: LatencyHistogram,
    end_to_end: LatencyHistogram,
    first_ns: u64,
    last_ns: u64,
}

#[derive(Debug)]
struct Shared {
    recorded: Mutex<Recorded>,
    received: AtomicU64,
    stop: AtomicBool,
    skip: u64,
}

/// What the clients measured.
#[derive(Debug, Clone, Default)]
pub struct ClientResult {
    pub publish: LatencyHistogram,
    pub end_to_end: LatencyHistogram,
    /// Trades received past the warm-up.
    pub received: u64,
    pub first_ns: u64,
    pub last_ns: u64,
}

/// The connected clients.
#[derive(Debug)]
pub struct Fleet {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
}

/// Each trade of a frame as (seq, ts_event, ts_publish), scanned without building a JSON tree (what a lean
/// client does). Only trade and price events carry `seq`, and both carry the two stamps after it.
pub fn trade_stamps(text: &str, mut f: impl FnMut(u64, u64, u64)) {
    fn number_after<'a>(rest: &'a str, key: &str) -> Option<(u64, &'a str)> {
        let i = rest.find(key)?;
        let rest = &rest[i + key.len()..];
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        Some((rest[..end].parse().ok()?, &rest[end..]))
    }
    let mut rest = text;
    while let Some((seq, r)) = number_after(rest, "\"seq\":") {
        let Some((event, r)) = number_after(r, "\"ts_event\":") else { return };
        let Some((publish, r)) = number_after(r, "\"ts_publish\":") else { return };
        f(seq, event, publish);
        rest = r;
    }
}

/// Channels of client `i`: `per_client` symbols, round robin over all of them.
pub fn channels(i: usize, per_client: usize, symbols: usize) -> Vec<String> {
    (0..per_client)
        .map(|j| format!("trade.{}", super::feed::symbol((i * per_client + j) % symbols.max(1))))
        .collect()
}

impl Fleet {
    /// Connects `clients` clients to `url` and subscribes them; trades with a ring sequence below `skip`
    /// are not recorded.
    ///
    /// # Errors
    /// A connection or subscription failed.
    pub fn connect(
        url: &str,
        clients: usize,
        per_client: usize,
        symbols: usize,
        skip: u64,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("e2e-clients")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            recorded: Mutex::new(Recorded::default()),
            received: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            skip,
        });
        let streams = runtime.block_on(async {
            let mut streams = Vec::with_capacity(clients);
            for i in 0..clients {
                let (mut ws, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .map_err(|e| anyhow!("websocket client {i} connecting to {url}: {e}"))?;
                let req = serde_json::json!({"op":"subscribe","channels":channels(i, per_client, symbols)});
                ws.send(Message::Text(req.to_string().into()))
                    .await
                    .map_err(|e| anyhow!("websocket client {i} subscribing: {e}"))?;
                streams.push(ws);
            }
            Ok::<_, anyhow::Error>(streams)
        })?;
        for mut ws in streams {
            let shared = Arc::clone(&shared);
            runtime.spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if shared.stop.load(Relaxed) {
                        break;
                    }
                    let Message::Text(text) = msg else { continue };
                    let now = realtime_ns();
                    let mut n = 0;
                    let mut r = shared.recorded.lock().unwrap_or_else(PoisonError::into_inner);
                    trade_stamps(text.as_str(), |seq, event, publish| {
                        if seq >= shared.skip {
                            r.publish.record(now.saturating_sub(publish).max(1));
                            r.end_to_end.record(now.saturating_sub(event).max(1));
                            n += 1;
                        }
                    });
                    if n > 0 {
                        if r.first_ns == 0 {
                            r.first_ns = now;
                        }
                        r.last_ns = now;
                    }
                    drop(r);
                    shared.received.fetch_add(n, Relaxed);
                }
            });
        }
        Ok(Self { runtime, shared })
    }

    /// Trades recorded so far.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Relaxed)
    }

    /// Closes every client and returns what they measured.
    pub fn finish(self) -> ClientResult {
        self.shared.stop.store(true, Relaxed);
        let r = std::mem::take(
            &mut *self.shared.recorded.lock().unwrap_or_else(PoisonError::into_inner),
        );
        self.runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        ClientResult {
            received: r.publish.len(),
            publish: r.publish,
            end_to_end: r.end_to_end,
            first_ns: r.first_ns,
            last_ns: r.last_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_trade_of_a_frame() {
        let frame = r#"[{"type":"trade","seq":7,"price":"1","flags":["regular"],"ts_event":100,"ts_publish":150},
            {"type":"candle","open":"1"},{"type":"trade","seq":8,"ts_event":200,"ts_publish":250}]"#;
        let mut got = Vec::new();
        trade_stamps(frame, |s, e, p| got.push((s, e, p)));
        assert_eq!(got, [(7, 100, 150), (8, 200, 250)]);
        trade_stamps(r#"{"type":"subscribed","channels":[]}"#, |_, _, _| panic!("no trade"));
    }

    #[test]
    fn channels_cover_the_symbols_round_robin() {
        assert_eq!(channels(1, 2, 3), ["trade.E00002.O", "trade.E00000.O"]);
    }
}
