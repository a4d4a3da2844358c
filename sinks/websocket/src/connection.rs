//! One accepted connection: its request head (bounded in size and time, evictable while in handshake),
//! then either the websocket upgrade (path, origin and token checked) or one plain HTTP answer (capped in
//! number and bounded in write time, so clients that never read cannot pin tasks and descriptors).

use crate::admission::Ticket;
use crate::http::{self, HeadError, Request};
use crate::message;
use crate::origin;
use crate::queue::{ClientShared, QueueBounds};
use crate::server::{ServerCtx, WS_PATH};
use crate::session::{self, close};
use crate::stats::Stats;
use crate::web::{self, Asset};
use futures_util::SinkExt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Counts a value up for as long as it lives.
struct Gauge<'a>(&'a AtomicUsize);
impl<'a> Gauge<'a> {
    /// `None` (and nothing counted) when the count already is `max`.
    fn try_new(c: &'a AtomicUsize, max: usize) -> Option<Self> {
        c.fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1)).ok().map(|_| Self(c))
    }
}
impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// Writes an answer within `http_write_timeout_ms`; a client that does not take it in time is dropped.
async fn respond(
    stream: &mut TcpStream,
    ctx: &ServerCtx,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) {
    let write = http::respond(stream, status, content_type, body, head_only);
    if tokio::time::timeout(ctx.cfg.http_write_timeout(), write).await.is_err() {
        Stats::add(&ctx.stats.http_write_timeouts, 1);
    }
}

async fn bad_request(stream: &mut TcpStream, ctx: &ServerCtx, why: &str) {
    let body = http::error_body("bad_request", why);
    respond(stream, ctx, "400 Bad Request", "application/json", &body, false).await;
}

pub async fn run(mut stream: TcpStream, ctx: Arc<ServerCtx>, ticket: Ticket) {
    let evicted = Arc::clone(&ticket.evicted);
    let handshake = async {
        let req = match http::read_head(&mut stream, ctx.cfg.handshake_timeout()).await {
            Ok(r) => r,
            Err(e) => {
                Stats::add(&ctx.stats.bad_handshakes, 1);
                tracing::debug!(error = %e, "bad or missing request");
                if matches!(e, HeadError::Parse(_) | HeadError::TooBig) {
                    bad_request(&mut stream, &ctx, &e.to_string()).await;
                }
                return None;
            }
        };
        if !req.is_websocket_upgrade() {
            return Some((req, None));
        }
        let rest = upgrade(&mut stream, &req, &ctx).await?;
        Some((req, Some(rest)))
    };
    let done = tokio::select! {
        done = handshake => done,
        () = evicted.notified() => {
            Stats::add(&ctx.stats.evicted_handshakes, 1);
            return;
        }
    };
    drop(ticket);
    match done {
        None => {}
        Some((req, None)) => serve_http(stream, &req, &ctx).await,
        Some((_, Some(rest))) => websocket(stream, rest, ctx).await,
    }
}

async fn websocket(stream: TcpStream, rest: Vec<u8>, ctx: Arc<ServerCtx>) {
    let ws =
        WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(ctx.ws_config()))
            .await;
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
    let budget = Some(Arc::clone(&ctx.memory));
    let client = ClientShared::with_budget(ctx.next_client_id(), bounds, budget);
    ctx.memory.register(&client);
    let id = client.id;
    session::run(ws, Arc::clone(&ctx), client).await;
    ctx.memory.unregister(id);
    ctx.stats.connections_open.fetch_sub(1, Relaxed);
}

/// Checks the path, origin and token, writes the 101; returns the bytes read past the request head.
async fn upgrade(stream: &mut TcpStream, req: &Request, ctx: &ServerCtx) -> Option<Vec<u8>> {
    let refusal: Option<(&str, &str, String)> = if req.path != WS_PATH {
        Some(("404 Not Found", "not_found", format!("websocket endpoint is {WS_PATH}")))
    } else if !origin::allowed(req.header("origin"), req.header("host"), &ctx.cfg.allowed_origins) {
        Stats::add(&ctx.stats.refused_origin, 1);
        Some((
            "403 Forbidden",
            "origin_not_allowed",
            "this origin may not open a websocket here".into(),
        ))
    } else if ctx.token_refused(req.token().as_deref()) {
        Stats::add(&ctx.stats.refused_auth, 1);
        let text = "missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN";
        Some(("401 Unauthorized", "unauthorized", text.into()))
    } else {
        None
    };
    if let Some((status, code, text)) = refusal {
        let body = http::error_body(code, &text);
        respond(stream, ctx, status, "application/json", &body, false).await;
        return None;
    }
    match http::upgrade_response(req) {
        Ok(resp) => {
            let write = stream.write_all(resp.as_bytes());
            match tokio::time::timeout(ctx.cfg.http_write_timeout(), write).await {
                Ok(Ok(())) => Some(req.rest.clone()),
                _ => None,
            }
        }
        Err(why) => {
            Stats::add(&ctx.stats.bad_handshakes, 1);
            bad_request(stream, ctx, why).await;
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
    let Some(_open) = Gauge::try_new(&ctx.http_open, ctx.cfg.max_http_connections) else {
        Stats::add(&ctx.stats.refused_http, 1);
        let body = http::error_body("busy", "too many HTTP requests in progress; try again later");
        respond(&mut stream, ctx, "503 Service Unavailable", "application/json", &body, false)
            .await;
        return;
    };
    Stats::add(&ctx.stats.http_requests, 1);
    let head_only = req.method == "HEAD";
    if req.method != "GET" && !head_only {
        let body = http::error_body("method_not_allowed", "only GET and HEAD");
        respond(&mut stream, ctx, "405 Method Not Allowed", "application/json", &body, false).await;
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
    respond(&mut stream, ctx, status, content_type, &body, head_only).await;
}
