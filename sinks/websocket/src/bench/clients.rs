//! The benchmark's clients: N websocket connections on their own one-thread runtime, each subscribed to
//! `trade.SYMBOL` for its symbols, recording receipt time minus `ts_publish` of every trade.

use super::{load::symbol, BenchError, BenchOptions};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::Producer;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug)]
struct Shared {
    hist: Mutex<Histogram<u64>>,
    received: AtomicU64,
    stop: AtomicBool,
}

#[derive(Debug)]
pub struct Fleet {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    addr: SocketAddr,
    frozen: Vec<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    >,
}

fn channels(i: usize, opts: &BenchOptions) -> Vec<String> {
    (0..opts.per_client)
        .map(|j| format!("trade.{}", symbol((i * opts.per_client + j) % opts.symbols.max(1))))
        .collect()
}

/// Pulls every `"ts_publish":N` out of a frame without building a JSON tree (what a lean client does).
fn publish_times(text: &str, mut f: impl FnMut(u64)) {
    const KEY: &str = "\"ts_publish\":";
    let mut rest = text;
    while let Some(i) = rest.find(KEY) {
        rest = &rest[i + KEY.len()..];
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if let Ok(v) = rest[..end].parse() {
            f(v);
        }
        rest = &rest[end..];
    }
}

impl Fleet {
    pub fn connect(addr: SocketAddr, opts: &BenchOptions) -> Result<Self, BenchError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-clients")
            .enable_all()
            .build()?;
        let hist = Histogram::new_with_bounds(1, 60_000_000_000, 3)
            .map_err(|e| BenchError::Clients(e.to_string()))?;
        let shared = Arc::new(Shared {
            hist: Mutex::new(hist),
            received: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let url = format!("ws://{addr}/ws");
        let connected = runtime.block_on(async {
            let mut streams = Vec::with_capacity(opts.clients);
            for i in 0..opts.clients {
                let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
                    .await
                    .map_err(|e| BenchError::Clients(format!("client {i}: {e}")))?;
                let req =
                    serde_json::json!({"op":"subscribe","channels":channels(i, opts)}).to_string();
                ws.send(Message::Text(req.into()))
                    .await
                    .map_err(|e| BenchError::Clients(e.to_string()))?;
                streams.push(ws);
            }
            Ok::<_, BenchError>(streams)
        })?;
        for mut ws in connected {
            let shared = Arc::clone(&shared);
            runtime.spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if shared.stop.load(Relaxed) {
                        break;
                    }
                    if let Message::Text(t) = msg {
                        let now = Producer::<Tick, InstrumentEntry>::now_ns();
                        let mut n = 0;
                        let mut h =
                            shared.hist.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        publish_times(t.as_str(), |ts| {
                            n += 1;
                            let _ = h.record(now.saturating_sub(ts).max(1));
                        });
                        drop(h);
                        shared.received.fetch_add(n, Relaxed);
                    }
                }
            });
        }
        Ok(Self { runtime, shared, addr, frozen: Vec::new() })
    }

    /// One more client that subscribes like client 0 and then never reads.
    pub fn add_frozen(&mut self, opts: &BenchOptions) -> Result<(), BenchError> {
        let (addr, chans) = (self.addr, channels(0, opts));
        let ws = self.runtime.block_on(async move {
            let socket = TcpSocket::new_v4()?;
            socket.set_recv_buffer_size(4096)?;
            let stream = socket.connect(addr).await?;
            let (mut ws, _) = tokio_tungstenite::client_async(
                format!("ws://{addr}/ws"),
                tokio_tungstenite::MaybeTlsStream::Plain(stream),
            )
            .await
            .map_err(|e| BenchError::Clients(e.to_string()))?;
            let req = serde_json::json!({"op":"subscribe","channels":chans}).to_string();
            ws.send(Message::Text(req.into()))
                .await
                .map_err(|e| BenchError::Clients(e.to_string()))?;
            Ok::<_, BenchError>(ws)
        })?;
        self.frozen.push(ws);
        Ok(())
    }

    pub fn reset(&mut self) {
        self.shared.hist.lock().unwrap_or_else(std::sync::PoisonError::into_inner).reset();
        self.shared.received.store(0, Relaxed);
    }

    pub fn take(&mut self) -> (Histogram<u64>, u64) {
        let h = self.shared.hist.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        (h, self.shared.received.load(Relaxed))
    }

    pub fn stop(self) {
        self.shared.stop.store(true, Relaxed);
        drop(self.frozen);
        self.runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_publish_time() {
        let mut got = Vec::new();
        publish_times(r#"[{"ts_publish":12,"x":1},{"a":"b","ts_publish":345}]"#, |v| got.push(v));
        assert_eq!(got, [12, 345]);
    }
}
