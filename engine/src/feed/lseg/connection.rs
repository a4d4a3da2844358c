//! One client's life on its runtime: connect, log in, request, read until the link dies, back off, repeat.

use super::backoff::Backoff;
use super::config::LsegConfig;
use super::event::{DataState, FeedEvent};
use super::requests;
use super::session::LsegSession;
use super::stats::Shared;
use crate::feed::{FeedItem, LinkEvent};
use crossbeam_channel::{Sender, TrySendError};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The websocket subprotocol of the LSEG JSON API.
pub const SUBPROTOCOL: &str = "tr_json2";
/// Stream IDs the client uses: the login, then the batch (its items take the IDs after it).
pub(crate) const LOGIN_ID: i64 = 1;
pub(crate) const BATCH_ID: i64 = 2;

/// Sees every text frame as received, before decoding (e.g. to record it).
pub type FrameTap = Box<dyn FnMut(&str, u64) + Send>;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) struct Client {
    pub config: LsegConfig,
    pub session: LsegSession,
    pub items: Sender<FeedItem>,
    pub tap: Option<FrameTap>,
    pub shared: Arc<Shared>,
    pub stop: watch::Receiver<bool>,
    events: Vec<FeedEvent>,
}

/// Why one connection ended.
enum End {
    /// Stop was asked for, or nobody reads the items any more.
    Stop,
    Lost {
        logged_in: bool,
        reason: String,
    },
}

/// Longest PingTimeout believed, from the server or `default_ping_timeout_s`: a bigger (hostile or broken)
/// value is clamped so the silence timer can neither overflow nor wait for ever.
pub(crate) const MAX_PING_TIMEOUT_S: u64 = 3_600;

/// How long a logged-in connection may stay silent: PingTimeout (clamped to 1..=MAX) plus the slack.
fn silence_limit(ping_timeout_s: u64, slack: Duration) -> Duration {
    Duration::from_secs(ping_timeout_s.clamp(1, MAX_PING_TIMEOUT_S)).saturating_add(slack)
}

