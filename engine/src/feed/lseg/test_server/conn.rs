//! The server side of one connection: handshake check, login, item requests, the script, pings.

use super::script::{Script, ServerLog, Step};
use crate::feed::lseg::SUBPROTOCOL;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Log = Arc<Mutex<ServerLog>>;

fn note(log: &Log, f: impl FnOnce(&mut ServerLog)) {
    if let Ok(mut l) = log.lock() {
        f(&mut l);
    }
}

pub(super) async fn serve(
    listener: std::net::TcpListener,
    script: Arc<Script>,
    log: Log,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => return tracing::error!("test server listener: {e}"),
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((tcp, _)) = accepted {
                    tokio::spawn(connection(tcp, script.clone(), log.clone(), stop.clone()));
                }
            }
            () = stopped(&mut stop) => return,
        }
    }
}

fn offers_subprotocol(request: &Request) -> bool {
    request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL)
}

// The handshake callback's error type is the library's (a whole HTTP response); it is built only on refusal.
#[allow(clippy::result_large_err)]
async fn connection(tcp: TcpStream, script: Arc<Script>, log: Log, stop: watch::Receiver<bool>) {
    let refused = Arc::new(AtomicBool::new(false));
    let flag = refused.clone();
    let check = move |request: &Request, mut response: Response| {
        if !offers_subprotocol(request) {
            flag.store(true, Ordering::Relaxed);
            let mut e = ErrorResponse::new(Some(format!("subprotocol {SUBPROTOCOL} required")));
            *e.status_mut() = StatusCode::BAD_REQUEST;
            return Err(e);
        }
        response
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
        Ok(response)
    };
    let ws = match tokio_tungstenite::accept_hdr_async(tcp, check).await {
        Ok(ws) => ws,
        Err(_) => {
            if refused.load(Ordering::Relaxed) {
                note(&log, |l| l.refused += 1);
            }
            return;
        }
    };
    let mut index = 0;
    note(&log, |l| {
        index = l.connections as usize;
        l.connections += 1;
    });
    let steps = script.connections.get(index).cloned().unwrap_or_default();
    Conn { ws, script, log: log.clone(), steps, streams: HashMap::new(), seq: 0 }.run(stop).await;
    note(&log, |l| l.ended += 1);
}

struct Conn {
    ws: WebSocketStream<TcpStream>,
    script: Arc<Script>,
    log: Log,
    steps: Vec<Step>,
    /// Item -> stream ID, from the client's requests.
    streams: HashMap<String, i64>,
    seq: u64,
}

/// Far enough to never fire; `select!` needs a deadline even for disabled branches.
fn never() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

