//! One websocket client: a reader task (requests, limits, liveness) and a writer task (its queue, pings,
//! slow-client detection). Neither can hold up the ring reader or another client: the ring reader only
//! ever pushes into this client's bounded queue.

use crate::channel::Channel;
use crate::limits::{RateLimiter, SnapshotBudget, Verdict};
use crate::message;
use crate::queue::{ClientShared, CloseReason};
use crate::request::{self, Op};
use crate::server::ServerCtx;
use crate::snapshot;
use crate::stats::Stats;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsErr, Message};
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<TcpStream>;

/// Close codes used by the server.
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const TRY_AGAIN: u16 = 1013;
}

/// How long a close frame may take to go out before the connection is just dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves one upgraded connection until either side ends it.
pub async fn run(ws: Ws, ctx: Arc<ServerCtx>, client: Arc<ClientShared>) {
    let (sink, stream) = ws.split();
    let last_inbound = Arc::new(AtomicU64::new(ctx.elapsed_ms()));
    client.push_control(message::hello(&ctx.limits_json()));
    let writer = tokio::spawn(write_loop(
        sink,
        Arc::clone(&ctx),
        Arc::clone(&client),
        Arc::clone(&last_inbound),
    ));
    let mut reader = Reader {
        ctx: Arc::clone(&ctx),
        client: Arc::clone(&client),
        subs: BTreeSet::new(),
        rate: RateLimiter::new(ctx.cfg.max_messages_per_sec, Instant::now()),
        snapshots: SnapshotBudget::new(ctx.cfg.snapshot_events_per_sec, Instant::now()),
    };
    reader.run(stream, &last_inbound).await;
    // Whatever ended the reader, stop taking events, let the writer send what it must, then stop it.
    let subs: Vec<Channel> = reader.subs.into_iter().collect();
    ctx.hub.lock().unsubscribe(client.id, &subs);
    if !client.close_requested() {
        client.stop.send_replace(true);
    }
    let mut writer = writer;
    if tokio::time::timeout(CLOSE_GRACE * 2, &mut writer).await.is_err() {
        writer.abort();
    }
    client.stop.send_replace(true);
}

struct Reader {
    ctx: Arc<ServerCtx>,
    client: Arc<ClientShared>,
    subs: BTreeSet<Channel>,
    rate: RateLimiter,
    snapshots: SnapshotBudget,
}

