//! The LSEG decoder as a state machine: frames in, trades and events out, no I/O.

use super::event::{DataState, FeedEvent, StreamState, StreamStatus};
use super::extract::{self, MessageFields};
use super::frame::{self, FrameError, Span};
use super::message::{self, Message};
use super::onepass;
use super::stream::Stream;
use crate::feed::intern::Interner;
use crate::feed::{Counters, RejectReason, Rejection, Symbol};
use crate::mapping::{Mapping, UpdateType};
use serde_json::error::Category;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Decodes the frames of one LSEG Real-Time WebSocket connection.
///
/// Keeps, per stream ID, the item it carries and the last known value of every mapped field (a null
/// never overwrites one). Every message of a frame is handled on its own: a bad one is rejected and
/// counted, the others are decoded.
#[derive(Debug)]
pub struct LsegSession {
    mapping: Arc<Mapping>,
    streams: HashMap<i64, Stream, BuildHasherDefault<IdHasher>>,
    login_id: Option<i64>,
    interner: Interner,
    counters: Counters,
    /// Reused between frames so decoding allocates nothing in the steady state.
    messages: Vec<Span>,
    slots: Vec<Span>,
}

impl LsegSession {
    pub fn new(mapping: Arc<Mapping>) -> Self {
        let slots = vec![(0, 0); mapping.fields().len()];
        Self {
            mapping,
            streams: HashMap::default(),
            login_id: None,
            interner: Interner::default(),
            counters: Counters::default(),
            messages: Vec::new(),
            slots,
        }
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The item a stream carries, if known.
    pub fn symbol(&self, id: i64) -> Option<&Symbol> {
        self.streams.get(&id).map(|s| &s.symbol)
    }

    /// Records the login request's stream ID (its Refresh may lack `Domain`).
    pub fn expect_login(&mut self, id: i64) {
        self.login_id = Some(id);
    }

    /// Records that stream `id` was requested for `ric`.
    pub fn expect_item(&mut self, id: i64, ric: &str) {
        self.open_stream(id, ric);
    }

    /// Records a batch request: the server closes `batch_id` and opens one stream per item, with the
    /// IDs following it in request order.
    pub fn expect_batch<S: AsRef<str>>(&mut self, batch_id: i64, rics: &[S]) {
        for (id, ric) in (batch_id + 1..).zip(rics) {
            self.open_stream(id, ric.as_ref());
        }
    }

    fn open_stream(&mut self, id: i64, ric: &str) {
        let class = self.mapping.item_class(ric, |_| None);
        self.streams.insert(id, Stream::new(ric.into(), class, self.mapping.fields().len()));
    }

    /// Decodes one received frame. `recv_ns` is its receive time (ns since the epoch, UTC).
    pub fn on_frame(&mut self, frame: &str, recv_ns: u64, out: &mut impl FnMut(FeedEvent)) {
        self.counters.frames += 1;
        let mut slots = std::mem::take(&mut self.slots);
        let mut rest = std::mem::take(&mut self.messages);
        let fast = onepass::parse(frame, &self.mapping, &mut slots, &mut rest);
        if let Ok(first) = fast {
            if let Some(first) = first {
                self.counters.messages += 1;
                let fields = MessageFields { frame, spans: &slots };
                self.dispatch(&first.message, &fields, first.text, recv_ns, out);
            }
            self.slots = slots;
            for &(start, len) in &rest {
                let text = &frame[start as usize..(start + len) as usize];
                self.counters.messages += 1;
                self.on_message(frame, text, recv_ns, out);
            }
            self.messages = rest;
            return;
        }
        self.slots = slots;
        self.messages = rest;
        self.on_frame_slow(frame, recv_ns, out);
    }

    /// Validates the frame, then parses each message on its own: decides every reject exactly.
    fn on_frame_slow(&mut self, frame: &str, recv_ns: u64, out: &mut impl FnMut(FeedEvent)) {
        let mut spans = std::mem::take(&mut self.messages);
        match frame::split(frame, &mut spans) {
            Err(FrameError::Malformed(e)) => {
                self.reject(out, RejectReason::MalformedJson, e, frame, recv_ns)
            }
            Err(FrameError::NotAnArray) => {
                self.reject(
                    out,
                    RejectReason::NotAnObject,
                    "frame is not an array".into(),
                    frame,
                    recv_ns,
                );
            }
            Ok(()) => {
                for &(start, len) in &spans {
                    let text = &frame[start as usize..(start + len) as usize];
                    self.counters.messages += 1;
                    self.on_message(frame, text, recv_ns, out);
                }
            }
        }
        self.messages = spans;
    }

    fn on_message(
        &mut self,
        frame: &str,
        text: &str,
        recv_ns: u64,
        out: &mut impl FnMut(FeedEvent),
    ) {
        if !text.starts_with('{') {
            return self.reject(
                out,
                RejectReason::NotAnObject,
                "message is not an object".into(),
                text,
                recv_ns,
            );
        }
        let mut slots = std::mem::take(&mut self.slots);
        match message::parse(text, frame.as_ptr() as usize, &self.mapping, &mut slots) {
            Ok(msg) => {
                let fields = MessageFields { frame, spans: &slots };
                self.dispatch(&msg, &fields, text, recv_ns, out);
            }
            Err(e) => {
                let reason = match e.classify() {
                    Category::Data => RejectReason::WrongType,
                    Category::Io | Category::Syntax | Category::Eof => RejectReason::MalformedJson,
                };
                self.reject(out, reason, e.to_string(), text, recv_ns);
            }
        }
        self.slots = slots;
    }

    fn dispatch(
        &mut self,
        msg: &Message<'_>,
        fields: &MessageFields<'_>,
        text: &str,
        recv_ns: u64,
        out: &mut impl FnMut(FeedEvent),
    ) {
        let Some(kind) = msg.kind.as_deref() else {
            return self.reject(out, RejectReason::MissingField, "Type".into(), text, recv_ns);
        };
        match kind {
            "Ping" => {
                self.counters.pings += 1;
                out(FeedEvent::PongDue);
            }
            "Pong" => {}
            "Error" => out(FeedEvent::ServerError {
                id: msg.id,
                text: msg.text.as_deref().unwrap_or_default().to_string(),
            }),
            "Refresh" | "Update" | "Status" => {
                let Some(id) = msg.id else {
                    return self.reject(
                        out,
                        RejectReason::MissingField,
                        "ID".into(),
                        text,
                        recv_ns,
                    );
                };
                match kind {
                    "Refresh" => self.on_refresh(id, msg, fields, text, recv_ns, out),
                    "Update" => self.on_update(id, msg, fields, text, recv_ns, out),
                    _ => self.on_status(id, msg, out),
                }
            }
            other => {
                let detail = format!("Type {other:?}");
                self.reject(out, RejectReason::UnknownType, detail, text, recv_ns);
            }
        }
    }

    fn on_refresh(
        &mut self,
        id: i64,
        msg: &Message<'_>,
        fields: &MessageFields<'_>,
        text: &str,
        recv_ns: u64,
        out: &mut impl FnMut(FeedEvent),
    ) {
        if msg.domain.as_deref() == Some("Login") || self.login_id == Some(id) {
            self.login_id = Some(id);
            let status = status_of(id, None, msg);
            let accepted = status.stream == StreamState::Open;
            out(FeedEvent::Status(status));
            if accepted {
                out(FeedEvent::LoginAccepted { ping_timeout_s: msg.ping_timeout });
            }
            return;
        }
        let same_item = match (&msg.name, self.streams.get(&id)) {
            (Some(name), Some(s)) => s.symbol.as_ref() == &**name,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => {
                let detail = format!("Refresh for stream {id} without Key.Name");
                return self.reject(out, RejectReason::UnknownStream, detail, text, recv_ns);
            }
        };
        if !same_item {
            if let Some(name) = &msg.name {
                self.open_stream(id, name);
            }
        }
        // A Refresh is a snapshot: it seeds the state but is never a trade.
        if let Some(stream) = self.streams.get_mut(&id) {
            extract::apply(&self.mapping, fields, stream, &mut self.interner);
            stream.item_class = self.mapping.item_class(&stream.symbol, |s| stream.text(s));
        }
        self.emit_status(id, msg, out);
    }

    fn on_update(
        &mut self,
        id: i64,
        msg: &Message<'_>,
        fields: &MessageFields<'_>,
        text: &str,
        recv_ns: u64,
        out: &mut impl FnMut(FeedEvent),
    ) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return self.reject(
                out,
                RejectReason::UnknownStream,
                format!("stream {id}"),
                text,
                recv_ns,
            );
        };
        let update =
            msg.update_type.as_deref().map_or(UpdateType::Unspecified, UpdateType::from_wire);
        let result =
            extract::choose_class(&self.mapping, stream.item_class, update, fields).map(|i| {
                extract::trade(
                    &self.mapping,
                    &self.mapping.classes()[i],
                    update,
                    fields,
                    stream,
                    recv_ns,
                )
            });
        extract::apply(&self.mapping, fields, stream, &mut self.interner);
        let class = self.mapping.item_class(&stream.symbol, |s| stream.text(s));
        stream.item_class = class;
        match result {
            Some(Ok(trade)) => {
                self.counters.trades += 1;
                out(FeedEvent::Trade(trade));
            }
            Some(Err((reason, detail))) => self.reject(out, reason, detail, text, recv_ns),
            None => {}
        }
    }

    fn on_status(&mut self, id: i64, msg: &Message<'_>, out: &mut impl FnMut(FeedEvent)) {
        // A Status for an unknown ID is normal (the server closing a batch request's ID).
        self.emit_status(id, msg, out);
    }

    /// Reports a stream's state and forgets the stream once the server has closed it.
    fn emit_status(&mut self, id: i64, msg: &Message<'_>, out: &mut impl FnMut(FeedEvent)) {
        let status = status_of(id, self.symbol(id).cloned(), msg);
        let closed = status.stream.is_closed() || status.stream == StreamState::NonStreaming;
        out(FeedEvent::Status(status));
        if closed {
            self.streams.remove(&id);
            if self.login_id == Some(id) {
                self.login_id = None;
            }
        }
    }

    fn reject(
        &mut self,
        out: &mut impl FnMut(FeedEvent),
        reason: RejectReason,
        detail: String,
        raw: &str,
        recv_ns: u64,
    ) {
        self.counters.count_reject(reason);
        tracing::debug!(%reason, %detail, "quarantined LSEG message");
        out(FeedEvent::Rejected(Rejection {
            reason,
            detail,
            raw: raw.to_string(),
            recv_ns,
            line: None,
        }));
    }
}

fn status_of(id: i64, symbol: Option<Symbol>, msg: &Message<'_>) -> StreamStatus {
    let state = msg.state.as_ref();
    StreamStatus {
        id,
        symbol,
        stream: state
            .and_then(|s| s.stream.as_deref())
            .map_or(StreamState::Open, StreamState::from_wire),
        data: state.and_then(|s| s.data.as_deref()).map_or(DataState::Ok, DataState::from_wire),
        text: state.and_then(|s| s.text.as_deref()).map(str::to_string),
    }
}

/// Stream IDs are small integers: a multiplicative hash spreads them without SipHash's cost.
#[derive(Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
