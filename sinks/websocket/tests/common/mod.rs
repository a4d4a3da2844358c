//! Test fixtures: a ring with a producer, a running pusher, and a plain websocket client (tokio-tungstenite's
//! client side and serde_json values; none of the server's own types).
#![allow(dead_code, clippy::unwrap_used)]

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tickring_engine::{Exchange, InstrumentEntry, Price, Quantity, Session, Tick, TickFlags};
use tickring_ipc::{Producer, RingConfig, RingStatus};
use tickring_sink_websocket::{Server, WebsocketConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A ring under a unique name in the temp dir, removed on drop.
pub struct Ring {
    pub cfg: RingConfig,
    pub producer: Producer<Tick, InstrumentEntry>,
}

impl Ring {
    pub fn new(capacity: u64) -> Self {
        let cfg = RingConfig {
            name: format!("wstest-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)),
            dir: std::env::temp_dir(),
            capacity,
            max_batch: 1024.min(capacity as usize),
            ..RingConfig::default()
        };
        let _ = std::fs::remove_file(cfg.segment_path());
        let _ = std::fs::remove_file(cfg.lock_path());
        let producer = Producer::create(&cfg).expect("producer");
        Self { cfg, producer }
    }

    pub fn add(&mut self, symbol: &str, exchange: Exchange) -> u32 {
        self.producer
            .push_entry(&InstrumentEntry::new(symbol, exchange).expect("entry"))
            .expect("push")
    }

    pub fn publish(&mut self, ticks: &[Tick]) {
        let now = Producer::<Tick, InstrumentEntry>::now_ns();
        let stamped: Vec<Tick> = ticks.iter().map(|t| Tick { ts_publish_ns: now, ..*t }).collect();
        self.producer.publish_batch(&stamped);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.cfg.segment_path());
        let _ = std::fs::remove_file(self.cfg.lock_path());
    }
}

/// A trade of `instrument` at `price` (decimal text), event time `ts`.
pub fn tick(instrument: u32, ts: u64, price: &str, size: &str) -> Tick {
    Tick {
        ts_event_ns: ts,
        ts_recv_ns: ts,
        ts_publish_ns: 0,
        price: Price::parse(price).expect("price"),
        size: Quantity::parse(size).expect("size"),
        trade_id: ts % 1_000_000,
        instrument_id: instrument,
        trading_day: u32::try_from(ts / 86_400_000_000_000).expect("day"),
        exchange: Exchange::Xnys as u16,
        session: Session::Regular as u8,
        flags: TickFlags::REGULAR,
        reserved: [0; 4],
    }
}

pub fn now_ns() -> u64 {
    Producer::<Tick, InstrumentEntry>::now_ns()
}

pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// Test defaults: any port, quick timers.
pub fn config() -> WebsocketConfig {
    WebsocketConfig {
        listen: "127.0.0.1:0".into(),
        consumer_name: format!("ws-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        web_dir: web_dir(),
        worker_threads: 2,
        candle_update_ms: 50,
        ..WebsocketConfig::default()
    }
}

/// Starts the pusher and waits until its ring reader is attached.
pub fn start(cfg: WebsocketConfig, ring: &Ring, token: Option<&str>) -> Server {
    let name = cfg.consumer_name.clone();
    let server =
        Server::start(cfg, ring.cfg.clone(), Default::default(), token.map(str::to_string))
            .expect("server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = RingStatus::read::<Tick, InstrumentEntry>(&ring.cfg).expect("status");
        if status.consumers.iter().any(|c| c.name == name) {
            return server;
        }
        assert!(Instant::now() < deadline, "the pusher did not attach to the ring");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn ws_url(server: &Server) -> String {
    format!("ws://{}/ws", server.local_addr())
}

/// A websocket client connection with the messages of frames read but not yet looked at.
pub struct Conn {
    pub ws: Client,
    pending: std::collections::VecDeque<Value>,
}

pub async fn connect(server: &Server) -> Conn {
    let (ws, _) = tokio_tungstenite::connect_async(ws_url(server)).await.expect("connect");
    Conn { ws, pending: Default::default() }
}

/// What one read gave.
#[derive(Debug)]
pub enum Got {
    Msg(Value),
    /// The server closed: code and reason.
    Closed(Option<(u16, String)>),
    Timeout,
}

impl Conn {
    pub fn from_ws(ws: Client) -> Self {
        Self { ws, pending: Default::default() }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    /// The next message (frames are JSON arrays; pings are answered by the client library).
    pub async fn next(&mut self, timeout: Duration) -> Got {
        if let Some(v) = self.pending.pop_front() {
            return Got::Msg(v);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Ok(msg) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return Got::Timeout;
            };
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("server sends JSON");
                    self.pending
                        .extend(v.as_array().expect("every frame is an array").iter().cloned());
                    if let Some(v) = self.pending.pop_front() {
                        return Got::Msg(v);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Got::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Got::Closed(None),
            }
        }
    }

    /// Reads until a message matches; panics with what was seen otherwise.
    pub async fn expect(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left).await {
                Got::Msg(m) if pred(&m) => return m,
                Got::Msg(m) => seen.push(m),
                Got::Closed(c) => {
                    panic!("closed ({c:?}) before the expected message; seen {seen:?}")
                }
                Got::Timeout => break,
            }
        }
        panic!("expected message not received in {timeout:?}; seen {seen:?}");
    }

    /// Reads until the server closes; returns the close code and reason and the messages before it.
    pub async fn expect_close(&mut self, timeout: Duration) -> (Option<(u16, String)>, Vec<Value>) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left).await {
                Got::Msg(m) => seen.push(m),
                Got::Closed(c) => return (c, seen),
                Got::Timeout => break,
            }
        }
        panic!("no close within {timeout:?}; seen {seen:?}");
    }

    /// Every message arriving within `window`.
    pub async fn drain_for(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left).await {
                Got::Msg(m) => out.push(m),
                _ => break,
            }
        }
        out
    }
}

pub fn is_type(t: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == t
}

pub const SEC: Duration = Duration::from_secs(1);