impl Reader {
    async fn run(&mut self, mut stream: SplitStream<Ws>, last_inbound: &AtomicU64) {
        let mut stop = self.client.stop.subscribe();
        let mut shutdown = self.ctx.shutdown.clone();
        let stats = Arc::clone(&self.ctx.stats);
        loop {
            let next = tokio::select! {
                next = stream.next() => next,
                _ = stop.changed() => return,
                _ = shutdown.changed() => {
                    self.client.request_close(close::GOING_AWAY, "server shutting down");
                    return;
                }
            };
            if self.client.close_requested() {
                return;
            }
            match next {
                Some(Ok(msg)) => {
                    last_inbound.store(self.ctx.elapsed_ms(), Relaxed);
                    match msg {
                        Message::Text(text) => {
                            Stats::add(&stats.messages_in, 1);
                            if self.admit() {
                                self.handle(text.as_str());
                            }
                        }
                        Message::Binary(_) => {
                            Stats::add(&stats.errors_binary, 1);
                            if self.admit() {
                                self.error(
                                    "binary_not_supported",
                                    "binary frames are not supported; send JSON text frames",
                                    None,
                                );
                            }
                        }
                        Message::Close(frame) => {
                            // The library queued the echoing reply; the writer sends it (and nothing else).
                            let code = frame.as_ref().map_or(1000, |f| u16::from(f.code));
                            self.client.peer_closed(code);
                            return;
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                Some(Err(WsErr::Capacity(e))) => {
                    Stats::add(&stats.closed_frame_too_large, 1);
                    let text = format!(
                        "frame too large ({e}); the limit is {} bytes",
                        self.ctx.cfg.max_frame_bytes
                    );
                    self.error("frame_too_large", &text, None);
                    self.client.request_close(close::TOO_BIG, "frame too large");
                    return;
                }
                Some(Err(WsErr::Utf8(e))) => {
                    tracing::debug!(client = self.client.id, error = %e, "invalid UTF-8 text frame");
                    self.client.request_close(close::INVALID_DATA, "invalid UTF-8 in a text frame");
                    return;
                }
                Some(Err(e)) => {
                    tracing::debug!(client = self.client.id, error = %e, "websocket read ended");
                    return;
                }
                None => return,
            }
        }
    }

    /// Applies the inbound rate; false when the message is refused.
    fn admit(&mut self) -> bool {
        match self.rate.check(Instant::now()) {
            Verdict::Allow => true,
            Verdict::Refuse { first } => {
                Stats::add(&self.ctx.stats.errors_rate_limited, 1);
                if first {
                    let text = format!(
                        "over {} messages per second: message ignored; keep sending and the connection is closed",
                        self.ctx.cfg.max_messages_per_sec
                    );
                    self.error("rate_limited", &text, None);
                }
                false
            }
            Verdict::Close => {
                Stats::add(&self.ctx.stats.closed_rate_limit, 1);
                self.error("rate_limited", "message rate limit exceeded: closing", None);
                self.client.request_close(close::POLICY, "message rate limit exceeded");
                false
            }
        }
    }

    fn error(&self, code: &str, text: &str, id: Option<&serde_json::Value>) {
        if !self.client.push_control(message::error(code, text, id)) {
            Stats::add(&self.ctx.stats.closed_control_overflow, 1);
            self.client.request_close(close::POLICY, "not reading: reply queue full");
        }
    }

    fn reply(&self, msg: String) {
        if !self.client.push_control(msg) {
            Stats::add(&self.ctx.stats.closed_control_overflow, 1);
            self.client.request_close(close::POLICY, "not reading: reply queue full");
        }
    }

    fn names(&self) -> Vec<String> {
        self.subs.iter().map(Channel::to_string).collect()
    }

    fn handle(&mut self, text: &str) {
        let stats = Arc::clone(&self.ctx.stats);
        let req = match request::parse(text) {
            Ok(r) => r,
            Err(bad) => {
                let counter = if bad.code() == "bad_json" {
                    &stats.errors_bad_json
                } else {
                    &stats.errors_bad_request
                };
                Stats::add(counter, 1);
                self.error(bad.code(), &bad.message(), bad.id());
                return;
            }
        };
        let id = req.id.as_ref();
        let mut channels = Vec::with_capacity(req.channels.len());
        for name in &req.channels {
            match Channel::parse(name, &self.ctx.cfg.candle_series) {
                Ok(c) => channels.push(c),
                Err(e) => {
                    Stats::add(&stats.errors_unknown_channel, 1);
                    self.error("unknown_channel", &format!("{e}; nothing changed"), id);
                    return;
                }
            }
        }
        match req.op {
            Op::Subscribe => {
                let mut new: Vec<Channel> = Vec::new();
                for c in channels {
                    if !self.subs.contains(&c) && !new.contains(&c) {
                        new.push(c);
                    }
                }
                let max = self.ctx.cfg.max_subscriptions;
                if self.subs.len() + new.len() > max {
                    Stats::add(&stats.errors_subscription_limit, 1);
                    let text = format!(
                        "subscribing to {} more channels would exceed {max} (holding {}); nothing changed",
                        new.len(),
                        self.subs.len()
                    );
                    self.error("too_many_subscriptions", &text, id);
                    return;
                }
                if let Some(wait) = self.snapshots.wait(Instant::now()).filter(|_| !new.is_empty())
                {
                    Stats::add(&stats.errors_snapshot_limit, 1);
                    let text = format!(
                        "snapshots are limited to {} events per second per client: retry in {} ms; nothing changed",
                        self.ctx.cfg.snapshot_events_per_sec,
                        wait.as_millis()
                    );
                    self.error("snapshot_rate_limited", &text, id);
                    return;
                }
                self.subs.extend(new.iter().cloned());
                let changed: Vec<String> = new.iter().map(Channel::to_string).collect();
                let (rows, unknown) = {
                    let mut hub = self.ctx.hub.lock();
                    let unknown = hub.unknown_symbols(&new);
                    (hub.subscribe(&self.client, &new), unknown)
                };
                if !unknown.is_empty() {
                    Stats::add(&stats.subscriptions_unknown_symbol, unknown.len() as u64);
                }
                let names = self.names();
                self.reply(message::ack_naming_unknown(
                    "subscribe",
                    id,
                    &changed,
                    &names,
                    &unknown,
                ));
                self.snapshots.charge(rows.iter().map(Vec::len).sum(), Instant::now());
                let mut ok = true;
                for (ch, rows) in new.iter().zip(&rows) {
                    ok = ok && self.client.push_control(snapshot::encode(&ch.to_string(), rows));
                }
                self.client.release_live();
                if !ok {
                    Stats::add(&stats.closed_control_overflow, 1);
                    self.client.request_close(close::POLICY, "not reading: reply queue full");
                }
            }
            Op::Unsubscribe => {
                let gone: Vec<Channel> =
                    channels.into_iter().filter(|c| self.subs.remove(c)).collect();
                self.ctx.hub.lock().unsubscribe(self.client.id, &gone);
                let changed: Vec<String> = gone.iter().map(Channel::to_string).collect();
                self.reply(message::ack("unsubscribe", id, &changed, &self.names()));
            }
            Op::List => self.reply(message::ack("list", id, &[], &self.names())),
            Op::Ping => self.reply(message::pong(id)),
        }
    }
}

/// What ended a write.
enum WriteEnd {
    Failed,
    Stalled,
    Stopped,
}

async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    ctx: Arc<ServerCtx>,
    client: Arc<ClientShared>,
    last_inbound: Arc<AtomicU64>,
) {
    let stats = Arc::clone(&ctx.stats);
    let mut stop = client.stop.subscribe();
    let slow = ctx.cfg.slow_client_disconnect();
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + ctx.cfg.ping_interval(),
        ctx.cfg.ping_interval(),
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut behind_since: Option<Instant> = None;
    loop {
        let mut send_ping = false;
        tokio::select! {
            _ = client.wake.notified() => {}
            _ = ping.tick() => {
                let silent = ctx.elapsed_ms().saturating_sub(last_inbound.load(Relaxed));
                if silent > ctx.cfg.ping_timeout_ms {
                    Stats::add(&stats.closed_ping_timeout, 1);
                    client.request_close(close::POLICY, "ping timeout");
                } else {
                    send_ping = true;
                }
            }
            _ = stop.changed() => break,
        }
        let drained = client.drain();
        let mut close = drained.close.clone();
        if drained.overflowed {
            let since = *behind_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= slow && close.is_none() {
                Stats::add(&stats.closed_slow, 1);
                let reason =
                    format!("slow consumer: behind for {} ms", since.elapsed().as_millis());
                client.request_close(close::POLICY, reason.clone());
                close = Some(CloseReason { code: close::POLICY, reason, by_peer: false });
            }
        } else {
            behind_since = None;
        }
        let mut frames = build_frames(&drained.messages, ctx.cfg.max_messages_per_frame);
        if send_ping {
            frames.push(Message::Ping(bytes::Bytes::from_static(b"tickring")));
        }
        if frames.is_empty() {
            client.release(drained.bytes);
        } else {
            let n = frames.len() as u64;
            let written = guarded_write(&mut sink, frames, slow, &mut stop).await;
            client.release(drained.bytes);
            match written {
                Ok(()) => {
                    Stats::add(&stats.frames_out, n);
                    Stats::add(&stats.messages_out, drained.messages.len() as u64);
                }
                Err(WriteEnd::Stalled) => {
                    Stats::add(&stats.closed_slow, 1);
                    tracing::info!(
                        client = client.id,
                        "slow consumer: socket took no data; dropped"
                    );
                    break;
                }
                Err(WriteEnd::Failed | WriteEnd::Stopped) => break,
            }
        }
        if let Some(reason) = close {
            if reason.by_peer {
                // Flushes the reply tungstenite queued when it read the client's close.
                let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
                break;
            }
            let frame =
                CloseFrame { code: CloseCode::from(reason.code), reason: reason.reason.into() };
            let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
            break;
        }
    }
    client.stop.send_replace(true);
}

fn build_frames(messages: &[Arc<str>], per_frame: usize) -> Vec<Message> {
    messages
        .chunks(per_frame.max(1))
        .map(|chunk| {
            let mut s = String::with_capacity(2 + chunk.iter().map(|m| m.len() + 1).sum::<usize>());
            s.push('[');
            for (i, m) in chunk.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(m);
            }
            s.push(']');
            Message::Text(s.into())
        })
        .collect()
}

/// Sends frames and flushes once; gives up when the socket takes nothing for `stall`, or on stop.
async fn guarded_write(
    sink: &mut SplitSink<Ws, Message>,
    frames: Vec<Message>,
    stall: Duration,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), WriteEnd> {
    let write = async {
        for f in frames {
            sink.feed(f).await?;
        }
        sink.flush().await
    };
    tokio::select! {
        r = tokio::time::timeout(stall, write) => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WriteEnd::Failed),
            Err(_) => Err(WriteEnd::Stalled),
        },
        _ = stop.changed() => Err(WriteEnd::Stopped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_json_arrays_of_at_most_n_messages() {
        let msgs: Vec<Arc<str>> = (0..5).map(|i| Arc::from(format!("{{\"i\":{i}}}"))).collect();
        let frames = build_frames(&msgs, 2);
        assert_eq!(frames.len(), 3);
        let Message::Text(t) = &frames[2] else { panic!("text frame") };
        let v: serde_json::Value = serde_json::from_str(t.as_str()).expect("json");
        assert_eq!(v[0]["i"], 4);
    }
}
