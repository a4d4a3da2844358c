//! The server: a runtime with a fixed number of worker threads, one listening port for websocket and the
//! chart page, and the ring reader on its own thread.

use crate::config::WebsocketConfig;
use crate::error::WsError;
use crate::http::{self, HeadError, Request};
use crate::hub::Hub;
use crate::market::Market;
use crate::message;
use crate::origin;
use crate::queue::{ClientShared, QueueBounds};
use crate::session::{self, close};
use crate::stats::{Stats, StatsSnapshot};
use crate::web::{self, Asset};
use futures_util::SinkExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickring_ipc::RingConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

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
    handshaking: AtomicUsize,
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

    fn ws_config(&self) -> WebSocketConfig {
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
    /// Validates `cfg`, listens, starts the ring reader (which attaches when the ring appears) and returns.
    ///
    /// # Errors
    /// Invalid configuration, the address cannot be bound, or a thread cannot start.
    pub fn start(
        cfg: WebsocketConfig,
        ring: RingConfig,
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
            std::thread::Builder::new()
                .name("tickring-ws-ring".into())
                .spawn(move || crate::feed::run(&cfg, &ring, &hub, &stop))
                .map_err(WsError::Thread)?
        };
        let ctx = Arc::new(ServerCtx {
            cfg,
            hub,
            stats: Arc::clone(&stats),
            shutdown: shutdown_rx,
            token,
            next_id: AtomicU64::new(1),
            handshaking: AtomicUsize::new(0),
            started: Instant::now(),
        });
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
            Ok((stream, _peer)) => {
                // Bound the connections that are still in their handshake: beyond it new ones are dropped
                // at once, so half-open floods cannot exhaust memory.
                if ctx.handshaking.load(Relaxed) >= ctx.cfg.max_connections.min(1024) {
                    Stats::add(&ctx.stats.bad_handshakes, 1);
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, Arc::clone(&ctx)));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Counts a value up for as long as it lives.
struct Gauge<'a>(&'a AtomicUsize);
impl<'a> Gauge<'a> {
    fn new(c: &'a AtomicUsize) -> Self {
        c.fetch_add(1, Relaxed);
        Self(c)
    }
}
impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

async fn connection(mut stream: TcpStream, ctx: Arc<ServerCtx>) {
    let handshake = Gauge::new(&ctx.handshaking);
    let req = match http::read_head(&mut stream, ctx.cfg.handshake_timeout()).await {
        Ok(r) => r,
        Err(e) => {
            Stats::add(&ctx.stats.bad_handshakes, 1);
            tracing::debug!(error = %e, "bad or missing request");
            if matches!(e, HeadError::Parse(_) | HeadError::TooBig) {
                let _ = http::respond(
                    &mut stream,
                    "400 Bad Request",
                    "application/json",
                    &http::error_body("bad_request", &e.to_string()),
                    false,
                )
                .await;
            }
            return;
        }
    };
    if !req.is_websocket_upgrade() {
        drop(handshake);
        serve_http(stream, &req, &ctx).await;
        return;
    }
    let Some(ws) = upgrade(&mut stream, req, &ctx).await else { return };
    let ws =
        WebSocketStream::from_partially_read(stream, ws, Role::Server, Some(ctx.ws_config())).await;
    drop(handshake);
    let open = ctx.stats.connections_open.fetch_add(1, Relaxed) + 1;
    if open > ctx.cfg.max_connections as u64 {
        ctx.stats.connections_open.fetch_sub(1, Relaxed);
        Stats::add(&ctx.stats.refused_connections, 1);
        let text = format!(
            "the server holds its maximum of {} connections; try again later",
            ctx.cfg.max_connections
        );
        refuse(ws, "too_many_connections", &text, close::TRY_AGAIN).await;
        return;
    }
    Stats::add(&ctx.stats.connections_total, 1);
    let bounds = QueueBounds {
        trades: ctx.cfg.trade_queue,
        conflated: ctx.cfg.conflated_queue,
        control: ctx.cfg.control_queue,
    };
    let client = ClientShared::new(ctx.next_id.fetch_add(1, Relaxed), bounds);
    session::run(ws, Arc::clone(&ctx), client).await;
    ctx.stats.connections_open.fetch_sub(1, Relaxed);
}