impl Conn {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let ping_timeout = Duration::from_secs(self.script.ping_timeout_s);
        let mut next = 0usize;
        let mut step_at: Option<Instant> = None;
        let mut pong_by: Option<Instant> = None;
        let mut ping_at: Option<Instant> = None;
        let mut stalled = false;
        loop {
            if step_at.is_some() && next >= self.steps.len() && ping_at.is_none() {
                ping_at = self.script.ping_every.map(|d| Instant::now() + d);
            }
            tokio::select! {
                msg = self.ws.next() => match msg {
                    Some(Ok(Message::Text(t))) if !stalled => {
                        let (requested, pong) = match self.incoming(t.as_str()).await {
                            Ok(r) => r,
                            Err(()) => return,
                        };
                        if requested && step_at.is_none() {
                            step_at = Some(Instant::now());
                        }
                        if pong {
                            pong_by = None;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                () = sleep_until(step_at.unwrap_or_else(never)),
                    if step_at.is_some() && next < self.steps.len() && !stalled =>
                {
                    let step = self.steps[next].clone();
                    next += 1;
                    step_at = Some(Instant::now());
                    match step {
                        Step::Drop => return,
                        Step::Stall => stalled = true,
                        Step::Sleep(d) => step_at = Some(Instant::now() + d),
                        Step::Ping => {
                            if self.ping().await.is_err() {
                                return;
                            }
                            pong_by = Some(Instant::now() + ping_timeout);
                        }
                        other => {
                            if self.send_step(other).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                () = sleep_until(pong_by.unwrap_or_else(never)), if pong_by.is_some() && !stalled => {
                    note(&self.log, |l| l.pong_timeouts += 1);
                    return;
                }
                () = sleep_until(ping_at.unwrap_or_else(never)), if ping_at.is_some() && !stalled => {
                    if self.ping().await.is_err() {
                        return;
                    }
                    if pong_by.is_none() {
                        pong_by = Some(Instant::now() + ping_timeout);
                    }
                    ping_at = self.script.ping_every.map(|d| Instant::now() + d);
                }
                () = stopped(&mut stop) => return,
            }
        }
    }

    async fn send(&mut self, frame: Value) -> Result<(), ()> {
        self.ws.send(Message::text(frame.to_string())).await.map_err(|_| ())
    }

    async fn ping(&mut self) -> Result<(), ()> {
        note(&self.log, |l| l.pings_sent += 1);
        self.send(json!({"Type": "Ping"})).await
    }

    /// Handles one client frame; returns (items were requested, a Pong came).
    async fn incoming(&mut self, text: &str) -> Result<(bool, bool), ()> {
        let messages = match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(a)) => a,
            Ok(one @ Value::Object(_)) => vec![one],
            _ => return Ok((false, false)),
        };
        let (mut requested, mut pong) = (false, false);
        for m in messages {
            let id = m["ID"].as_i64().unwrap_or(0);
            if m["Domain"] == "Login" {
                let user = m["Key"]["Name"].as_str().unwrap_or_default().to_string();
                note(&self.log, |l| l.logins.push(user.clone()));
                let t = self.script.ping_timeout_s;
                self.send(json!([{
                    "ID": id, "Type": "Refresh", "Domain": "Login",
                    "Key": {"Name": user, "Elements": {"PingTimeout": t}},
                    "State": {"Stream": "Open", "Data": "Ok", "Text": "Login accepted"},
                    "Elements": {"PingTimeout": t, "MaxMsgSize": 61430},
                }]))
                .await?;
            } else if m["Type"] == "Pong" {
                note(&self.log, |l| l.pongs += 1);
                pong = true;
            } else if m["Type"] == "Close" {
                self.streams.retain(|_, s| *s != id);
            } else if m["Key"]["Name"].is_string() || m["Key"]["Name"].is_array() {
                self.request(id, &m).await?;
                requested = true;
            }
        }
        Ok((requested, pong))
    }

    async fn request(&mut self, id: i64, m: &Value) -> Result<(), ()> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default()
        };
        let view = strings(&m["View"]);
        let (items, batch) = match m["Key"]["Name"].as_str() {
            Some(one) => (vec![one.to_string()], false),
            None => (strings(&m["Key"]["Name"]), true),
        };
        note(&self.log, |l| {
            l.requests.push(items.clone());
            l.views.push(view);
        });
        let mut next_id = id;
        if batch {
            let text = format!("Processed {} total items from Batch Request.", items.len());
            self.send(json!([{"ID": id, "Type": "Status",
                "State": {"Stream": "Closed", "Data": "Ok", "Text": text}}]))
                .await?;
            next_id += 1;
        }
        for ric in items {
            self.streams.insert(ric.clone(), next_id);
            let fields = self.script.image(&ric);
            self.seq += 1;
            self.send(json!([{
                "ID": next_id, "Type": "Refresh", "Key": {"Service": "ELEKTRON_DD", "Name": ric},
                "State": {"Stream": "Open", "Data": "Ok", "Text": "All is well"},
                "Qos": {"Timeliness": "Realtime", "Rate": "TickByTick"},
                "SeqNumber": self.seq, "Fields": fields,
            }]))
            .await?;
            next_id += 1;
        }
        Ok(())
    }

    async fn send_step(&mut self, step: Step) -> Result<(), ()> {
        match step {
            Step::Update { ric, update_type, fields } => {
                let Some(&id) = self.streams.get(&ric) else {
                    tracing::warn!(%ric, "test server: script updates an item that was not requested");
                    return Ok(());
                };
                self.seq += 1;
                let mut m = json!({
                    "ID": id, "Type": "Update", "UpdateType": update_type, "DoNotConflate": false,
                    "Key": {"Service": "ELEKTRON_DD", "Name": ric}, "SeqNumber": self.seq,
                    "Fields": fields,
                });
                if update_type == "Correction" {
                    m["DoNotRipple"] = json!(true);
                }
                self.send(json!([m])).await
            }
            Step::Status { ric, stream, data } => {
                let id = self.streams.get(&ric).copied().unwrap_or(0);
                self.send(json!([{"ID": id, "Type": "Status", "Key": {"Name": ric},
                    "State": {"Stream": stream, "Data": data, "Text": "state change"}}]))
                    .await
            }
            Step::Raw(text) => self.ws.send(Message::text(text)).await.map_err(|_| ()),
            Step::Ping | Step::Sleep(_) | Step::Drop | Step::Stall => Ok(()),
        }
    }
}

/// Resolves once stop is asked for (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