pub(crate) fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl Client {
    pub fn new(
        config: LsegConfig,
        session: LsegSession,
        items: Sender<FeedItem>,
        tap: Option<FrameTap>,
        shared: Arc<Shared>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self { config, session, items, tap, shared, stop, events: Vec::new() }
    }

    /// Runs connections until stopped; reconnects with backoff after every loss.
    pub async fn run(mut self) {
        let mut backoff =
            Backoff::new(self.config.backoff_min_ms, self.config.backoff_max_ms, now_ns());
        let mut connection = 0u64;
        loop {
            if *self.stop.borrow() {
                return;
            }
            let mut stop = self.stop.clone();
            let end = tokio::select! {
                end = self.connect_once(&mut connection) => end,
                () = stopped(&mut stop) => End::Stop,
            };
            match end {
                End::Stop => return,
                End::Lost { logged_in, reason } => {
                    if logged_in {
                        backoff.reset();
                    }
                    tracing::warn!(url = %self.config.url, %reason, "LSEG connection lost");
                    if !self.hand_on(FeedItem::Link(LinkEvent::Down { reason })).await {
                        return;
                    }
                }
            }
            let delay = backoff.next_delay();
            tracing::info!(delay_ms = delay.as_millis() as u64, "reconnecting to LSEG");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stopped(&mut stop) => return,
            }
        }
    }

    async fn connect_once(&mut self, connection: &mut u64) -> End {
        self.shared.add(&self.shared.connect_attempts, 1);
        let mut ws = match self.handshake().await {
            Ok(ws) => ws,
            Err(reason) => {
                self.shared.add(&self.shared.connect_failures, 1);
                return End::Lost { logged_in: false, reason };
            }
        };
        *connection += 1;
        let end = self.converse(&mut ws, *connection).await;
        self.shared.add(&self.shared.disconnects, 1);
        // Best effort: the peer may be gone already.
        let _ = timeout(Duration::from_millis(200), ws.close(None)).await;
        end
    }

    async fn handshake(&self) -> Result<Ws, String> {
        let mut request =
            self.config.url.as_str().into_client_request().map_err(|e| format!("url: {e}"))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
        let limit = Duration::from_millis(self.config.connect_timeout_ms);
        let (ws, response) = timeout(limit, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| format!("connect timed out after {} ms", self.config.connect_timeout_ms))?
            .map_err(|e| format!("connect: {e}"))?;
        let agreed = response.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok());
        if agreed != Some(SUBPROTOCOL) {
            return Err(format!("server did not agree to subprotocol {SUBPROTOCOL} ({agreed:?})"));
        }
        Ok(ws)
    }

    /// Logs in, requests the items once the login is accepted, then reads until the link dies.
    async fn converse(&mut self, ws: &mut Ws, connection: u64) -> End {
        let c = &self.config;
        let login = requests::login(LOGIN_ID, &c.user, &c.app_id, &c.position);
        self.session.expect_login(LOGIN_ID);
        if let Err(e) = ws.send(Message::text(login)).await {
            return End::Lost { logged_in: false, reason: format!("sending login: {e}") };
        }
        let mut logged_in = false;
        let slack = Duration::from_millis(c.ping_timeout_slack_ms);
        let mut silence = silence_limit(c.default_ping_timeout_s, slack);
        let login_limit = Duration::from_millis(c.login_timeout_ms);
        loop {
            let wait = if logged_in { silence } else { login_limit };
            let msg = match timeout(wait, ws.next()).await {
                Err(_) if logged_in => {
                    self.shared.add(&self.shared.silence_timeouts, 1);
                    let reason = format!("nothing received for {} ms", wait.as_millis());
                    return End::Lost { logged_in, reason };
                }
                Err(_) => {
                    let reason = format!("no login answer within {} ms", wait.as_millis());
                    return End::Lost { logged_in, reason };
                }
                Ok(None) => return End::Lost { logged_in, reason: "connection closed".into() },
                Ok(Some(Err(e))) => return End::Lost { logged_in, reason: format!("read: {e}") },
                Ok(Some(Ok(m))) => m,
            };
            let text = match &msg {
                Message::Text(t) => t.as_str(),
                Message::Close(frame) => {
                    let reason = format!("server closed: {frame:?}");
                    return End::Lost { logged_in, reason };
                }
                // Websocket-level pings are answered by the library; binary frames are not the protocol's.
                _ => continue,
            };
            let recv_ns = now_ns();
            self.shared.add(&self.shared.frames, 1);
            self.shared.add(&self.shared.bytes, text.len() as u64);
            if let Some(tap) = &mut self.tap {
                tap(text, recv_ns);
            }
            let mut events = std::mem::take(&mut self.events);
            self.session.on_frame(text, recv_ns, &mut |e| events.push(e));
            if let Ok(mut d) = self.shared.decoder.lock() {
                d.clone_from(self.session.counters());
            }
            let mut outcome = None;
            for event in events.drain(..) {
                if outcome.is_some() {
                    continue;
                }
                match event {
                    FeedEvent::Trade(t) => {
                        self.shared.add(&self.shared.trades, 1);
                        if !self.hand_on(FeedItem::Trade(t)).await {
                            outcome = Some(End::Stop);
                        }
                    }
                    FeedEvent::Rejected(r) => {
                        self.shared.add(&self.shared.rejects, 1);
                        if !self.hand_on(FeedItem::Rejected(r)).await {
                            outcome = Some(End::Stop);
                        }
                    }
                    FeedEvent::PongDue => match ws.send(Message::text(requests::pong())).await {
                        Ok(()) => self.shared.add(&self.shared.pongs_sent, 1),
                        Err(e) => {
                            outcome = Some(End::Lost { logged_in, reason: format!("pong: {e}") })
                        }
                    },
                    FeedEvent::LoginAccepted { ping_timeout_s } => {
                        if let Some(s) = ping_timeout_s.filter(|&s| s > 0) {
                            if s > MAX_PING_TIMEOUT_S {
                                tracing::warn!(
                                    ping_timeout_s = s,
                                    max = MAX_PING_TIMEOUT_S,
                                    "server PingTimeout clamped"
                                );
                            }
                            silence = silence_limit(s, slack);
                        }
                        if !logged_in {
                            logged_in = true;
                            self.shared.add(&self.shared.logins, 1);
                            outcome = self.request_items(ws, connection).await;
                        }
                    }
                    FeedEvent::Status(s) => {
                        if s.data == DataState::Suspect {
                            self.shared.add(&self.shared.suspect_streams, 1);
                            tracing::warn!(id = s.id, symbol = ?s.symbol, text = ?s.text, "LSEG stream data suspect");
                        }
                        if s.id == LOGIN_ID && s.stream.is_closed() {
                            let reason = format!("login closed by server: {:?}", s.text);
                            outcome = Some(End::Lost { logged_in, reason });
                        } else if s.stream.is_closed() && s.symbol.is_some() {
                            self.shared.add(&self.shared.closed_streams, 1);
                            tracing::warn!(id = s.id, symbol = ?s.symbol, text = ?s.text, "LSEG item stream closed");
                        }
                    }
                    FeedEvent::ServerError { id, text } => {
                        self.shared.add(&self.shared.server_errors, 1);
                        tracing::warn!(?id, %text, "LSEG server error");
                    }
                }
            }
            self.events = events;
            if let Some(end) = outcome {
                return end;
            }
        }
    }

    async fn request_items(&mut self, ws: &mut Ws, connection: u64) -> Option<End> {
        let rics: Vec<&str> =
            self.config.rics.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).collect();
        let view: Vec<&str> = self.config.view.iter().map(String::as_str).collect();
        let request =
            requests::item_request(BATCH_ID, &rics, (!view.is_empty()).then_some(view.as_slice()));
        match rics.as_slice() {
            [one] => self.session.expect_item(BATCH_ID, one),
            many => self.session.expect_batch(BATCH_ID, many),
        }
        if let Err(e) = ws.send(Message::text(request)).await {
            return Some(End::Lost { logged_in: true, reason: format!("sending request: {e}") });
        }
        tracing::info!(connection, items = rics.len(), "LSEG logged in, items requested");
        (!self.hand_on(FeedItem::Link(LinkEvent::Up { connection })).await).then_some(End::Stop)
    }

    /// Passes one item to the ingest side, waiting while its channel is full. False: nobody listens.
    async fn hand_on(&mut self, item: FeedItem) -> bool {
        let mut item = item;
        let mut waited = false;
        loop {
            match self.items.try_send(item) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if !waited {
                        waited = true;
                        self.shared.add(&self.shared.channel_full, 1);
                    }
                    item = back;
                    if *self.stop.borrow() {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
    }
}

/// Resolves once stop is asked for (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_limit_never_overflows() {
        let slack = Duration::from_millis(5_000);
        assert_eq!(silence_limit(30, slack), Duration::from_secs(35));
        let max = Duration::from_secs(MAX_PING_TIMEOUT_S) + slack;
        assert_eq!(silence_limit(u64::MAX, slack), max);
        assert_eq!(silence_limit(u64::MAX - 1, Duration::MAX), Duration::MAX);
        assert_eq!(silence_limit(0, Duration::ZERO), Duration::from_secs(1));
    }
}