/// Checks the path, origin and token, writes the 101; returns the bytes read past the request head.
async fn upgrade(stream: &mut TcpStream, req: Request, ctx: &ServerCtx) -> Option<Vec<u8>> {
    let refusal: Option<(&str, &str, String)> = if req.path != WS_PATH {
        Some(("404 Not Found", "not_found", format!("websocket endpoint is {WS_PATH}")))
    } else if !origin::allowed(req.header("origin"), req.header("host"), &ctx.cfg.allowed_origins) {
        Stats::add(&ctx.stats.refused_origin, 1);
        Some((
            "403 Forbidden",
            "origin_not_allowed",
            "this origin may not open a websocket here".into(),
        ))
    } else if ctx.token.as_deref().is_some_and(|t| !http::token_matches(req.token().as_deref(), t))
    {
        Stats::add(&ctx.stats.refused_auth, 1);
        let text = "missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN";
        Some(("401 Unauthorized", "unauthorized", text.into()))
    } else {
        None
    };
    if let Some((status, code, text)) = refusal {
        let _ = http::respond(
            stream,
            status,
            "application/json",
            &http::error_body(code, &text),
            false,
        )
        .await;
        return None;
    }
    match http::upgrade_response(&req) {
        Ok(resp) => {
            if stream.write_all(resp.as_bytes()).await.is_err() {
                return None;
            }
            Some(req.rest)
        }
        Err(why) => {
            Stats::add(&ctx.stats.bad_handshakes, 1);
            let _ = http::respond(
                stream,
                "400 Bad Request",
                "application/json",
                &http::error_body("bad_request", why),
                false,
            )
            .await;
            None
        }
    }
}

async fn refuse(mut ws: WebSocketStream<TcpStream>, code: &str, text: &str, close_code: u16) {
    let msg = format!("[{}]", message::error(code, text, None));
    let frame = CloseFrame { code: CloseCode::from(close_code), reason: code.to_string().into() };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        ws.send(Message::Text(msg.into())).await?;
        ws.send(Message::Close(Some(frame))).await
    })
    .await;
}

async fn serve_http(mut stream: TcpStream, req: &Request, ctx: &ServerCtx) {
    Stats::add(&ctx.stats.http_requests, 1);
    let head_only = req.method == "HEAD";
    if req.method != "GET" && !head_only {
        let body = http::error_body("method_not_allowed", "only GET and HEAD");
        let _ =
            http::respond(&mut stream, "405 Method Not Allowed", "application/json", &body, false)
                .await;
        return;
    }
    let (status, content_type, body): (&str, &str, Vec<u8>) = if req.path == "/stats" {
        (
            "200 OK",
            "application/json",
            serde_json::to_vec(&ctx.stats.snapshot()).unwrap_or_default(),
        )
    } else if req.path == "/metrics" {
        ("200 OK", "text/plain; version=0.0.4", ctx.stats.prometheus().into_bytes())
    } else {
        match web::lookup(&ctx.cfg.web_dir, &req.path) {
            Asset::Found { body, content_type } => ("200 OK", content_type, body),
            Asset::Missing(path) => (
                "404 Not Found",
                "text/plain; charset=utf-8",
                format!("{} is missing: run scripts/setup-web.sh\n", path.display()).into_bytes(),
            ),
            Asset::NotOurs => {
                ("404 Not Found", "text/plain; charset=utf-8", b"not found\n".to_vec())
            }
        }
    };
    let _ = http::respond(&mut stream, status, content_type, &body, head_only).await;
}
