//! The server: a runtime with a fixed number of worker threads, one listening port for websocket and the
//! chart page, and the ring reader on its own thread.

use crate::admission::Handshakes;
use crate::config::WebsocketConfig;
use crate::error::WsError;
use crate::http;
use crate::hub::Hub;
use crate::market::Market;
use crate::memory::MemoryBudget;
use crate::stats::{Stats, StatsSnapshot};
use crate::web;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickring_ipc::RingConfig;
use tickring_journal::JournalConfig;
use tickring_sink_core::StreamConfig;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The path websocket clients connect to.
pub const WS_PATH: &str = "/ws";

/// What every connection task shares.
#[derive(Debug)]
pub struct ServerCtx {
    pub cfg: WebsocketConfig,
    pub hub: Arc<Hub>,
    pub stats: Arc<Stats>,
    pub shutdown: watch::Receiver<bool>,
    token: Option<String>,
    next_id: AtomicU64,
    handshakes: Arc<Handshakes>,
    /// What client queues hold, process-wide.
    pub memory: Arc<MemoryBudget>,
    /// Plain HTTP answers being written now (capped by `max_http_connections`).
    pub http_open: AtomicUsize,
    started: Instant,
}

impl ServerCtx {
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The limits announced in the hello message.
    pub fn limits_json(&self) -> serde_json::Value {
        let c = &self.cfg;
        serde_json::json!({
            "max_subscriptions": c.max_subscriptions,
            "max_messages_per_sec": c.max_messages_per_sec,
            "max_frame_bytes": c.max_frame_bytes,
            "ping_interval_ms": c.ping_interval_ms,
            "ping_timeout_ms": c.ping_timeout_ms,
            "candle_series": c.candle_series.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// True when a token is required and `given` is not it.
    pub fn token_refused(&self, given: Option<&str>) -> bool {
        self.token.as_deref().is_some_and(|t| !http::token_matches(given, t))
    }

    pub fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(self.cfg.max_frame_bytes))
            .max_frame_size(Some(self.cfg.max_frame_bytes))
    }
}

/// A running pusher. Dropping it shuts it down.
#[derive(Debug)]
pub struct Server {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    stats: Arc<Stats>,
    shutdown: watch::Sender<bool>,
    feed_stop: Arc<AtomicBool>,
    feed: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Validates `cfg`, listens, starts the feed reader (ring and journal; it attaches when the ring
    /// appears) and returns.
    ///
    /// # Errors
    /// Invalid configuration, the address cannot be bound, or a thread cannot start.
    pub fn start(
        cfg: WebsocketConfig,
        ring: RingConfig,
        journal: JournalConfig,
        token: Option<String>,
    ) -> Result<Self, WsError> {
        cfg.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.worker_threads)
            .thread_name("tickring-ws")
            .enable_all()
            .build()
            .map_err(WsError::Runtime)?;
        let listener = {
            let _guard = runtime.enter();
            bind(&cfg)?
        };
        let addr = listener
            .local_addr()
            .map_err(|e| WsError::Listen { addr: cfg.listen.clone(), source: e })?;
        web::check(&cfg.web_dir);
        let stats = Arc::new(Stats::default());
        let market =
            Market::new(cfg.candle_series.clone(), cfg.snapshot_trades, cfg.snapshot_candles);
        let hub = Arc::new(Hub::new(market, Arc::clone(&stats)));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let feed_stop = Arc::new(AtomicBool::new(false));
        let feed = {
            let (cfg, hub, stop) = (cfg.clone(), Arc::clone(&hub), Arc::clone(&feed_stop));
            let source = StreamConfig {
                max_batch: ring.max_batch,
                ring,
                journal,
                consumer: cfg.consumer_name.clone(),
            };
            std::thread::Builder::new()
                .name("tickring-ws-ring".into())
                .spawn(move || crate::feed::run(&cfg, source, &hub, &stop))
                .map_err(WsError::Thread)?
        };
        let memory =
            MemoryBudget::new(usize::try_from(cfg.queue_memory_budget_bytes).unwrap_or(usize::MAX));
        let handshakes = Handshakes::new(cfg.max_handshakes, cfg.max_handshakes_per_addr);
        let ctx = Arc::new(ServerCtx {
            cfg,
            hub,
            stats: Arc::clone(&stats),
            shutdown: shutdown_rx,
            token,
            next_id: AtomicU64::new(1),
            handshakes,
            memory: Arc::clone(&memory),
            http_open: AtomicUsize::new(0),
            started: Instant::now(),
        });
        runtime.spawn(memory.run(Arc::clone(&stats), ctx.shutdown.clone()));
        runtime.spawn(accept_loop(listener, ctx));
        tracing::info!(%addr, "websocket pusher listening (ws://{addr}{WS_PATH}, chart page http://{addr}/)");
        Ok(Self { runtime: Some(runtime), addr, stats, shutdown, feed_stop, feed: Some(feed) })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Blocks until SIGINT (Ctrl-C) or SIGTERM.
    pub fn wait_for_signal(&self) {
        if let Some(rt) = &self.runtime {
            rt.block_on(async {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    match signal(SignalKind::terminate()) {
                        Ok(mut term) => tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        },
                        Err(_) => {
                            let _ = tokio::signal::ctrl_c().await;
                        }
                    }
                }
                #[cfg(not(unix))]
                {
                    let _ = tokio::signal::ctrl_c().await;
                }
            });
        }
    }

    /// Tells every client (close 1001), stops the ring reader and the runtime.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shutdown.send_replace(true);
        self.feed_stop.store(true, Relaxed);
        if let Some(rt) = self.runtime.take() {
            // Give clients a moment to get their close frames.
            rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
            rt.shutdown_timeout(Duration::from_secs(1));
        }
        if let Some(feed) = self.feed.take() {
            let _ = feed.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bind(cfg: &WebsocketConfig) -> Result<TcpListener, WsError> {
    let err = |source| WsError::Listen { addr: cfg.listen.clone(), source };
    let addr: SocketAddr = cfg
        .listen
        .parse()
        .map_err(|_| WsError::Config(format!("websocket.listen = {:?}", cfg.listen)))?;
    let socket =
        if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    if cfg.socket_send_buffer > 0 {
        // Accepted sockets inherit the listener's buffer sizes.
        socket.set_send_buffer_size(cfg.socket_send_buffer).map_err(err)?;
    }
    socket.bind(addr).map_err(err)?;
    socket.listen(1024).map_err(err)
}

async fn accept_loop(listener: TcpListener, ctx: Arc<ServerCtx>) {
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Never refuse for lack of room: the newcomer evicts the oldest handshake of its address
                // (or of all), so floods of incomplete requests evict themselves.
                let (ticket, evicted) = ctx.handshakes.admit(peer.ip());
                if evicted > 0 {
                    tracing::debug!(%peer, evicted, "handshake room made by evicting the oldest");
                }
                let _ = stream.set_nodelay(true);
                tokio::spawn(crate::connection::run(stream, Arc::clone(&ctx), ticket));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
